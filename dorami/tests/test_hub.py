"""The realtime transport and per-process hub (`dorami/realtime.py`) on real Redis.

Atomic numbering for the sync and the async publish, resubscription after the subscription's
connection is lost, a slow sink never holding up the others (and dropped past its backlog), and
the sweep of groups nobody listens to any more.
"""

from __future__ import annotations

import asyncio
import json
import threading
import uuid

import pytest
import redis

from dorami import realtime as transport


@pytest.fixture(autouse=True)
async def _release_hub():
    yield
    await transport.close_hub()


def fresh_group() -> str:
    return f"test.{uuid.uuid4().hex[:10]}"


async def wait_for(predicate, timeout: float = 3.0, what: str = "condition") -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        assert loop.time() < deadline, f"{what} not met in {timeout}s"
        await asyncio.sleep(0.02)


def numsub(group: str) -> int:
    channel = transport._namespace() + group
    return dict(transport.sync_redis().pubsub_numsub(channel))[channel.encode()]


# --- one atomic sequence+publish, sync and async -------------------------------------------
async def test_sync_and_async_publishes_are_numbered_and_sent_in_one_step():
    group = fresh_group()
    received: list[str] = []

    async def sink(text: str) -> None:
        received.append(text)

    assert await transport.subscribe(group, sink)
    # when 60 events are published at once from the event loop and 60 from another thread
    thread = threading.Thread(
        target=lambda: [
            transport.publish(group=group, event="sync", data={"n": n}) for n in range(60)
        ]
    )
    thread.start()
    await asyncio.gather(
        *[transport.apublish(group=group, event="async", data={"n": n}) for n in range(60)]
    )
    await asyncio.to_thread(thread.join)
    await wait_for(lambda: len(received) == 120, what="all 120 events")
    # then every event arrived in the order of its number (numbering and PUBLISH are one
    # atomic step), numbered 1..120 without a gap, all in one epoch and one exact format
    frames = [json.loads(text) for text in received]
    assert [f["seq"] for f in frames] == list(range(1, 121))
    seq, epoch = transport.room_sequence(group)
    assert seq == 120 and {f["epoch"] for f in frames} == {epoch}
    for text, frame in zip(received, frames, strict=True):
        assert text == transport.render_event(
            event=frame["event"], seq=frame["seq"], epoch=epoch, data=frame["data"]
        )
    assert {f["event"] for f in frames} == {"sync", "async"}


async def test_async_publish_loads_the_script_on_a_server_that_lost_it():
    group = fresh_group()
    transport.sync_redis().script_flush()
    assert await transport.apublish(group=group, event="e", data={}) == 1
    transport.sync_redis().script_flush()
    assert transport.publish(group=group, event="e", data={}) == 2


# --- resubscribe after the subscription's connection is lost ------------------------------
async def test_the_hub_resubscribes_after_its_connection_is_killed(own_redis):
    group, later = fresh_group(), fresh_group()
    received: list[str] = []
    states: list[str] = []

    async def sink(text: str) -> None:
        received.append(json.loads(text)["event"])

    async def watcher(state: str) -> None:
        states.append(state)

    transport.watch_status(watcher)
    assert await transport.subscribe(group, sink)
    assert transport.publish(group=group, event="before", data={}) == 1
    await wait_for(lambda: received == ["before"])
    # when the server drops the subscription's connection (Redis itself keeps running)
    admin = redis.Redis.from_url(own_redis.url)
    assert admin.client_kill_filter(_type="pubsub") >= 1
    await wait_for(lambda: states == [transport.STATUS_DEGRADED], what="degraded")
    # (redis-py alone would reconnect silently and lose the events in between unnoticed)
    # a socket joining while the link is down (retries start 0.25 s later) is kept too
    assert not await transport.subscribe(later, sink)
    # then the hub reconnects within its retry delay, resubscribes every group, says "ok"
    await wait_for(lambda: states[-1:] == [transport.STATUS_OK], what="ok")
    transport.publish(group=group, event="after", data={})
    transport.publish(group=later, event="joined meanwhile", data={})
    await wait_for(lambda: len(received) == 3, what="events after the reconnect")
    assert received == ["before", "after", "joined meanwhile"]
    admin.close()


