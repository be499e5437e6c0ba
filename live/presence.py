"""Viewer presence: who is watching a stream, counted once per person, without the database.

Redis layout per stream (`<id>`):
- `rt:pres:<id>` sorted set, member = `u<user id>` or `g<guest key>`, score = last seen (epoch s);
  members older than the TTL (30 s) are dropped, so a crashed client falls out on its own;
- `rt:pres:conns:<id>` hash member → open sockets (several tabs count once; the member leaves
  the set when its last socket closes);
- `rt:pres:gate:<id>` `SET NX PX 1000`: at most one `viewers` event per second per room; the
  holder re-checks after the window (trailing update), so the last change is never lost;
- `rt:pres:last:<id>` / `rt:pres:peak:<id>`: last announced count and the highest count saved;
- `rt:pres:hist:<id>` sorted set, member = minute (epoch s), score = the highest count announced
  in that minute (`ZADD GT`, written with the announcement): the studio's viewers-over-time chart.

Heartbeats only touch process memory; each process refreshes the scores of its own sockets in
one pipeline every few seconds. A join (guest or shopper) writes nothing to PostgreSQL: a new
peak is noted in Redis and process memory, and the same flusher saves it, at most once per
flush per room, as a conditional `UPDATE … WHERE peak_viewers < n`. Without Redis (embedded
default) the same functions keep the state in this process.

Redis outage: counts read as unknown (`None`; pages show "-"), a joining socket stays counted
in this process and the flusher writes it to Redis once Redis is back.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import weakref

from channels.db import database_sync_to_async
from django.conf import settings

from dorami.realtime import REDIS_DOWN, async_redis, sync_redis
from live import realtime as live_realtime

logger = logging.getLogger(__name__)

DAY = 86400

_LEAVE_LUA = """
local n = redis.call('HINCRBY', KEYS[2], ARGV[1], -1)
if n <= 0 then
  redis.call('HDEL', KEYS[2], ARGV[1])
  redis.call('ZREM', KEYS[1], ARGV[1])
