"""The live page's cards (and the page's footer) come from the per-process fragment cache,
keyed on what they show: a new state is a new render, never an old card."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from core.models import SystemConfig, get_config
from live.models import LiveStream
from live.services.stream import stream_feature_product
from shop import services
from shop.models import ProductVariant
from shop.tests.factories import ProductFactory, VariantFactory

pytestmark = pytest.mark.django_db


def _card(client: Client, stream: LiveStream, product_id: int) -> str:
    html = client.get(f"/live/{stream.public_id}/").content.decode()
    pattern = r'<a class="product-card[^"]*"[^>]*data-product-id="' + str(product_id) + '".*?</a>'
    match = re.search(pattern, html, re.S)
    assert match, "card not on the page"
    return match.group(0)


def test_cards_follow_stock_price_name_feature_and_sold_out(shopper):
    stream = LiveStream.objects.create(title="라이브", status="LIVE")
    product = ProductFactory(stream=stream, name="니트")
    variant = VariantFactory(product=product, price="30.00", stock=6)
    client = Client()
    first = _card(client, stream, product.pk)
    assert f'data-variant-stock="{variant.pk}:6"' in first and "$30.00" in first
    assert _card(client, stream, product.pk) == first  # same state: the same card

    services.cart_add(user=shopper, variant_id=variant.pk, quantity=3)  # 3 left ≤ threshold 4
    held = _card(client, stream, product.pk)
    assert f'data-variant-stock="{variant.pk}:3"' in held
    assert "3개 남음" in held and "data-low-badge hidden" not in held

    # one unit moves between options: the same total, another card
    second = VariantFactory(product=product, size="XL", price="30.00", stock=2)
    before = _card(client, stream, product.pk)
    ProductVariant.objects.filter(pk=variant.pk).update(stock=variant.stock + 1)
    ProductVariant.objects.filter(pk=second.pk).update(stock=1)
    moved = _card(client, stream, product.pk)
    assert f"{variant.pk}:3,{second.pk}:2" in before and f"{variant.pk}:4,{second.pk}:1" in moved

    ProductVariant.objects.filter(pk=variant.pk).update(price="25.00")
    product.name = "니트 (한정)"
    services.product_save(product=product)
    renamed = _card(client, stream, product.pk)
    assert "니트 (한정)" in renamed and "$25.00" in renamed and "featured" not in renamed

    stream_feature_product(stream=stream, product=product)
    assert 'class="product-card featured"' in _card(client, stream, product.pk)

    services.product_mark_sold_out(product_id=product.pk, sold_out=True)
    assert 'class="product-card sold-out featured"' in _card(client, stream, product.pk)


def test_footer_follows_the_business_details(client):
    get_config()
    SystemConfig.objects.filter(pk=1).update(business_name="도라미 상회")
    from django.core.cache import cache

    cache.clear()  # the config's own cache (30 s), not the fragment
    assert "도라미 상회" in client.get("/store/").content.decode()
    SystemConfig.objects.filter(pk=1).update(business_name="도라미 상점")
    cache.clear()
    page = client.get("/store/").content.decode()
    assert "도라미 상점" in page and "도라미 상회" not in page