# --- a slow sink never holds up the others ---------------------------------------------
async def test_a_stuck_sink_does_not_delay_the_others_and_is_dropped_past_its_backlog():
    group = fresh_group()
    hub = transport.hub()
    hub.MAX_BACKLOG = 5
    fast: list[int] = []
    release = asyncio.Event()
    slow: list[int] = []
    dropped: list[bool] = []

    async def fast_sink(text: str) -> None:
        fast.append(json.loads(text)["data"]["n"])

    async def stuck_sink(text: str) -> None:
        await release.wait()  # a phone that stopped reading: its send never completes
        slow.append(json.loads(text)["data"]["n"])

    async def on_overflow() -> None:
        dropped.append(True)

    await transport.subscribe(group, stuck_sink, on_overflow)
    await transport.subscribe(group, fast_sink)
    for n in range(20):
        transport.publish(group=group, event="e", data={"n": n})
    # then the fast sink got all 20 in order while the stuck one held its first send
    await wait_for(lambda: len(fast) == 20, what="fast sink")
    assert fast == list(range(20))
    # and the stuck sink, 1 in flight + 5 queued + one more, was dropped once, everywhere
    await wait_for(lambda: dropped == [True], what="overflow callback")
    assert stuck_sink not in hub.sinks[group] and fast_sink in hub.sinks[group]
    assert stuck_sink not in hub.backlogs
    release.set()
    await asyncio.sleep(0.1)
    assert slow == [0]  # the send in flight completes; the dropped backlog is not sent


async def test_a_slow_sink_catches_up_in_order():
    group = fresh_group()
    release = asyncio.Event()
    slow: list[int] = []
    fast: list[int] = []

    async def slow_sink(text: str) -> None:
        if not release.is_set():
            await release.wait()
        slow.append(json.loads(text)["data"]["n"])

    async def fast_sink(text: str) -> None:
        fast.append(json.loads(text)["data"]["n"])

    await transport.subscribe(group, slow_sink)
    await transport.subscribe(group, fast_sink)
    for n in range(10):
        transport.publish(group=group, event="e", data={"n": n})
    await wait_for(lambda: len(fast) == 10, what="fast sink")
    assert slow == []
    release.set()
    await wait_for(lambda: len(slow) == 10, what="slow sink")
    assert slow == list(range(10))
    assert transport.hub().backlogs == {}


# --- the sweep of unused subscriptions ----------------------------------------------------
async def test_groups_left_empty_are_unsubscribed_after_the_delay():
    gone, kept, back = fresh_group(), fresh_group(), fresh_group()
    hub = transport.hub()
    hub.UNSUBSCRIBE_AFTER = 0.3

    async def sink(text: str) -> None:
        pass

    for group in (gone, kept, back):
        await transport.subscribe(group, sink)
    assert [numsub(g) for g in (gone, kept, back)] == [1, 1, 1]
    transport.unsubscribe(gone, sink)
    transport.unsubscribe(back, sink)
    await transport.subscribe(back, sink)  # a reconnecting tab rejoins before the sweep
    await wait_for(lambda: gone not in hub.subscribed, what="sweep")
    await wait_for(lambda: numsub(gone) == 0, what="UNSUBSCRIBE at Redis")
    await asyncio.sleep(0.4)
    assert numsub(kept) == 1 and numsub(back) == 1
    assert kept in hub.subscribed and back in hub.subscribed and gone not in hub.sinks
    # a later join subscribes the swept group again
    received: list[str] = []

    async def collect(text: str) -> None:
        received.append(text)

    await transport.subscribe(gone, collect)
    transport.publish(group=gone, event="again", data={})
    await wait_for(lambda: len(received) == 1, what="delivery after resubscribe")