end
return n
"""


def ttl_seconds() -> float:
    return float(getattr(settings, "LIVE_PRESENCE_TTL_SECONDS", 30))


def flush_seconds() -> float:
    return float(getattr(settings, "LIVE_PRESENCE_FLUSH_SECONDS", 5))


def coalesce_seconds() -> float:
    return float(getattr(settings, "LIVE_VIEWERS_COALESCE_SECONDS", 1.0))


def _k(kind: str, stream_id: int) -> str:
    return f"rt:pres:{kind}:{stream_id}" if kind else f"rt:pres:{stream_id}"


def member_for(*, user_id: int | None, guest_key: str | None) -> str:
    return f"u{user_id}" if user_id else f"g{guest_key}"


# --- In-process fallback (embedded default) -------------------------------------------------
class _Memory:
    def __init__(self):
        self.lock = threading.Lock()
        self.scores: dict[int, dict[str, float]] = {}
        self.conns: dict[int, dict[str, int]] = {}
        self.gates: dict[int, float] = {}
        self.last: dict[int, int] = {}
        self.peak: dict[int, int] = {}
        self.history: dict[int, dict[int, int]] = {}

    def count(self, stream_id: int, now: float) -> int:
        with self.lock:
            scores = self.scores.get(stream_id, {})
            for member in [m for m, s in scores.items() if s <= now - ttl_seconds()]:
                del scores[member]
            return len(scores)


_memory = _Memory()


# --- Counting -------------------------------------------------------------------------------
def viewer_count(stream_id: int) -> int | None:
    """Current unique viewers (sync; pages and the room state); None while Redis is down."""
    now = time.time()
    client = sync_redis()
    if client is None:
        return _memory.count(stream_id, now)
    pipe = client.pipeline(transaction=False)
    pipe.zremrangebyscore(_k("", stream_id), "-inf", now - ttl_seconds())
    pipe.zcard(_k("", stream_id))
    try:
        return int(pipe.execute()[1])
    except REDIS_DOWN:
        logger.warning("viewer count unavailable stream_id=%s redis down", stream_id)
        return None


def socket_count(stream_id: int) -> int | None:
    """Open websockets of a stream in every process (the sum of `rt:pres:conns:<id>`)."""
    client = sync_redis()
    if client is None:
        with _memory.lock:
            return sum(_memory.conns.get(stream_id, {}).values())
    try:
        return sum(int(value) for value in client.hvals(_k("conns", stream_id)))
    except REDIS_DOWN:
        logger.warning("socket count unavailable stream_id=%s redis down", stream_id)
        return None


async def aviewer_count(stream_id: int) -> int:
    now = time.time()
    client = async_redis()
    if client is None:
        return _memory.count(stream_id, now)
    pipe = client.pipeline(transaction=False)
    pipe.zremrangebyscore(_k("", stream_id), "-inf", now - ttl_seconds())
    pipe.zcard(_k("", stream_id))
    return int((await pipe.execute())[1])


# --- Join / heartbeat / leave ---------------------------------------------------------------
class _Tracker:
    """This process's sockets per stream: member → [open sockets, last heartbeat]."""

    def __init__(self, loop):
        self.loop = loop
        self.rooms: dict[int, dict[str, list]] = {}
        self.gate_closed_until: dict[int, float] = {}
        self.peaks: dict[int, int] = {}  # stream → a new peak not yet saved to the database
        self.task: asyncio.Task | None = None

    def ensure_flusher(self) -> None:
        if self.task is None or self.task.done():
            self.task = self.loop.create_task(self._flush_forever())

    async def _flush_forever(self) -> None:
        while True:
            await asyncio.sleep(flush_seconds())
            try:
                await self.flush()
            except asyncio.CancelledError:
                raise
            except REDIS_DOWN:
                logger.warning("presence flush skipped: redis unavailable")
            except Exception:
                logger.warning("presence flush failed", exc_info=True)

    async def flush(self) -> None:
        """Refresh scores of members heard from within the TTL; announce changed counts; save
        new peaks (one UPDATE per room)."""
        await self.peaks_save()
        now = time.time()
        horizon = now - ttl_seconds()
        client = async_redis()
        for stream_id, members in list(self.rooms.items()):
            fresh = {m: v[1] for m, v in members.items() if v[1] > horizon}
            if client is None:
                with _memory.lock:
                    _memory.scores.setdefault(stream_id, {}).update(fresh)
                changed = _memory.count(stream_id, now) != _memory.last.get(stream_id)
            else:
                pipe = client.pipeline(transaction=False)
                if fresh:
                    pipe.zadd(_k("", stream_id), fresh)
                pipe.zremrangebyscore(_k("", stream_id), "-inf", horizon)
                pipe.zcard(_k("", stream_id))
                pipe.get(_k("last", stream_id))
                result = await pipe.execute()
                last = result[-1]
                changed = last is None or int(last) != int(result[-2])
            if changed:
                await presence_changed(stream_id)
            if not members:
                self.rooms.pop(stream_id, None)

    def peak_note(self, stream_id: int, viewers: int) -> None:
        if viewers > self.peaks.get(stream_id, 0):
            self.peaks[stream_id] = viewers

    async def peaks_save(self) -> None:
        peaks, self.peaks = self.peaks, {}
        if peaks:
            await database_sync_to_async(_peaks_save)(peaks)


def _peaks_save(peaks: dict[int, int]) -> None:
    for stream_id, viewers in peaks.items():
        save_peak_viewers(stream_id=stream_id, viewers=viewers)


_trackers: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _tracker() -> _Tracker:
    loop = asyncio.get_running_loop()
    tracker = _trackers.get(loop)
    if tracker is None:
        tracker = _trackers[loop] = _Tracker(loop)
    tracker.ensure_flusher()
    return tracker


class JoinResult:
    __slots__ = ("announce", "extra", "viewers")

    def __init__(self, viewers: int, announce: bool, extra: list):
        self.viewers, self.announce, self.extra = viewers, announce, extra


def _gate_args() -> dict:
    return {"nx": True, "px": int(coalesce_seconds() * 1000)}


def _gate_known_closed(stream_id: int) -> bool:
    """This process learned the gate is held (by anyone) until a known time: skip Redis."""
    until = _tracker().gate_closed_until.get(stream_id)
    return until is not None and until > time.monotonic()


