import pytest

from shop.demo import PRODUCTS, seed_shop
from shop.models import Product, ProductVariant

pytestmark = pytest.mark.django_db


def test_seed_shop_is_idempotent():
    seed_shop()
    seed_shop()
    assert Product.objects.count() == len(PRODUCTS)
    assert ProductVariant.objects.count() == sum(len(p["options"]) for p in PRODUCTS)
    assert Product.objects.get(name="한정판 에코백").status == "SOLD_OUT"


def test_seed_demo_gives_the_demo_broadcast_its_own_items():
    from django.core.management import call_command

    from live.models import LiveStream
    from shop.demo import STREAM_PRODUCTS

    call_command("seed_demo")
    call_command("seed_demo")

    stream = LiveStream.objects.get()
    assert sorted(stream.products.values_list("name", flat=True)) == sorted(
        spec["name"] for spec in STREAM_PRODUCTS
    )
    assert Product.objects.filter(stream__isnull=True).count() == len(PRODUCTS)


def test_demo_products_get_a_generated_picture_once(settings):
    from PIL import Image

    # when the demo catalog is seeded twice
    seed_shop()
    seed_shop()
    # then every product has exactly one picture: a square JPEG drawn at seed time
    for product in Product.objects.prefetch_related("images"):
        images = list(product.images.all())
        assert len(images) == 1, product.name
        with Image.open(images[0].image.path) as picture:
            assert picture.format == "JPEG" and picture.size == (720, 720)
    # and the store shows them
    from django.test import Client

    page = Client().get("/store/").content.decode()
    assert page.count('src="/media/products/demo-') == Product.objects.count()


def test_demo_picture_without_a_hangul_font_is_still_a_picture(monkeypatch):
    import io

    from PIL import Image

    from shop import demo

    monkeypatch.setattr(demo, "FONT_PATHS", ["/nonexistent/font.ttc"])
    data = demo.demo_image("니트", ["블랙"])
    with Image.open(io.BytesIO(data)) as picture:
        assert picture.size == (720, 720)
