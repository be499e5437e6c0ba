"""Long-running restream worker: one FFmpeg process per LIVE stream × enabled target."""

from __future__ import annotations

import signal
import threading

from django.core.management.base import BaseCommand

from live.services.restream import RestreamWorker


class Command(BaseCommand):
    help = (
        "Copy every LIVE stream to its enabled restream targets with FFmpeg "
        "(restart 2/4/8 s, at most 3 times; SIGTERM/SIGKILL at stream end)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--poll", type=float, default=1.0, help="seconds between checks")

    def handle(self, *args, poll: float, **options):
        stop = threading.Event()

        def _request_stop(signum, frame):
            stop.set()

        signal.signal(signal.SIGTERM, _request_stop)
        signal.signal(signal.SIGINT, _request_stop)
        self.stdout.write(f"restream worker running (poll {poll}s)")
        RestreamWorker(poll_seconds=poll).run(should_stop=stop.is_set)
        self.stdout.write("restream worker stopped")
