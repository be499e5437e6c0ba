"""Chat fan-out benchmark: the project's server against a plain `websockets` broadcast server.

Scenario (issue 5, item 7): N viewers (1,000) in one room, R chat messages per second (5) for
D seconds (60), sent as real chat messages by R logged-in users (1 msg/s each, under the
20/10 s rate limit) through the project's websocket; then a reconnect storm of S clients (5,000)
arriving at about 5,000/s. The same fan-out runs against a plain `websockets.broadcast` server
in the same run as the limit. Server CPU is read from /proc (psutil) over the message window.

    DATABASE_URL=postgres://… REDIS_URL=redis://… .venv/bin/python bench/chat_fanout.py \
        [--viewers 1000] [--rate 5] [--duration 60] [--storm 5000] [--nginx]

The last output line is one JSON object (see docs/performance.md).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
# Its neighbours, also when imported as `bench.chat_fanout` (the browser tests reuse its config).
sys.path.insert(0, str(Path(__file__).resolve().parent))
from flash_sale import production_env  # noqa: E402

MARK = "bench:"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def raise_nofile() -> int:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else 65536
    resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return target


def log(*parts) -> None:
    print(*parts, flush=True)


# --- Plain websockets broadcast server (the limit) -------------------------------------------
def run_plain_server(port: int) -> None:
    import websockets
    from websockets.asyncio.server import serve

    clients: set = set()
    state = {"seq": 0}

    async def handler(ws):
        clients.add(ws)
        try:
            async for raw in ws:
                try:
                    message = json.loads(raw)
                except ValueError:
                    continue
                if message.get("type") == "chat":
                    state["seq"] += 1
                    text = json.dumps(
                        {
                            "type": "event",
                            "event": "chat.message",
                            "seq": state["seq"],
                            "data": {"id": state["seq"], "name": "bench", "body": message["body"]},
                        },
                        ensure_ascii=False,
                        separators=(",", ":"),
                    )
                    websockets.broadcast(clients, text)
        finally:
            clients.discard(ws)

    async def main():
        async with serve(handler, "127.0.0.1", port, max_size=4096, compression=None):
            await asyncio.Future()

    try:
        import uvloop

        uvloop.run(main())
    except ImportError:
        asyncio.run(main())


# --- Project setup --------------------------------------------------------------------------
def django_setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dorami.settings")
    os.environ.setdefault("DEBUG", "1")
    # Sessions are signed with SECRET_KEY: the same secrets as the servers.
    servers = production_env()
    os.environ.setdefault("SECRET_KEY", servers["SECRET_KEY"])
    os.environ.setdefault("PROFILE_ENCRYPTION_KEY", servers["PROFILE_ENCRYPTION_KEY"])
    import django

    django.setup()


def project_fixtures(publishers: int) -> tuple[str, list[str]]:
    """A LIVE stream and `publishers` logged-in users with complete profiles (cookies)."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.core.management import call_command
    from django.utils import timezone

    from accounts.models import User
    from live.models import LiveStream

    call_command("migrate", "--noinput", verbosity=0)
    stream = LiveStream.objects.create(title="bench", status=LiveStream.Status.LIVE)
    cookies = []
    store_class = import_module(settings.SESSION_ENGINE).SessionStore
    stamp = int(time.time() * 1000)
    for i in range(publishers):
        user = User.objects.create_user(
            email=f"bench{stamp}-{i}@example.com",
            instagram_id=f"@bench{stamp}_{i}",
            depositor_name="bench",
            profile_completed_at=timezone.now(),
        )
        store = store_class()
        store[SESSION_KEY] = str(user.pk)
        store[BACKEND_SESSION_KEY] = "accounts.backends.ModelBackend"
        store[HASH_SESSION_KEY] = user.get_session_auth_hash()
        store.save()
        cookies.append(f"{settings.SESSION_COOKIE_NAME}={store.session_key}")
    return stream.public_id, cookies


