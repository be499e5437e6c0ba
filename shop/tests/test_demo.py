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
