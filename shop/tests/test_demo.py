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
