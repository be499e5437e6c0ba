#!/usr/bin/env python
"""Flash-sale benchmark: holds under a rush, against the real HTTP server on PostgreSQL.

    .venv/bin/python bench/flash_sale.py                  # defaults below; ~2 minutes
    .venv/bin/python bench/flash_sale.py --no-batching    # one transaction per add
    .venv/bin/python bench/flash_sale.py --server uvicorn  # the ASGI process (`serve`)

What it does, in one run:
1. (re)creates its own database (`dorami_bench` on the local PostgreSQL server), migrates it,
   and seeds N logged-in buyers (users + server-side sessions + a CSRF cookie each; every
   request sends the cookie and the X-CSRFToken header, as the site's own script does);
2. starts the server that answers `POST /cart/add/` in production (nginx sends it there, see
   nginx/nginx.conf): `manage.py serve --wsgi` — granian, 2 workers x 8 threads, as
   `web` in docker-compose.yml; each worker batches concurrent adds (shop/batcher.py);
3. rush: 2,000 buyers POST `/cart/add/` (JSON) at once for one variant with stock 100;
   then checks in SQL that held == Σ active lines ≤ stock (oversold = what exceeds stock);
4. throughput: 32 buyers add to a variant with stock 9,999 in a loop for 10 s (holds/s),
   with the CPU each add cost the server, this load generator and PostgreSQL;
5. second baseline, same server: the liveness view (`hello_rps`, a plain Django view through
   the whole middleware stack on that server);
6. baseline, same run: pgbench's conditional UPDATE on that same row, 32 clients, 10 s
   (`pgbench -n -M prepared -c 32 -T 10 -f script.sql`): the database's own limit for
   single-row holds. ratio = holds_per_s / pgbench_tps.

Last line of output: one JSON object
{"holds_ok", "oversold", "rejected", "p50_ms", "p99_ms", "holds_per_s", "pgbench_tps", "ratio"}
(p50/p99 are the throughput phase; the rush latencies are in `rush_p50_ms` / `rush_p99_ms`;
extra keys: hello_rps, cpu_ms_per_add, adds_per_batch (throughput phase, from the server's
/metrics), server, load_avg_1m).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import lean_http

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


def log(message: str) -> None:
    print(message, flush=True)


def production_env() -> dict:
    """The environment of the servers under test: production settings (DEBUG=0), on the
    PostgreSQL and Redis named by DATABASE_URL / REDIS_URL. Every bench starts its servers
    with this, so a setting production requires is added here once."""
    return {
        **os.environ,
        "DEBUG": "0",
        "DORAMI_TESTING": "0",
        "SECRET_KEY": os.environ.get("SECRET_KEY", "bench-" + "x" * 50),
        "PROFILE_ENCRYPTION_KEY": os.environ.get("PROFILE_ENCRYPTION_KEY", "11" * 32),
        "MEDIA_WEBHOOK_SECRET": os.environ.get("MEDIA_WEBHOOK_SECRET", "bench-webhook-secret"),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SITE_URL": os.environ.get("SITE_URL", "http://127.0.0.1"),
        "SECURE_COOKIES": "0",
        "EMBEDDED_SCHEDULER": "0",
        "LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "dorami.settings",
        "DB_POOL_MAX_SIZE": "0",
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


# --- database and seed -------------------------------------------------------------------


def database_recreate(server_url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(f"{server_url}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def seed(*, buyers: int, rush_stock: int, csrf: str) -> dict:
    """Users with complete profiles and real sessions; two products. Runs Django in-process."""
    import django

    django.setup()
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.auth.hashers import make_password
    from django.contrib.sessions.models import Session
    from django.core.cache import cache
    from django.utils import timezone

    from accounts.models import User
    from core.models import CONFIG_CACHE_KEY, SystemConfig
    from shop.models import Product, ProductVariant

    # The throughput phase has each buyer add again and again: a per-shopper cap far above
    # what they add keeps the cap's check (and its query) on the path without refusing.
    SystemConfig.objects.update_or_create(pk=1, defaults={"max_per_user": 1_000_000})
    cache.delete(CONFIG_CACHE_KEY)
    now = timezone.now()
    unusable = make_password(None)
    users = User.objects.bulk_create(
        User(
            email=f"buyer{i}@bench.local",
            name=f"구매자{i}",
            instagram_id=f"@buyer_{i}",
            depositor_name=f"구매자{i}",
            profile_completed_at=now,
            password=unusable,
        )
        for i in range(buyers)
    )
    store = import_module(settings.SESSION_ENGINE).SessionStore
    expire = now + timezone.timedelta(days=30)
    sessions, keys = [], []
    for user in users:
        key = secrets.token_hex(16)
        data = {
            SESSION_KEY: str(user.pk),
            BACKEND_SESSION_KEY: "accounts.backends.ModelBackend",
            HASH_SESSION_KEY: user.get_session_auth_hash(),
            "_slid_at": int(now.timestamp()),
        }
        sessions.append(
            Session(session_key=key, session_data=store().encode(data), expire_date=expire)
        )
        keys.append(key)
    Session.objects.bulk_create(sessions, batch_size=1000)
    rush = Product.objects.create(name="플래시 세일 한정 니트", price="29.00", timer_minutes=10)
    rush_variant = ProductVariant.objects.create(product=rush, price="29.00", stock=rush_stock)
    bulk = Product.objects.create(name="무제한 재고 양말", price="5.00", timer_minutes=10)
    bulk_variant = ProductVariant.objects.create(product=bulk, price="5.00", stock=9999)
    return {
        "session_cookie": settings.SESSION_COOKIE_NAME,
        "csrf_cookie": settings.CSRF_COOKIE_NAME,
        "sessions": keys,
        "rush_variant": rush_variant.pk,
        "bulk_variant": bulk_variant.pk,
        "csrf": csrf,
    }


def sql_one(sql: str, params: list):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


# --- server ------------------------------------------------------------------------------


def server_start(
    env: dict, port: int, *, server: str, workers: int, threads: int, log_path: Path
) -> subprocess.Popen:
    out = log_path.open("w")
    command = [PYTHON, "manage.py", "serve", "--host", "127.0.0.1", "--port", str(port),
               "--workers", str(workers), "--no-scheduler"]  # fmt: skip
    if server == "wsgi":
        command += ["--wsgi", "--threads", str(threads)]
    if server == "gunicorn":  # the WSGI server before granian, for a same-run comparison
        command = [str(Path(PYTHON).parent / "gunicorn"), "--bind", f"127.0.0.1:{port}",
                   "--workers", str(workers), "--threads", str(threads), "--worker-class",
                   "gthread", "--backlog", "4096", "--keep-alive", "5", "--log-level",
                   "warning", "dorami.wsgi:application"]  # fmt: skip
    if server == "gunicorn" and workers > 1:  # as `serve` runs: metrics summed over workers
        env = {**env, "PROMETHEUS_MULTIPROC_DIR": tempfile.mkdtemp(prefix="bench-metrics-")}
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("server exited:\n" + log_path.read_text())
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/health/live", timeout=1):
                return process
        except OSError:
            time.sleep(0.3)
    process.kill()
    raise RuntimeError("server did not start:\n" + log_path.read_text())


def batch_totals(base: str) -> tuple[float, float]:
    """(adds, transactions) so far, from the server's own histogram of adds per batch
    (`dorami_cart_add_batch_size` on /metrics, summed over its workers)."""
    with urllib.request.urlopen(f"{base}/metrics", timeout=10) as response:
        text = response.read().decode()
    found = dict(re.findall(r"^dorami_cart_add_batch_size_(sum|count) (\S+)$", text, re.M))
    return float(found.get("sum", 0)), float(found.get("count", 0))


def server_stop(process: subprocess.Popen) -> None:
    process.terminate()  # the arbiter / uvicorn's supervisor stops its own workers
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()


def cpu_seconds(server: subprocess.Popen, db: str) -> dict[str, float]:
    """CPU seconds used so far by the server (all workers), this load generator and the
    PostgreSQL backends of the bench database: where a hold's time goes on this machine."""
    import psutil

    def used(process) -> float:
        try:
            times = process.cpu_times()
        except psutil.Error:
            return 0.0
        return times.user + times.system

    root = psutil.Process(server.pid)
    backends = [
        proc
        for proc in psutil.process_iter(["cmdline"])
        if any(f" {db} " in part for part in proc.info["cmdline"] or [])
    ]
    return {
        "server": used(root) + sum(used(child) for child in root.children(recursive=True)),
        "client": used(psutil.Process()),
        "postgres": sum(used(proc) for proc in backends),
    }


