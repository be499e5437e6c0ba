"""Seller edits reach an open live page from the event alone: no page fetch per viewer.

A rename, a sold-out, a new product and a featured change each arrive as one event (the card
rendered once on the server); the viewer's page updates and asks the server for nothing.
"""

from __future__ import annotations

import re
from urllib.parse import urlparse

from playwright.sync_api import expect


def test_seller_edits_update_the_page_without_fetching_it(
    asgi_live_server, browser, browser_context_args
):
    from live.models import LiveStream
    from live.services.stream import stream_feature_product
    from shop import services
    from shop.tests.factories import ProductFactory, VariantFactory

    # given a viewer on a live page with one product
    stream = LiveStream.objects.create(title="금요 라이브", status=LiveStream.Status.LIVE)
    product = ProductFactory(stream=stream, name="니트")
    VariantFactory(product=product, price="29.00", stock=5)
    context = browser.new_context(**browser_context_args)
    try:
        page = context.new_page()
        page.goto(f"{asgi_live_server.url}/live/{stream.public_id}/")
        room = page.locator("#live-room")
        expect(room).to_have_attribute("data-ws-state", "open")
        requests: list[str] = []
        page.on("request", lambda request: requests.append(urlparse(request.url).path))
        card = page.locator(f'[data-carousel] [data-product-id="{product.pk}"]')
        expect(card).to_contain_text("$29.00")

        # when the seller renames the product, marks it sold out, adds one and features it
        product.name = "캐시미어 니트"
        services.product_save(product=product)
        expect(card.locator(".product-name")).to_have_text("캐시미어 니트")
        services.product_mark_sold_out(product_id=product.pk, sold_out=True)
        expect(card.locator("[data-sold-out-badge]")).to_be_visible()
        added = services.product_save(product=ProductFactory.build(name="새 모자", stream=stream))
        new_card = page.locator(f'[data-carousel] [data-product-id="{added.pk}"]')
        expect(new_card).to_contain_text("새 모자")
        stream_feature_product(stream=stream, product=added)
        expect(new_card).to_have_class(re.compile(r"\bfeatured\b"))

        # then the page updated from the events alone: it fetched nothing from the site (the
        # player keeps retrying its video URLs: no media server here)
        page.wait_for_timeout(600)  # past the old 300 ms carousel reload delay
        video = ("/live/live/", "/hls/")
        assert [path for path in requests if not path.startswith(video)] == []
    finally:
        context.close()
