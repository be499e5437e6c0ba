#!/usr/bin/env python
"""Page benchmark: a logged-in shopper's product page and live page on the production page
server, and what 5 seller edits cost 1,000 open live pages.

    DATABASE_URL=postgres://… REDIS_URL=redis://… .venv/bin/python bench/pages.py
    # options: --clients 32 --seconds 10 --viewers 1000; ~1.5 minutes

What it does, in one run (PostgreSQL and Redis from DATABASE_URL / REDIS_URL, migrated here):
1. seeds a LIVE show with 6 products × 3 options, and `--clients` shoppers with complete
   profiles, real server-side sessions and 2 cart lines each;
2. starts the servers production runs (docker-compose.yml): `manage.py serve --wsgi`
   (granian, 2 workers × 8 threads: every page) and `manage.py serve` (uvicorn:
   the websockets), with the production settings (DEBUG=0);
3. product page: `--clients` shoppers GET `/products/<id>/` (session cookie) in a loop for
   `--seconds` (rps, p50/p99); the live page `/live/<public id>/` likewise; then the liveness
   view `/api/v1/health/live` on the same server (`hello_rps`, the server's own ceiling);
4. edits: `--viewers` guests open the live room's websocket; the seller renames a product,
   changes a price, marks one sold out, adds one and features it (the studio's services,
   in this process). Each guest does what `static/js/live.js` does with what it receives: a
   `product.added`/`product.updated` event without the product's card makes it fetch the
   whole page (it really does, against the page server): `edit_page_fetches` counts those
   fetches, `edit_events` the product and featured events the guests received.

Last line: one JSON object {"product_rps", "product_p99_ms", "live_rps", "live_p99_ms",
"hello_rps", …, "edit_page_fetches"}.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import lean_http
from flash_sale import free_port, percentile, production_env, server_start, server_stop

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
EDIT_EVENTS = ('"event":"product.added"', '"event":"product.updated"')


def log(message: str) -> None:
    print(message, flush=True)


def seed(*, shoppers: int) -> dict:
    import django

    django.setup()
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.core.management import call_command
    from django.utils import timezone

    from accounts.models import User
    from live.models import LiveStream
    from shop import services
    from shop.models import Product, ProductVariant

    call_command("migrate", "--noinput", verbosity=0)
    stamp = secrets.token_hex(4)
    stream = LiveStream.objects.create(title="벤치 라이브", status=LiveStream.Status.LIVE)
    products = []
    for index in range(6):
        product = Product.objects.create(
            stream=stream, name=f"벤치 상품 {index}", price="19.00", timer_minutes=30
        )
        for size in ("S", "M", "L"):
            ProductVariant.objects.create(product=product, size=size, price="19.00", stock=9999)
        products.append(product)
    store = import_module(settings.SESSION_ENGINE).SessionStore
    cookies = []
    for index in range(shoppers):
        user = User.objects.create_user(
            email=f"pages-{stamp}-{index}@bench.local",
            name=f"쇼퍼{index}",
            instagram_id=f"@pages_{stamp}_{index}",
            depositor_name=f"쇼퍼{index}",
            profile_completed_at=timezone.now(),
        )
        for product in products[:2]:
            variant = product.variants.first()
            services.cart_add(user=user, variant_id=variant.pk, quantity=1)
        session = store()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = "accounts.backends.ModelBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session["_slid_at"] = int(timezone.now().timestamp())
        session.save()
        cookies.append(f"{settings.SESSION_COOKIE_NAME}={session.session_key}")
    return {
        "stream_id": stream.pk,
        "public_id": stream.public_id,
        "product_ids": [product.pk for product in products],
        "cookies": cookies,
    }


async def load(base: str, path: str, cookies: list[str], seconds: float) -> dict:
    """Every client GETs `path` in a loop on its own keep-alive connection."""
    host, port = lean_http.host_port(base)
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds

    async def client(cookie: str) -> None:
        nonlocal errors
        headers = {"Cookie": cookie} if cookie else {}
        request = lean_http.build_request("GET", host, port, path, headers)
        connection = lean_http.Connection(host, port)
        try:
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                try:
                    status, _body = await connection.request(request)
                except Exception:
                    errors += 1
                    connection.close()
                    connection = lean_http.Connection(host, port)
                    continue
                if status == 200:
                    latencies.append((time.perf_counter() - started) * 1000)
                else:
                    errors += 1
        finally:
            connection.close()

    started = time.perf_counter()
    await asyncio.gather(*(client(cookie) for cookie in cookies))
    elapsed = time.perf_counter() - started
    return {
        "rps": round(len(latencies) / elapsed, 1),
        "p50_ms": round(percentile(latencies, 50), 1),
        "p99_ms": round(percentile(latencies, 99), 1),
        "errors": errors,
    }


class Guest:
    """A live page's socket, doing what live.js does with product events."""

    def __init__(self, url: str, origin: str, page: tuple[str, int, bytes]):
        self.url, self.origin, self.page = url, origin, page
        self.ws = None
        self.events = 0
        self.fetches = 0
        self.task: asyncio.Task | None = None

    async def open(self) -> None:
        from websockets.asyncio.client import connect

        self.ws = await connect(
            self.url, origin=self.origin, compression=None, max_size=2**20, open_timeout=60,
            ping_interval=None, close_timeout=2, max_queue=None,
        )  # fmt: skip
        while '"type":"hello"' not in await asyncio.wait_for(self.ws.recv(), 60):
            pass
        self.task = asyncio.ensure_future(self.listen())

    async def listen(self) -> None:
        try:
            async for frame in self.ws:
                if any(name in frame for name in EDIT_EVENTS):
                    self.events += 1
                    data = json.loads(frame).get("data") or {}
                    if not isinstance(data.get("card_html"), str):
                        await self.fetch_page()  # live.js: refetchPage()
                elif '"event":"featured.changed"' in frame:
                    self.events += 1
        except Exception:  # noqa: S110 — closed at the end of the run
            pass

    async def fetch_page(self) -> None:
        host, port, request = self.page
        connection = lean_http.Connection(host, port, timeout=60)
        try:
            await connection.request(request)
            self.fetches += 1
        finally:
            connection.close()

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self.task is not None:
            self.task.cancel()


