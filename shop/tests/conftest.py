import pytest

from shop.tests.factories import ProductFactory, VariantFactory


@pytest.fixture
def variant(db):
    return VariantFactory(stock=10)


@pytest.fixture
def untimed_variant(db):
    return VariantFactory(product=ProductFactory(timer_enabled=False), stock=10)


@pytest.fixture
def no_cap(db):
    """No per-user cap (`SystemConfig.max_per_user` cleared): for tests about stock alone."""
    from core.models import get_config

    config = get_config()
    config.max_per_user = None
    config.save()
