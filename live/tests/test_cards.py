"""Product events to a show's room carry the product's carousel card, rendered once per event:
open live pages swap it in instead of fetching the page (docs/realtime.md)."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from dorami.realtime import STORE_GROUP, room_group
from live.models import LiveStream
from shop import services
from shop.tests.factories import ProductFactory, VariantFactory
from shop.tests.test_realtime import _events, listen  # noqa: F401 — the fixture

pytestmark = pytest.mark.django_db(transaction=True)


def _card_in_page(html: str, product_id: int) -> str:
    pattern = r'<a class="product-card[^"]*"[^>]*data-product-id="' + str(product_id) + '".*?</a>'
    match = re.search(pattern, html, re.S)
    assert match, "card not on the page"
    return match.group(0)


def _normalised(html: str) -> str:
    return re.sub(r"\s+", " ", html).strip()


def test_product_update_carries_the_card_the_page_shows(listen):  # noqa: F811
    stream = LiveStream.objects.create(title="라이브", status="LIVE")
    product = ProductFactory(stream=stream, name="실크 블라우스")
    VariantFactory(product=product, price="29.00", stock=5)
    drain = listen(room_group(stream.pk))

    # when the seller renames it (one update)
    product.name = "실크 블라우스 (한정)"
    services.product_save(product=product)

    # then the room's event carries the new card, identical to the one the page renders
    (data,) = [d for e, d in _events(drain()) if e == "product.updated"]
    card = data["card_html"]
    assert "실크 블라우스 (한정)" in card and "$29.00" in card
    assert f'data-product-id="{product.pk}"' in card
    page = Client().get(f"/live/{stream.public_id}/").content.decode()
    assert _normalised(card) == _normalised(_card_in_page(page, product.pk))


def test_sold_out_and_new_product_cards(listen):  # noqa: F811
    stream = LiveStream.objects.create(title="라이브", status="LIVE")
    product = ProductFactory(stream=stream, name="니트")
    VariantFactory(product=product, stock=3)
    drain = listen(room_group(stream.pk))

    services.product_mark_sold_out(product_id=product.pk, sold_out=True)
    added = services.product_save(product=ProductFactory.build(name="새 모자", stream=stream))

    events = _events(drain())
    updated = next(d for e, d in events if e == "product.updated")
    assert "sold-out" in updated["card_html"].split(">")[0]  # the card's own class
    assert "품절" in updated["card_html"]
    new = next(d for e, d in events if e == "product.added")
    assert new["product_id"] == added.pk and "새 모자" in new["card_html"]


def test_a_product_off_the_carousel_has_an_empty_card(listen):  # noqa: F811
    stream = LiveStream.objects.create(title="라이브", status="LIVE")
    product = ProductFactory(stream=stream, hidden_from_store=True)
    drain = listen(room_group(stream.pk))
    product.name = "숨김 상품"
    services.product_save(product=product)
    (data,) = [d for e, d in _events(drain()) if e == "product.updated"]
    assert data["card_html"] == ""


def test_store_products_carry_no_card(listen):  # noqa: F811
    drain = listen(STORE_GROUP)
    services.product_save(product=ProductFactory.build(name="스토어 상품"))
    (data,) = [d for e, d in _events(drain()) if e == "product.added"]
    assert "card_html" not in data


def test_a_failing_card_still_sends_the_event(listen, monkeypatch):  # noqa: F811
    from shop import realtime as shop_realtime

    def broken(product_id, stream_id):
        raise RuntimeError("template error")

    monkeypatch.setattr(shop_realtime, "_room_product_extras", [broken])
    stream = LiveStream.objects.create(title="라이브", status="LIVE")
    drain = listen(room_group(stream.pk))
    product = services.product_save(product=ProductFactory.build(name="모자", stream=stream))
    (data,) = [d for e, d in _events(drain()) if e == "product.added"]
    assert data["product_id"] == product.pk and "card_html" not in data
