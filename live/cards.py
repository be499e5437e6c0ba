"""The carousel card of one product, rendered once per product event for every viewer.

`product.added` / `product.updated` events to a show's room carry `card_html` (registered with
`shop.realtime` in `LiveConfig.ready`): the open live pages swap the card in from the event
instead of each fetching the whole page (one seller edit with 1,000 viewers was 1,000 page
renders). The card holds nothing personal, so one render serves every viewer.
"""

from __future__ import annotations

from django.template.loader import render_to_string

from core.models import get_config
from live import selectors
from live.models import LiveStream


def product_card(product_id: int, stream_id: int) -> dict:
    """{"card_html": the card, or "" when the product is not on the show's carousel}."""
    stream = LiveStream.objects.filter(pk=stream_id).first()
    products = selectors.stream_products(stream, product_id=product_id) if stream else []
    if not products:
        return {"card_html": ""}
    context = {
        "product": products[0],
        "stream": stream,
        "low_stock_threshold": get_config().low_stock_threshold,
    }
    return {"card_html": render_to_string("live/watch.html#product-card", context).strip()}