def _note_gate(stream_id: int, acquired: bool, pttl) -> None:
    wait = coalesce_seconds() if acquired else max(int(pttl or 0), 0) / 1000
    _tracker().gate_closed_until[stream_id] = time.monotonic() + wait


async def presence_join(*, stream_id: int, member: str, also=None) -> JoinResult:
    """Count `member` in, together with the room's reads: the viewer count, the announcement
    gate and the caller's reads of the room (`also(pipe)`, e.g. the chat history and the room
    seq; they must depend on the room only, since one read serves every joiner of the batch).

    Joins and leaves of this process go to Redis in batches (`_Batcher`): one pipeline for all
    the sockets that joined while the previous one was on its way, so a reconnect storm holds one
    Redis connection instead of one per joining socket, and reads the room once per batch.

    When `announce` is true the caller should `await presence_announce(stream_id)` once it
    is ready for events (the consumer does it after its hello frame)."""
    now = time.time()
    tracker = _tracker()
    entry = tracker.rooms.setdefault(stream_id, {}).setdefault(member, [0, now])
    entry[0] += 1
    entry[1] = now
    client = async_redis()
    if client is None:
        with _memory.lock:
            _memory.scores.setdefault(stream_id, {})[member] = now
            conns = _memory.conns.setdefault(stream_id, {})
            conns[member] = conns.get(member, 0) + 1
        viewers = _memory.count(stream_id, now)
        acquired = not _gate_known_closed(stream_id) and await _acquire_gate(stream_id)
        extra = await also(None) if also is not None else []
        return JoinResult(viewers, acquired, extra)
    try:
        return await _batcher().submit(_Op(stream_id, member, now, also))
    except REDIS_DOWN:
        raise  # stays counted here: the flusher writes it to Redis once Redis is back
    except Exception:
        _forget_local(tracker, stream_id, member)  # not counted anywhere: no ghost viewer
        raise


class _Op:
    """One socket's join (`also` = the room reads, or None) or leave (`leave=True`)."""

    __slots__ = ("also", "future", "leave", "member", "now", "stream_id")

    def __init__(self, stream_id: int, member: str, now: float, also=None, leave: bool = False):
        self.stream_id = stream_id
        self.member = member
        self.now = now
        self.also = also
        self.leave = leave
        self.future: asyncio.Future | None = None


class _Room:
    """What one batch does for one room: its members' own commands (in submission order),
    then the room's commands once: expiry, the count, the gate, the joiners' reads."""

    __slots__ = ("count_at", "extra", "gate_at", "joins", "leaves", "own")

    def __init__(self):
        self.joins: list[_Op] = []
        self.leaves: list[_Op] = []
        self.own: dict[_Op, list[int]] = {}  # op → indexes of its own commands' replies
        self.count_at = self.gate_at = -1
        self.extra: tuple[int, int] = (0, 0)