# --- load --------------------------------------------------------------------------------


async def add_once(connection: lean_http.Connection, request: bytes) -> tuple[int, float, str]:
    """One prebuilt `POST /cart/add/`: (status, ms, "" on 201 or the JSON error code)."""
    started = time.perf_counter()
    try:
        status, body = await connection.request(request)
    except Exception as exc:  # connection refused/reset under overload counts as an error
        return 0, (time.perf_counter() - started) * 1000, type(exc).__name__
    code = ""
    if status != 201:
        try:
            code = json.loads(body)["error"]["code"]
        except (ValueError, KeyError, TypeError):
            code = f"HTTP_{status}"
    return status, (time.perf_counter() - started) * 1000, code


def cookie_header(seeded: dict, key: str) -> str:
    return f"{seeded['session_cookie']}={key}; {seeded['csrf_cookie']}={seeded['csrf']}"


def add_request(base: str, seeded: dict, key: str, variant_id: int) -> bytes:
    """The bytes of one buyer's JSON `POST /cart/add/` (built once, sent many times)."""
    host, port = lean_http.host_port(base)
    headers = {
        "Accept": "application/json",
        "Content-Type": "application/x-www-form-urlencoded",
        "Cookie": cookie_header(seeded, key),
        "X-CSRFToken": seeded["csrf"],
    }
    body = f"variant_id={int(variant_id)}&quantity=1".encode()
    return lean_http.build_request("POST", host, port, "/cart/add/", headers, body)


