"""Project-level realtime transport: group names, sequence numbers, send-after-commit, fan-out.

Apps never talk to the transport directly; each app's own `realtime.py` builds its event
payloads and calls `send_event`. The send is deferred with `transaction.on_commit`, so no
listener ever sees a row that is not committed, and a rolled-back transaction announces nothing.

Fan-out (see docs/realtime.md): an event is rendered to JSON text **once** in `publish`, then
PUBLISHed on one Redis channel per group. Every server process holds at most one Redis
subscription per group (the `Hub`, one per event loop) and hands the same text to each local
socket's sink in a plain loop — no per-viewer channel-layer message, no msgpack decode, no
thread hop; a socket that stops reading gets a bounded backlog, then is dropped and closed.
Without Redis (embedded default) the hub delivers in-process.

Every event carries a per-group sequence number (`seq`) and the group's `epoch` (a random token
kept with the number in Redis) so clients notice gaps and resets and refetch: when Redis loses
its data the number restarts from 1 under a new epoch.

Redis outage: reads and publishes fail fast (`REDIS_DOWN`); the hub keeps its sockets, tells
them the room is degraded (`status` frame), retries every second at most, resubscribes when
Redis answers and tells them to resynchronise.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import secrets
import threading
import types
import weakref
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable
from typing import Any

from channels.consumer import get_handler_name
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from redis.asyncio import Redis as AsyncRedis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

STORE_GROUP = "store"  # events about products that belong to no stream
STAFF_GROUP = "staff"  # seller studio / admin listeners

Sink = Callable[[str], Awaitable[None]]
Overflow = Callable[[], Awaitable[None]]
StatusWatcher = Callable[[str], Awaitable[None]]

# What an unreachable Redis raises (redis-py wraps socket errors; the builtins for safety).
REDIS_DOWN = (RedisConnectionError, RedisTimeoutError, ConnectionError, TimeoutError)
STATUS_DEGRADED = "degraded"
STATUS_OK = "ok"


def room_group(stream_id: int | str) -> str:
    return f"live.{stream_id}"


def user_group(user_id: int | str) -> str:
    return f"user.{user_id}"


def user_control_group(user_id: int | str) -> str:
    """Server-internal messages to every open socket of one user (never sent to browsers)."""
    return f"ctl.user.{user_id}"


# --- Redis clients (None in the embedded default) -------------------------------------------
# Keyed by URL: a changed REDIS_URL (tests pointing at their own server) gets its own client.
_sync_clients: dict[str, Any] = {}
_sync_lock = threading.Lock()
_async_clients: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # loop → {url: client}


def redis_enabled() -> bool:
    return bool(getattr(settings, "REDIS_URL", ""))


def _one_retry(module):
    """Retry a command once on a fresh connection: after Redis restarts, every pooled
    connection is dead and would otherwise fail its first command (redis-py 8 retries none)."""
    from redis.backoff import NoBackoff

    return module.retry.Retry(NoBackoff(), 1)


def sync_redis():
    """Thread-safe redis-py client for sync code (services, views), or None without Redis."""
    if not redis_enabled():
        return None
    url = settings.REDIS_URL
    client = _sync_clients.get(url)
    if client is None:
        import redis

        with _sync_lock:
            client = _sync_clients.get(url)
            if client is None:
                client = redis.Redis.from_url(
                    url,
                    socket_timeout=10,
                    socket_connect_timeout=2,
                    max_connections=200,
                    retry=_one_retry(redis),
                )
                _sync_clients[url] = client
    return client


def async_redis():
    """redis.asyncio client bound to the running loop (connections belong to one loop)."""
    if not redis_enabled():
        return None
    import redis.asyncio as aredis

    url = settings.REDIS_URL
    loop = asyncio.get_running_loop()
    clients = _async_clients.setdefault(loop, {})
    client = clients.get(url)
    if client is None:
        # redis-py 8 caps pools at 100 connections by default and raises past it: set the cap
        # explicitly. (A BlockingConnectionPool costs ~4x more CPU per checkout; concurrency
        # stays bounded by Redis latency, so the plain pool rarely grows past a few dozen.)
        pool = aredis.ConnectionPool.from_url(
            url,
            max_connections=2000,
            socket_timeout=30,
            socket_connect_timeout=2,
            retry=_one_retry(aredis),
        )
        client = aredis.Redis(connection_pool=pool)
        clients[url] = client
    return client


def _subscriber_client():
    """The client of the hub's subscription: like `async_redis` but **without** the retry.
    redis-py's PubSub reconnects and resubscribes by itself on a retry, silently: the events
    published in between would be lost with no one told to refetch. Without it a broken
    connection reaches the hub, which marks the rooms degraded and, once resubscribed, tells
    every socket to resynchronise."""
    import redis.asyncio as aredis
    from redis.backoff import NoBackoff

    url = settings.REDIS_URL
    clients = _async_clients.setdefault(asyncio.get_running_loop(), {})
    key = f"subscriber:{url}"
    client = clients.get(key)
    if client is None:
        pool = aredis.ConnectionPool.from_url(
            url,
            socket_timeout=30,
            socket_connect_timeout=2,
            retry=aredis.retry.Retry(NoBackoff(), 0),
        )
        client = clients[key] = aredis.Redis(connection_pool=pool)
    return client


async def _close_async_clients(loop) -> None:
    for client in (_async_clients.pop(loop, None) or {}).values():
        with contextlib.suppress(Exception):
            await client.aclose()
            await client.connection_pool.disconnect()


def _namespace() -> str:
    """Pub/Sub channels are global to a Redis server (not per DB): namespace them."""
    prefix = getattr(settings, "CHANNEL_LAYERS", {}).get("default", {}).get("CONFIG", {})
    prefix = prefix.get("prefix", "dorami") if isinstance(prefix, dict) else "dorami"
    client = sync_redis()
    db = client.connection_pool.connection_kwargs.get("db", 0) if client else 0
    return f"{prefix}:{db}:rt:"


# --- Sequence numbers and epochs ------------------------------------------------------------
# One Redis hash per group: `seq` (the last number handed out) and `epoch` (a random token made
# when the hash is created). If Redis loses the hash, numbering restarts under a new epoch.
_memory_seq: dict[str, int] = defaultdict(int)
_memory_lock = threading.RLock()  # re-entrant: a local sink may publish
_MEMORY_EPOCH = secrets.token_hex(6)  # embedded default: a restarted process is a new epoch


def sequence_key(group: str) -> str:
    return f"rt:room:{group}"


def new_epoch() -> str:
    return secrets.token_hex(6)


def queue_sequence_read(pipe, group: str) -> int:
    """Add the (seq, epoch) read to a caller's pipeline (decode with `sequence_decode`); the
    epoch is created if missing, so every reader and the next event agree on it. Returns the
    number of commands queued."""
    pipe.hsetnx(sequence_key(group), "epoch", new_epoch())
    pipe.hmget(sequence_key(group), "seq", "epoch")
    return 2


def sequence_decode(results: list) -> tuple[int, str]:
    seq, epoch = results[-1]
    epoch = epoch.decode() if isinstance(epoch, bytes) else (epoch or "")
    return int(seq or 0), epoch


def room_sequence(group: str) -> tuple[int, str]:
    """The group's current (seq, epoch). Raises one of `REDIS_DOWN` when Redis is down."""
    client = sync_redis()
    if client is not None:
        pipe = client.pipeline(transaction=False)
        queue_sequence_read(pipe, group)
        return sequence_decode(pipe.execute())
    with _memory_lock:
        return _memory_seq.get(group, 0), _MEMORY_EPOCH