def start_project_server(port: int, cpu: int | None) -> subprocess.Popen:
    cmd = [sys.executable, "manage.py", "serve", "--host", "127.0.0.1", "--port", str(port)]
    cmd += ["--no-scheduler"]
    if cpu is not None and shutil.which("taskset"):
        cmd = ["taskset", "-c", str(cpu), *cmd]
    logfile = open(Path(tempfile.gettempdir()) / f"bench-serve-{port}.log", "w")  # noqa: SIM115
    process = subprocess.Popen(cmd, cwd=ROOT, env=production_env(), stdout=logfile, stderr=logfile)
    wait_http(f"http://127.0.0.1:{port}/api/v1/health/live", process)
    return process


def start_plain_server(port: int, cpu: int | None) -> subprocess.Popen:
    cmd = [sys.executable, __file__, "--plain-server", str(port)]
    if cpu is not None and shutil.which("taskset"):
        cmd = ["taskset", "-c", str(cpu), *cmd]
    process = subprocess.Popen(cmd, cwd=ROOT)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return process
        time.sleep(0.1)
    raise RuntimeError("plain server did not start")


def wait_http(url: str, process: subprocess.Popen | None = None, timeout: float = 40) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer")


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()


def cpu_seconds(pid: int) -> float:
    import psutil

    proc = psutil.Process(pid)
    total = 0.0
    for p in [proc, *proc.children(recursive=True)]:
        with contextlib.suppress(psutil.Error):
            times = p.cpu_times()
            total += times.user + times.system
    return total


# --- Clients --------------------------------------------------------------------------------
class Viewer:
    def __init__(self, url: str, origin: str, cookie: str | None = None, project: bool = True):
        self.url, self.origin, self.cookie, self.project = url, origin, cookie, project
        self.ws = None
        self.latencies: list[float] = []
        self.received = 0
        self.ready = asyncio.Event()
        self.task: asyncio.Task | None = None

    async def open(self, timeout: float = 30) -> None:
        from websockets.asyncio.client import connect

        headers = {"Cookie": self.cookie} if self.cookie else None
        self.ws = await asyncio.wait_for(
            connect(
                self.url,
                origin=self.origin,
                additional_headers=headers,
                compression=None,
                max_size=2**20,
                open_timeout=timeout,
                ping_interval=None,
                close_timeout=2,
                max_queue=None,  # keep reading (and answering server pings) without recv()
            ),
            timeout,
        )
        if self.project:  # wait for the application-level join (hello)
            while True:
                frame = await asyncio.wait_for(self.ws.recv(), timeout)
                if '"type":"hello"' in frame:
                    break
        self.ready.set()

    async def listen(self) -> None:
        try:
            async for frame in self.ws:
                index = frame.find(MARK)
                if index < 0:
                    continue
                end = frame.find(" ", index)
                sent = float(frame[index + len(MARK) : end])
                self.latencies.append(time.time() - sent)
                self.received += 1
        except Exception:  # noqa: S110 - closed at the end of the run
            pass

    async def close(self) -> None:
        if self.ws is not None:
            with contextlib.suppress(Exception):
                await self.ws.close()


async def open_all(viewers: list[Viewer], per_second: float) -> tuple[float, int]:
    """Connect at `per_second`; return (seconds until all joined, failures)."""
    start = time.perf_counter()
    tasks = []
    for index, viewer in enumerate(viewers):
        due = start + index / per_second
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.ensure_future(viewer.open()))
    results = await asyncio.gather(*tasks, return_exceptions=True)
    failures = sum(1 for r in results if isinstance(r, BaseException))
    return time.perf_counter() - start, failures


