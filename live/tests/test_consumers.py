"""The live room websocket: chat rules, moderation, bad input, presence, sequence numbers.

Real PostgreSQL (transaction=True: the consumer's ORM work runs in another thread) and Redis.
"""

from __future__ import annotations

import asyncio
import json

import pytest
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import connections, transaction

from dorami import realtime as transport
from dorami.asgi import application
from live import presence
from live.models import ChatMessage, ChatSanction, LiveStream

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
async def _release_hub():
    yield
    await presence.presence_shutdown()
    await transport.close_hub()
    await sync_to_async(connections.close_all)()


@database_sync_to_async
def make_stream(**extra) -> LiveStream:
    return LiveStream.objects.create(title="금요 라이브", status=LiveStream.Status.LIVE, **extra)


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


async def join(stream, user=None, guest=None, expect_accept=True):
    headers = [(b"origin", b"http://localhost")]
    if user is not None:
        headers.append((b"cookie", (await session_cookie(user)).encode()))
    path = f"/ws/live/{stream.public_id}/" + (f"?g={guest}" if guest else "")
    comm = WebsocketCommunicator(application, path, headers=headers)
    connected, _code = await comm.connect(timeout=5)
    assert connected is expect_accept
    if connected:
        hello = await next_frame(comm, lambda f: f["type"] == "hello", timeout=5)
        history = await comm.receive_json_from(timeout=5)
        assert history["type"] == "history"
        comm.hello, comm.history = hello, history
    return comm