async def aroom_sequence(group: str) -> tuple[int, str]:
    client = async_redis()
    if client is not None:
        pipe = client.pipeline(transaction=False)
        queue_sequence_read(pipe, group)
        return sequence_decode(await pipe.execute())
    return room_sequence(group)


def current_sequence(group: str) -> int:
    return room_sequence(group)[0]


async def acurrent_sequence(group: str) -> int:
    return (await aroom_sequence(group))[0]


def next_sequence(group: str) -> int:
    """Take the group's next number without sending anything (tests simulate a lost event)."""
    client = sync_redis()
    if client is not None:
        pipe = client.pipeline(transaction=True)
        pipe.hincrby(sequence_key(group), "seq", 1)
        pipe.hsetnx(sequence_key(group), "epoch", new_epoch())
        return int(pipe.execute()[0])
    return _memory_next(group)[0]


def _memory_next(group: str) -> tuple[int, str]:
    with _memory_lock:
        _memory_seq[group] += 1
        return _memory_seq[group], _MEMORY_EPOCH


# --- Rendering and publishing ---------------------------------------------------------------
def render_event(*, event: str, seq: int, epoch: str, data: dict[str, Any]) -> str:
    """The exact text every socket receives:
    `{"type":"event","event":…,"seq":…,"epoch":…,"data":…}`."""
    return json.dumps(
        {"type": "event", "event": event, "seq": seq, "epoch": epoch, "data": data},
        cls=DjangoJSONEncoder,
        ensure_ascii=False,
        separators=(",", ":"),
    )


