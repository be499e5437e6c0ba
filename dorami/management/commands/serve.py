"""Serve Dorami: uvicorn (ASGI: HTTP + websockets) or granian (WSGI: HTTP only).

    manage.py serve                      # uvicorn, the embedded default: pages + websockets
    manage.py serve --wsgi --port 8000   # granian WSGI workers: pages, cart, API (no websockets)

In production nginx sends `/ws/` to a uvicorn process and everything else to granian: a sync
Django view under ASGI pays a thread hop per request, so the same two cores serve several times
more HTTP requests from the WSGI server (docs/performance.md, flash sale).

Graceful shutdown: on SIGTERM (or Ctrl-C) uvicorn stops accepting connections, lets in-flight
requests finish and, after `--graceful-timeout` seconds, closes the remaining websockets
(clients reconnect and refetch the room state). granian finishes in-flight requests within
the same timeout. Keep the container's stop grace period longer.
"""

import os
import shutil
import sys
import tempfile

import uvicorn
from django.conf import settings
from django.core.management.base import BaseCommand

from dorami.scheduler import EmbeddedScheduler


def proxy_headers(app, trusted: str):
    """WSGI twin of uvicorn's `proxy_headers`: behind nginx (a trusted peer, FORWARDED_ALLOW_IPS,
    "*" = any) REMOTE_ADDR becomes the client from X-Forwarded-For, so per-client rate limits
    see shoppers, not the proxy. nginx replaces that header with the address it saw."""
    hosts = {host.strip() for host in trusted.split(",") if host.strip()}

    def application(environ, start_response):
        forwarded = environ.get("HTTP_X_FORWARDED_FOR")
        if forwarded and ("*" in hosts or environ.get("REMOTE_ADDR") in hosts):
            chain = [host.strip() for host in forwarded.split(",") if host.strip()]
            if "*" in hosts:
                client = chain[0] if chain else None
            else:
                client = next((host for host in reversed(chain) if host not in hosts), None)
            if client:
                environ["REMOTE_ADDR"] = client
        return app(environ, start_response)

    return application


