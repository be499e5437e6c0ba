#!/usr/bin/env python
"""Live-started push fan-out benchmark: N web push subscriptions, one show goes live.

    .venv/bin/python bench/push_fanout.py                       # 5,000 subscriptions, ~2 min
    .venv/bin/python bench/push_fanout.py --workers 2 --concurrency 4 --pool prefork

What it does, in one run:
1. (re)creates its own database (`dorami_bench_push`), migrates it, seeds N shoppers with one
   web push subscription each (a fresh P-256 key pair and auth secret per browser, as Chromium
   makes them), every one for "all shows" and its owner's "라이브 시작 알림" on (an all-shows
   browser is told only then), and one PENDING stream; VAPID keys are generated;
2. starts a local fake push service: a real HTTP server (thread) answering 201, recording the
   arrival time of every request (and the body, for a few sampled browsers); it keeps
   connections open between requests (HTTP/1.1), as real push services do
   (`--no-keep-alive`: HTTP/1.0, one connection per message);
3. starts `--workers` real Celery worker processes (`celery -A dorami worker`, Redis broker)
   and waits until each answers a ping; the queue is purged first;
4. the seller goes live: the nginx-rtmp `on_publish` webhook view is called in this process
   (the publish transaction, then the on-commit enqueue of the fan-out): `webhook_ms`;
5. the workers split the recipients into chunks of 500 (`notifications.fanout`); each chunk
   makes the send rows of 50 shoppers at a time and pushes them itself (pywebpush: aes128gcm
   encryption + a VAPID signature per message, one HTTP POST each over the worker's
   keep-alive session); failures only would become `notification_send` tasks;
6. waits until every send row is SENT or FAILED; decrypts the sampled browsers' messages with
   their private keys (proves real encryption went over the wire).

Last line of output: one JSON object
{"subscriptions", "sent", "failed", "webhook_ms", "first_push_s", "rows_done_s", "total_s",
 "sends_per_s", "worker_cpu_ms_per_send", "workers", "concurrency", "pool", "load_avg_before",
 "load_avg_after"}
`sends_per_s` = messages the push service received / seconds from the webhook to the last one;
`worker_cpu_ms_per_send` = CPU the Celery workers spent (fan-out, rows, encryption, HTTP) per
message, the number that does not depend on what else the machine runs.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
SAMPLES = 3


def log(message: str) -> None:
    print(message, flush=True)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def database_recreate(server_url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(f"{server_url}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def vapid_keys() -> tuple[str, str]:
    """The pair `manage.py generate_vapid_keys` prints (made here before Django is set up)."""
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    key = ec.generate_private_key(ec.SECP256R1())
    public = key.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    return b64url(public), b64url(key.private_numbers().private_value.to_bytes(32, "big"))


class PushService:
    """The fake push service: answers 201 to every POST, records arrival times."""

    def __init__(self, sampled_paths: set[str], *, keep_alive: bool = True):
        self.times: list[float] = []
        self.bodies: dict[str, bytes] = {}
        self.sampled = sampled_paths
        self.lock = threading.Lock()
        service = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1" if keep_alive else "HTTP/1.0"

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with service.lock:
                    service.times.append(time.monotonic())
                    if self.path in service.sampled:
                        service.bodies[self.path] = body
                self.send_response(201)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.request_queue_size = 1024
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        host, port = self.server.server_address
        return f"http://{host}:{port}"


def seed(*, subscriptions: int, push_url: str):
    """Shoppers with one all-shows subscription each; the browsers' keys of a few samples."""
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    from accounts.models import User
    from live.services.stream import stream_create
    from notifications.models import PushSubscription

    users = User.objects.bulk_create(
        User(email=f"push{i}@bench.test", name=f"쇼퍼{i}", live_alert_opt_in=True)
        for i in range(subscriptions)
    )
    samples = {}
    rows = []
    for i, user in enumerate(users):
        key = ec.generate_private_key(ec.SECP256R1())
        public = key.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
        auth = os.urandom(16)
        path = f"/push/{i}"
        rows.append(
            PushSubscription(
                user=user, endpoint=push_url + path, p256dh=b64url(public), auth=b64url(auth)
            )
        )
        if i % max(1, subscriptions // SAMPLES) == 0 and len(samples) < SAMPLES:
            samples[path] = (key, auth)
    PushSubscription.objects.bulk_create(rows, batch_size=1000)
    stream = stream_create(title="벤치 라이브")
    return stream, samples


def workers_start(env: dict, *, count: int, concurrency: int, pool: str, logdir: Path):
    processes = []
    for i in range(count):
        log_file = (logdir / f"push_fanout_worker{i}.log").open("w")
        processes.append(
            subprocess.Popen(
                [
                    PYTHON, "-m", "celery", "-A", "dorami", "worker",
                    "-P", pool, "-c", str(concurrency), "-l", "warning",
                    "-n", f"bench{i}@%h", "--without-gossip", "--without-mingle",
                    "--without-heartbeat",
                ],
                cwd=ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT,
            )
        )  # fmt: skip
    return processes


def cpu_seconds(processes) -> float:
    """User + system CPU of the worker processes and their children (prefork pool)."""
    import psutil

    total = 0.0
    for process in processes:
        try:
            parent = psutil.Process(process.pid)
            for proc in [parent, *parent.children(recursive=True)]:
                times = proc.cpu_times()
                total += times.user + times.system
        except psutil.NoSuchProcess:
            pass
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscriptions", type=int, default=5000)
    parser.add_argument("--workers", type=int, default=2, help="Celery worker processes")
    parser.add_argument("--concurrency", type=int, default=4, help="per worker process")
    parser.add_argument("--pool", default="threads", choices=["threads", "prefork", "solo"])
    parser.add_argument("--pg", default="postgres://dorami:dorami@127.0.0.1:5432")
    parser.add_argument("--db", default="dorami_bench_push")
    parser.add_argument(
        "--redis", default=os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
    )
    parser.add_argument("--timeout", type=float, default=600)
    parser.add_argument(
        "--no-keep-alive",
        action="store_true",
        help="the fake push service closes the connection after each message (HTTP/1.0)",
    )
    args = parser.parse_args()

    public, private = vapid_keys()
    env = {
        **os.environ,
        "DATABASE_URL": f"{args.pg}/{args.db}",
        "REDIS_URL": args.redis,
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "DEBUG": "0",
        "DORAMI_TESTING": "0",
        "SECRET_KEY": "bench-" + "x" * 50,
        "PROFILE_ENCRYPTION_KEY": "11" * 32,
        "MEDIA_WEBHOOK_SECRET": "bench-webhook-secret",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SITE_URL": "http://127.0.0.1:8000",
        "EMBEDDED_SCHEDULER": "0",
        "CHANNEL_PREFIX": "bench",
        "CACHE_KEY_PREFIX": "bench",
        "DJANGO_SETTINGS_MODULE": "dorami.settings",
        "VAPID_PUBLIC_KEY": public,
        "VAPID_PRIVATE_KEY": private,
        "VAPID_SUBJECT": "mailto:bench@dorami.test",
    }
    log(f"database {args.db}: recreate + migrate")
    database_recreate(args.pg, args.db)
    subprocess.run(
        [PYTHON, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True
    )
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.db import connections
    from django.test import RequestFactory

    from dorami.celery import app as celery_app
    from live.webhooks import rtmp_hook
    from notifications.models import NotificationSend

    step = max(1, args.subscriptions // SAMPLES)
    sampled_paths = {f"/push/{i}" for i in range(0, args.subscriptions, step)}
    push = PushService(sampled_paths, keep_alive=not args.no_keep_alive)
    started = time.monotonic()
    stream, samples = seed(subscriptions=args.subscriptions, push_url=push.url)
    connections.close_all()
    log(f"seeded {args.subscriptions} subscriptions in {time.monotonic() - started:.1f} s")

    celery_app.control.purge()
    logdir = Path("/tmp")
    workers = workers_start(
        env, count=args.workers, concurrency=args.concurrency, pool=args.pool, logdir=logdir
    )
    try:
        deadline = time.monotonic() + 60
        while len(celery_app.control.ping(timeout=1.0)) < args.workers:
            if time.monotonic() > deadline:
                raise SystemExit("workers did not answer a ping; see /tmp/push_fanout_worker*.log")
        log(f"{args.workers} worker(s) x {args.concurrency} ({args.pool}) ready")
        load_before = os.getloadavg()
        cpu_before = cpu_seconds(workers)

        # The seller goes live: the media server's webhook.
        request = RequestFactory().post(
            "/api/v1/media/rtmp/on_publish?secret=bench-webhook-secret",
            data={"call": "publish", "app": "live", "name": stream.public_id,
                  "key": stream.publish_key},
            REMOTE_ADDR="127.0.0.1",
        )  # fmt: skip
        t0 = time.monotonic()
        response = rtmp_hook(request, "on_publish")
        webhook_ms = (time.monotonic() - t0) * 1000
        assert response.status_code == 200, response.content
        log(f"webhook answered {response.status_code} in {webhook_ms:.1f} ms")

        done_statuses = [NotificationSend.Status.SENT, NotificationSend.Status.FAILED]
        rows_done_s = None
        last_report = 0.0
        while True:
            now = time.monotonic()
            done = NotificationSend.objects.filter(status__in=done_statuses).count()
            if done >= args.subscriptions:
                rows_done_s = now - t0
                break
            if now - t0 > args.timeout:
                log("timeout")
                break
            if now - last_report > 5:
                log(f"  {now - t0:5.1f} s: pushes received {len(push.times)}, rows done {done}")
                last_report = now
            time.sleep(0.25)
        load_after = os.getloadavg()
        worker_cpu = cpu_seconds(workers) - cpu_before
    finally:
        for process in workers:
            process.send_signal(signal.SIGTERM)
        for process in workers:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()

    import http_ece

    decrypted = 0
    for path, (key, auth) in samples.items():
        body = push.bodies.get(path)
        if body is None:
            continue
        payload = json.loads(
            http_ece.decrypt(body, private_key=key, auth_secret=auth, version="aes128gcm")
        )
        assert payload["title"] == "라이브 시작", payload
        decrypted += 1
    counts = {
        status: NotificationSend.objects.filter(status=status).count()
        for status in NotificationSend.Status.values
    }
    received = len(push.times)
    last = max(push.times) - t0 if push.times else None
    result = {
        "subscriptions": args.subscriptions,
        "sent": counts["SENT"],
        "failed": counts["FAILED"],
        "pushes_received": received,
        "decrypted_samples": decrypted,
        "webhook_ms": round(webhook_ms, 1),
        "first_push_s": round(min(push.times) - t0, 2) if push.times else None,
        "rows_done_s": round(rows_done_s, 2) if rows_done_s else None,
        "total_s": round(last, 2) if last else None,
        "sends_per_s": round(received / last, 1) if last else None,
        "worker_cpu_ms_per_send": round(worker_cpu * 1000 / received, 1) if received else None,
        "workers": args.workers,
        "concurrency": args.concurrency,
        "pool": args.pool,
        "keep_alive": not args.no_keep_alive,
        "load_avg_before": [round(x, 2) for x in load_before],
        "load_avg_after": [round(x, 2) for x in load_after],
    }
    log(json.dumps(result))


if __name__ == "__main__":
    main()
