"""The websocket auth stack (`dorami.routing.SessionAuthStack`): the session and the user reach
the consumer, and the server's `send` reaches it unwrapped (every event to every viewer goes
through it)."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import connections

from accounts.tests.test_page_events import make_user, session_cookie
from dorami.routing import SessionAuthStack

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
async def _close_connections():
    yield
    await sync_to_async(connections.close_all)()


async def through_stack(headers: list) -> tuple[dict, object, object]:
    """Run the stack on a socket's scope; return what the consumer would get: (scope, receive,
    send), and the server's own send."""
    seen: dict = {}

    async def inner(scope, receive, send):
        seen.update(scope=scope, receive=receive, send=send)

    async def receive():
        return {"type": "websocket.connect"}

    async def send(message):
        return None

    scope = {
        "type": "websocket",
        "path": "/ws/events/",
        "query_string": b"",
        "headers": headers,
        "subprotocols": [],
    }
    await SessionAuthStack(inner)(scope, receive, send)
    return seen, receive, send


async def test_a_guest_socket_gets_an_empty_session_and_the_server_send():
    seen, receive, send = await through_stack([(b"origin", b"http://localhost")])
    assert seen["send"] is send
    assert seen["receive"] is receive
    assert seen["scope"]["session"].session_key is None
    assert not seen["scope"]["user"].is_authenticated


async def test_a_shopper_socket_gets_its_session_and_user_and_the_server_send():
    user = await make_user()
    cookie = await session_cookie(user)
    seen, _receive, send = await through_stack(
        [(b"origin", b"http://localhost"), (b"cookie", cookie.encode())]
    )
    assert seen["send"] is send
    assert seen["scope"]["session"].session_key == cookie.partition("=")[2]
    assert seen["scope"]["cookies"][settings.SESSION_COOKIE_NAME] == cookie.partition("=")[2]
    resolved = seen["scope"]["user"]
    assert resolved.is_authenticated
    assert resolved.pk == user.pk
