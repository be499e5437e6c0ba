"""Product admin: forms and actions go through the services (holds released, audit kept)."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook
from PIL import Image

from shop import services
from shop.admin import image_validate
from shop.models import CartLine, Product, ProductImage, ProductVariant, WaitlistEntry
from shop.tests.factories import ProductFactory, VariantFactory

pytestmark = pytest.mark.django_db


def _product_post(product=None, variants=(), **overrides):
    data = {
        "name": product.name if product else "새 니트",
        "description": "",
        "price": "29.00",
        "original_price": "",
        "discount_rate": "",
        "sort_order": "0",
        "timer_enabled": "on",
        "timer_minutes": "10",
        "expires_at_0": "",
        "expires_at_1": "",
        "variants-TOTAL_FORMS": str(len(variants)),
        "variants-INITIAL_FORMS": str(sum(1 for v in variants if v.get("id"))),
        "variants-MIN_NUM_FORMS": "0",
        "variants-MAX_NUM_FORMS": "1000",
        "images-TOTAL_FORMS": "0",
        "images-INITIAL_FORMS": "0",
        "images-MIN_NUM_FORMS": "0",
        "images-MAX_NUM_FORMS": "10",
    }
    for i, variant in enumerate(variants):
        for key, value in variant.items():
            data[f"variants-{i}-{key}"] = value
        if product is not None:
            data[f"variants-{i}-product"] = product.pk
    data.update(overrides)
    return data


def test_changelist_and_change_form_render(staff_client):
    variant = VariantFactory(stock=3)
    assert staff_client.get(reverse("admin:shop_product_changelist")).status_code == 200
    response = staff_client.get(reverse("admin:shop_product_change", args=[variant.product_id]))
    assert response.status_code == 200
    assert "색상 × 사이즈 옵션 생성" in response.content.decode()


def test_add_product_with_options_and_default_option(staff_client):
    url = reverse("admin:shop_product_add")
    response = staff_client.post(
        url,
        _product_post(
            variants=[
                {
                    "color": "블랙",
                    "size": "M",
                    "price": "29.00",
                    "stock": "5",
                    "status": "ACTIVE",
                    "sort_order": "0",
                },
            ]
        ),
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    product = Product.objects.get(name="새 니트")
    assert list(product.variants.values_list("color", "stock")) == [("블랙", 5)]
    assert product.status == "AVAILABLE"
    staff_client.post(url, _product_post(name="단일 상품"))
    plain = Product.objects.get(name="단일 상품")
    assert plain.variants.count() == 1  # a plain product gets one default option


def test_inline_stock_edit_goes_through_stock_adjust(staff_client, user_factory):
    variant = VariantFactory(stock=0)
    waiting = services.waitlist_join(user=user_factory(), variant_id=variant.pk, quantity=1)
    product = variant.product
    row = {
        "id": variant.pk,
        "color": variant.color,
        "size": "M",
        "price": "39.00",
        "stock": "1",
        "status": "ACTIVE",
        "sort_order": "0",
    }
    response = staff_client.post(
        reverse("admin:shop_product_change", args=[product.pk]),
        _product_post(product, [row], price="39.00"),
    )
    assert response.status_code == 302
    waiting.refresh_from_db()
    assert waiting.status == "PROMOTED"  # the increase promoted the waitlist
    variant.refresh_from_db()
    assert (variant.stock, variant.held) == (1, 1)


def test_inline_stock_below_held_is_refused(staff_client, shopper):
    variant = VariantFactory(stock=5)
    services.cart_add(user=shopper, variant_id=variant.pk, quantity=4)
    row = {
        "id": variant.pk,
        "color": variant.color,
        "size": "M",
        "price": "39.00",
        "stock": "2",
        "status": "ACTIVE",
        "sort_order": "0",
    }
    response = staff_client.post(
        reverse("admin:shop_product_change", args=[variant.product_id]),
        _product_post(variant.product, [row], price="39.00"),
    )
    assert response.status_code == 200
    assert "4개" in response.content.decode()
    variant.refresh_from_db()
    assert (variant.stock, variant.held) == (5, 4)


def test_bulk_sold_out_and_delete_release_holds(staff_client, shopper):
    a, b = VariantFactory(stock=5), VariantFactory(stock=5)
    services.cart_add(user=shopper, variant_id=a.pk, quantity=2)
    line_b = services.cart_add(user=shopper, variant_id=b.pk, quantity=3)
    url = reverse("admin:shop_product_changelist")
    staff_client.post(url, {"action": "action_mark_sold_out", "_selected_action": [a.product_id]})
    a.refresh_from_db()
    assert a.held == 0 and Product.objects.get(pk=a.product_id).status == "SOLD_OUT"
    staff_client.post(url, {"action": "action_delete", "_selected_action": [b.product_id]})
    assert not Product.objects.filter(pk=b.product_id).exists()
    withdrawn = CartLine.objects.get(pk=line_b.pk)  # kept to tell the shopper what went
    assert (withdrawn.status, withdrawn.variant_id) == ("WITHDRAWN", None)


def test_duplicate_copies_options_without_holds(staff_client, shopper):
    variant = VariantFactory(stock=5)
    ProductImage.objects.create(product=variant.product, image="products/b.jpg", sort_order=2)
    ProductImage.objects.create(product=variant.product, image="products/a.jpg", sort_order=1)
    services.cart_add(user=shopper, variant_id=variant.pk, quantity=2)
    staff_client.post(
        reverse("admin:shop_product_changelist"),
        {"action": "action_duplicate", "_selected_action": [variant.product_id]},
    )
    copy = Product.objects.exclude(pk=variant.product_id).get()
    assert copy.hidden_from_store and "(복사본)" in copy.name
    assert list(copy.variants.values_list("stock", "held")) == [(5, 0)]
    images = copy.images.order_by("sort_order").values_list("image", "sort_order")
    assert list(images) == [("products/a.jpg", 1), ("products/b.jpg", 2)]


def test_reorder_through_list_editable(staff_client):
    product = ProductFactory(sort_order=5)
    url = reverse("admin:shop_product_changelist")
    response = staff_client.post(
        url,
        {
            "form-TOTAL_FORMS": "1",
            "form-INITIAL_FORMS": "1",
            "form-0-id": product.pk,
            "form-0-sort_order": "1",
            "_save": "Save",
        },
    )
    assert response.status_code == 302
    product.refresh_from_db()
    assert product.sort_order == 1


def test_variant_grid_creates_every_combination(staff_client):
    product = ProductFactory()
    url = reverse("admin:shop_product_variant_grid", args=[product.pk])
    staff_client.post(url, {"colors": "블랙, 아이보리", "sizes": "S,M,L", "price": "", "stock": 3})
    assert product.variants.count() == 6
    staff_client.post(url, {"colors": "블랙", "sizes": "S, XL", "price": "", "stock": 3})
    assert product.variants.count() == 7


# --- import ------------------------------------------------------------------------------

CSV_TEXT = (
    "상품명,가격,재고,색상,사이즈,정가\n"
    "린넨 셔츠,35.00,5,화이트,M,49.00\n"
    "린넨 셔츠,35.00,3,화이트,L,49.00\n"
    ",10,1,,,\n"
    "가격 오류,abc,1,,,\n"
    "재고 오류,10,10000,,,\n"
    "음수 가격,-1,1,,,\n"
)


def _import(staff_client, name, data):
    upload = SimpleUploadedFile(name, data)
    return staff_client.post(reverse("admin:shop_product_import"), {"file": upload})


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp949"])
def test_csv_import_reports_each_rejected_row(staff_client, encoding):
    response = _import(staff_client, "products.csv", CSV_TEXT.encode(encoding))
    html = response.content.decode()
    product = Product.objects.get(name="린넨 셔츠")
    assert sorted(product.variants.values_list("size", "stock")) == [("L", 3), ("M", 5)]
    assert Product.objects.count() == 1
    assert html.count('class="import-rejected"') == 4
    assert "상품명이 비어 있습니다" in html
    assert "가격이(가) 숫자가 아닙니다" in html
    assert "재고은(는) 0~9999 사이의 정수여야 합니다" in html
    assert "가격은(는) 0.01 이상이어야 합니다" in html


def test_import_of_unreadable_encoding_is_refused(staff_client):
    response = _import(staff_client, "bad.csv", b"name,price\n\xff\xfe\xff,1\n")
    assert "인코딩" in response.content.decode()
    assert not Product.objects.exists()


def test_xlsx_import(staff_client):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["name", "price", "stock", "color", "size"])
    sheet.append(["캐시미어 머플러", 59, 4, "그레이", ""])
    sheet.append(["캐시미어 머플러", 59, 2, "그레이", ""])  # duplicate option
    buffer = io.BytesIO()
    workbook.save(buffer)
    html = _import(staff_client, "products.xlsx", buffer.getvalue()).content.decode()
    assert Product.objects.get().variants.get().stock == 4
    assert "중복" in html


# --- images ------------------------------------------------------------------------------


def _image_bytes(fmt: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), "pink").save(buffer, format=fmt)
    return buffer.getvalue()


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "GIF", "WEBP"])
def test_images_accepted_by_content(fmt):
    image_validate(SimpleUploadedFile("photo.bin", _image_bytes(fmt)))


def test_images_rejected_by_content_or_size():
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        image_validate(SimpleUploadedFile("fake.jpg", b"<script>alert(1)</script>"))
    with pytest.raises(ValidationError):
        image_validate(SimpleUploadedFile("photo.bmp", _image_bytes("BMP")))
    big = SimpleUploadedFile("big.png", b"\x89PNG" + b"0" * (5 * 1024 * 1024 + 1))
    with pytest.raises(ValidationError, match="5MB"):
        image_validate(big)


def test_waitlist_admin_is_read_only(staff_client, shopper):
    variant = VariantFactory(stock=0)
    services.waitlist_join(user=shopper, variant_id=variant.pk, quantity=1)
    assert staff_client.get(reverse("admin:shop_waitlistentry_changelist")).status_code == 200
    assert WaitlistEntry.objects.count() == 1
    assert ProductVariant.objects.count() == 1


def test_new_product_form_starts_with_the_configured_timer(staff_client):
    from core.models import get_config

    config = get_config()
    config.default_cart_timer_minutes = 25
    config.save()
    html = staff_client.get(reverse("admin:shop_product_add")).content.decode()
    assert 'name="timer_minutes" value="25"' in html
