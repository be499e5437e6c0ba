"""The live room through a Redis outage: sockets stay open and are told the room is degraded,
chat is refused with a stable code (never silently lost), and when Redis comes back — empty,
its sequence numbers gone — every socket is told to resync and receives new events carrying
a new epoch within 3 seconds.

Each test runs its own redis-server (`own_redis`) and stops it; the shared one is never touched.
"""

from __future__ import annotations

import asyncio
import json
import re
import time

import pytest
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import connections
from django.test import Client

from dorami import realtime as transport
from dorami.asgi import application
from live import presence
from live.models import ChatMessage, LiveStream

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
async def _release_hub():
    yield
    await presence.presence_shutdown()
    await transport.close_hub()
    await sync_to_async(connections.close_all)()


@database_sync_to_async
def make_room():
    from accounts.tests.factories import UserFactory

    stream = LiveStream.objects.create(title="금요 라이브", status=LiveStream.Status.LIVE)
    user = UserFactory(profile_complete=True)
    ChatMessage.objects.create(stream=stream, user=user, display_name="민지", body="안녕하세요")
    return stream, user


@sync_to_async
def logged_in_page(user) -> tuple[str, str]:
    """The room's websocket path (as the page gives it) and the user's session cookie."""
    client = Client()
    client.force_login(user)
    page = client.get(client.get("/live/")["Location"]).content.decode()
    ws_path = re.search(r'data-ws-path="([^"]+)"', page).group(1)
    return ws_path, f"sessionid={client.cookies['sessionid'].value}"


async def join(ws_path: str, cookie: str) -> WebsocketCommunicator:
    headers = [(b"origin", b"http://localhost"), (b"cookie", cookie.encode())]
    comm = WebsocketCommunicator(application, ws_path, headers=headers)
    connected, _code = await comm.connect(timeout=5)
    assert connected
    comm.hello = await next_frame(comm, lambda f: f["type"] == "hello")
    comm.history = await next_frame(comm, lambda f: f["type"] == "history")
    return comm


async def next_frame(comm, predicate, timeout=3.0) -> dict:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        remaining = deadline - loop.time()
        if remaining <= 0:
            raise AssertionError("no matching frame")
        output = await comm.receive_output(timeout=remaining)
        assert output["type"] != "websocket.close", f"socket closed: {output}"
        frame = json.loads(output["text"])
        if predicate(frame):
            return frame


def is_status(state):
    return lambda f: f.get("type") == "status" and f.get("state") == state


def is_event(name):
    return lambda f: f.get("type") == "event" and f.get("event") == name


async def publish_notice(stream, text: str) -> int | None:
    return await sync_to_async(transport.publish)(
        group=transport.room_group(stream.pk),
        event="notice.updated",
        data={"stream_id": stream.pk, "notice": text},
    )


async def test_a_connected_socket_lives_through_an_outage_and_resyncs_on_a_new_epoch(own_redis):
    # given: a logged-in viewer in the room, and one event under the room's first epoch
    stream, user = await make_room()
    ws_path, cookie = await logged_in_page(user)
    comm = await join(ws_path, cookie)
    first_epoch = comm.hello["epoch"]
    assert first_epoch
    for n in range(5):  # a few events, so the numbers run ahead of a fresh start
        seq = await publish_notice(stream, f"공지 {n}")
    event = await next_frame(comm, lambda f: f.get("seq") == seq)
    assert event["epoch"] == first_epoch and seq >= 5

    # when: Redis dies
    await sync_to_async(own_redis.stop)()

    # then: the socket stays open and is told the room is degraded
    await next_frame(comm, is_status("degraded"))
    # and a chat typed now is refused with a stable code, and nothing is stored
    await comm.send_json_to({"type": "chat", "body": "지금 보내요"})
    error = await next_frame(comm, lambda f: f.get("type") == "error")
    assert error["code"] == "REALTIME_UNAVAILABLE" and "다시" in error["message"]
    assert await database_sync_to_async(ChatMessage.objects.filter(body="지금 보내요").count)() == 0

    # when: Redis comes back empty (every sequence number gone)
    await sync_to_async(own_redis.start)()
    restarted = time.monotonic()

    # then: the socket is told to resync, and a new event reaches it within 3 seconds,
    # numbered from 1 again under a new epoch (so the page knows to refetch the room)
    await next_frame(comm, is_status("ok"), timeout=3.0)
    await publish_notice(stream, "돌아왔어요")
    event = await next_frame(comm, is_event("notice.updated"), timeout=3.0)
    assert time.monotonic() - restarted < 3.0
    assert event["data"]["notice"] == "돌아왔어요"
    assert event["seq"] < seq and event["epoch"] and event["epoch"] != first_epoch

    # and chat works again
    await comm.send_json_to({"type": "chat", "body": "이제 보내요"})
    message = await next_frame(comm, is_event("chat.message"))
    assert message["data"]["body"] == "이제 보내요"
    await comm.disconnect()


async def test_a_socket_joining_during_the_outage_opens_degraded_and_recovers(own_redis):
    # given: Redis is down before the viewer arrives
    stream, user = await make_room()
    ws_path, cookie = await logged_in_page(user)
    await sync_to_async(own_redis.stop)()

    # when
    comm = await join(ws_path, cookie)

    # then: the room opens with what the database knows, and says it is reconnecting
    assert comm.hello["seq"] is None and comm.hello["viewers"] is None
    assert [m["body"] for m in comm.history["messages"]] == ["안녕하세요"]
    await next_frame(comm, is_status("degraded"))

    # and once Redis is back, events reach it
    await sync_to_async(own_redis.start)()
    await next_frame(comm, is_status("ok"), timeout=3.0)
    await publish_notice(stream, "공지")
    event = await next_frame(comm, is_event("notice.updated"))
    assert event["seq"] >= 1 and event["epoch"]
    await comm.disconnect()