def seller_edits(seeded: dict) -> None:
    """Five edits through the studio's services: rename, price, sold out, new, feature."""
    from live.models import LiveStream
    from live.services.stream import stream_feature_product
    from shop import services
    from shop.models import Product

    first, second, third = (Product.objects.get(pk=pk) for pk in seeded["product_ids"][:3])
    first.name = "벤치 상품 0 (한정)"
    services.product_save(product=first)
    second.price = "17.00"
    services.product_save(product=second)
    services.product_mark_sold_out(product_id=third.pk, sold_out=True)
    stream = LiveStream.objects.get(pk=seeded["stream_id"])
    added = services.product_save(
        product=Product(stream=stream, name="벤치 새 상품", price="25.00", timer_minutes=30)
    )
    stream_feature_product(stream=stream, product=added)


async def edits(page_base: str, ws_base: str, seeded: dict, viewers: int) -> dict:
    from asgiref.sync import sync_to_async

    host, port = lean_http.host_port(page_base)
    path = f"/live/{seeded['public_id']}/"
    page = (host, port, lean_http.build_request("GET", host, port, path, {}))
    ws_url = ws_base.replace("http://", "ws://") + f"/ws/live/{seeded['public_id']}/"
    guests = [Guest(f"{ws_url}?g=pages{i:05d}", ws_base, page) for i in range(viewers)]
    started = time.perf_counter()
    for index in range(0, viewers, 100):  # 100 at a time
        await asyncio.gather(*(guest.open() for guest in guests[index : index + 100]))
    log(f"{viewers} guests in the room in {time.perf_counter() - started:.1f}s; 5 seller edits")
    await asyncio.sleep(1.5)
    await sync_to_async(seller_edits)(seeded)
    await asyncio.sleep(5.0)  # deliveries, and any page fetches they cause
    result = {
        "edit_events": sum(guest.events for guest in guests),
        "edit_page_fetches": sum(guest.fetches for guest in guests),
    }
    await asyncio.gather(*(guest.close() for guest in guests), return_exceptions=True)
    return result