async def next_frame(comm, predicate, timeout=3.0):
    """The next frame matching `predicate`, skipping others (viewer counts etc.)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        remaining = deadline - loop.time()
        if remaining <= 0:
            raise AssertionError("no matching frame")
        output = await comm.receive_output(timeout=remaining)
        if output["type"] == "websocket.close":
            if predicate({"type": "close", "code": output.get("code")}):
                return {"type": "close", "code": output.get("code")}
            raise AssertionError(f"socket closed: {output}")
        frame = json.loads(output["text"])
        if predicate(frame):
            return frame


def is_event(name):
    return lambda f: f.get("type") == "event" and f.get("event") == name


def is_error(code):
    return lambda f: f.get("type") == "error" and f.get("code") == code


def is_close(f):
    return f.get("type") == "close"


async def frames_until_quiet(comm, quiet=0.4) -> list[dict]:
    frames = []
    while True:
        # receive_nothing() waits without cancelling the app (receive_output's timeout does)
        if await comm.receive_nothing(timeout=quiet, interval=0.02):
            return frames
        output = await comm.receive_output()
        if output["type"] == "websocket.send":
            frames.append(json.loads(output["text"]))
        else:
            frames.append({"type": "close", "code": output.get("code")})


# --- joining --------------------------------------------------------------------------------
async def test_guest_join_gets_hello_history_and_is_counted():
    stream = await make_stream()
    viewer = await join(stream, guest="guestkey01")
    assert viewer.hello["viewers"] == 1
    assert viewer.hello["can_chat"] is False
    assert viewer.history["messages"] == []
    await viewer.disconnect()


@pytest.mark.parametrize("name", ["abcdefghijkm", "publish-key"])
async def test_unknown_stream_is_refused(name):
    stream = await make_stream()
    path = stream.publish_key if name == "publish-key" else name  # the secret names no room
    comm = WebsocketCommunicator(
        application, f"/ws/live/{path}/", headers=[(b"origin", b"http://localhost")]
    )
    connected, code = await comm.connect(timeout=5)
    assert connected is False
    assert code == 4404


# --- chat -----------------------------------------------------------------------------------
async def test_chat_reaches_every_viewer_with_sequence_and_is_stored():
    stream = await make_stream()
    author = await make_user(instagram_id="@dorami_fan")
    a = await join(stream, user=author)
    b = await join(stream, guest="guestkey02")
    await a.send_json_to({"type": "chat", "body": "  <b>안녕하세요</b>  "})
    got_b = await next_frame(b, is_event("chat.message"))
    got_a = await next_frame(a, is_event("chat.message"))
    assert got_b == got_a
    assert got_b["data"]["body"] == "안녕하세요"  # trimmed, HTML stripped
    assert got_b["data"]["name"] == "@dorami_fan"
    assert got_b["seq"] > b.hello["seq"]
    stored = await database_sync_to_async(lambda: list(ChatMessage.objects.all()))()
    assert [m.body for m in stored] == ["안녕하세요"]
    # the next joiner gets it from the Redis history
    c = await join(stream, guest="guestkey03")
    assert [m["body"] for m in c.history["messages"]] == ["안녕하세요"]
    for comm in (a, b, c):
        await comm.disconnect()


async def test_sequence_numbers_increase_per_room():
    stream = await make_stream()
    author = await make_user()
    a = await join(stream, user=author)
    for text in ("하나", "둘", "셋"):
        await a.send_json_to({"type": "chat", "body": text})
    seqs = []
    for _ in range(3):
        seqs.append((await next_frame(a, is_event("chat.message")))["seq"])
    assert seqs == sorted(seqs) and len(set(seqs)) == 3
    await a.disconnect()


async def test_guest_cannot_chat():
    stream = await make_stream()
    guest = await join(stream, guest="guestkey04")
    await guest.send_json_to({"type": "chat", "body": "hi"})
    assert (await next_frame(guest, is_error("LOGIN_REQUIRED")))["message"]
    await guest.disconnect()
    assert await database_sync_to_async(ChatMessage.objects.count)() == 0


async def test_incomplete_profile_cannot_chat():
    stream = await make_stream()
    user = await make_user(profile_complete=False)
    comm = await join(stream, user=user)
    await comm.send_json_to({"type": "chat", "body": "hi"})
    await next_frame(comm, is_error("PROFILE_INCOMPLETE"))
    await comm.disconnect()


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ("   ", "MESSAGE_EMPTY"),
        ("<i></i>", "MESSAGE_EMPTY"),
        ("가" * 501, "MESSAGE_TOO_LONG"),
        (123, "MESSAGE_EMPTY"),
    ],
)
async def test_chat_length_rules(body, code):
    stream = await make_stream()
    user = await make_user()
    comm = await join(stream, user=user)
    await comm.send_json_to({"type": "chat", "body": body})
    await next_frame(comm, is_error(code))
    await comm.disconnect()
    assert await database_sync_to_async(ChatMessage.objects.count)() == 0


async def test_500_characters_is_allowed():
    stream = await make_stream()
    user = await make_user()
    comm = await join(stream, user=user)
    await comm.send_json_to({"type": "chat", "body": "가" * 500})
    assert len((await next_frame(comm, is_event("chat.message")))["data"]["body"]) == 500
    await comm.disconnect()


async def test_rate_limit_from_system_config():
    from core.models import get_config

    def configure():
        config = get_config()
        config.chat_rate_limit_count = 3
        config.chat_rate_limit_seconds = 10
        config.save()

    await database_sync_to_async(configure)()
    stream = await make_stream()
    user = await make_user()
    comm = await join(stream, user=user)
    for i in range(4):
        await comm.send_json_to({"type": "chat", "body": f"메시지 {i}"})
    frames = await frames_until_quiet(comm)
    assert sum(1 for f in frames if f.get("event") == "chat.message") == 3
    assert [f["code"] for f in frames if f["type"] == "error"] == ["RATE_LIMIT_EXCEEDED"]
    assert await database_sync_to_async(ChatMessage.objects.count)() == 3
    await comm.disconnect()


async def test_history_keeps_the_last_100():
    from live.services.chat import history_push, history_read

    stream = await make_stream()
    for i in range(105):
        await database_sync_to_async(history_push)(
            stream_id=stream.pk, payload={"id": i, "body": str(i)}
        )
    history = await database_sync_to_async(history_read)(stream_id=stream.pk)
    assert [m["id"] for m in history] == list(range(5, 105))


# --- moderation -----------------------------------------------------------------------------
async def test_staff_delete_removes_message_for_everyone():
    stream = await make_stream()
    author = await make_user()
    staff = await make_user(is_staff=True, is_superuser=True)
    a = await join(stream, user=author)
    s = await join(stream, user=staff)
    await a.send_json_to({"type": "chat", "body": "지워질 메시지"})
    message_id = (await next_frame(s, is_event("chat.message")))["data"]["id"]
    await s.send_json_to({"type": "delete", "message_id": message_id})
    deleted_a = await next_frame(a, is_event("chat.deleted"))
    deleted_s = await next_frame(s, is_event("chat.deleted"))
    assert deleted_a["data"]["message_id"] == deleted_s["data"]["message_id"] == message_id
    row = await database_sync_to_async(ChatMessage.objects.get)(pk=message_id)
    assert row.is_deleted and row.deleted_by_id == staff.pk
    late = await join(stream, guest="guestkey05")
    assert late.history["messages"] == []
    for comm in (a, s, late):
        await comm.disconnect()


async def test_shopper_cannot_moderate():
    stream = await make_stream()
    author = await make_user()
    other = await make_user()
    a = await join(stream, user=author)
    await a.send_json_to({"type": "chat", "body": "hello"})
    message_id = (await next_frame(a, is_event("chat.message")))["data"]["id"]
    o = await join(stream, user=other)
    await o.send_json_to({"type": "delete", "message_id": message_id})
    await next_frame(o, is_error("FORBIDDEN"))
    await o.send_json_to({"type": "ban", "user_id": author.pk})
    await next_frame(o, is_error("FORBIDDEN"))
    await o.send_json_to({"type": "mute", "user_id": "x"})
    await next_frame(o, is_error("INVALID_INPUT"))
    assert not await database_sync_to_async(ChatSanction.objects.exists)()
    for comm in (a, o):
        await comm.disconnect()


async def test_view_only_staff_and_guests_cannot_moderate():
    from accounts.tests.factories import staff_with

    stream = await make_stream()
    author = await make_user()
    viewer = await database_sync_to_async(staff_with)("*.view")
    a = await join(stream, user=author)
    await a.send_json_to({"type": "chat", "body": "hello"})
    message_id = (await next_frame(a, is_event("chat.message")))["data"]["id"]
    v = await join(stream, user=viewer)
    g = await join(stream, guest="guestkey42")
    for comm in (v, g):
        for frame in (
            {"type": "delete", "message_id": message_id},
            {"type": "mute", "user_id": author.pk},
            {"type": "ban", "user_id": author.pk},
        ):
            await comm.send_json_to(frame)
            await next_frame(comm, is_error("FORBIDDEN"))
    assert not await database_sync_to_async(ChatSanction.objects.exists)()
    row = await database_sync_to_async(ChatMessage.objects.get)(pk=message_id)
    assert not row.is_deleted
    for comm in (a, v, g):
        await comm.disconnect()


async def test_a_permission_revoked_after_joining_is_refused():
    from accounts.tests.factories import staff_with

    stream = await make_stream()
    author = await make_user()
    moderator = await database_sync_to_async(staff_with)("live.change_chatmessage")
    m = await join(stream, user=moderator)
    a = await join(stream, user=author)
    await a.send_json_to({"type": "chat", "body": "hello"})
    message_id = (await next_frame(a, is_event("chat.message")))["data"]["id"]
    await database_sync_to_async(moderator.user_permissions.clear)()
    await m.send_json_to({"type": "delete", "message_id": message_id})
    await next_frame(m, is_error("FORBIDDEN"))
    row = await database_sync_to_async(ChatMessage.objects.get)(pk=message_id)
    assert not row.is_deleted
    for comm in (a, m):
        await comm.disconnect()


async def test_muted_user_cannot_send():
    stream = await make_stream()
    user = await make_user()
    staff = await make_user(is_staff=True, is_superuser=True)
    s = await join(stream, user=staff)
    u = await join(stream, user=user)
    await s.send_json_to({"type": "mute", "user_id": user.pk})
    await frames_until_quiet(s)
    await u.send_json_to({"type": "chat", "body": "말할 수 있나요"})
    await next_frame(u, is_error("CHAT_MUTED"))
    assert await database_sync_to_async(ChatMessage.objects.count)() == 0
    for comm in (s, u):
        await comm.disconnect()


async def test_ban_closes_the_socket_and_refuses_rejoin():
    stream = await make_stream()
    user = await make_user()
    staff = await make_user(is_staff=True, is_superuser=True)
    s = await join(stream, user=staff)
    u = await join(stream, user=user)
    await s.send_json_to({"type": "ban", "user_id": user.pk})
    await next_frame(u, is_error("CHAT_BANNED"))
    closed = await next_frame(u, is_close)
    assert closed["code"] == 4003
    again = WebsocketCommunicator(
        application,
        f"/ws/live/{stream.public_id}/",
        headers=[
            (b"origin", b"http://localhost"),
            (b"cookie", (await session_cookie(user)).encode()),
        ],
    )
    await again.connect(timeout=5)
    await next_frame(again, is_error("CHAT_BANNED"))
    assert (await next_frame(again, is_close))["code"] == 4003
    # other streams are unaffected
    other = await make_stream()
    fine = await join(other, user=user)
    assert fine.hello["can_chat"] is True
    for comm in (s, fine):
        await comm.disconnect()


# --- bad input ------------------------------------------------------------------------------
async def test_malformed_and_unknown_messages_get_error_frames():
    stream = await make_stream()
    user = await make_user()
    comm = await join(stream, user=user)
    watcher = await join(stream, guest="guestkey06")
    await comm.send_to(text_data="{not json")
    await next_frame(comm, is_error("INVALID_JSON"))
    await comm.send_to(text_data="[1, 2]")
    await next_frame(comm, is_error("INVALID_JSON"))
    await comm.send_json_to({"type": "shout", "body": "x"})
    await next_frame(comm, is_error("UNKNOWN_TYPE"))
    await comm.send_to(bytes_data=b"\x00\x01")
    await next_frame(comm, is_error("INVALID_JSON"))
    # the socket still works
    await comm.send_json_to({"type": "chat", "body": "정상"})
    await next_frame(watcher, is_event("chat.message"))
    for c in (comm, watcher):
        await c.disconnect()


async def test_frame_over_4kb_is_refused_with_1009():
    stream = await make_stream()
    user = await make_user()
    comm = await join(stream, user=user)
    watcher = await join(stream, guest="guestkey07")
    await comm.send_json_to({"type": "chat", "body": "x" * 5000})
    await next_frame(comm, is_error("FRAME_TOO_LARGE"))
    assert (await next_frame(comm, is_close))["code"] == 1009
    frames = await frames_until_quiet(watcher)
    assert not [f for f in frames if f.get("event") == "chat.message"]
    assert await database_sync_to_async(ChatMessage.objects.count)() == 0
    await watcher.disconnect()


async def test_flooding_gets_errors_then_a_close_and_nothing_broadcast():
    stream = await make_stream()
    user = await make_user()
    comm = await join(stream, user=user)
    watcher = await join(stream, guest="guestkey08")
    for _ in range(80):
        await comm.send_to(text_data="garbage")
    frames = await frames_until_quiet(comm)
    codes = [f.get("code") for f in frames]
    assert "INVALID_JSON" in codes and "FLOODING" in codes
    assert frames[-1] == {"type": "close", "code": 4008}
    seen = await frames_until_quiet(watcher)
    assert not [f for f in seen if f.get("event") == "chat.message"]
    await watcher.disconnect()


# --- transport ------------------------------------------------------------------------------
async def test_rolled_back_transaction_announces_nothing():
    stream = await make_stream()
    watcher = await join(stream, guest="guestkey09")
    await frames_until_quiet(watcher)

    def write_and_fail():
        with pytest.raises(RuntimeError), transaction.atomic():
            transport.send_event(
                group=transport.room_group(stream.pk), event="notice.updated", data={"n": 1}
            )
            raise RuntimeError("rollback")
        transport.send_event(
            group=transport.room_group(stream.pk), event="notice.updated", data={"n": 2}
        )

    await database_sync_to_async(write_and_fail)()
    frames = await frames_until_quiet(watcher)
    assert [f["data"] for f in frames if f.get("event") == "notice.updated"] == [{"n": 2}]
    await watcher.disconnect()


async def test_room_event_payload_is_rendered_once_with_seq():
    stream = await make_stream()
    a = await join(stream, guest="guestkey10")
    b = await join(stream, guest="guestkey11")
    await frames_until_quiet(a)
    await frames_until_quiet(b)
    group = transport.room_group(stream.pk)
    await database_sync_to_async(transport.publish)(
        group=group, event="stock.changed", data={"product_id": 1, "variant_id": 2, "stock": 0}
    )
    raw_a = await a.receive_output(timeout=3)
    raw_b = await b.receive_output(timeout=3)
    assert raw_a["text"] == raw_b["text"]
    frame = json.loads(raw_a["text"])
    assert frame["seq"] == await transport.acurrent_sequence(group)
    for comm in (a, b):
        await comm.disconnect()


# --- presence -------------------------------------------------------------------------------
async def test_two_tabs_of_one_user_count_once(settings):
    settings.LIVE_VIEWERS_COALESCE_SECONDS = 0.05
    stream = await make_stream()
    user = await make_user()
    tab1 = await join(stream, user=user)
    tab2 = await join(stream, user=user)
    guest = await join(stream, guest="guestkey12")
    assert guest.hello["viewers"] == 2
    await tab1.disconnect()
    assert await presence.aviewer_count(stream.pk) == 2  # the other tab is still open
    await tab2.disconnect()
    assert await presence.aviewer_count(stream.pk) == 1
    await guest.disconnect()
    assert await presence.aviewer_count(stream.pk) == 0


async def test_silent_client_drops_out_after_the_ttl(settings):
    settings.LIVE_PRESENCE_TTL_SECONDS = 1
    settings.LIVE_PRESENCE_FLUSH_SECONDS = 0.2
    settings.LIVE_VIEWERS_COALESCE_SECONDS = 0.1
    stream = await make_stream()
    quiet = await join(stream, guest="guestkey13")
    alive = await join(stream, guest="guestkey14")
    assert alive.hello["viewers"] == 2
    for _ in range(8):  # 1.6 s: only `alive` heartbeats
        await alive.send_json_to({"type": "heartbeat"})
        await asyncio.sleep(0.2)
    assert await presence.aviewer_count(stream.pk) == 1
    frames = await frames_until_quiet(alive, quiet=0.5)
    counts = [f["data"]["viewers"] for f in frames if f.get("event") == "viewers"]
    assert counts and counts[-1] == 1
    for comm in (quiet, alive):
        await comm.disconnect()


async def test_viewer_updates_are_coalesced_and_peak_saved(settings):
    settings.LIVE_VIEWERS_COALESCE_SECONDS = 1.0
    settings.LIVE_PRESENCE_FLUSH_SECONDS = 60  # no periodic flush during the test
    stream = await make_stream()
    watcher = await join(stream, guest="guestkey15")
    others = [await join(stream, guest=f"guestkey2{i:02d}") for i in range(10)]
    frames = await frames_until_quiet(watcher, quiet=1.5)
    counts = [f["data"]["viewers"] for f in frames if f.get("event") == "viewers"]
    # 11 joins in well under a second: at most the leading and the trailing update
    assert 1 <= len(counts) <= 2
    assert counts[-1] == 11

    def peak():
        return LiveStream.objects.values_list("peak_viewers", flat=True).get(pk=stream.pk)

    # the joins wrote nothing to the database; the flusher saves the peak
    assert await database_sync_to_async(peak)() == 0
    await presence._tracker().flush()
    assert await database_sync_to_async(peak)() == 11
    for comm in [watcher, *others]:
        await comm.disconnect()


async def test_peak_is_never_lowered():
    stream = await make_stream(peak_viewers=50)
    updated = await database_sync_to_async(presence.save_peak_viewers)(
        stream_id=stream.pk, viewers=10
    )
    assert updated == 0
    assert (
        await database_sync_to_async(presence.save_peak_viewers)(stream_id=stream.pk, viewers=51)
        == 1
    )


async def test_staff_sockets_get_their_streams_studio_events_without_seq():
    stream = await make_stream()
    other = await make_stream()
    staff = await make_user(is_staff=True)
    s = await join(stream, user=staff)
    guest = await join(stream, guest="guestkey16")
    await frames_until_quiet(s)
    await frames_until_quiet(guest)

    def announce():
        for stream_id in (other.pk, stream.pk):
            transport.publish(
                group=transport.STAFF_GROUP,
                event="sales.updated",
                data={"stream_id": stream_id, "orders": 1},
            )

    await database_sync_to_async(announce)()
    frame = await next_frame(s, is_event("sales.updated"))
    assert frame["data"] == {"stream_id": stream.pk, "orders": 1} and "seq" not in frame
    assert not [f for f in await frames_until_quiet(s) if f.get("event") == "sales.updated"]
    assert not [f for f in await frames_until_quiet(guest) if f.get("event") == "sales.updated"]
    for comm in (s, guest):
        await comm.disconnect()
