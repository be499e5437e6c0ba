"""Demo broadcast data for `manage.py seed_demo` (idempotent: matched by title / name)."""

from __future__ import annotations

import socket
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from live.models import LiveStream, RestreamTarget

DEMO_STREAM_TITLE = "도라미 금요 신상 라이브"
DEMO_TARGET_NAME = "유튜브 (예시)"


@transaction.atomic
def seed_live() -> LiveStream:
    stream = LiveStream.objects.filter(title=DEMO_STREAM_TITLE).first()
    if stream is None:
        stream = LiveStream.objects.create(
            title=DEMO_STREAM_TITLE,
            description="이번 주 신상 니트와 데님을 라이브로 소개합니다.",
            scheduled_at=timezone.now() + timedelta(days=2),
            notice_text="라이브 중 주문 시 합배송 무료!",
        )
    RestreamTarget.objects.get_or_create(
        name=DEMO_TARGET_NAME,
        defaults={
            "platform": RestreamTarget.Platform.YOUTUBE,
            "rtmp_url": "rtmp://a.rtmp.youtube.com/live2",
            "enabled": False,  # no real key: the seller fills it in and enables it
        },
    )
    return stream


# --- A demo show without OBS (`manage.py demo_live`) ----------------------------------------

DEMO_CLIENT = "demo_live"


def demo_stream(*, stream_id: int | None = None) -> LiveStream:
    """The stream to put on air: the given one, else the demo broadcast (seeded if missing).
    Its key is renewed if it expired (an ended show's key expires at once)."""
    from live.services import stream as stream_services

    stream = LiveStream.objects.get(pk=stream_id) if stream_id else seed_live()
    if not stream.key_usable():
        stream = stream_services.stream_key_refresh(stream=stream)
    return stream


def publish_name(stream: LiveStream) -> str:
    """The stream name OBS publishes under (RTMP_PUBLIC_URL/<name>), as the studio shows it."""
    return stream.obs_stream_key


def playback_name(stream: LiveStream) -> str:
    """The HLS name the live page plays (/hls/<name>.m3u8, live/views.py)."""
    return stream.public_id


def watch_path(stream: LiveStream) -> str:
    return reverse("live:watch", args=[stream.public_id])


def rtmp_ingest_reachable(url: str, *, timeout: float = 1.0) -> bool:
    """Whether something listens on the RTMP ingest of `url` (rtmp://host[:port]/app)."""
    parts = urlsplit(url)
    if parts.scheme not in ("rtmp", "rtmps") or not parts.hostname:
        return False
    try:
        with socket.create_connection((parts.hostname, parts.port or 1935), timeout=timeout):
            return True
    except OSError:
        return False


def ffmpeg_pattern_args(*, ffmpeg: str, output: list[str]) -> list[str]:
    """ffmpeg reading a moving test pattern and a tone in real time (portrait, light on CPU)."""
    return [
        ffmpeg,
        "-hide_banner",
        "-loglevel",
        "error",
        "-re",
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=480x854:rate=24",
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440:sample_rate=44100",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-tune",
        "zerolatency",
        "-pix_fmt",
        "yuv420p",
        "-g",
        "24",
        "-c:a",
        "aac",
        "-b:a",
        "64k",
        *output,
    ]


def rtmp_output(*, base_url: str, name: str) -> list[str]:
    return ["-f", "flv", f"{base_url.rstrip('/')}/{name}"]


def hls_output(*, root: Path, name: str) -> list[str]:
    """HLS into HLS_ROOT under the names live/hls.py serves (<name>.m3u8, <name>-<n>.ts)."""
    return [
        "-f",
        "hls",
        "-hls_time",
        "1",
        "-hls_list_size",
        "6",
        "-hls_flags",
        "delete_segments+omit_endlist",
        "-hls_segment_filename",
        str(root / f"{name}-%d.ts"),
        str(root / f"{name}.m3u8"),
    ]
