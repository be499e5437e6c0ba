import pytest

from shop.tests.factories import ProductFactory, VariantFactory


@pytest.fixture
def variant(db):
    return VariantFactory(stock=10)


@pytest.fixture
def untimed_variant(db):
    return VariantFactory(product=ProductFactory(timer_enabled=False), stock=10)