class _Batcher:
    """One per event loop: the joins and leaves submitted while a pipeline is on its way to
    Redis go out together in the next one (at most `MAX_OPS`), on one connection."""

    MAX_OPS = 1000

    def __init__(self, loop):
        self.loop = loop
        self.pending: list[_Op] = []
        self.task: asyncio.Task | None = None

    def submit(self, op: _Op) -> asyncio.Future:
        op.future = self.loop.create_future()
        self.pending.append(op)
        if self.task is None:  # runs on the next turn of the loop: ops of this turn join it
            self.task = self.loop.create_task(self._run())
        return op.future

    async def _run(self) -> None:
        ops: list[_Op] = []
        try:
            while self.pending:
                ops, self.pending = self.pending[: self.MAX_OPS], self.pending[self.MAX_OPS :]
                try:
                    await self._execute(ops)
                except Exception as exc:  # Redis unreachable: every op of the batch fails
                    for op in ops:
                        if op.future is not None and not op.future.done():
                            op.future.set_exception(exc)
                ops = []
        finally:
            self.task = None
            waiting, self.pending = [*ops, *self.pending], []
            for op in waiting:  # cancelled (loop closing): nobody waits for ever
                if op.future is not None and not op.future.done():
                    op.future.cancel()

    async def _execute(self, ops: list[_Op]) -> None:
        client = async_redis()
        pipe = client.pipeline(transaction=False)
        rooms: dict[int, _Room] = {}
        for op in ops:
            room = rooms.get(op.stream_id)
            if room is None:
                room = rooms[op.stream_id] = _Room()
            first = len(pipe.command_stack)
            if op.leave:
                pipe.eval(_LEAVE_LUA, 2, _k("", op.stream_id), _k("conns", op.stream_id), op.member)
                room.leaves.append(op)
            else:
                pipe.zadd(_k("", op.stream_id), {op.member: op.now})
                pipe.hincrby(_k("conns", op.stream_id), op.member, 1)
                room.joins.append(op)
            room.own[op] = list(range(first, len(pipe.command_stack)))
        now = time.time()
        for stream_id, room in rooms.items():
            if room.joins:
                pipe.expire(_k("", stream_id), DAY)
                pipe.expire(_k("conns", stream_id), DAY)
                pipe.zremrangebyscore(_k("", stream_id), "-inf", now - ttl_seconds())
                room.count_at = len(pipe.command_stack)
                pipe.zcard(_k("", stream_id))
            if not _gate_known_closed(stream_id):
                room.gate_at = len(pipe.command_stack)
                pipe.set(_k("gate", stream_id), 1, **_gate_args())
                pipe.pttl(_k("gate", stream_id))
            reads = next((op.also for op in room.joins if op.also is not None), None)
            if reads is not None:
                before = len(pipe.command_stack)
                await reads(pipe)
                room.extra = (before, len(pipe.command_stack))
        results = await pipe.execute(raise_on_error=False)
        for stream_id, room in rooms.items():
            self._settle(stream_id, room, results)

    def _settle(self, stream_id: int, room: _Room, results: list) -> None:
        shared = list(range(room.extra[0], room.extra[1]))
        if room.count_at >= 0:
            shared.append(room.count_at)
        acquired = False
        if room.gate_at >= 0:
            shared += [room.gate_at, room.gate_at + 1]
            acquired = bool(results[room.gate_at])
            _note_gate(stream_id, acquired, results[room.gate_at + 1])
        failed = next((results[i] for i in shared if isinstance(results[i], Exception)), None)
        extra = results[room.extra[0] : room.extra[1]]
        # The gate's holder announces: the first joiner once it has said hello, else a leaver.
        announcer = (room.joins or room.leaves)[0] if acquired else None
        for op in [*room.joins, *room.leaves]:
            if op.future is None or op.future.done():
                continue
            error = failed or next(
                (results[i] for i in room.own[op] if isinstance(results[i], Exception)), None
            )
            if error is not None:
                op.future.set_exception(error)
            elif op.leave:
                op.future.set_result(op is announcer)
            else:
                viewers = int(results[room.count_at])
                op.future.set_result(JoinResult(viewers, op is announcer, extra))


_batchers: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _batcher() -> _Batcher:
    loop = asyncio.get_running_loop()
    batcher = _batchers.get(loop)
    if batcher is None:
        batcher = _batchers[loop] = _Batcher(loop)
    return batcher


def presence_heartbeat(*, stream_id: int, member: str) -> None:
    """A client said it is still here: memory only; the flusher writes it to Redis."""
    room = _tracker().rooms.get(stream_id)
    if room is not None and member in room:
        room[member][1] = time.time()


def _forget_local(tracker: _Tracker, stream_id: int, member: str) -> None:
    room = tracker.rooms.get(stream_id, {})
    entry = room.get(member)
    if entry is not None:
        entry[0] -= 1
        if entry[0] <= 0:
            room.pop(member, None)


async def presence_leave(*, stream_id: int, member: str) -> None:
    _forget_local(_tracker(), stream_id, member)
    client = async_redis()
    if client is None:
        with _memory.lock:
            conns = _memory.conns.setdefault(stream_id, {})
            conns[member] = conns.get(member, 0) - 1
            if conns[member] <= 0:
                conns.pop(member, None)
                _memory.scores.get(stream_id, {}).pop(member, None)
        await presence_changed(stream_id)
        return
    # In the next batch with the other joins and leaves (see `presence_join`).
    if await _batcher().submit(_Op(stream_id, member, time.time(), leave=True)):
        await presence_announce(stream_id)