def status_frame(state: str) -> str:
    """`{"type":"status","state":"degraded"|"ok"}`: the room's realtime link is down / back."""
    return json.dumps({"type": "status", "state": state}, separators=(",", ":"))


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


# Take the group's next sequence number (creating the epoch with the hash) and PUBLISH the
# event carrying both, in one Redis round trip: the text is rendered around them (`head` + seq +
# epoch + `tail`), byte for byte `render_event`'s output. Epochs are hex, so need no escaping.
_SEQ_PUBLISH_LUA = """
local seq = redis.call('HINCRBY', KEYS[1], 'seq', 1)
redis.call('HSETNX', KEYS[1], 'epoch', ARGV[3])
local epoch = redis.call('HGET', KEYS[1], 'epoch')
redis.call('PUBLISH', KEYS[2], ARGV[1] .. tostring(seq) .. ',"epoch":"' .. epoch .. '",' .. ARGV[2])
return seq
"""
_SEQ_PUBLISH_SHA = hashlib.sha1(_SEQ_PUBLISH_LUA.encode(), usedforsecurity=False).hexdigest()
_SPLIT = ',"seq":0,"epoch":"",'


def _seq_publish_args(*, group: str, event: str, data: dict[str, Any]) -> list:
    """EVALSHA's arguments: the key count, the keys, then the text around seq/epoch."""
    head, tail = render_event(event=event, seq=0, epoch="", data=data).split(_SPLIT, 1)
    return [2, sequence_key(group), _namespace() + group, head + ',"seq":', tail, new_epoch()]


def _seq_publish_call(client, *, group: str, event: str, data: dict[str, Any]):
    """The one sequence+publish call, for the sync and the async client alike: EVALSHA of
    `_SEQ_PUBLISH_LUA`, loaded with EVAL the first time a server lacks it. Returns the seq, or
    an awaitable of it for an async client."""
    args = _seq_publish_args(group=group, event=event, data=data)
    if isinstance(client, AsyncRedis):
        return _aseq_publish_call(client, args)
    try:
        return client.evalsha(_SEQ_PUBLISH_SHA, *args)
    except NoScriptError:
        return client.eval(_SEQ_PUBLISH_LUA, *args)


async def _aseq_publish_call(client, args: list):
    try:
        return await client.evalsha(_SEQ_PUBLISH_SHA, *args)
    except NoScriptError:
        return await client.eval(_SEQ_PUBLISH_LUA, *args)


def _log_publish_failure(group: str, event: str, exc: Exception) -> None:
    if isinstance(exc, REDIS_DOWN):  # an outage: one line, not a traceback per event
        logger.warning("realtime publish failed group=%s event=%s redis unavailable", group, event)
    else:
        logger.exception("realtime publish failed group=%s event=%s", group, event)


def publish(*, group: str, event: str, data: dict[str, Any]) -> int | None:
    """Send now (returns the seq). Use `send_event` from services; this is for code outside a
    transaction."""
    try:
        client = sync_redis()
        if client is not None:
            return int(_seq_publish_call(client, group=group, event=event, data=data))
        return _memory_publish(group=group, event=event, data=data)
    except Exception as exc:  # a realtime hiccup must never fail the business write behind it
        _log_publish_failure(group, event, exc)
        return None


