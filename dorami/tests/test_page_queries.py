"""Query counts of the pages a logged-in shopper opens most, pinned (bench/pages.py measures
their speed): the product page and the live page, with images, options, a cart and chat."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop_floor(shopper):
    """A LIVE show with 6 products of 3 options each, and a shopper with 2 cart lines."""
    from live.models import LiveStream
    from shop import services
    from shop.tests.factories import ProductFactory, VariantFactory

    stream = LiveStream.objects.create(title="금요 라이브", status=LiveStream.Status.LIVE)
    products = []
    for index in range(6):
        product = ProductFactory(stream=stream, name=f"상품 {index}")
        for size in ("S", "M", "L"):
            VariantFactory(product=product, size=size, stock=10)
        products.append(product)
    for product in products[:2]:
        services.cart_add(user=shopper, variant_id=product.variants.first().pk, quantity=1)
    return stream, products


def _queries(client, url: str) -> list[str]:
    client.get(url)  # warm: sessions, config cache, content types
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return [query["sql"] for query in captured.captured_queries]


PRODUCT_PAGE_QUERIES = 6  # user, product, options, images, waitlist entry, cart badge
LIVE_PAGE_QUERIES = 6  # user, show, products, images, options, cart badge


def test_product_page_queries(client, shopper, shop_floor):
    _stream, products = shop_floor
    client.force_login(shopper)
    queries = _queries(client, f"/products/{products[0].pk}/")
    assert len(queries) <= PRODUCT_PAGE_QUERIES, "\n".join(queries)


def test_live_page_queries_do_not_grow_with_products(client, shopper, shop_floor):
    stream, _products = shop_floor
    client.force_login(shopper)
    queries = _queries(client, f"/live/{stream.public_id}/")
    assert len(queries) <= LIVE_PAGE_QUERIES, "\n".join(queries)
    # three more products with options: the same number of queries
    from shop.tests.factories import ProductFactory, VariantFactory

    for index in range(3):
        VariantFactory(product=ProductFactory(stream=stream, name=f"추가 {index}"), stock=5)
    assert len(_queries(client, f"/live/{stream.public_id}/")) == len(queries)
