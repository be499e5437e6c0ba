"""Suspension, "log out everywhere" and the loss of staff rights reach sockets already open.

A socket keeps the user loaded at its handshake, so the account services announce a close to
the user's control group, and every chat send and moderation re-reads the account.
Real PostgreSQL and Redis (the close travels through Redis Pub/Sub).
"""

from __future__ import annotations

import asyncio
import json

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from accounts import services as account_services
from accounts.models import User
from dorami.asgi import application
from live.models import ChatMessage
from live.tests.test_consumers import (  # noqa: F401 - the autouse fixture releases the hub
    _release_hub,
    frames_until_quiet,
    is_error,
    is_event,
    join,
    make_stream,
    make_user,
    next_frame,
    session_cookie,
)

pytestmark = pytest.mark.django_db(transaction=True)


async def close_output(comm, timeout=2.0) -> dict:
    """The socket's close (code and reason) within `timeout` seconds, skipping other frames."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        remaining = deadline - loop.time()
        if remaining <= 0:
            raise AssertionError("socket not closed in time")
        output = await comm.receive_output(timeout=remaining)
        if output["type"] == "websocket.close":
            return output


async def chat_events(comm, quiet=0.5) -> list[dict]:
    frames = []
    while not await comm.receive_nothing(timeout=quiet, interval=0.02):
        output = await comm.receive_output()
        if output["type"] == "websocket.send":
            frame = json.loads(output["text"])
            if frame.get("event") == "chat.message":
                frames.append(frame)
    return frames


@database_sync_to_async
def suspend(user, actor=None):
    return account_services.user_suspend(user=user, actor=actor)


@database_sync_to_async
def set_columns(user, **columns):
    """A change written without any announcement (e.g. by SQL), so only the re-check sees it."""
    User.objects.filter(pk=user.pk).update(**columns)


@database_sync_to_async
def stored_messages(stream) -> list[str]:
    return list(ChatMessage.objects.filter(stream=stream).values_list("body", flat=True))


async def test_suspension_closes_the_users_open_socket_within_two_seconds():
    # given a shopper and a guest watching, and the shopper on a second tab
    stream = await make_stream()
    shopper = await make_user()
    tab1 = await join(stream, user=shopper)
    tab2 = await join(stream, user=shopper)
    guest = await join(stream, guest="guestkey-a1")
    loop = asyncio.get_running_loop()

    # when an admin suspends the shopper
    started = loop.time()
    await suspend(shopper)

    # then both tabs get the reason and close with 4001 within 2 s; the guest stays
    for tab in (tab1, tab2):
        error = await next_frame(tab, is_error("ACCOUNT_SUSPENDED"), timeout=2)
        assert error["message"] == "이용이 정지된 계정입니다."
        closed = await close_output(tab, timeout=2)
        assert closed["code"] == 4001
        assert closed["reason"] == "이용이 정지된 계정입니다."
    assert loop.time() - started < 2.0
    assert await guest.receive_nothing(timeout=0.3)
    await guest.disconnect()


async def test_chat_after_suspension_is_refused_and_reaches_nobody():
    # given the shopper's socket is open and the close has not reached it (status changed
    # without an announcement: only the per-send re-check can see it)
    stream = await make_stream()
    shopper = await make_user()
    comm = await join(stream, user=shopper)
    viewer = await join(stream, guest="guestkey-b1")
    await set_columns(shopper, status=User.Status.SUSPENDED)

    # when the shopper sends a chat
    await comm.send_json_to({"type": "chat", "body": "정지 후 메시지"})

    # then it is refused, the socket closes with 4001, and no viewer receives it
    await next_frame(comm, is_error("ACCOUNT_SUSPENDED"))
    assert (await close_output(comm))["code"] == 4001
    assert await chat_events(viewer) == []
    assert await stored_messages(stream) == []
    await viewer.disconnect()


async def test_deactivated_or_logged_out_everywhere_user_cannot_chat_on_an_old_socket():
    stream = await make_stream()
    inactive, logged_out = await make_user(), await make_user()
    a = await join(stream, user=inactive)
    b = await join(stream, user=logged_out)
    await set_columns(inactive, is_active=False)
    await set_columns(logged_out, session_version=7)
    for comm, code, close in ((a, "ACCOUNT_SUSPENDED", 4001), (b, "SESSION_ENDED", 4401)):
        await comm.send_json_to({"type": "chat", "body": "안녕"})
        await next_frame(comm, is_error(code))
        assert (await close_output(comm))["code"] == close
    assert await stored_messages(stream) == []


async def test_log_out_everywhere_closes_open_sockets():
    stream = await make_stream()
    shopper = await make_user()
    comm = await join(stream, user=shopper)
    await database_sync_to_async(account_services.user_sessions_end)(user=shopper)
    await next_frame(comm, is_error("SESSION_ENDED"), timeout=2)
    assert (await close_output(comm))["code"] == 4401


async def test_close_for_one_user_leaves_other_users_alone():
    stream = await make_stream()
    suspended, other = await make_user(), await make_user()
    a = await join(stream, user=suspended)
    b = await join(stream, user=other)
    await suspend(suspended)
    assert (await close_output(a))["code"] == 4001
    # the other shopper keeps chatting
    await b.send_json_to({"type": "chat", "body": "계속 채팅"})
    frame = await next_frame(b, is_event("chat.message"))
    assert frame["data"]["body"] == "계속 채팅"
    await b.disconnect()


async def test_demoted_staff_socket_closes_and_moderation_is_refused():
    # given a staff member in the studio socket and a shopper's message
    stream = await make_stream()
    staff = await make_user(is_staff=True)
    shopper = await make_user()
    studio = await join(stream, user=staff)
    comm = await join(stream, user=shopper)
    await comm.send_json_to({"type": "chat", "body": "지우지 마세요"})
    message = (await next_frame(studio, is_event("chat.message")))["data"]

    # when staff rights are removed without an announcement reaching the socket
    await set_columns(staff, is_staff=False)

    # then a delete is refused, nothing is deleted, and the socket closes with 4002
    await studio.send_json_to({"type": "delete", "message_id": message["id"]})
    error = await next_frame(studio, is_error("STAFF_REVOKED"))
    assert error["message"] == "관리자 권한이 해제되었습니다."
    assert (await close_output(studio))["code"] == 4002
    deleted = await database_sync_to_async(
        lambda: ChatMessage.objects.get(pk=message["id"]).is_deleted
    )()
    assert deleted is False
    assert not any(f.get("event") == "chat.deleted" for f in await frames_until_quiet(comm))
    await comm.disconnect()


async def test_admin_removing_staff_rights_closes_their_studio_socket(client):
    # given a staff member's socket is open
    stream = await make_stream()
    admin = await make_user(is_staff=True, is_superuser=True)
    seller = await make_user(is_staff=True)
    studio = await join(stream, user=seller)

    # when an admin unticks "staff" in the user admin
    def demote():
        client.force_login(admin)
        data = {
            "email": seller.email,
            "name": seller.name,
            "instagram_id": seller.instagram_id or "",
            "depositor_name": seller.depositor_name,
            "phone": seller.phone,
            "is_active": "on",
        }
        return client.post(f"/admin/accounts/user/{seller.pk}/change/", data)

    response = await database_sync_to_async(demote)()
    assert response.status_code == 302, response.content.decode()[:2000]

    # then the studio socket says so and closes with 4002
    error = await next_frame(studio, is_error("STAFF_REVOKED"), timeout=2)
    assert error["message"] == "관리자 권한이 해제되었습니다."
    closed = await close_output(studio)
    assert (closed["code"], closed["reason"]) == (4002, "관리자 권한이 해제되었습니다.")
    refreshed = await database_sync_to_async(User.objects.get)(pk=seller.pk)
    assert refreshed.is_staff is False


async def test_admin_deactivating_a_user_ends_sessions_and_sockets(client):
    stream = await make_stream()
    admin = await make_user(is_staff=True, is_superuser=True)
    shopper = await make_user()
    comm = await join(stream, user=shopper)

    def deactivate():
        client.force_login(admin)
        data = {
            "email": shopper.email,
            "name": shopper.name,
            "instagram_id": shopper.instagram_id or "",
            "depositor_name": shopper.depositor_name,
            "phone": shopper.phone,
        }
        return client.post(f"/admin/accounts/user/{shopper.pk}/change/", data)

    assert (await database_sync_to_async(deactivate)()).status_code == 302
    assert (await close_output(comm))["code"] == 4001
    refreshed = await database_sync_to_async(User.objects.get)(pk=shopper.pk)
    assert refreshed.session_version == shopper.session_version + 1


async def test_suspended_between_handshake_and_join_is_closed_at_once():
    # given a socket whose handshake loaded the user, but the account row says suspended by
    # the time the room is joined (the join re-reads it in the same query as the ban check)
    stream = await make_stream()
    shopper = await make_user()
    # the session cookie is made first (valid hash), then the status flips with no bump
    await set_columns(shopper, status=User.Status.SUSPENDED)
    comm = WebsocketCommunicator(
        application,
        f"/ws/live/{stream.public_id}/",
        headers=[
            (b"origin", b"http://localhost"),
            (b"cookie", (await session_cookie(shopper)).encode()),
        ],
    )
    connected, _code = await comm.connect(timeout=5)
    assert connected
    await next_frame(comm, is_error("ACCOUNT_SUSPENDED"))
    assert (await close_output(comm))["code"] == 4001