def collect_static(env: dict) -> None:
    """Production serves hashed static names from the manifest (as the image build does)."""
    subprocess.run(
        [PYTHON, "manage.py", "collectstatic", "--noinput", "-v", "0"], cwd=ROOT, env=env,
        check=True,
    )  # fmt: skip


def start_servers(env: dict, *, workers: int, threads: int, name: str):
    """The page server (`serve --wsgi`, granian) and the socket server (`serve`,
    uvicorn) as production runs them: (pages, sockets, page base URL, socket base URL)."""
    page_port, ws_port = free_port(), free_port()
    logs = Path(tempfile.gettempdir())
    pages = server_start(
        env, page_port, server="wsgi", workers=workers, threads=threads,
        log_path=logs / f"{name}_server_{page_port}.log",
    )  # fmt: skip
    sockets = server_start(
        env, ws_port, server="uvicorn", workers=1, threads=1,
        log_path=logs / f"{name}_ws_server_{ws_port}.log",
    )  # fmt: skip
    return pages, sockets, f"http://127.0.0.1:{page_port}", f"http://127.0.0.1:{ws_port}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--viewers", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL") or not os.environ.get("REDIS_URL"):
        sys.exit("DATABASE_URL and REDIS_URL must name the PostgreSQL database and Redis to use")

    env = production_env()
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    collect_static(env)
    seeded = seed(shoppers=args.clients)
    from django.db import connections

    connections.close_all()
    lean_http.raise_fd_limit(args.viewers * 2 + 1024)
    pages, sockets, page_base, ws_base = start_servers(
        env, workers=args.workers, threads=args.threads, name="pages"
    )
    product_path = f"/products/{seeded['product_ids'][0]}/"
    live_path = f"/live/{seeded['public_id']}/"
    try:
        for path in (product_path, live_path):  # both workers: templates, connections
            asyncio.run(load(page_base, path, seeded["cookies"][:4], 1.0))
        log(f"granian {args.workers}×{args.threads} on {page_base}; {args.clients} shoppers")
        product = asyncio.run(load(page_base, product_path, seeded["cookies"], args.seconds))
        log(f"product page {product_path}: {json.dumps(product)}")
        live = asyncio.run(load(page_base, live_path, seeded["cookies"], args.seconds))
        log(f"live page {live_path}: {json.dumps(live)}")
        hello = asyncio.run(
            load(page_base, "/api/v1/health/live", [""] * args.clients, min(args.seconds, 5))
        )
        log(f"liveness view: {json.dumps(hello)}")
        edited = asyncio.run(edits(page_base, ws_base, seeded, args.viewers))
        log(f"edits: {json.dumps(edited)}")
    finally:
        server_stop(pages)
        server_stop(sockets)
    print(
        json.dumps(
            {
                "product_rps": product["rps"],
                "product_p99_ms": product["p99_ms"],
                "live_rps": live["rps"],
                "live_p99_ms": live["p99_ms"],
                "hello_rps": hello["rps"],
                "product_p50_ms": product["p50_ms"],
                "live_p50_ms": live["p50_ms"],
                "hello_p99_ms": hello["p99_ms"],
                "errors": product["errors"] + live["errors"] + hello["errors"],
                "clients": args.clients,
                "server": f"granian {args.workers}×{args.threads}",
                "viewers": args.viewers,
                **edited,
                "load_avg_1m": round(os.getloadavg()[0], 2),
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