async def warm_up(base: str, seeded: dict) -> None:
    connection = lean_http.Connection(*lean_http.host_port(base))
    request = add_request(base, seeded, seeded["sessions"][-1], 0)
    try:
        for _ in range(40):  # both workers: imports, DB connections, templates of error paths
            await add_once(connection, request)
    finally:
        connection.close()


async def rush(base: str, seeded: dict, buyers: int) -> list[tuple[int, float, str]]:
    """Every buyer waits at one gate, then opens its own connection for one add."""
    lean_http.raise_fd_limit(buyers + 1024)
    host, port = lean_http.host_port(base)
    gate = asyncio.Event()

    async def buyer(request: bytes) -> tuple[int, float, str]:
        await gate.wait()
        connection = lean_http.Connection(host, port, timeout=120)
        try:
            return await add_once(connection, request)
        finally:
            connection.close()

    requests = [
        add_request(base, seeded, key, seeded["rush_variant"])
        for key in seeded["sessions"][:buyers]
    ]
    tasks = [asyncio.create_task(buyer(request)) for request in requests]
    await asyncio.sleep(0.2)
    gate.set()
    return await asyncio.gather(*tasks)


async def steady(base: str, seeded: dict, clients: int, seconds: float):
    host, port = lean_http.host_port(base)
    requests = [
        add_request(base, seeded, key, seeded["bulk_variant"])
        for key in seeded["sessions"][:clients]
    ]
    results: list[tuple[int, float, str]] = []
    last_ok: float | None = None
    deadline = time.perf_counter() + seconds

    async def buyer(request: bytes) -> None:
        nonlocal last_ok
        connection = lean_http.Connection(host, port)  # keep-alive for the whole loop
        try:
            while time.perf_counter() < deadline:
                result = await add_once(connection, request)
                results.append(result)
                if result[0] == 201:
                    last_ok = time.perf_counter()
                elif result[2] == "INSUFFICIENT_STOCK":
                    return  # 9,999 units gone: stop measuring
        finally:
            connection.close()

    started = time.perf_counter()
    await asyncio.gather(*(buyer(request) for request in requests))
    elapsed = (last_ok or time.perf_counter()) - started
    return results, elapsed


async def hello(base: str, clients: int, seconds: float) -> float:
    """Second baseline, same server, same run: the cheapest Django view (liveness JSON, the
    whole middleware stack, no session, no query): the server's own ceiling on this machine."""
    host, port = lean_http.host_port(base)
    request = lean_http.build_request("GET", host, port, "/api/v1/health/live", {})
    done = 0
    deadline = time.perf_counter() + seconds

    async def client() -> None:
        nonlocal done
        connection = lean_http.Connection(host, port)
        try:
            while time.perf_counter() < deadline:
                status, _body = await connection.request(request)
                done += status == 200
        finally:
            connection.close()

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return done / (time.perf_counter() - started)


# --- pgbench baseline --------------------------------------------------------------------