async def fanout(
    *,
    ws_url: str,
    origin: str,
    cookies: list[str],
    viewers: int,
    rate: int,
    duration: float,
    server_pid: int,
    project: bool,
) -> dict:
    audience = [Viewer(f"{ws_url}?g=bench{i:06d}", origin, project=project) for i in range(viewers)]
    _seconds, failures = await open_all(audience, per_second=500)
    if failures:
        log(f"  {failures} viewers failed to connect")
    joined = [v for v in audience if v.ready.is_set()]
    for viewer in joined:
        viewer.task = asyncio.ensure_future(viewer.listen())
    senders = [Viewer(ws_url, origin, cookie=c, project=project) for c in cookies[:rate]]
    for sender in senders:
        await sender.open()
        sender.task = asyncio.ensure_future(sender.listen())
    await asyncio.sleep(1.5)  # let join-time viewer updates settle
    cpu_before = cpu_seconds(server_pid)
    wall_before = time.perf_counter()
    sent = 0
    ticks = int(duration)
    start = time.perf_counter()
    for tick in range(ticks):
        for index, sender in enumerate(senders):
            due = start + tick + index / len(senders)
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            body = f"{MARK}{time.time():.6f} " + "x" * 60
            await sender.ws.send(json.dumps({"type": "chat", "body": body}))
            sent += 1
    expected = sent * (len(joined) + len(senders))
    deadline = time.perf_counter() + 10
    while time.perf_counter() < deadline:
        got = sum(v.received for v in joined) + sum(s.received for s in senders)
        if got >= expected:
            break
        await asyncio.sleep(0.1)
    wall = time.perf_counter() - wall_before
    cpu = cpu_seconds(server_pid) - cpu_before
    delivered = sum(v.received for v in joined) + sum(s.received for s in senders)
    latencies = sorted(x for v in [*joined, *senders] for x in v.latencies)
    await asyncio.gather(*(viewer.close() for viewer in [*joined, *senders]))
    for viewer in [*joined, *senders]:
        if viewer.task:
            viewer.task.cancel()
    pct = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] if latencies else 0  # noqa: E731
    return {
        "sent": sent,
        "expected": expected,
        "delivered": delivered,
        "delivered_pct": round(100.0 * delivered / expected, 3) if expected else 0.0,
        "p50_ms": round(pct(0.50) * 1000, 1),
        "p99_ms": round(pct(0.99) * 1000, 1),
        "mean_ms": round(statistics.fmean(latencies) * 1000, 1) if latencies else 0,
        "cpu_s": round(cpu, 3),
        "wall_s": round(wall, 2),
        "cpu_us_per_delivery": round(cpu / delivered * 1e6, 1) if delivered else None,
        "connect_failures": failures,
    }


