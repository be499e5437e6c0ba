"""`cart.expiring` has a receiver: the shopper's open tabs (`/ws/events/`) get it, through the
real job, Redis Pub/Sub and the full ASGI stack; other shoppers' tabs do not."""

from __future__ import annotations

from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from django.db import connections
from django.utils import timezone

from accounts.tests.test_page_events import events_within, make_user, next_event, open_socket
from dorami import realtime as transport

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
async def _release_hub():
    yield
    await transport.close_hub()
    await sync_to_async(connections.close_all)()


async def test_cart_expiring_reaches_the_shoppers_open_tabs_once():
    from notifications import triggers
    from orders.tests.factories import hold, make_variant

    shopper, other = await make_user(), await make_user()
    expires_at = timezone.now() + timedelta(seconds=100)

    @database_sync_to_async
    def setup():
        hold(user=shopper, variant=make_variant(name="곧 끝나는 니트"), expires_at=expires_at)

    await setup()
    tab, stranger = await open_socket(shopper), await open_socket(other)
    # when the periodic job runs (twice, as a doubled beat would)
    run = database_sync_to_async(triggers.carts_expiring_notify)
    assert await run() == 1
    frame = await next_event(tab, "cart.expiring")
    assert await run() == 0
    # then the shopper's tab is told once, with what the toast shows
    assert frame["data"]["product_name"] == "곧 끝나는 니트"
    assert frame["data"]["minutes"] == 2
    assert frame["data"]["url"] == "/cart/"
    assert frame["data"]["expires_at"] == expires_at.isoformat()
    assert [f for f in await events_within(tab) if f.get("event") == "cart.expiring"] == []
    assert [f for f in await events_within(stranger) if f.get("type") == "event"] == []
    await tab.disconnect()
    await stranger.disconnect()
