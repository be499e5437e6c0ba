"""Stock has one door: `shop/services/holds.py` is the only code that writes
`ProductVariant.held` or `stock`, and "on sale" has one definition."""

import ast
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from shop import services
from shop.models import ProductVariant
from shop.services import holds
from shop.tests.factories import ProductFactory, VariantFactory

ROOT = Path(settings.BASE_DIR)
DOOR = ROOT / "shop" / "services" / "holds.py"
FIELDS = {"held", "stock"}
SKIPPED_DIRS = {".venv", "migrations", "tests", "e2e", "bench", "node_modules", ".git"}
RAW_SQL_WRITE = re.compile(
    r"UPDATE\s+shop_productvariant|SET\s+(held|stock)\s*=|\b(held|stock)\s*=\s*(held|stock)\b",
    re.IGNORECASE,
)


def _sources():
    for path in sorted(ROOT.rglob("*.py")):
        parts = set(path.relative_to(ROOT).parts)
        if parts & SKIPPED_DIRS or path == DOOR or path.name == "conftest.py":
            continue
        yield path


def _names(node) -> set[str]:
    """String constants in a list/tuple/set literal (`update_fields=[...]`)."""
    if isinstance(node, ast.List | ast.Tuple | ast.Set):
        return {e.value for e in node.elts if isinstance(e, ast.Constant)}
    return set()


def _field_of_another_object(target) -> bool:
    """`variant.held = …` (not `self.held = …`: an error or a row class of its own)."""
    return (
        isinstance(target, ast.Attribute)
        and target.attr in FIELDS
        and not (isinstance(target.value, ast.Name) and target.value.id == "self")
    )


def _writes(tree: ast.AST) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if _field_of_another_object(target):
                    found.append((node.lineno, f"assigns .{target.attr}"))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            method = node.func.attr
            if method == "update":
                for keyword in node.keywords:
                    if keyword.arg in FIELDS:
                        found.append((node.lineno, f".update({keyword.arg}=…)"))
            if method == "bulk_update":
                fields = set().union(*(_names(arg) for arg in node.args[1:]))
                fields |= {n for k in node.keywords if k.arg == "fields" for n in _names(k.value)}
                if fields & FIELDS:
                    found.append((node.lineno, "bulk_update of held/stock"))
            for keyword in node.keywords:
                if keyword.arg == "update_fields" and _names(keyword.value) & FIELDS:
                    found.append((node.lineno, "save(update_fields=[held/stock])"))
        is_text = isinstance(node, ast.Constant) and isinstance(node.value, str)
        if is_text and RAW_SQL_WRITE.search(node.value):
            found.append((node.lineno, "SQL writing shop_productvariant"))
    return found


def test_the_scan_finds_every_kind_of_write():
    source = """
ProductVariant.objects.filter(pk=1).update(stock=F("held") + 50)
ProductVariant.objects.filter(pk=1).update(
    color="red", held=0
)
variant.held -= 1
variant.stock = 3
variant.save(update_fields=["stock", "updated_at"])
ProductVariant.objects.bulk_update(variants, ["held"])
cursor.execute("UPDATE shop_productvariant SET held = held + %s WHERE id = %s")
"""
    assert len(_writes(ast.parse(source))) == 7


def test_only_holds_writes_held_or_stock():
    offenders = []
    for path in _sources():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for line, what in _writes(tree):
            offenders.append(f"{path.relative_to(ROOT)}:{line}: {what}")
    assert not offenders, "write held/stock through shop.services.holds:\n" + "\n".join(offenders)
    assert _writes(ast.parse(DOOR.read_text(encoding="utf-8")))  # the scan sees the door's


@pytest.mark.django_db
@pytest.mark.parametrize(
    "make",
    [
        lambda: VariantFactory(),
        lambda: VariantFactory(status="HIDDEN"),
        lambda: VariantFactory(status="SOLD_OUT"),
        lambda: VariantFactory(product=ProductFactory(hidden_from_store=True)),
        lambda: VariantFactory(product=ProductFactory(status="SOLD_OUT")),
        lambda: VariantFactory(
            product=ProductFactory(expires_at=timezone.now() - timezone.timedelta(minutes=1))
        ),
        lambda: VariantFactory(
            product=ProductFactory(expires_at=timezone.now() + timezone.timedelta(minutes=5))
        ),
    ],
    ids=["on-sale", "hidden", "sold-out", "product-hidden", "product-sold-out", "over", "ends"],
)
def test_the_hold_sql_and_the_queryset_agree_on_what_is_on_sale(shopper, make):
    from django.db import connection

    variant = make()
    now = timezone.now()
    on_sale = ProductVariant.objects.on_sale(now=now).filter(pk=variant.pk).exists()
    fragment, params = holds.on_sale_sql(now=now)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT count(*) FROM shop_productvariant WHERE id = %(v)s AND {fragment}",  # noqa: S608
            {**params, "v": variant.pk},
        )
        assert bool(cursor.fetchone()[0]) == on_sale
    try:
        services.cart_add(user=shopper, variant_id=variant.pk, quantity=1)
        added = True
    except services.VariantUnavailable:
        added = False
    assert added == on_sale
