import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from core.models import AuditLog
from shop.models import Product
from shop.tests.test_admin import CSV_TEXT


def test_import_products_uses_the_admin_importer_and_lists_rejected_rows(db, tmp_path):
    path = tmp_path / "products.csv"
    path.write_bytes(CSV_TEXT.encode("cp949"))
    err = io.StringIO()
    with pytest.raises(CommandError, match="imported 1 products, 2 options from 2 rows; 4 rows"):
        call_command("import_products", str(path), stderr=err)
    product = Product.objects.get(name="린넨 셔츠")
    assert sorted(product.variants.values_list("size", "stock")) == [("L", 3), ("M", 5)]
    assert "row 5 (가격 오류): 가격이(가) 숫자가 아닙니다" in err.getvalue()


def test_import_products_reports_success_and_bad_files(db, tmp_path, staff_user):
    good = tmp_path / "ok.csv"
    good.write_text("name,price,stock\n모자,12.00,4\n장갑,8.50,2\n", encoding="utf-8")
    out = io.StringIO()
    call_command(
        "import_products", str(good), "--as", staff_user.email, stdout=out, stderr=io.StringIO()
    )
    assert "imported 2 products, 2 options from 2 rows; 0 rows rejected" in out.getvalue()
    assert Product.objects.count() == 2
    audited = AuditLog.objects.filter(action="product_import", actor=staff_user)
    assert audited.count() == 2
    with pytest.raises(CommandError, match="No staff member"):
        call_command("import_products", str(good), "--as", "nobody@example.com")
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"name,price\n\xff\xfe\xff,1\n")
    with pytest.raises(CommandError, match="인코딩"):
        call_command("import_products", str(bad))
    with pytest.raises(CommandError, match="does not exist"):
        call_command("import_products", str(tmp_path / "missing.csv"))