def pgbench(dsn: str, variant_id: int, clients: int, seconds: int) -> float:
    """The same conditional UPDATE on the same row. `held` wraps at `stock` so the condition
    stays true for the whole run (an exhausted row would turn into cheap no-op updates)."""
    script = (
        "UPDATE shop_productvariant SET held = (held + 1) % stock "
        "WHERE id = :vid AND stock - held >= 1;\n"
    )
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as handle:
        handle.write(script)
        path = handle.name
    try:
        output = subprocess.run(
            ["pgbench", "-n", "-M", "prepared", "-c", str(clients), "-j", "2",
             "-T", str(seconds), "-D", f"vid={int(variant_id)}", "-f", path, dsn],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
    finally:
        os.unlink(path)
    match = re.search(r"tps = ([\d.]+) \(without initial connection time\)", output)
    if not match:
        match = re.search(r"tps = ([\d.]+)", output)
    log("pgbench: " + " ".join(line.strip() for line in output.splitlines()[-4:]))
    return float(match.group(1)) if match else 0.0


# --- main --------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg", default="postgres://dorami:dorami@127.0.0.1:5432")
    parser.add_argument("--db", default="dorami_bench")
    parser.add_argument(
        "--redis",
        default=os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0",
        help="Redis for cache, sessions and events (keys are prefixed 'bench')",
    )
    parser.add_argument("--buyers", type=int, default=2000)
    parser.add_argument("--stock", type=int, default=100)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument(
        "--server",
        choices=["wsgi", "gunicorn", "uvicorn"],
        default="wsgi",
        help="wsgi: `serve --wsgi` (granian), the server that answers pages and cart adds in "
        "production; gunicorn: gthread workers, the WSGI server it replaced (comparison); "
        "uvicorn: `serve`, the ASGI process (websockets)",
    )
    parser.add_argument(
        "--no-batching",
        action="store_true",
        help="CART_ADD_BATCHING=0: one transaction per add",
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8, help="WSGI threads per worker")
    parser.add_argument("--pool", type=int, default=8, help="DB connections per uvicorn worker")
    args = parser.parse_args()

    dsn = f"{args.pg}/{args.db}"
    env = {
        **production_env(),
        "DATABASE_URL": dsn,
        "REDIS_URL": args.redis,
        "CHANNEL_PREFIX": "bench",
        "CACHE_KEY_PREFIX": "bench",
        # 2,000 requests queue for a worker or a connection: let the last one wait.
        "DB_POOL_TIMEOUT": "120",
        # Every shopper here comes from 127.0.0.1: the limits are still counted (their cost is
        # measured) but set high enough never to refuse.
        "RATE_LIMITS": "cart_add=user:1000000/60,ip:1000000/60",
    }
    env["CART_ADD_BATCHING"] = "0" if args.no_batching else "1"
    if args.server == "uvicorn":
        # ASGI runs each request's sync code in a thread of its own: bound the connections.
        env["DB_POOL_MAX_SIZE"] = str(args.pool)
    else:
        # WSGI: a fixed set of threads, one persistent connection each (as in compose).
        env["DB_POOL_MAX_SIZE"] = "0"
    log(f"database {args.db}: recreate + migrate")
    database_recreate(args.pg, args.db)
    subprocess.run(
        [PYTHON, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True
    )
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    csrf = secrets.token_hex(16)
    seeded = seed(buyers=args.buyers, rush_stock=args.stock, csrf=csrf)
    from django.db import connections

    connections.close_all()
    log(f"seeded {args.buyers} buyers with sessions; rush stock {args.stock}")

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log_path = Path(tempfile.gettempdir()) / f"flash_sale_server_{port}.log"
    server = server_start(
        env, port, server=args.server, workers=args.workers, threads=args.threads,
        log_path=log_path,
    )  # fmt: skip
    names = {"wsgi": "granian (serve --wsgi)", "gunicorn": "gunicorn gthread", "uvicorn": "uvicorn"}
    described = f"{names[args.server]}, {args.workers} workers" + (
        f" x {args.threads} threads" if args.server != "uvicorn" and args.threads > 1 else ""
    )
    described += ", one transaction per add" if args.no_batching else ", adds batched"
    try:
        asyncio.run(warm_up(base, seeded))
        log(f"server up on {base} ({described}); rush: {args.buyers} buyers at once")
        started = time.perf_counter()
        rush_results = asyncio.run(rush(base, seeded, args.buyers))
        rush_seconds = time.perf_counter() - started
        log(f"throughput: {args.clients} buyers for {args.seconds}s on stock 9,999")
        cpu_before, batches_before = cpu_seconds(server, args.db), batch_totals(base)
        steady_results, steady_seconds = asyncio.run(
            steady(base, seeded, args.clients, args.seconds)
        )
        cpu_after, batches_after = cpu_seconds(server, args.db), batch_totals(base)
        hello_rps = asyncio.run(hello(base, args.clients, min(args.seconds, 5)))
        log(f"hello baseline (/api/v1/health/live, {args.clients} clients): {hello_rps:.0f}/s")
    finally:
        server_stop(server)

    holds_ok = sum(1 for status, _ms, _code in rush_results if status == 201)
    rejected = sum(1 for _s, _ms, code in rush_results if code == "INSUFFICIENT_STOCK")
    errors: dict[str, int] = {}
    for status, _ms, code in rush_results:
        if status != 201 and code != "INSUFFICIENT_STOCK":
            errors[code] = errors.get(code, 0) + 1
    stock, held, lines, line_units = sql_one(
        "SELECT v.stock, v.held, COUNT(l.id), COALESCE(SUM(l.quantity), 0) "
        "FROM shop_productvariant v LEFT JOIN shop_cartline l "
        "ON l.variant_id = v.id AND l.status = 'ACTIVE' WHERE v.id = %s GROUP BY v.id",
        [seeded["rush_variant"]],
    )
    oversold = max(0, line_units - stock, held - stock, holds_ok - stock)
    rush_ms = [ms for _s, ms, _c in rush_results]
    log(
        f"rush: {holds_ok} holds, {rejected} sold-out answers, errors {errors or 0}; "
        f"SQL stock={stock} held={held} active lines={lines} units={line_units}; "
        f"{rush_seconds:.2f}s, p50 {percentile(rush_ms, 50):.0f} ms, "
        f"p99 {percentile(rush_ms, 99):.0f} ms"
    )
    steady_ok = [ms for status, ms, _c in steady_results if status == 201]
    steady_errors = len(steady_results) - len(steady_ok)
    holds_per_s = len(steady_ok) / steady_seconds if steady_seconds > 0 else 0.0
    cpu_ms = {
        name: round((cpu_after[name] - cpu_before[name]) * 1000 / max(len(steady_results), 1), 2)
        for name in cpu_after
    }
    log(f"CPU ms per add in the throughput phase: {cpu_ms}")
    transactions = batches_after[1] - batches_before[1]
    adds_per_batch = (batches_after[0] - batches_before[0]) / transactions if transactions else 0.0
    log(
        f"throughput: {len(steady_ok)} holds in {steady_seconds:.2f}s = {holds_per_s:.0f}/s "
        f"(non-201: {steady_errors}); p50 {percentile(steady_ok, 50):.1f} ms, "
        f"p99 {percentile(steady_ok, 99):.1f} ms"
    )

    # Baseline on the same row: clear its holds first (the server is stopped).
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE shop_cartline SET status = 'REMOVED' WHERE variant_id = %s",
            [seeded["bulk_variant"]],
        )
        cursor.execute(
            "UPDATE shop_productvariant SET held = 0, stock = 9999 WHERE id = %s",
            [seeded["bulk_variant"]],
        )
    connections.close_all()
    pgbench_tps = pgbench(dsn, seeded["bulk_variant"], args.clients, args.seconds)
    ratio = holds_per_s / pgbench_tps if pgbench_tps else 0.0
    result = {
        "holds_ok": holds_ok,
        "oversold": oversold,
        "rejected": rejected,
        "p50_ms": round(percentile(steady_ok, 50), 1),
        "p99_ms": round(percentile(steady_ok, 99), 1),
        "holds_per_s": round(holds_per_s, 1),
        "pgbench_tps": round(pgbench_tps, 1),
        "ratio": round(ratio, 3),
        "rush_p50_ms": round(percentile(rush_ms, 50), 1),
        "rush_p99_ms": round(percentile(rush_ms, 99), 1),
        "errors": sum(errors.values()),
        "hello_rps": round(hello_rps, 1),
        "cpu_ms_per_add": cpu_ms,
        "adds_per_batch": round(adds_per_batch, 2),
        "server": described,
        "load_avg_1m": round(os.getloadavg()[0], 2),
    }
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
