"""Serve the ASGI app with uvicorn; in the embedded default also run the periodic jobs.

Graceful shutdown: on SIGTERM (or Ctrl-C) uvicorn stops accepting connections, lets in-flight
requests finish and, after `--graceful-timeout` seconds, closes the remaining websockets
(clients reconnect and refetch the room state). Keep the container's stop grace period longer.
"""

import uvicorn
from django.conf import settings
from django.core.management.base import BaseCommand

from dorami.scheduler import EmbeddedScheduler


class Command(BaseCommand):
    help = "Serve HTTP + websockets (uvicorn). Runs the beat schedule in-process without a broker."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--workers", type=int, default=1)
        parser.add_argument(
            "--graceful-timeout",
            type=int,
            default=20,
            help="seconds to wait for open connections on SIGTERM before closing them",
        )
        parser.add_argument(
            "--no-scheduler", action="store_true", help="do not run the periodic jobs in-process"
        )

    def handle(self, *args, host, port, workers, graceful_timeout, no_scheduler, **options):
        if settings.EMBEDDED_SCHEDULER and not no_scheduler:
            EmbeddedScheduler().start()
            self.stdout.write("periodic jobs: in-process (embedded default)")
        self.stdout.write(f"serving on http://{host}:{port}")
        uvicorn.run(
            "dorami.asgi:application",
            host=host,
            port=port,
            workers=workers,
            lifespan="off",
            ws_max_size=4096,
            ws_per_message_deflate=False,
            log_level="info",
            proxy_headers=True,
            timeout_graceful_shutdown=graceful_timeout,
        )