def _memory_publish(*, group: str, event: str, data: dict[str, Any]) -> int:
    """Embedded default: number and deliver under one lock, so in-process order = seq order."""
    with _memory_lock:
        _memory_seq[group] += 1
        seq = _memory_seq[group]
        _deliver_local_threadsafe(
            group, render_event(event=event, seq=seq, epoch=_MEMORY_EPOCH, data=data)
        )
    return seq


async def apublish(*, group: str, event: str, data: dict[str, Any]) -> int | None:
    """`publish` for async code (consumers, presence): the same Lua call (sequence number,
    epoch and PUBLISH in one atomic step), awaited on the loop's client — no thread hop."""
    try:
        client = async_redis()
        if client is not None:
            return int(await _seq_publish_call(client, group=group, event=event, data=data))
        return _memory_publish(group=group, event=event, data=data)
    except Exception as exc:
        _log_publish_failure(group, event, exc)
        return None


def send_event(*, group: str, event: str, data: dict[str, Any], using: str | None = None) -> None:
    """Announce `event` to `group` once the surrounding transaction commits."""
    transaction.on_commit(lambda: publish(group=group, event=event, data=data), using=using)


def send_event_built(
    *, group: str, event: str, build: Callable[[], dict[str, Any]], using: str | None = None
) -> None:
    """`send_event` whose data is built once the transaction commits: e.g. a fragment
    rendered from the committed rows, once per event for every viewer."""
    transaction.on_commit(lambda: publish(group=group, event=event, data=build()), using=using)


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
    """One per event loop: group → local sinks, fed by one Redis subscription per group.

    If the subscription breaks (Redis stopped, restarted, unreachable) the hub keeps its sinks,
    calls every status watcher with `STATUS_DEGRADED`, retries with a short backoff (at most
    `RETRY_MAX` seconds apart), resubscribes every group when Redis answers and calls the
    watchers with `STATUS_OK`: sockets then refetch what they missed."""

    UNSUBSCRIBE_AFTER = 30.0  # seconds a group must stay empty before UNSUBSCRIBE
    MAX_BACKLOG = 500  # texts kept for a sink whose send is stuck; one more drops the sink
    RETRY_MIN = 0.25
    RETRY_MAX = 1.0

    def __init__(self, loop: asyncio.AbstractEventLoop):
        self.loop = loop
        self.sinks: dict[str, dict[Sink, Overflow | None]] = {}  # sink → its on_overflow
        self.backlogs: dict[Sink, deque] = {}  # sinks with a send in progress (slow sockets)
        self.subscribed: dict[str, asyncio.Future] = {}  # groups wanted on the subscription
        self.empty_since: dict[str, float] = {}
        self.watchers: dict[StatusWatcher, None] = {}
        self.degraded = False
        self._pubsub = None
        self._reader: asyncio.Task | None = None
        self._sweeper: asyncio.Task | None = None
        self._closed = False

    # subscriptions
    async def join(self, group: str, sink: Sink, on_overflow: Overflow | None = None) -> bool:
        """Add `sink`; True when the group's Redis subscription is live on return, False when
        Redis is down (the hub subscribes it once Redis is back). `on_overflow()` is called if
        the hub drops the sink for falling `MAX_BACKLOG` texts behind (the socket closes)."""
        self.sinks.setdefault(group, {})[sink] = on_overflow
        self.empty_since.pop(group, None)
        if not redis_enabled():
            return True
        await self._ensure_subscribed(group)
        return not self.degraded

    def leave(self, group: str, sink: Sink) -> None:
        sinks = self.sinks.get(group)
        if sinks is None:
            return
        sinks.pop(sink, None)
        if not sinks:
            self.empty_since[group] = self.loop.time()

    def watch(self, watcher: StatusWatcher) -> None:
        self.watchers[watcher] = None

    def unwatch(self, watcher: StatusWatcher) -> None:
        self.watchers.pop(watcher, None)

    async def _ensure_subscribed(self, group: str) -> None:
        future = self.subscribed.get(group)
        if future is None:
            future = self.loop.create_future()
            self.subscribed[group] = future
            try:
                if not self.degraded:
                    if self._pubsub is None:
                        self._pubsub = _subscriber_client().pubsub(ignore_subscribe_messages=True)
                    await self._pubsub.subscribe(_namespace() + group)
            except Exception as exc:  # the reader loop subscribes it when Redis is back
                self._lost(exc)
            finally:
                future.set_result(True)
                self._start_tasks()
        elif not future.done():
            await asyncio.shield(future)

    def _start_tasks(self) -> None:
        if self._closed:
            return
        if self._reader is None or self._reader.done():
            self._reader = self.loop.create_task(self._read())
        if self._sweeper is None or self._sweeper.done():
            self._sweeper = self.loop.create_task(self._sweep())

    async def _read(self) -> None:
        prefix_len = len(_namespace())
        delay = self.RETRY_MIN
        while not self._closed:
            if self.degraded:
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.RETRY_MAX)
                if await self._reconnect():
                    delay = self.RETRY_MIN
                continue
            pubsub = self._pubsub
            if pubsub is None or not pubsub.subscribed:
                await asyncio.sleep(0.2)  # every group swept: nothing to read yet
                continue
            try:
                message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self._lost(exc)
                continue
            if message is None or message.get("type") != "message":
                continue
            channel = message["channel"]
            group = (channel.decode() if isinstance(channel, bytes) else channel)[prefix_len:]
            data = message["data"]
            self.deliver(group, data.decode() if isinstance(data, bytes) else data)

    def _lost(self, exc: Exception) -> None:
        """The subscription broke: drop it, tell the sockets, let the reader reconnect."""
        pubsub, self._pubsub = self._pubsub, None
        if pubsub is not None:
            self.loop.create_task(self._discard(pubsub))
        if self.degraded:
            return
        self.degraded = True
        logger.warning("realtime subscription lost; reconnecting error=%s", type(exc).__name__)
        self._notify(STATUS_DEGRADED)

    async def _discard(self, pubsub) -> None:
        with contextlib.suppress(Exception):
            await pubsub.aclose()

    async def _reconnect(self) -> bool:
        """Subscribe every wanted group on a fresh connection; True when Redis answered."""
        groups = list(self.subscribed)
        pubsub = _subscriber_client().pubsub(ignore_subscribe_messages=True)
        try:
            if groups:
                await pubsub.subscribe(*[_namespace() + g for g in groups])
            else:
                await async_redis().ping()
        except asyncio.CancelledError:
            raise
        except Exception:
            await self._discard(pubsub)
            return False
        joined_meanwhile = [g for g in self.subscribed if g not in groups]
        try:
            if joined_meanwhile:
                await pubsub.subscribe(*[_namespace() + g for g in joined_meanwhile])
        except asyncio.CancelledError:
            raise
        except Exception:
            await self._discard(pubsub)
            return False
        self._pubsub = pubsub
        self.degraded = False
        logger.warning("realtime subscription restored groups=%d", len(groups))
        # Events published while the subscription was down are lost: every socket refetches.
        self._notify(STATUS_OK)
        return True

    def _notify(self, state: str) -> None:
        for watcher in tuple(self.watchers):
            _start(watcher(state))

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
        """Hand `text` to every local sink of `group`, in order per sink. A sink's send runs
        eagerly (`_start`); one that suspends (a full write buffer) gets a backlog that a task
        drains in order, so the others never wait for it. A backlog past `MAX_BACKLOG` drops
        the sink from every group and calls its `on_overflow` (memory stays bounded)."""
        sinks = self.sinks.get(group)
        if not sinks:
            return
        backlogs = self.backlogs
        for sink in tuple(sinks):
            if backlogs:
                backlog = backlogs.get(sink)
                if backlog is not None:
                    if len(backlog) >= self.MAX_BACKLOG:
                        self._drop_slow(sink)
                    else:
                        backlog.append(text)
                    continue
            coro = sink(text)
            try:
                yielded = coro.send(None)
            except StopIteration:
                continue
            except Exception:
                logger.debug("realtime sink failed", exc_info=True)
                continue
            backlog = backlogs[sink] = deque()
            task = asyncio.ensure_future(self._drain(sink, backlog, coro, yielded))
            _pending_sends.add(task)  # keep a reference until done (the loop holds weak ones)
            task.add_done_callback(_pending_sends.discard)

    async def _drain(self, sink: Sink, backlog: deque, coro, yielded) -> None:
        try:
            await _resume(coro, yielded)
            while backlog and self.backlogs.get(sink) is backlog:
                await sink(backlog.popleft())
        except Exception:
            logger.debug("realtime sink failed after suspending", exc_info=True)
        finally:
            if self.backlogs.get(sink) is backlog:
                del self.backlogs[sink]

    def _drop_slow(self, sink: Sink) -> None:
        """`sink` stopped reading: forget its backlog, remove it everywhere, tell its owner."""
        self.backlogs.pop(sink, None)
        on_overflow = None
        for group, sinks in self.sinks.items():
            if sink in sinks:
                on_overflow = sinks.pop(sink) or on_overflow
                if not sinks:
                    self.empty_since[group] = self.loop.time()
        logger.warning("realtime sink dropped: backlog over %d", self.MAX_BACKLOG)
        if on_overflow is not None:
            _start(on_overflow())

    async def close(self) -> None:
        self._closed = True
        for task in (self._reader, self._sweeper):
            if task is not None:
                task.cancel()
        if self._pubsub is not None:
            await self._discard(self._pubsub)
        await _close_async_clients(self.loop)


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


