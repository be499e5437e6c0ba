"""Project-level realtime transport: group names, sequence numbers, send-after-commit, fan-out.

Apps never talk to the transport directly; each app's own `realtime.py` builds its event
payloads and calls `send_event`. The send is deferred with `transaction.on_commit`, so no
listener ever sees a row that is not committed, and a rolled-back transaction announces nothing.

Fan-out (see docs/realtime.md): an event is rendered to JSON text **once** in `publish`, then
PUBLISHed on one Redis channel per group. Every server process holds at most one Redis
subscription per group (the `Hub`, one per event loop) and hands the same text to each local
socket's sink in a plain loop — no per-viewer channel-layer message, no msgpack decode, no
thread hop. Without Redis (embedded default) the hub delivers in-process.

Every event carries a per-group sequence number (`seq`) so clients notice gaps and refetch.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
import types
import weakref
from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction

logger = logging.getLogger(__name__)

STORE_GROUP = "store"  # events about products that belong to no stream
STAFF_GROUP = "staff"  # seller studio / admin listeners

Sink = Callable[[str], Awaitable[None]]


def room_group(stream_id: int | str) -> str:
    return f"live.{stream_id}"


def user_group(user_id: int | str) -> str:
    return f"user.{user_id}"


def user_control_group(user_id: int | str) -> str:
    """Server-internal messages to every open socket of one user (never sent to browsers)."""
    return f"ctl.user.{user_id}"


# --- Redis clients (None in the embedded default) -------------------------------------------
_sync_client = None
_sync_lock = threading.Lock()
_async_clients: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def redis_enabled() -> bool:
    return bool(getattr(settings, "REDIS_URL", ""))


def sync_redis():
    """Thread-safe redis-py client for sync code (services, views), or None without Redis."""
    global _sync_client
    if not redis_enabled():
        return None
    if _sync_client is None:
        import redis

        with _sync_lock:
            if _sync_client is None:
                _sync_client = redis.Redis.from_url(
                    settings.REDIS_URL, socket_timeout=10, max_connections=200
                )
    return _sync_client


def async_redis():
    """redis.asyncio client bound to the running loop (connections belong to one loop)."""
    if not redis_enabled():
        return None
    import redis.asyncio as aredis

    loop = asyncio.get_running_loop()
    client = _async_clients.get(loop)
    if client is None:
        # redis-py 8 caps pools at 100 connections by default and raises past it: set the cap
        # explicitly. (A BlockingConnectionPool costs ~4x more CPU per checkout; concurrency
        # stays bounded by Redis latency, so the plain pool rarely grows past a few dozen.)
        pool = aredis.ConnectionPool.from_url(
            settings.REDIS_URL, max_connections=2000, socket_timeout=30
        )
        client = aredis.Redis(connection_pool=pool)
        _async_clients[loop] = client
    return client


def _namespace() -> str:
    """Pub/Sub channels are global to a Redis server (not per DB): namespace them."""
    prefix = getattr(settings, "CHANNEL_LAYERS", {}).get("default", {}).get("CONFIG", {})
    prefix = prefix.get("prefix", "dorami") if isinstance(prefix, dict) else "dorami"
    client = sync_redis()
    db = client.connection_pool.connection_kwargs.get("db", 0) if client else 0
    return f"{prefix}:{db}:rt:"


# --- Sequence numbers -----------------------------------------------------------------------
_memory_seq: dict[str, int] = defaultdict(int)
_memory_lock = threading.Lock()


def sequence_key(group: str) -> str:
    return f"rt:seq:{group}"


def next_sequence(group: str) -> int:
    """Per-group increasing sequence number (Redis INCR; in-process without Redis)."""
    client = sync_redis()
    if client is not None:
        return int(client.incr(sequence_key(group)))
    with _memory_lock:
        _memory_seq[group] += 1
        return _memory_seq[group]


async def anext_sequence(group: str) -> int:
    client = async_redis()
    if client is not None:
        return int(await client.incr(sequence_key(group)))
    return next_sequence(group)


def current_sequence(group: str) -> int:
    client = sync_redis()
    if client is not None:
        return int(client.get(sequence_key(group)) or 0)
    with _memory_lock:
        return _memory_seq.get(group, 0)


async def acurrent_sequence(group: str) -> int:
    client = async_redis()
    if client is not None:
        return int(await client.get(sequence_key(group)) or 0)
    return current_sequence(group)


# --- Rendering and publishing ---------------------------------------------------------------
def render_event(*, event: str, seq: int, data: dict[str, Any]) -> str:
    """The exact text every socket receives: `{"type":"event","event":…,"seq":…,"data":…}`."""
    return json.dumps(
        {"type": "event", "event": event, "seq": seq, "data": data},
        cls=DjangoJSONEncoder,
        ensure_ascii=False,
        separators=(",", ":"),
    )


def publish_text(*, group: str, text: str) -> None:
    """Deliver already-rendered text to every subscriber of `group` (all processes)."""
    client = sync_redis()
    if client is not None:
        client.publish(_namespace() + group, text)
    else:
        _deliver_local_threadsafe(group, text)


def send_text(*, group: str, text: str, using: str | None = None) -> None:
    """Deliver raw text to `group` after commit (server-internal control messages)."""

    def _send():
        try:
            publish_text(group=group, text=text)
        except Exception:
            logger.exception("realtime control send failed group=%s", group)

    transaction.on_commit(_send, using=using)


# INCR the group's sequence and PUBLISH the event carrying it, in one Redis round trip: the text
# is rendered around the number (`head` + seq + `tail`), byte for byte `render_event`'s output.
_SEQ_PUBLISH_LUA = """
local seq = redis.call('INCR', KEYS[1])
redis.call('PUBLISH', KEYS[2], ARGV[1] .. tostring(seq) .. ARGV[2])
return seq
"""
_seq_publish_script = None


def _seq_publish(client, *, group: str, event: str, data: dict[str, Any]) -> int:
    global _seq_publish_script
    if _seq_publish_script is None:
        _seq_publish_script = client.register_script(_SEQ_PUBLISH_LUA)
    head, tail = render_event(event=event, seq=0, data=data).split(',"seq":0,', 1)
    keys = [sequence_key(group), _namespace() + group]
    return int(_seq_publish_script(keys=keys, args=[head + ',"seq":', "," + tail], client=client))


def publish(*, group: str, event: str, data: dict[str, Any]) -> int | None:
    """Send now (returns the seq). Use `send_event` from services; this is for code outside a
    transaction."""
    try:
        client = sync_redis()
        if client is not None:
            return _seq_publish(client, group=group, event=event, data=data)
        seq = next_sequence(group)
        publish_text(group=group, text=render_event(event=event, seq=seq, data=data))
        return seq
    except Exception:  # a realtime hiccup must never fail the business write that caused it
        logger.exception("realtime publish failed group=%s event=%s", group, event)
        return None


async def apublish(*, group: str, event: str, data: dict[str, Any]) -> int | None:
    """`publish` for async code (consumers): no thread hop."""
    try:
        seq = await anext_sequence(group)
        text = render_event(event=event, seq=seq, data=data)
        client = async_redis()
        if client is not None:
            await client.publish(_namespace() + group, text)
        else:
            _deliver_local_threadsafe(group, text)
        return seq
    except Exception:
        logger.exception("realtime publish failed group=%s event=%s", group, event)
        return None


def send_event(*, group: str, event: str, data: dict[str, Any], using: str | None = None) -> None:
    """Announce `event` to `group` once the surrounding transaction commits."""
    transaction.on_commit(lambda: publish(group=group, event=event, data=data), using=using)


# --- Process-local fan-out ------------------------------------------------------------------
_pending_sends: set[asyncio.Future] = set()


@types.coroutine
def _resume(coro, yielded):
    """Finish a coroutine that suspended during its eager first step (see `_start`)."""
    while True:
        try:
            value = yield yielded
        except BaseException as exc:  # cancellation or an error thrown in by the task
            try:
                yielded = coro.throw(exc)
            except StopIteration:
                return None
            continue
        try:
            yielded = coro.send(value)
        except StopIteration:
            return None


async def _finish(coro, yielded):
    try:
        await _resume(coro, yielded)
    except Exception:
        logger.debug("realtime sink failed after suspending", exc_info=True)


def _start(coro) -> None:
    """Run `coro` synchronously until it completes or first suspends (a socket whose write
    buffer is full). Only a suspended send costs a task, so one slow viewer never stalls
    the room and a normal delivery costs no event-loop round trip."""
    try:
        yielded = coro.send(None)
    except StopIteration:
        return
    except Exception:
        logger.debug("realtime sink failed", exc_info=True)
        return
    task = asyncio.ensure_future(_finish(coro, yielded))
    _pending_sends.add(task)  # keep a reference until done (the loop holds only weak ones)
    task.add_done_callback(_pending_sends.discard)


class Hub:
    """One per event loop: group → local sinks, fed by one Redis subscription per group."""

    UNSUBSCRIBE_AFTER = 30.0  # seconds a group must stay empty before UNSUBSCRIBE

    def __init__(self, loop: asyncio.AbstractEventLoop):
        self.loop = loop
        self.sinks: dict[str, dict[Sink, None]] = {}
        self.subscribed: dict[str, asyncio.Future] = {}
        self.empty_since: dict[str, float] = {}
        self._pubsub = None
        self._reader: asyncio.Task | None = None
        self._sweeper: asyncio.Task | None = None
        self._closed = False

    # subscriptions
    async def join(self, group: str, sink: Sink) -> None:
        self.sinks.setdefault(group, {})[sink] = None
        self.empty_since.pop(group, None)
        if redis_enabled():
            await self._ensure_subscribed(group)

    def leave(self, group: str, sink: Sink) -> None:
        sinks = self.sinks.get(group)
        if sinks is None:
            return
        sinks.pop(sink, None)
        if not sinks:
            self.empty_since[group] = self.loop.time()

    async def _ensure_subscribed(self, group: str) -> None:
        future = self.subscribed.get(group)
        if future is None:
            future = self.loop.create_future()
            self.subscribed[group] = future
            try:
                if self._pubsub is None:
                    self._pubsub = async_redis().pubsub(ignore_subscribe_messages=True)
                await self._pubsub.subscribe(_namespace() + group)
                if self._reader is None or self._reader.done():
                    self._reader = self.loop.create_task(self._read())
                if self._sweeper is None or self._sweeper.done():
                    self._sweeper = self.loop.create_task(self._sweep())
                future.set_result(True)
            except Exception as exc:
                self.subscribed.pop(group, None)
                future.set_exception(exc)
                future.exception()  # retrieved: joiners re-raise it below
                raise
        if not future.done():
            await asyncio.shield(future)
        elif future.exception() is not None:
            raise future.exception()

    async def _read(self) -> None:
        prefix_len = len(_namespace())
        while not self._closed:
            try:
                message = await self._pubsub.get_message(
                    ignore_subscribe_messages=True, timeout=1.0
                )
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.warning("realtime subscription lost; resubscribing", exc_info=True)
                await self._resubscribe()
                continue
            if message is None or message.get("type") != "message":
                continue
            channel = message["channel"]
            group = (channel.decode() if isinstance(channel, bytes) else channel)[prefix_len:]
            data = message["data"]
            self.deliver(group, data.decode() if isinstance(data, bytes) else data)

    async def _resubscribe(self) -> None:
        await asyncio.sleep(1.0)
        try:
            if self._pubsub is not None:
                await self._pubsub.aclose()
        except Exception:  # noqa: S110 - the old connection is gone either way
            pass
        self._pubsub = async_redis().pubsub(ignore_subscribe_messages=True)
        groups = list(self.subscribed)
        try:
            if groups:
                await self._pubsub.subscribe(*[_namespace() + g for g in groups])
        except Exception:
            logger.warning("realtime resubscribe failed", exc_info=True)
        # Clients detect the missed events through the sequence numbers and refetch.

    async def _sweep(self) -> None:
        while not self._closed:
            await asyncio.sleep(self.UNSUBSCRIBE_AFTER / 3)
            now = self.loop.time()
            for group, since in list(self.empty_since.items()):
                if now - since < self.UNSUBSCRIBE_AFTER or self.sinks.get(group):
                    continue
                self.empty_since.pop(group, None)
                self.sinks.pop(group, None)
                if self.subscribed.pop(group, None) is not None and self._pubsub is not None:
                    try:
                        await self._pubsub.unsubscribe(_namespace() + group)
                    except Exception:
                        logger.debug("unsubscribe failed", exc_info=True)

    # delivery
    def deliver(self, group: str, text: str) -> None:
        sinks = self.sinks.get(group)
        if not sinks:
            return
        for sink in tuple(sinks):
            _start(sink(text))

    async def close(self) -> None:
        self._closed = True
        for task in (self._reader, self._sweeper):
            if task is not None:
                task.cancel()
        if self._pubsub is not None:
            with contextlib.suppress(Exception):
                await self._pubsub.aclose()
        client = _async_clients.pop(self.loop, None)
        if client is not None:
            with contextlib.suppress(Exception):
                await client.aclose()
                await client.connection_pool.disconnect()


_hubs: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_hubs_lock = threading.Lock()


def hub() -> Hub:
    loop = asyncio.get_running_loop()
    current = _hubs.get(loop)
    if current is None:
        with _hubs_lock:
            current = _hubs.get(loop) or Hub(loop)
            _hubs[loop] = current
    return current


async def subscribe(group: str, sink: Sink) -> None:
    """Have `sink(text)` called for every event of `group` (await: subscribed on return)."""
    await hub().join(group, sink)


def unsubscribe(group: str, sink: Sink) -> None:
    hub().leave(group, sink)


async def close_hub() -> None:
    """Release this loop's subscription and Redis connections (tests, shutdown)."""
    loop = asyncio.get_running_loop()
    current = _hubs.pop(loop, None)
    if current is not None:
        await current.close()
    else:
        client = _async_clients.pop(loop, None)
        if client is not None:
            await client.aclose()
            await client.connection_pool.disconnect()


def _deliver_local_threadsafe(group: str, text: str) -> None:
    """Embedded default: hand the text to every hub of this process on its own loop."""
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    for loop, local in list(_hubs.items()):
        if loop is running:
            local.deliver(group, text)
        elif not loop.is_closed():
            loop.call_soon_threadsafe(local.deliver, group, text)