def wsgi_application():
    """The WSGI server's application (a factory: each worker builds it after its fork)."""
    from dorami.wsgi import application

    # Same variable and default as uvicorn: compose sets "*" (nginx is the only client).
    return proxy_headers(application, os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1"))


def _granian_run(*, host: str, port: int, workers: int, threads: int, graceful_timeout: int):
    """Granian's WSGI server: HTTP parsing and connections in its Rust runtime, Django in
    `threads` Python threads per worker process. Against gunicorn's gthread worker on the same
    two cores it answered the liveness view 1.8x as often and cart adds 2.7x (performance.md)."""
    from granian.constants import Interfaces
    from granian.http import HTTP1Settings
    from granian.log import LogLevels
    from granian.server import Server

    Server(
        "dorami.management.commands.serve:wsgi_application",
        factory=True,
        address=host,
        port=port,
        interface=Interfaces.WSGI,
        workers=workers,
        blocking_threads=threads,
        websockets=False,
        backlog=4096,
        http1_settings=HTTP1Settings(keep_alive=True, header_read_timeout=30_000),
        log_level=LogLevels.info,
        log_access=False,  # nginx logs every request
        respawn_failed_workers=True,
        workers_kill_timeout=graceful_timeout,
    ).serve()


class Command(BaseCommand):
    help = (
        "Serve HTTP + websockets (uvicorn), or HTTP only with granian (--wsgi). "
        "Runs the beat schedule in-process without a broker."
    )

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--workers", type=int, default=1)
        parser.add_argument(
            "--wsgi",
            action="store_true",
            help="serve HTTP with granian (WSGI); websockets need a uvicorn `serve` beside it",
        )
        parser.add_argument(
            "--threads", type=int, default=1, help="Python threads per WSGI worker (--wsgi)"
        )
        parser.add_argument(
            "--graceful-timeout",
            type=int,
            default=20,
            help="seconds to wait for open connections on SIGTERM before closing them",
        )
        parser.add_argument(
            "--no-scheduler", action="store_true", help="do not run the periodic jobs in-process"
        )

    def handle(
        self, *args, host, port, workers, wsgi, threads, graceful_timeout, no_scheduler, **options
    ):
        if workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            # /metrics must add up every worker (prometheus_client multiprocess mode), and
            # the library picks its mode when first imported: start again with it set.
            os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="dorami-metrics-")
            os.environ["DORAMI_METRICS_DIR_OWNED"] = "1"
            os.execv(sys.executable, [sys.executable, *sys.argv])  # noqa: S606
        if wsgi:
            if settings.EMBEDDED_SCHEDULER and not no_scheduler:
                # Not in the WSGI server's main process: its workers are started from it.
                self.stdout.write(
                    "periodic jobs: not run by the WSGI server; the uvicorn `serve` beside it "
                    "(embedded) or celery beat runs them"
                )
            self.stdout.write(f"serving HTTP (granian, WSGI) on http://{host}:{port}")
            try:
                _granian_run(
                    host=host,
                    port=port,
                    workers=workers,
                    threads=threads,
                    graceful_timeout=graceful_timeout,
                )
            finally:
                if os.environ.pop("DORAMI_METRICS_DIR_OWNED", ""):
                    shutil.rmtree(os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)
            return
        if settings.EMBEDDED_SCHEDULER and not no_scheduler:
            EmbeddedScheduler().start()
            self.stdout.write("periodic jobs: in-process (embedded default)")
        self.stdout.write(f"serving on http://{host}:{port}")
        try:
            self._uvicorn_run(host=host, port=port, workers=workers, graceful=graceful_timeout)
        finally:
            if os.environ.pop("DORAMI_METRICS_DIR_OWNED", ""):
                shutil.rmtree(os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)

    def say(self, line: str) -> None:
        """A line on the command's stdout, flushed (uvicorn ends a SIGTERM by re-raising it)."""
        self.stdout.write(line)
        self.stdout.flush()

    def _uvicorn_run(self, *, host: str, port: int, workers: int, graceful: int) -> None:
        options = dict(
            host=host,
            port=port,
            workers=workers,
            lifespan="off",
            ws_max_size=4096,
            ws_per_message_deflate=False,
            # A reconnect storm (thousands of sockets within a second after a restart) must
            # queue in the kernel, not be refused: as the WSGI server's; the kernel caps it at
            # net.core.somaxconn (4096 on the production hosts; uvicorn's default is 2048).
            backlog=4096,
            # nginx logs every request and every socket's upgrade: uvicorn's per-request
            # and per-socket lines (`access_log`; `"WebSocket /ws/…" [accepted]` and
            # `connection open` at INFO) would only cost CPU — ≈ 6 % of the server's in a
            # reconnect storm. Its warnings and errors still log; start and stop below.
            log_level="warning",
            access_log=False,
            proxy_headers=True,
            timeout_graceful_shutdown=graceful,
        )
        if workers > 1:  # uvicorn's supervisor: one server per worker process
            uvicorn.run("dorami.asgi:application", **options)
        else:
            server = _LoggedServer(uvicorn.Config("dorami.asgi:application", **options))
            server.say = self.say
            server.run()


class _LoggedServer(uvicorn.Server):
    """uvicorn's server, saying when a shutdown starts and ends (its own lines are INFO, below
    the level it runs at). uvicorn re-raises SIGTERM after the shutdown, so "stopped" is the
    last line a clean stop prints."""

    say = staticmethod(lambda line: None)  # the command's stdout writer

    async def shutdown(self, sockets=None) -> None:
        self.say("stopping: finishing open requests, then closing sockets")
        await super().shutdown(sockets)
        self.say("stopped")
