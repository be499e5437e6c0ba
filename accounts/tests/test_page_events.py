"""The per-tab events socket `/ws/events/` delivers what the services announce.

Every event group published to has a receiver: a shopper's own events (`user.<id>`) reach their
open tabs, the store's product events (`store`) reach the store and home pages. These tests go
through the real services, Redis Pub/Sub and the full ASGI stack (origin check, session auth).
"""

from __future__ import annotations

import asyncio
import json

import pytest
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import connections

from accounts import services as account_services
from dorami import realtime as transport
from dorami.asgi import application

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
async def _release_hub():
    yield
    await transport.close_hub()
    await sync_to_async(connections.close_all)()


@database_sync_to_async
def make_user(**extra):
    from accounts.tests.factories import UserFactory

    extra.setdefault("profile_complete", True)
    return UserFactory(**extra)


@database_sync_to_async
def session_cookie(user) -> str:
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.save()
    return f"{settings.SESSION_COOKIE_NAME}={store.session_key}"


async def open_socket(user=None, *, store=False, expect_accept=True):
    headers = [(b"origin", b"http://localhost")]
    if user is not None:
        headers.append((b"cookie", (await session_cookie(user)).encode()))
    path = "/ws/events/" + ("?store=1" if store else "")
    comm = WebsocketCommunicator(application, path, headers=headers)
    connected, code = await comm.connect(timeout=5)
    assert connected is expect_accept, code
    comm.close_code = None if connected else code
    return comm


async def next_event(comm, name: str, timeout: float = 3.0) -> dict:
    """The first `event` frame named `name` within `timeout` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        remaining = deadline - loop.time()
        assert remaining > 0, f"no {name} event in time"
        output = await comm.receive_output(timeout=remaining)
        assert output["type"] == "websocket.send", output
        frame = json.loads(output["text"])
        if frame.get("type") == "event" and frame["event"] == name:
            return frame


async def events_within(comm, quiet: float = 0.5) -> list[dict]:
    frames = []
    while not await comm.receive_nothing(timeout=quiet, interval=0.02):
        output = await comm.receive_output()
        if output["type"] == "websocket.send":
            frames.append(json.loads(output["text"]))
    return frames


async def test_payment_confirmation_reaches_the_shoppers_open_tabs_only():
    from orders.services import lifecycle
    from orders.tests.factories import make_order, make_variant

    # given a shopper with two tabs open, another shopper, and the shopper's pending order
    shopper, other = await make_user(), await make_user()
    tab1, tab2, stranger = await open_socket(shopper), await open_socket(shopper), None
    stranger = await open_socket(other)
    order = await database_sync_to_async(
        lambda: make_order(user=shopper, items=[(make_variant(), 1)])
    )()
    # when the admin confirms the deposit
    await database_sync_to_async(lifecycle.payment_confirm)(order=order.pk)
    # then both tabs of the shopper receive it, with the order id, and nobody else does
    for tab in (tab1, tab2):
        frame = await next_event(tab, "payment.confirmed")
        assert frame["data"]["order_id"] == order.order_id
        assert frame["data"]["status"] == "PAYMENT_CONFIRMED"
    assert await events_within(stranger) == []
    for comm in (tab1, tab2, stranger):
        await comm.disconnect()


async def test_shipping_reaches_the_shopper_as_order_updated():
    from orders.services import lifecycle
    from orders.tests.factories import make_order, make_variant

    shopper = await make_user()
    tab = await open_socket(shopper)
    order = await database_sync_to_async(
        lambda: make_order(user=shopper, items=[(make_variant(), 1)], status="PAYMENT_CONFIRMED")
    )()
    await database_sync_to_async(lifecycle.order_ship)(order=order.pk, tracking_number="1Z42")
    frame = await next_event(tab, "order.updated")
    assert frame["data"] == {"order_id": order.order_id, "status": "SHIPPED"}
    await tab.disconnect()


async def test_waitlist_promotion_reaches_the_promoted_shopper():
    from shop import services as shop_services
    from shop.tests.factories import VariantFactory

    holder, waiting = await make_user(), await make_user()

    @database_sync_to_async
    def setup():
        variant = VariantFactory(stock=1)
        line = shop_services.cart_add(user=holder, variant_id=variant.pk, quantity=1)
        entry = shop_services.waitlist_join(user=waiting, variant_id=variant.pk, quantity=1)
        return variant, line, entry

    variant, line, entry = await setup()
    tab = await open_socket(waiting)
    holder_tab = await open_socket(holder)
    # when the holder removes the last unit from their cart
    await database_sync_to_async(shop_services.cart_line_remove)(user=holder, line_id=line.pk)
    # then the waiting shopper's tab is told, on whatever page it is
    frame = await next_event(tab, "waitlist.promoted")
    assert frame["data"]["entry_id"] == entry.pk
    assert frame["data"]["product_id"] == variant.product_id
    assert frame["data"]["expires_at"]
    assert [f for f in await events_within(holder_tab) if f.get("type") == "event"] == []
    await tab.disconnect()
    await holder_tab.disconnect()


async def test_store_pages_receive_store_product_events():
    from shop import services as shop_services
    from shop.tests.factories import VariantFactory

    # given a guest on the store page (no session) and a stream-less product with one unit
    guest = await open_socket(store=True)
    shopper = await make_user()
    variant = await database_sync_to_async(VariantFactory)(stock=1)
    # when a shopper takes the last unit
    await database_sync_to_async(shop_services.cart_add)(
        user=shopper, variant_id=variant.pk, quantity=1
    )
    # then the store page learns it is sold out
    frame = await next_event(guest, "product.sold_out")
    assert frame["data"] == {"product_id": variant.product_id, "variant_id": variant.pk}
    await guest.disconnect()


async def test_a_logged_in_tab_without_store_gets_no_store_events():
    from shop import services as shop_services
    from shop.tests.factories import VariantFactory

    shopper = await make_user()
    tab = await open_socket(shopper)
    variant = await database_sync_to_async(VariantFactory)(stock=5)
    await database_sync_to_async(shop_services.cart_add)(
        user=shopper, variant_id=variant.pk, quantity=1
    )
    assert await events_within(tab) == []
    await tab.disconnect()


async def test_a_guest_without_a_public_group_is_refused():
    comm = await open_socket(expect_accept=False)
    assert comm.close_code == 4400


async def test_suspension_closes_the_events_socket():
    shopper = await make_user()
    tab = await open_socket(shopper)
    await database_sync_to_async(account_services.user_suspend)(user=shopper)
    output = await tab.receive_output(timeout=2)
    assert json.loads(output["text"])["code"] == "ACCOUNT_SUSPENDED"
    close = await tab.receive_output(timeout=2)
    assert close["type"] == "websocket.close" and close["code"] == 4001
    assert close["reason"] == "이용이 정지된 계정입니다."


async def test_a_suspended_account_is_closed_at_connect():
    """The session stays valid after a suspension written without any announcement (by SQL);
    the connect-time account check closes the socket with the reason."""
    from accounts.models import User

    shopper = await make_user()
    await database_sync_to_async(
        lambda: User.objects.filter(pk=shopper.pk).update(status="SUSPENDED")
    )()
    comm = await open_socket(shopper)
    error = json.loads((await comm.receive_output(timeout=2))["text"])
    assert error["code"] == "ACCOUNT_SUSPENDED"
    close = await comm.receive_output(timeout=2)
    assert close["type"] == "websocket.close" and close["code"] == 4001
