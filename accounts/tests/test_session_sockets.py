"""Ending one session closes the sockets opened with it, and only those (4401)."""

from __future__ import annotations

import json

import pytest
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.db import connections

from accounts import services
from accounts.models import UserSession
from accounts.tests.test_page_events import make_user, session_cookie
from dorami import realtime as transport
from dorami.asgi import application

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
async def _release_hub():
    yield
    await transport.close_hub()
    await sync_to_async(connections.close_all)()


async def login_session(user) -> str:
    """A real logged-in session of `user` with its device record; returns the session key."""
    cookie = await session_cookie(user)
    key = cookie.partition("=")[2]
    await database_sync_to_async(UserSession.objects.create)(user=user, session_key=key)
    return key


async def open_tab(session_key: str) -> WebsocketCommunicator:
    cookie = f"{settings.SESSION_COOKIE_NAME}={session_key}".encode()
    headers = [(b"origin", b"http://localhost"), (b"cookie", cookie)]
    comm = WebsocketCommunicator(application, "/ws/events/", headers=headers)
    connected, code = await comm.connect(timeout=5)
    assert connected, code
    return comm


async def closed_with(comm, code: int) -> None:
    error = json.loads((await comm.receive_output(timeout=3))["text"])
    assert error["code"] == "SESSION_ENDED"
    close = await comm.receive_output(timeout=2)
    assert close["type"] == "websocket.close" and close["code"] == code


async def test_ending_one_session_closes_its_sockets_only():
    shopper = await make_user()
    phone_key, laptop_key = await login_session(shopper), await login_session(shopper)
    phone, laptop = await open_tab(phone_key), await open_tab(laptop_key)
    record = await database_sync_to_async(UserSession.objects.get)(session_key=laptop_key)
    # when the phone ends the laptop's session
    await database_sync_to_async(services.user_session_end)(
        user=shopper, record_id=record.pk, current_session_key=phone_key
    )
    # then
    await closed_with(laptop, 4401)
    assert await phone.receive_nothing(timeout=0.5)
    await phone.disconnect()


async def test_log_out_other_devices_closes_every_other_socket():
    shopper = await make_user()
    phone_key, laptop_key = await login_session(shopper), await login_session(shopper)
    phone, laptop = await open_tab(phone_key), await open_tab(laptop_key)
    await database_sync_to_async(services.user_sessions_end_others)(
        user=shopper, current_session_key=phone_key
    )
    await closed_with(laptop, 4401)
    assert await phone.receive_nothing(timeout=0.5)
    await phone.disconnect()
