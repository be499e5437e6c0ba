"""Put the demo broadcast on air without OBS, so a newcomer sees a LIVE page.

    manage.py demo_live                 # until Ctrl-C; then the show ends like OBS stopping
    manage.py demo_live --seconds 60    # a one-minute show
    manage.py demo_live --detach        # mark it LIVE and return (no video, no heartbeats)

How, in order of preference (`--mode auto`):

- rtmp: ffmpeg is installed and a media server listens on RESTREAM_INPUT_BASE_URL (SRS in
  docker-compose): ffmpeg publishes a test pattern there, exactly as OBS would, and the media
  server's webhooks make the stream LIVE.
- hls: ffmpeg is installed, no media server, HLS_ROOT is set (the `make run` default): the
  webhook services are called directly (publish, then a heartbeat every 20 s) and ffmpeg writes
  the test pattern as HLS into HLS_ROOT, which the app serves at /hls/.
- simulate: no ffmpeg: the webhook services only. The page is LIVE (chat, products, cart) and
  the player says it is waiting for the video signal.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from live import demo
from live.models import LiveStream
from live.services import stream as stream_services
from live.services.errors import LiveError

HEARTBEAT_SECONDS = 20
MODES = ("auto", "rtmp", "hls", "simulate")


class Command(BaseCommand):
    help = "Put the demo broadcast on air with a test pattern (ffmpeg) or simulated webhooks."

    def add_arguments(self, parser):
        parser.add_argument("--stream", type=int, help="stream id (default: the demo broadcast)")
        parser.add_argument("--mode", choices=MODES, default="auto")
        parser.add_argument("--seconds", type=float, default=0, help="stop after N s (0: Ctrl-C)")
        parser.add_argument(
            "--detach", action="store_true", help="simulate: mark LIVE and return at once"
        )

    def handle(self, *args, stream: int | None, mode: str, seconds: float, detach: bool, **opts):
        show = demo.demo_stream(stream_id=stream)
        mode = "simulate" if detach else self._choose(mode)
        stop = threading.Event()
        if not detach:
            for sig in (signal.SIGINT, signal.SIGTERM):
                signal.signal(sig, lambda signum, frame: stop.set())
        if mode == "rtmp":
            self._rtmp(show, stop=stop, seconds=seconds)
        else:
            self._simulated(show, mode=mode, stop=stop, seconds=seconds, detach=detach)

    # --- modes ----------------------------------------------------------------------------

    def _choose(self, wanted: str) -> str:
        ffmpeg = shutil.which(settings.RESTREAM_FFMPEG_BIN)
        ingest = demo.rtmp_ingest_reachable(settings.RESTREAM_INPUT_BASE_URL)
        if wanted == "auto":
            if ffmpeg and ingest:
                return "rtmp"
            return "hls" if ffmpeg and settings.HLS_ROOT else "simulate"
        if wanted in ("rtmp", "hls") and not ffmpeg:
            raise CommandError(f"{wanted}: {settings.RESTREAM_FFMPEG_BIN} is not installed")
        if wanted == "rtmp" and not ingest:
            raise CommandError(f"rtmp: nothing listens on {settings.RESTREAM_INPUT_BASE_URL}")
        if wanted == "hls" and not settings.HLS_ROOT:
            raise CommandError("hls: set HLS_ROOT (a directory the app serves at /hls/)")
        return wanted

    def _rtmp(self, show: LiveStream, *, stop: threading.Event, seconds: float) -> None:
        base = settings.RESTREAM_INPUT_BASE_URL
        args = demo.ffmpeg_pattern_args(
            ffmpeg=settings.RESTREAM_FFMPEG_BIN,
            output=demo.rtmp_output(base_url=base, name=demo.publish_name(show)),
        )
        self.stdout.write(f"mode rtmp: publishing a test pattern to {base}/…")
        process = subprocess.Popen(args, stdin=subprocess.DEVNULL)  # noqa: S603 (our own args)
        try:
            if self._wait_live(show, process=process):
                self._announce(show, video=True)
            else:
                self.stderr.write(
                    "the media server did not report the publish: check its webhooks "
                    "(MEDIA_WEBHOOK_SECRET, docs/live-video.md)"
                )
            self._run(stop=stop, seconds=seconds, process=process)
        finally:
            self._stop_process(process)
        self.stdout.write("test pattern stopped: the show ends after the unpublish grace")

    def _simulated(
        self, show: LiveStream, *, mode: str, stop: threading.Event, seconds: float, detach: bool
    ) -> None:
        process = None
        if mode == "hls":
            root = Path(settings.HLS_ROOT)
            root.mkdir(parents=True, exist_ok=True)
            args = demo.ffmpeg_pattern_args(
                ffmpeg=settings.RESTREAM_FFMPEG_BIN,
                output=demo.hls_output(root=root, name=demo.playback_name(show)),
            )
            process = subprocess.Popen(args, stdin=subprocess.DEVNULL)  # noqa: S603
            self.stdout.write(f"mode hls: test pattern as HLS in {root}")
        else:
            self.stdout.write("mode simulate: no video (install ffmpeg for a test pattern)")
        try:
            show = self._publish(show)
            self._announce(show, video=process is not None)
            if detach:
                return
            self._run(
                stop=stop, seconds=seconds, process=process, heartbeat=lambda: self._beat(show)
            )
            stream_services.stream_unpublish(public_id=show.public_id)
            self.stdout.write(
                f"stopped: the show ends in {settings.UNPUBLISH_GRACE_SECONDS} s "
                "(the unpublish grace)"
            )
        finally:
            if process is not None:
                self._stop_process(process)

    # --- helpers --------------------------------------------------------------------------

    def _publish(self, show: LiveStream) -> LiveStream:
        """What the media server's on_publish webhook does."""
        try:
            return stream_services.stream_publish(
                public_id=show.public_id, publish_key=show.publish_key, client_ip=demo.DEMO_CLIENT
            )
        except LiveError as exc:
            raise CommandError(f"publish refused: {exc.code} {exc.message}") from exc

    def _beat(self, show: LiveStream) -> bool:
        """What the media server's heartbeat webhook does; False once the show was ended."""
        try:
            stream_services.stream_heartbeat(public_id=show.public_id)
        except LiveError:
            return False
        return True

    def _run(self, *, stop, seconds: float, process=None, heartbeat=None) -> None:
        started = last_beat = time.monotonic()
        while not stop.is_set():
            now = time.monotonic()
            if seconds and now - started >= seconds:
                return
            if process is not None and process.poll() is not None:
                self.stderr.write(f"ffmpeg exited with code {process.returncode}")
                return
            if heartbeat is not None and now - last_beat >= HEARTBEAT_SECONDS:
                last_beat = now
                if not heartbeat():
                    self.stdout.write("the show was ended from the studio or the admin")
                    return
            stop.wait(0.5)

    def _wait_live(self, show: LiveStream, *, process, timeout: float = 15.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and process.poll() is None:
            show.refresh_from_db(fields=["status"])
            if show.status == LiveStream.Status.LIVE:
                return True
            time.sleep(0.5)
        return False

    def _stop_process(self, process: subprocess.Popen) -> None:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def _announce(self, show: LiveStream, *, video: bool) -> None:
        path = demo.watch_path(show)
        self.stdout.write(self.style.SUCCESS(f"LIVE: {show.title} → {path}"))
        if not video:
            self.stdout.write("the player shows 영상 신호를 기다리는 중 (no video in this mode)")
