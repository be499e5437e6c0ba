"""Restream worker policy with a fake ffmpeg (a tiny shell script set as RESTREAM_FFMPEG_BIN).

Backoff delays are the real 2/4/8 s scaled down by RESTREAM_BACKOFF_SCALE for speed.
"""

from __future__ import annotations

import itertools
import os
import time
from pathlib import Path

import pytest

from live.models import LiveStream, RestreamSession, RestreamTarget
from live.services import restream as services
from live.services.errors import InvalidInput
from live.services.restream import RestreamWorker, ffmpeg_command
from live.services.stream import stream_create, stream_end, stream_publish

SCALE = 0.1  # 2/4/8 s → 0.2/0.4/0.8 s


def fake_ffmpeg(tmp_path: Path, body: str) -> Path:
    """A stand-in for ffmpeg that logs each start (monotonic-ish timestamp) then runs `body`."""
    script = tmp_path / "fake-ffmpeg"
    runs = tmp_path / "runs"
    script.write_text(
        f'#!/bin/sh\ndate +%s.%N >> "{runs}"\necho "$@" > "{tmp_path}/args"\n{body}\n'
    )
    script.chmod(0o755)
    return script


def runs(tmp_path: Path) -> list[float]:
    path = tmp_path / "runs"
    return [float(x) for x in path.read_text().split()] if path.exists() else []


