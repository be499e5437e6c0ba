"""Real video end to end: nginx + Debian's RTMP module calls the webhooks and writes HLS, ffmpeg
publishes a test pattern the way OBS does (`live/<public id>?key=<publish key>`), the app serves
HLS named after the public id, a browser on the live page plays it, the restream worker copies
the stream to a second RTMP application, and stopping ffmpeg ends the show after the grace.
Publishing without the key, or with the key as the stream name, is refused.

Run: `pytest -m browser e2e/test_video.py` (needs nginx, libnginx-mod-rtmp, ffmpeg).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from e2e.conftest import ROOT, _database_url, _free_port, start_asgi_server, stop_asgi_server

pytestmark = [pytest.mark.video]

RTMP_MODULE = "/usr/lib/nginx/modules/ngx_rtmp_module.so"
SECRET = "video-test-secret"
GRACE_SECONDS = 3


def wait_for(condition, *, timeout: float, interval: float = 0.2, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what}")


def nginx_config(*, tmp: Path, rtmp_port: int, app_url: str) -> str:
    hook = f"{app_url}/api/v1/media/rtmp"
    return f"""
load_module {RTMP_MODULE};
user root;
daemon off;
master_process on;
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log info;
events {{ worker_connections 256; }}
rtmp {{
    server {{
        listen 127.0.0.1:{rtmp_port};
        chunk_size 4096;
        application live {{
            live on;
            record off;
            hls on;
            hls_path {tmp}/hls;
            hls_fragment 1s;
            hls_playlist_length 6s;
            on_publish {hook}/on_publish?secret={SECRET};
            on_publish_done {hook}/on_publish_done?secret={SECRET};
            on_update {hook}/on_update?secret={SECRET};
            notify_update_timeout 5s;
        }}
        application restream_target {{
            live on;
            record off;
        }}
    }}
}}
"""


def get(url: str, timeout: float = 5.0) -> tuple[int, str, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.headers.get("Content-Type", ""), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, "", b""


def status_of(stream_id: int) -> str:
    from live.models import LiveStream

    return LiveStream.objects.get(pk=stream_id).status


def session_state(stream_id: int) -> str | None:
    from live.models import RestreamSession

    session = RestreamSession.objects.filter(stream_id=stream_id).first()
    return session.state if session else None


def terminate(process: subprocess.Popen | None, timeout: float = 5.0) -> None:
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture
def media_stack(transactional_db, tmp_path):
    """App server (grace 3 s, HLS_ROOT) + nginx-rtmp calling its webhooks."""
    hls_dir = tmp_path / "hls"
    hls_dir.mkdir()
    (tmp_path / "logs").mkdir()
    server = start_asgi_server(
        tmp_path=tmp_path,
        extra_env={
            "UNPUBLISH_GRACE_SECONDS": str(GRACE_SECONDS),
            "HLS_ROOT": str(hls_dir),
            "MEDIA_WEBHOOK_SECRET": SECRET,
        },
    )
    rtmp_port = _free_port()
    conf = tmp_path / "nginx.conf"
    conf.write_text(nginx_config(tmp=tmp_path, rtmp_port=rtmp_port, app_url=server.url))
    nginx_log = (tmp_path / "nginx.out").open("w")
    nginx = subprocess.Popen(
        ["nginx", "-p", str(tmp_path), "-c", str(conf), "-e", str(tmp_path / "nginx-error.log")],
        stdout=nginx_log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for(lambda: _port_open(rtmp_port), timeout=10, what="nginx rtmp port")
        yield {"server": server, "rtmp_port": rtmp_port, "hls": hls_dir, "tmp": tmp_path}
    finally:
        terminate(nginx)
        stop_asgi_server(server)


def _port_open(port: int) -> bool:
    import socket

    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def start_restream_worker(*, tmp: Path, rtmp_port: int) -> subprocess.Popen:
    from django.conf import settings
    from django.db import connection

    env = {
        **os.environ,
        "DATABASE_URL": _database_url(connection.settings_dict),
        "REDIS_URL": settings.REDIS_URL,
        "DORAMI_TESTING": "1",
        "DB_CONN_MAX_AGE": "0",
        "RESTREAM_INPUT_BASE_URL": f"rtmp://127.0.0.1:{rtmp_port}/live",
        "RESTREAM_FFMPEG_BIN": "ffmpeg",
    }
    return subprocess.Popen(
        [sys.executable, "manage.py", "run_restream", "--poll", "0.5"],
        cwd=ROOT,
        env=env,
        stdout=(tmp / "logs" / "restream.log").open("w"),
        stderr=subprocess.STDOUT,
    )


def publish_test_pattern(
    *, tmp: Path, rtmp_port: int, stream_name: str, log: str = "publisher.log"
) -> subprocess.Popen:
    """ffmpeg as OBS: server `rtmp://…/live`, "Stream Key" `stream_name`."""
    return subprocess.Popen(
        [
            "ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "warning",
            "-re", "-f", "lavfi", "-i", "testsrc=size=640x360:rate=30",
            "-f", "lavfi", "-i", "sine=frequency=440",
            "-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency",
            "-pix_fmt", "yuv420p", "-g", "30",
            "-c:a", "aac", "-f", "flv",
            f"rtmp://127.0.0.1:{rtmp_port}/live/{stream_name}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=(tmp / "logs" / log).open("w"),
    )  # fmt: skip


def test_publish_hls_player_restream_and_offline_after_grace(media_stack, page):
    from live.models import LiveStream, RestreamTarget
    from live.services.stream import stream_create

    began = time.monotonic()
    server, rtmp_port, tmp = media_stack["server"], media_stack["rtmp_port"], media_stack["tmp"]
    stream = stream_create(title="비디오 테스트 방송")
    public_id, key = stream.public_id, stream.publish_key
    target_key = f"copy-{public_id}"
    RestreamTarget.objects.create(
        name="로컬 대상",
        rtmp_url=f"rtmp://127.0.0.1:{rtmp_port}/restream_target",
        stream_key=target_key,
    )
    worker = start_restream_worker(tmp=tmp, rtmp_port=rtmp_port)
    publisher = None
    try:
        # given: someone who knows only the public id, or the key used as the stream name
        # (the old scheme), cannot go live: nginx-rtmp drops them after on_publish refuses
        for i, name in enumerate([public_id, key, f"{public_id}?key={'0' * 32}"]):
            intruder = publish_test_pattern(
                tmp=tmp, rtmp_port=rtmp_port, stream_name=name, log=f"intruder-{i}.log"
            )
            try:
                intruder.wait(timeout=15)
            except subprocess.TimeoutExpired:
                raise AssertionError(f"publishing {name[:14]}… was not refused") from None
            finally:
                terminate(intruder)
            assert intruder.returncode != 0
            assert status_of(stream.pk) == "PENDING"

        # when: OBS (here ffmpeg) publishes `<public id>?key=<publish key>`
        publisher = publish_test_pattern(
            tmp=tmp, rtmp_port=rtmp_port, stream_name=stream.obs_stream_key
        )

        # then: the on_publish webhook turned it LIVE
        wait_for(lambda: status_of(stream.pk) == "LIVE", timeout=15, what="LIVE")
        assert LiveStream.objects.get(pk=stream.pk).live_started_notified_at is not None

        # and the HLS playlist + a segment are served through the app's /hls/ path
        def playlist():
            code, ctype, body = get(f"{server.url}/hls/{public_id}.m3u8")
            return (ctype, body.decode()) if code == 200 and b".ts" in body else None

        ctype, text = wait_for(playlist, timeout=20, what="HLS playlist")
        assert ctype == "application/vnd.apple.mpegurl"
        assert text.startswith("#EXTM3U")
        segment = re.findall(r"^(\S+\.ts)$", text, re.M)[0]
        assert segment.startswith(f"{public_id}-") and key not in text
        assert not [p.name for p in media_stack["hls"].iterdir() if key in p.name]
        code, seg_type, body = get(f"{server.url}/hls/{segment}")
        assert (code, seg_type) == (200, "video/mp2t")
        assert body[:1] == b"\x47"  # MPEG-TS sync byte
        assert get(f"{server.url}/hls/..%2Fnginx.conf")[0] == 404

        # and the restream worker copies it to the second RTMP application
        wait_for(lambda: session_state(stream.pk) == "ACTIVE", timeout=15, what="restream ACTIVE")
        probe = subprocess.run(
            [
                "ffprobe", "-v", "error", "-rw_timeout", "8000000", "-show_entries",
                "stream=codec_type", "-of", "csv=p=0",
                f"rtmp://127.0.0.1:{rtmp_port}/restream_target/{target_key}",
            ],
            capture_output=True, text=True, timeout=20,
        )  # fmt: skip
        assert probe.returncode == 0, probe.stderr
        assert "video" in probe.stdout

        # and a browser on the live page reaches the playing state (nginx-rtmp has no
        # HTTP-FLV, so the player falls back to HLS through /hls/)
        page.goto(f"{server.url}/live/{public_id}/")
        page.wait_for_selector('[data-player-state="playing"]', timeout=20_000)
        assert key not in page.content()

        # when: the publisher stops
        terminate(publisher)
        stopped_at = time.monotonic()

        # then: still LIVE during the grace, OFFLINE after it
        time.sleep(1)
        assert status_of(stream.pk) == "LIVE"
        wait_for(lambda: status_of(stream.pk) == "OFFLINE", timeout=12, what="OFFLINE")
        assert time.monotonic() - stopped_at >= GRACE_SECONDS - 0.5
        ended = LiveStream.objects.get(pk=stream.pk)
        assert ended.ended_at is not None
        assert ended.total_duration_seconds >= 1

        # and the restream stopped with the stream
        wait_for(lambda: session_state(stream.pk) == "STOPPED", timeout=10, what="STOPPED")
    except AssertionError:
        for name in (
            "logs/restream.log",
            "logs/publisher.log",
            "nginx-error.log",
            "logs/intruder-0.log",
        ):
            path = tmp / name
            if path.exists():
                print(f"--- {name}\n{path.read_text(errors='replace')[-3000:]}")
        print("--- app\n" + server.log()[-3000:])
        raise
    finally:
        terminate(publisher)
        terminate(worker, timeout=10)
    assert time.monotonic() - began < 90
