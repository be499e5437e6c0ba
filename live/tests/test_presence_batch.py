"""Joins and leaves of one process go to Redis in batches (`live.presence._Batcher`): a burst of
sockets joining together counts every one of them, over a few Redis connections instead of one
per socket, with the room's reads made once per batch and one announcer per batch."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from dorami import realtime as transport
from dorami.realtime import sync_redis
from live import presence


@pytest.fixture(autouse=True)
async def _release():
    yield
    await presence.presence_shutdown()
    await transport.close_hub()


def connections_received() -> int:
    return int(sync_redis().info("stats")["total_connections_received"])


async def test_a_burst_of_joins_is_counted_over_a_few_connections(settings):
    settings.LIVE_VIEWERS_COALESCE_SECONDS = 5
    stream_id = 900_000 + uuid.uuid4().int % 100_000
    await presence.presence_join(stream_id=stream_id, member="gwarm")  # the pool's first one
    await presence.presence_leave(stream_id=stream_id, member="gwarm")
    reads = []

    async def room_reads(pipe):
        reads.append(pipe)
        pipe.get(f"test:room:{stream_id}")
        return []

    before = connections_received()
    joined = await asyncio.gather(
        *(
            presence.presence_join(stream_id=stream_id, member=f"g{i:04d}", also=room_reads)
            for i in range(300)
        )
    )
    assert connections_received() - before <= 2
    assert len(reads) <= 2  # once per batch, not once per socket
    assert all(result.extra == [None] for result in joined)  # every joiner got the read
    assert max(result.viewers for result in joined) == 300
    assert sum(result.announce for result in joined) <= 1
    assert await presence.aviewer_count(stream_id) == 300

    before = connections_received()
    await asyncio.gather(
        *(presence.presence_leave(stream_id=stream_id, member=f"g{i:04d}") for i in range(300))
    )
    assert connections_received() - before <= 2
    assert await presence.aviewer_count(stream_id) == 0
    assert sync_redis().hlen(f"rt:pres:conns:{stream_id}") == 0


async def test_two_sockets_of_one_member_in_one_batch_count_once_until_both_leave():
    stream_id = 900_000 + uuid.uuid4().int % 100_000
    await asyncio.gather(
        presence.presence_join(stream_id=stream_id, member="u7"),
        presence.presence_join(stream_id=stream_id, member="u7"),
        presence.presence_join(stream_id=stream_id, member="g1"),
    )
    assert await presence.aviewer_count(stream_id) == 2
    await presence.presence_leave(stream_id=stream_id, member="u7")
    assert await presence.aviewer_count(stream_id) == 2
    await asyncio.gather(
        presence.presence_leave(stream_id=stream_id, member="u7"),
        presence.presence_leave(stream_id=stream_id, member="g1"),
    )
    assert await presence.aviewer_count(stream_id) == 0


async def test_a_failed_batch_fails_its_joins_and_leaves_no_local_ghost():
    stream_id = 900_000 + uuid.uuid4().int % 100_000

    async def broken(pipe):
        raise ValueError("room read failed")

    with pytest.raises(ValueError):
        await presence.presence_join(stream_id=stream_id, member="g1", also=broken)
    assert "g1" not in presence._tracker().rooms.get(stream_id, {})
    # the batcher keeps working after a failed batch
    result = await presence.presence_join(stream_id=stream_id, member="g2")
    assert result.viewers == 1