async def subscribe(group: str, sink: Sink, on_overflow: Overflow | None = None) -> bool:
    """Have `sink(text)` called for every event of `group`. Returns True when subscribed on
    return, False when Redis is down (subscribed automatically once it is back).
    `on_overflow()` is called if the sink falls too far behind and is dropped (close it)."""
    return await hub().join(group, sink, on_overflow)


def unsubscribe(group: str, sink: Sink) -> None:
    hub().leave(group, sink)


def watch_status(watcher: StatusWatcher) -> None:
    """Have `watcher(state)` called with `STATUS_DEGRADED` / `STATUS_OK` when this process's
    link to Redis breaks / comes back."""
    hub().watch(watcher)


def unwatch_status(watcher: StatusWatcher) -> None:
    hub().unwatch(watcher)


def realtime_available() -> bool:
    """False while this loop's hub has lost Redis (sends would be lost)."""
    current = _hubs.get(asyncio.get_running_loop())
    return current is None or not current.degraded


async def close_hub() -> None:
    """Release this loop's subscription and Redis connections (tests, shutdown)."""
    loop = asyncio.get_running_loop()
    current = _hubs.pop(loop, None)
    if current is not None:
        await current.close()
    else:
        await _close_async_clients(loop)


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


class HubConsumer(AsyncWebsocketConsumer):
    """A websocket whose events arrive through this module's hub as already-rendered text: no
    per-socket channel-layer channel, and no `aclose_old_connections()` thread hop before every
    handler (Channels' stock `dispatch` runs one; these consumers do their ORM work through
    `database_sync_to_async`, which closes stale connections in its own thread)."""

    channel_layer_alias = "__no_channel_layer__"

    async def __call__(self, scope, receive, send):
        """Channels' `AsyncConsumer.__call__` without a channel layer: the client's messages
        straight to `dispatch`. The stock loop (`await_many_dispatch`) runs every `receive()`
        in a task of its own and waits on it with `asyncio.wait`, for one source of messages."""
        self.scope = scope
        self.channel_layer = None
        self.base_send = send
        try:
            while True:
                await self.dispatch(await receive())
        except StopConsumer:
            pass

    def _deliver(self, text: str) -> Awaitable[None]:
        """The hub's sink for this socket's groups: the event's text as one frame. It returns
        the server's own `send` coroutine (no coroutine frame of ours per delivery)."""
        return self.base_send({"type": "websocket.send", "text": text})

    async def dispatch(self, message):
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)