def tick_until(worker: RestreamWorker, condition, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        worker.tick()
        if condition():
            return
        time.sleep(0.02)
    raise AssertionError("condition not reached")


@pytest.fixture
def restream_settings(settings):
    settings.RESTREAM_BACKOFF_SCALE = SCALE
    settings.RESTREAM_ACTIVE_AFTER_SECONDS = 0.3
    settings.RESTREAM_KILL_AFTER_SECONDS = 0.5
    settings.RESTREAM_INPUT_BASE_URL = "rtmp://127.0.0.1:1935/live"
    return settings


@pytest.fixture
def live(db):
    stream = stream_create(title="리스트림 테스트")
    return stream_publish(public_id=stream.public_id, publish_key=stream.publish_key)


@pytest.fixture
def target(db):
    return services.restream_target_create(
        name="YouTube",
        platform="YOUTUBE",
        rtmp_url="rtmp://a.rtmp.youtube.com/live2",
        stream_key="yt-key-1",
    )


@pytest.fixture
def worker():
    worker = RestreamWorker(poll_seconds=0.02)
    yield worker
    for relay in worker.relays.values():  # never leave a child behind
        if relay.process is not None and relay.process.poll() is None:
            relay.process.kill()
            relay.process.wait()


def session_of(stream, target) -> RestreamSession:
    return RestreamSession.objects.get(stream=stream, target=target)


# --- Command line ---------------------------------------------------------------------------


def test_ffmpeg_command_copies_the_stream_to_the_target(settings, target):
    settings.RESTREAM_FFMPEG_BIN = "ffmpeg"
    settings.RESTREAM_INPUT_BASE_URL = "rtmp://media:1935/live/"

    command = ffmpeg_command(public_id="abc", target=target)

    assert command[0] == "ffmpeg"
    assert command[command.index("-i") + 1] == "rtmp://media:1935/live/abc"
    assert command[command.index("-c") + 1] == "copy"
    assert "-an" not in command
    assert command[-3:] == ["-f", "flv", "rtmp://a.rtmp.youtube.com/live2/yt-key-1"]


def test_ffmpeg_command_mutes_audio_when_asked(target):
    services.restream_target_set_mute(target=target, mute_audio=True)
    target.refresh_from_db()

    command = ffmpeg_command(public_id="abc", target=target)

    assert "-an" in command
    assert command.index("-an") < command.index("-f")


def test_target_url_without_key_is_used_as_is(db):
    target = services.restream_target_create(
        name="Custom", rtmp_url="rtmps://live.example.com:443/app/fullkey"
    )

    assert ffmpeg_command(public_id="k", target=target)[-1] == (
        "rtmps://live.example.com:443/app/fullkey"
    )


@pytest.mark.parametrize(
    "url", ["http://example.com/live", "rtmp://", "rtmp://host/with space", "javascript:x"]
)
def test_target_needs_an_rtmp_url(db, url):
    with pytest.raises(InvalidInput):
        services.restream_target_create(name="X", rtmp_url=url)

    assert not RestreamTarget.objects.exists()


# --- Worker policy --------------------------------------------------------------------------


def test_crash_restarts_after_2_4_8_scaled_at_most_three_times(
    restream_settings, tmp_path, live, target, worker
):
    restream_settings.RESTREAM_FFMPEG_BIN = str(
        fake_ffmpeg(tmp_path, 'echo "boom: no route" >&2\nexit 1')
    )

    tick_until(worker, lambda: worker.relays[(live.pk, target.pk)].exhausted)
    # a few more polls: nothing else starts
    for _ in range(20):
        worker.tick()
        time.sleep(0.02)

    started = runs(tmp_path)
    assert len(started) == 4  # the first run + 3 restarts
    gaps = [b - a for a, b in itertools.pairwise(started)]
    for gap, expected in zip(gaps, [2 * SCALE, 4 * SCALE, 8 * SCALE], strict=True):
        assert expected <= gap < expected + 0.35, gaps
    session = session_of(live, target)
    assert session.state == RestreamSession.State.FAILED
    assert session.restart_count == 3
    assert "boom: no route" in session.last_error
    assert session.pid is None


def test_no_restart_once_the_stream_is_not_live(
    restream_settings, tmp_path, live, target, worker, django_user_model
):
    restream_settings.RESTREAM_BACKOFF_SCALE = 2.0  # a 4 s window to end the stream in
    restream_settings.RESTREAM_FFMPEG_BIN = str(fake_ffmpeg(tmp_path, "exit 1"))
    tick_until(worker, lambda: session_of(live, target).state == RestreamSession.State.FAILED)

    stream_end(stream=live, actor=None)
    for _ in range(10):
        worker.tick()
        time.sleep(0.02)

    assert len(runs(tmp_path)) == 1
    assert worker.relays == {}
    assert session_of(live, target).state == RestreamSession.State.STOPPED


def test_long_running_process_becomes_active_and_stops_at_stream_end(
    restream_settings, tmp_path, live, target, worker
):
    restream_settings.RESTREAM_FFMPEG_BIN = str(fake_ffmpeg(tmp_path, "exec sleep 30"))

    tick_until(worker, lambda: session_of(live, target).state == RestreamSession.State.ACTIVE)
    session = session_of(live, target)
    process = worker.relays[(live.pk, target.pk)].process
    assert session.pid == process.pid
    assert session.restart_count == 0
    args = (tmp_path / "args").read_text()
    assert "-c copy -f flv rtmp://a.rtmp.youtube.com/live2/yt-key-1" in args
    # the input is the media server's stream by its public id; the publish key is not needed
    assert f"-i rtmp://127.0.0.1:1935/live/{live.public_id} " in args
    assert live.publish_key not in args

    stream_end(stream=live, actor=None)
    tick_until(worker, lambda: not worker.relays)

    assert process.poll() is not None  # SIGTERM ended it
    assert session_of(live, target).state == RestreamSession.State.STOPPED
    assert len(runs(tmp_path)) == 1


def test_process_ignoring_sigterm_is_killed_after_the_grace(
    restream_settings, tmp_path, live, target, worker
):
    restream_settings.RESTREAM_FFMPEG_BIN = str(
        fake_ffmpeg(tmp_path, "trap '' TERM\nwhile :; do sleep 0.05; done")
    )
    tick_until(worker, lambda: session_of(live, target).state == RestreamSession.State.ACTIVE)
    process = worker.relays[(live.pk, target.pk)].process

    LiveStream.objects.filter(pk=live.pk).update(status=LiveStream.Status.OFFLINE)
    began = time.monotonic()
    tick_until(worker, lambda: not worker.relays, timeout=5)

    assert time.monotonic() - began >= 0.5  # waited for SIGTERM first
    assert process.returncode == -9  # then SIGKILL
    assert session_of(live, target).state == RestreamSession.State.STOPPED


def test_disabled_target_gets_no_process(restream_settings, tmp_path, live, target, worker):
    restream_settings.RESTREAM_FFMPEG_BIN = str(fake_ffmpeg(tmp_path, "exec sleep 30"))
    services.restream_target_set_enabled(target=target, enabled=False)

    worker.tick()

    assert worker.relays == {}
    assert runs(tmp_path) == []


def test_disabling_a_target_stops_its_relay(restream_settings, tmp_path, live, target, worker):
    restream_settings.RESTREAM_FFMPEG_BIN = str(fake_ffmpeg(tmp_path, "exec sleep 30"))
    tick_until(worker, lambda: session_of(live, target).state == RestreamSession.State.CONNECTING)

    services.restream_target_set_enabled(target=target, enabled=False)
    tick_until(worker, lambda: not worker.relays)

    assert session_of(live, target).state == RestreamSession.State.STOPPED


def test_pending_streams_are_not_restreamed(restream_settings, tmp_path, target, worker):
    restream_settings.RESTREAM_FFMPEG_BIN = str(fake_ffmpeg(tmp_path, "exec sleep 30"))
    stream_create(title="예정 방송")

    worker.tick()

    assert worker.relays == {}


def test_missing_ffmpeg_binary_fails_and_retries(restream_settings, tmp_path, live, target, worker):
    restream_settings.RESTREAM_FFMPEG_BIN = str(tmp_path / "does-not-exist")

    tick_until(worker, lambda: worker.relays[(live.pk, target.pk)].exhausted)

    session = session_of(live, target)
    assert session.state == RestreamSession.State.FAILED
    assert session.restart_count == 3
    assert "could not start" in session.last_error


def test_orphaned_sessions_are_reset_when_the_worker_starts(live, target):
    RestreamSession.objects.create(
        stream=live, target=target, state=RestreamSession.State.ACTIVE, pid=os.getpid()
    )

    assert services.restream_sessions_reset_orphans() == 1

    session = session_of(live, target)
    assert session.state == RestreamSession.State.IDLE
    assert session.pid is None