def database_row_writes() -> int:
    """Rows inserted, updated or deleted in this database so far (PostgreSQL's statistics;
    backends report them at the end of a transaction, within about a second)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT tup_inserted + tup_updated + tup_deleted FROM pg_stat_database "
            "WHERE datname = current_database()"
        )
        return int(cursor.fetchone()[0])


class CountWatcher:
    """One guest in the room during the storm, timing every `viewers` event it receives."""

    def __init__(self, url: str, origin: str):
        self.viewer = Viewer(url, origin)
        self.times: list[float] = []
        self.task: asyncio.Task | None = None

    async def start(self) -> None:
        await self.viewer.open()
        self.task = asyncio.ensure_future(self._listen())

    async def _listen(self) -> None:
        with contextlib.suppress(Exception):
            async for frame in self.viewer.ws:
                if '"event":"viewers"' in frame:
                    self.times.append(time.perf_counter())

    def max_per_second(self) -> int:
        """The most `viewers` events received inside any one-second window (an overloaded
        server or client delivers several late ones together)."""
        best = 0
        for index, start in enumerate(self.times):
            best = max(best, sum(1 for t in self.times[index:] if t - start < 1.0))
        return best

    async def close(self) -> None:
        await self.viewer.close()
        if self.task is not None:
            self.task.cancel()


async def storm(
    *, ws_url: str, origin: str, clients: int, per_second: float, server_pid: int
) -> dict:
    from asgiref.sync import sync_to_async

    crowd = [Viewer(f"{ws_url}?g=storm{i:06d}", origin) for i in range(clients)]
    import psutil

    watcher = CountWatcher(f"{ws_url}?g=stormwatch", origin)
    await watcher.start()
    await asyncio.sleep(1.5)  # past the watcher's own viewer-count update
    watcher.times.clear()
    writes_before = await sync_to_async(database_row_writes)()
    rss_before = psutil.Process(server_pid).memory_info().rss
    cpu_before, own_before = cpu_seconds(server_pid), time.process_time()
    seconds, failures = await open_all(crowd, per_second=per_second)
    server_cpu, client_cpu = cpu_seconds(server_pid) - cpu_before, time.process_time() - own_before
    rss_per_conn = (psutil.Process(server_pid).memory_info().rss - rss_before) / max(clients, 1)
    await asyncio.sleep(1.5)  # the trailing count update; backends report their statistics
    writes = await sync_to_async(database_row_writes)() - writes_before
    await asyncio.gather(*(viewer.close() for viewer in crowd))
    await watcher.close()
    return {
        # Guest joins write nothing to PostgreSQL; the presence flusher may save a new peak
        # (one row per flush, every 5 s per process) while the storm runs.
        "storm_pg_row_writes": writes,
        "storm_viewer_updates": len(watcher.times),
        "storm_viewer_updates_per_s": round(len(watcher.times) / (seconds + 1.5), 2),
        "storm_viewer_updates_max_per_s": watcher.max_per_second(),
        "storm_clients": clients,
        "storm_failed": failures,
        "storm_s": round(seconds, 2),
        "storm_server_cpu_s": round(server_cpu, 2),
        "storm_client_cpu_s": round(client_cpu, 2),
        "storm_rss_kb_per_conn": round(rss_per_conn / 1024, 1),
    }


# --- Two processes behind nginx -------------------------------------------------------------
NGINX_CONF = """
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  client_body_temp_path {dir}/body; proxy_temp_path {dir}/proxy;
  fastcgi_temp_path {dir}/fcgi; uwsgi_temp_path {dir}/uwsgi; scgi_temp_path {dir}/scgi;
  map $http_upgrade $connection_upgrade {{ default upgrade; '' close; }}
  upstream dorami {{ server 127.0.0.1:{p1}; server 127.0.0.1:{p2}; }}
  server {{
    listen 127.0.0.1:{port};
    location / {{
      proxy_pass http://dorami;
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_read_timeout 3600s;
    }}
  }}
}}
"""


def established(pid: int, port: int) -> int:
    import psutil

    return sum(
        1
        for c in psutil.Process(pid).net_connections(kind="tcp")
        if c.status == psutil.CONN_ESTABLISHED and c.laddr and c.laddr.port == port
    )


async def nginx_check(public_id: str, cookies: list[str], viewers: int = 40) -> dict:
    """Two `manage.py serve` processes behind nginx: a message sent to one reaches all."""
    p1, p2, port = free_port(), free_port(), free_port()
    servers = [start_project_server(p1, None), start_project_server(p2, None)]
    workdir = Path(tempfile.mkdtemp(prefix="bench-nginx-"))
    (workdir / "nginx.conf").write_text(
        textwrap.dedent(NGINX_CONF.format(dir=workdir, p1=p1, p2=p2, port=port))
    )
    nginx = subprocess.Popen(
        ["nginx", "-p", str(workdir), "-c", str(workdir / "nginx.conf"), "-g", "daemon off;"]
    )
    try:
        wait_http(f"http://127.0.0.1:{port}/api/v1/health/live", nginx)
        origin = f"http://127.0.0.1:{port}"
        audience = [
            Viewer(f"ws://127.0.0.1:{port}/ws/live/{public_id}/?g=nginx{i:04d}", origin)
            for i in range(viewers)
        ]
        _s, failures = await open_all(audience, per_second=200)
        for viewer in audience:
            viewer.task = asyncio.ensure_future(viewer.listen())
        per_backend = [established(servers[0].pid, p1), established(servers[1].pid, p2)]
        sender = Viewer(
            f"ws://127.0.0.1:{p1}/ws/live/{public_id}/",
            f"http://127.0.0.1:{p1}",
            cookie=cookies[0],
        )
        await sender.open()
        await asyncio.sleep(0.5)
        body = f"{MARK}{time.time():.6f} nginx"
        await sender.ws.send(json.dumps({"type": "chat", "body": body}))
        await asyncio.sleep(2.0)
        reached = sum(1 for v in audience if v.received >= 1)
        await asyncio.gather(*(viewer.close() for viewer in [*audience, sender]))
        return {
            "nginx_viewers": viewers,
            "nginx_connect_failures": failures,
            "nginx_viewers_per_backend": per_backend,
            "nginx_reached": reached,
            "nginx_cross_process_ok": reached == viewers and min(per_backend) > 0,
        }
    finally:
        nginx.terminate()
        nginx.wait(timeout=10)
        for server in servers:
            stop(server)
        shutil.rmtree(workdir, ignore_errors=True)


# --- Main -----------------------------------------------------------------------------------
async def main_async(args) -> dict:
    django_setup()
    from asgiref.sync import sync_to_async

    public_id, cookies = await sync_to_async(project_fixtures)(max(args.rate, 1))
    server_cpu = 0 if args.pin else None
    result: dict = {}

    log(
        f"== plain websockets broadcast: {args.viewers} viewers, "
        f"{args.rate} msg/s, {args.duration}s"
    )
    port = free_port()
    plain = start_plain_server(port, server_cpu)
    try:
        plain_result = await fanout(
            ws_url=f"ws://127.0.0.1:{port}/",
            origin=f"http://127.0.0.1:{port}",
            cookies=cookies,
            viewers=args.viewers,
            rate=args.rate,
            duration=args.duration,
            server_pid=plain.pid,
            project=False,
        )
    finally:
        stop(plain)
    log("  ", json.dumps(plain_result))

    log("== project server (manage.py serve / uvicorn): same load")
    port = free_port()
    server = start_project_server(port, server_cpu)
    try:
        ws_url = f"ws://127.0.0.1:{port}/ws/live/{public_id}/"
        origin = f"http://127.0.0.1:{port}"
        project_result = await fanout(
            ws_url=ws_url,
            origin=origin,
            cookies=cookies,
            viewers=args.viewers,
            rate=args.rate,
            duration=args.duration,
            server_pid=server.pid,
            project=True,
        )
        log("  ", json.dumps(project_result))
        await asyncio.sleep(2.0)  # let the fan-out viewers' disconnects finish first
        log(f"== reconnect storm: {args.storm} clients at ~{args.storm_rate}/s")
        storm_result = await storm(
            ws_url=ws_url,
            origin=origin,
            clients=args.storm,
            per_second=args.storm_rate,
            server_pid=server.pid,
        )
        log("  ", json.dumps(storm_result))
    finally:
        stop(server)

    if args.nginx:
        log("== two server processes behind nginx")
        nginx_result = await nginx_check(public_id, cookies)
        log("  ", json.dumps(nginx_result))
        result.update(nginx_result)

    cpu = project_result["cpu_us_per_delivery"]
    plain_cpu = plain_result["cpu_us_per_delivery"]
    summary = {
        "delivered_pct": project_result["delivered_pct"],
        "p50_ms": project_result["p50_ms"],
        "p99_ms": project_result["p99_ms"],
        "cpu_us_per_delivery": cpu,
        "plain_cpu_us_per_delivery": plain_cpu,
        "cpu_ratio": round(cpu / plain_cpu, 2) if cpu and plain_cpu else None,
        **storm_result,
        "plain_p99_ms": plain_result["p99_ms"],
        "plain_delivered_pct": plain_result["delivered_pct"],
        "viewers": args.viewers,
        "rate": args.rate,
        "duration_s": args.duration,
        **result,
    }
    return summary


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--plain-server":
        run_plain_server(int(sys.argv[2]))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--viewers", type=int, default=1000)
    parser.add_argument("--rate", type=int, default=5, help="chat messages per second")
    parser.add_argument("--duration", type=float, default=60)
    parser.add_argument("--storm", type=int, default=5000)
    parser.add_argument("--storm-rate", type=float, default=5000)
    parser.add_argument("--nginx", action="store_true", help="also run the two-process check")
    parser.add_argument(
        "--pin", action="store_true", help="pin servers to CPU 0 and this client to CPU 1"
    )
    args = parser.parse_args()
    if not (os.environ.get("DATABASE_URL") and os.environ.get("REDIS_URL")):
        parser.error("set DATABASE_URL and REDIS_URL (the project's server runs on them)")
    limit = raise_nofile()
    log(f"open-files limit {limit}")
    if args.pin and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {1})
    try:
        import uvloop

        summary = uvloop.run(main_async(args))
    except ImportError:
        summary = asyncio.run(main_async(args))
    print(json.dumps(summary), flush=True)


if __name__ == "__main__":
    main()