# --- Coalesced announcements ----------------------------------------------------------------
async def _acquire_gate(stream_id: int) -> bool:
    window = coalesce_seconds()
    client = async_redis()
    if client is None:
        now = time.monotonic()
        with _memory.lock:
            if _memory.gates.get(stream_id, 0) > now:
                return False
            _memory.gates[stream_id] = now + window
            return True
    pipe = client.pipeline(transaction=False)
    pipe.set(_k("gate", stream_id), 1, **_gate_args())
    pipe.pttl(_k("gate", stream_id))
    acquired, pttl = await pipe.execute()
    _note_gate(stream_id, bool(acquired), pttl)
    return bool(acquired)


async def presence_changed(stream_id: int) -> None:
    """Announce the count now if no announcement happened in the last second; the gate holder
    re-checks when its window ends, so changes inside the window are announced then."""
    if _gate_known_closed(stream_id) or not await _acquire_gate(stream_id):
        return
    await presence_announce(stream_id)


async def presence_announce(stream_id: int) -> None:
    """Publish the count (the caller holds the gate) and schedule the trailing re-check."""
    await _announce(stream_id)
    loop = asyncio.get_running_loop()
    loop.call_later(coalesce_seconds() + 0.05, _schedule_trailing, loop, stream_id)


def _schedule_trailing(loop, stream_id: int) -> None:
    loop.create_task(_trailing(stream_id))


async def _trailing(stream_id: int) -> None:
    try:
        count = await aviewer_count(stream_id)
        if count != await _last_announced(stream_id):
            await presence_changed(stream_id)
    except Exception:
        logger.warning("trailing viewer update failed", exc_info=True)


async def _last_announced(stream_id: int) -> int | None:
    client = async_redis()
    if client is None:
        return _memory.last.get(stream_id)
    value = await client.get(_k("last", stream_id))
    return None if value is None else int(value)


async def _announce(stream_id: int) -> None:
    count = await aviewer_count(stream_id)
    client = async_redis()
    minute = int(time.time()) // 60 * 60
    if client is None:
        with _memory.lock:
            _memory.last[stream_id] = count
            raise_peak = count > _memory.peak.get(stream_id, 0)
            if raise_peak:
                _memory.peak[stream_id] = count
            history = _memory.history.setdefault(stream_id, {})
            history[minute] = max(history.get(minute, 0), count)
    else:
        pipe = client.pipeline(transaction=False)
        pipe.set(_k("last", stream_id), count, ex=DAY)
        pipe.get(_k("peak", stream_id))
        pipe.zadd(_k("hist", stream_id), {str(minute): count}, gt=True)
        pipe.expire(_k("hist", stream_id), 2 * DAY)
        peak = (await pipe.execute())[1]
        raise_peak = count > int(peak or 0)
        if raise_peak:
            await client.set(_k("peak", stream_id), count, ex=DAY)
    await live_realtime.announce_viewers(stream_id=stream_id, viewers=count)
    if raise_peak:  # saved by this process's flusher, not on the join's path
        _tracker().peak_note(stream_id, count)


def viewer_history(stream_id: int) -> list[tuple[int, int]]:
    """(minute as epoch seconds, highest viewer count announced in it), oldest first. Minutes
    without an announcement are missing: the count did not change then."""
    client = sync_redis()
    if client is None:
        with _memory.lock:
            return sorted(_memory.history.get(stream_id, {}).items())
    rows = client.zrange(_k("hist", stream_id), 0, -1, withscores=True)
    return sorted((int(member), int(score)) for member, score in rows)


def save_peak_viewers(*, stream_id: int, viewers: int) -> int:
    """Conditional UPDATE: never lowers the peak, one statement, no read."""
    from live.models import LiveStream

    return LiveStream.objects.filter(pk=stream_id, peak_viewers__lt=viewers).update(
        peak_viewers=viewers
    )


async def presence_shutdown() -> None:
    """Stop this loop's flusher (tests, shutdown)."""
    tracker = _trackers.pop(asyncio.get_running_loop(), None)
    if tracker is not None and tracker.task is not None:
        tracker.task.cancel()
    if tracker is not None:
        try:
            await tracker.peaks_save()
        except Exception:
            logger.warning("peak viewers not saved at shutdown", exc_info=True)
