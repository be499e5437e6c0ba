#!/usr/bin/env python
"""Soak benchmark: a live show under steady load for minutes, watching server memory and errors.

    DATABASE_URL=postgres://… REDIS_URL=redis://… .venv/bin/python bench/soak.py [--minutes 10]
    # options: --viewers 1000 --rate 5 --churn 5 --adds 2 --shoppers 20 --warmup 120; --help

What it does (PostgreSQL and Redis from DATABASE_URL / REDIS_URL, migrated here):
1. seeds a LIVE show with 6 products × 3 options and `--shoppers` shoppers with complete
   profiles and real server-side sessions (bench/pages.py's seed);
2. starts the servers production runs (docker-compose.yml): `manage.py serve --wsgi`
   (granian 2 × 8: pages and cart adds) and `manage.py serve` (uvicorn: websockets),
   with the production settings (DEBUG=0);
3. opens `--viewers` sockets on the show's room (the shoppers logged in, the rest guests),
   each sending the page's heartbeat every 10 s;
4. for `--minutes`: the first `--rate` shoppers each send one chat message per second; every
   second `--churn` random viewers leave and as many join (a guest that joins first fetches
   the live page, as a browser does; a shopper reconnects with its session); shoppers add to
   their carts (`POST /cart/add/`, JSON, CSRF) at `--adds` per second in total;
5. every 10 s samples the RSS of every server process (granian main process and workers, uvicorn
   supervisor and worker) and sums it.

Errors: HTTP ≥ 500 (or no answer) from pages and cart adds; websocket failures (a join that
fails or times out, a socket the server closes); lost chat deliveries (a message sent while a
viewer was in the room — from its `hello` until it decided to leave — that it had not received
30 s later; a leaving viewer stays until those have arrived, as a closing tab would have them);
chat `error` frames sent back to a publisher. RSS growth = last sample against the first
sample after `--warmup` seconds, in %. Latency = receive time − send time (same clock).

Last line: one JSON object {"rss_growth_pct", "errors", "p99_ms", "p99_ms_by_minute", …}.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import contextlib
import json
import os
import random
import secrets
import sys
import time
from array import array

import lean_http
from chat_fanout import MARK, Viewer, open_all
from flash_sale import add_once, add_request, percentile, server_stop
from pages import ROOT, collect_static, production_env, seed, start_servers

DRAIN = 30.0  # seconds a leaving viewer waits for the messages sent before it decided to go
SAMPLE_EVERY = 10.0


def log(message: str) -> None:
    print(message, flush=True)


class Ledger:
    """What was sent when, and what every viewer got: losses, latencies per minute, errors."""

    def __init__(self, started: float):
        self.started = started
        self.sent_at: list[float] = []  # message number → send time (time.time())
        self.latency_by_minute: list[array] = []
        self.deliveries = 0
        self.lost = 0
        self.ws_failures = 0
        self.ws_failure_kinds: dict[str, int] = {}
        self.http_5xx = 0
        self.http_errors: dict[str, int] = {}
        self.cart_ok = 0
        self.cart_refused: dict[str, int] = {}
        self.chat_errors: dict[str, int] = {}
        self.page_fetches = 0
        self.joins = 0
        self.leaves = 0

    def ws_failure(self, kind: str) -> None:
        self.ws_failures += 1
        self.ws_failure_kinds[kind] = self.ws_failure_kinds.get(kind, 0) + 1

    def http_error(self, kind: str) -> None:
        self.http_5xx += 1
        self.http_errors[kind] = self.http_errors.get(kind, 0) + 1

    def latency(self, sent: float, now: float) -> None:
        minute = int((sent - self.started) // 60)
        while len(self.latency_by_minute) <= minute:
            self.latency_by_minute.append(array("f"))
        self.latency_by_minute[max(minute, 0)].append(now - sent)
        self.deliveries += 1

    def settle(self, viewer: SoakViewer, until: int) -> None:
        """A viewer leaves: count the messages of its stay (from its `hello` to message number
        `until`, the first sent after it decided to leave) it did not receive."""
        first = bisect.bisect_right(self.sent_at, viewer.joined_at)
        self.lost += sum(1 for number in range(first, until) if number not in viewer.got)
        viewer.got = set()


class SoakViewer(Viewer):
    """A live page's socket: heartbeats, counts chat deliveries by message number."""

    def __init__(self, url: str, origin: str, ledger: Ledger, cookie: str | None = None):
        super().__init__(url, origin, cookie=cookie)
        self.ledger = ledger
        self.got: set[int] = set()
        self.joined_at = 0.0
        self.leaving = False

    async def join(self) -> None:
        await self.open()
        self.joined_at = time.time()
        self.ledger.joins += 1
        self.task = asyncio.ensure_future(self.listen())

    async def listen(self) -> None:
        ledger = self.ledger
        try:
            async for frame in self.ws:
                if not frame.startswith('{"type":"event","event":"chat.message"'):
                    continue
                index = frame.find(MARK)
                if index < 0:
                    continue
                end = frame.find(" ", index)
                sent = float(frame[index + len(MARK) : end])
                self.got.add(int(frame[end + 2 : frame.find(" ", end + 1)]))
                ledger.latency(sent, time.time())
        except Exception:  # noqa: S110 — judged below by whether we were leaving
            pass
        if not self.leaving:
            code = getattr(self.ws, "close_code", None)
            ledger.ws_failure(f"closed by server ({code})")

    async def heartbeat(self) -> None:
        if self.ws is not None and not self.leaving:
            with contextlib.suppress(Exception):
                await self.ws.send('{"type":"heartbeat"}')

    async def leave(self) -> None:
        """Stay until the messages sent before deciding to leave have arrived (one socket gets
        them in order) or DRAIN seconds have passed, then close: what is missing is lost."""
        until = len(self.ledger.sent_at)
        deadline = time.perf_counter() + DRAIN
        while (
            max(self.got, default=-1) < until - 1
            and time.perf_counter() < deadline
            and self.task is not None
            and not self.task.done()
        ):
            await asyncio.sleep(0.25)
        self.leaving = True
        self.ledger.settle(self, until)
        self.ledger.leaves += 1
        await self.close()
        if self.task is not None:
            self.task.cancel()


class Publisher(SoakViewer):
    """A logged-in shopper who chats; an `error` frame back is an error of the run."""

    async def listen(self) -> None:
        with contextlib.suppress(Exception):
            async for frame in self.ws:
                if frame.startswith('{"type":"error"'):
                    code = json.loads(frame).get("code", "?")
                    self.ledger.chat_errors[code] = self.ledger.chat_errors.get(code, 0) + 1
        if not self.leaving:
            self.ledger.ws_failure("publisher closed by server")

    async def leave(self) -> None:
        self.leaving = True
        await self.close()


def server_rss(servers) -> dict[int, int]:
    """RSS of every process of the servers (roots and all their children), by pid."""
    import psutil

    sizes: dict[int, int] = {}
    for server in servers:
        with contextlib.suppress(psutil.Error):
            root = psutil.Process(server.pid)
            for process in [root, *root.children(recursive=True)]:
                with contextlib.suppress(psutil.Error):
                    sizes[process.pid] = process.memory_info().rss
    return sizes


def rss_sample(servers, started: float) -> dict:
    sizes = server_rss(servers)
    return {
        "t": round(time.time() - started),
        "rss_mb": round(sum(sizes.values()) / 2**20, 1),
        "by_pid_mb": {pid: round(rss / 2**20, 1) for pid, rss in sizes.items()},
    }


class Soak:
    def __init__(self, args, seeded: dict, variants: list[int], page_base: str, ws_base: str):
        self.args, self.seeded, self.variants = args, seeded, variants
        self.page_base = page_base
        self.ws_url = ws_base.replace("http://", "ws://") + f"/ws/live/{seeded['public_id']}/"
        self.origin = ws_base
        self.ledger = Ledger(time.time())
        self.viewers: list[SoakViewer] = []
        self.guest_number = 0
        self.running = True
        host, port = lean_http.host_port(page_base)
        self.page_request = lean_http.build_request(
            "GET", host, port, f"/live/{seeded['public_id']}/", {}
        )

    def new_viewer(self, cookie: str | None = None) -> SoakViewer:
        if cookie:
            return SoakViewer(self.ws_url, self.origin, self.ledger, cookie=cookie)
        self.guest_number += 1
        url = f"{self.ws_url}?g=soak{self.guest_number:07d}"
        return SoakViewer(url, self.origin, self.ledger)

    async def fetch_page(self) -> None:
        """A guest's browser loads the live page before its socket opens."""
        host, port = lean_http.host_port(self.page_base)
        connection = lean_http.Connection(host, port, timeout=60)
        try:
            status, _body = await connection.request(self.page_request)
            self.ledger.page_fetches += 1
            if status >= 500:
                self.ledger.http_error(f"live page HTTP {status}")
        except Exception as exc:
            self.ledger.http_error(f"live page {type(exc).__name__}")
        finally:
            connection.close()

    async def join(self, viewer: SoakViewer, *, page: bool) -> None:
        if page:
            await self.fetch_page()
        try:
            await viewer.join()
        except Exception as exc:
            self.ledger.ws_failure(f"join {type(exc).__name__}")
            await viewer.close()
            return
        if self.running:
            self.viewers.append(viewer)
        else:
            await viewer.leave()

    async def churn(self) -> None:
        tasks: set[asyncio.Task] = set()
        while self.running:
            await asyncio.sleep(1.0)
            for _ in range(self.args.churn):
                if not self.viewers:
                    break
                leaving = self.viewers.pop(random.randrange(len(self.viewers)))
                for task in (
                    asyncio.ensure_future(leaving.leave()),
                    asyncio.ensure_future(
                        self.join(self.new_viewer(leaving.cookie), page=leaving.cookie is None)
                    ),
                ):
                    tasks.add(task)
                    task.add_done_callback(tasks.discard)
        await asyncio.gather(*tasks, return_exceptions=True)

    async def heartbeats(self) -> None:
        """Each viewer sends `{"type":"heartbeat"}` every 10 s, spread over the 10 s."""
        tick = 0
        while self.running:
            await asyncio.sleep(1.0)
            for viewer in self.viewers[tick % 10 :: 10]:
                await viewer.heartbeat()
            tick += 1

    async def chat(self, publishers: list[Publisher], seconds: float) -> None:
        ledger = self.ledger
        start = time.perf_counter()
        for tick in range(int(seconds)):
            for index, publisher in enumerate(publishers):
                due = start + tick + index / len(publishers)
                delay = due - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                number = len(ledger.sent_at)
                now = time.time()
                ledger.sent_at.append(now)
                body = f"{MARK}{now:.6f} #{number} " + "x" * 40
                try:
                    await publisher.ws.send(json.dumps({"type": "chat", "body": body}))
                except Exception as exc:
                    ledger.ws_failure(f"chat send {type(exc).__name__}")

    async def cart_adds(self, keys: list[str]) -> None:
        host, port = lean_http.host_port(self.page_base)
        seeded = {**self.seeded, "csrf": secrets.token_hex(16)}
        connection = lean_http.Connection(host, port, timeout=60)
        interval = 1.0 / self.args.adds
        next_due = time.perf_counter()
        try:
            while self.running:
                next_due += interval
                request = add_request(
                    self.page_base, seeded, random.choice(keys), random.choice(self.variants)
                )
                status, _ms, code = await add_once(connection, request)
                if status == 201:
                    self.ledger.cart_ok += 1
                elif status == 0 or status >= 500:
                    self.ledger.http_error(f"cart add {code or status}")
                    connection.close()
                    connection = lean_http.Connection(host, port, timeout=60)
                else:
                    self.ledger.cart_refused[code] = self.ledger.cart_refused.get(code, 0) + 1
                await asyncio.sleep(max(0.0, next_due - time.perf_counter()))
        finally:
            connection.close()

    async def sample(self, servers, samples: list[dict]) -> None:
        while self.running:
            minute = self.ledger.latency_by_minute[-1:] or [array("f")]
            recent = sorted(minute[0][-5000:])
            samples.append(rss_sample(servers, self.ledger.started))
            log(
                f"t={samples[-1]['t']:>4}s rss {samples[-1]['rss_mb']} MB "
                f"{sorted(samples[-1]['by_pid_mb'].values())} viewers {len(self.viewers)} "
                f"sent {len(self.ledger.sent_at)} delivered {self.ledger.deliveries} "
                f"lost {self.ledger.lost} ws_fail {self.ledger.ws_failures} "
                f"5xx {self.ledger.http_5xx} cart {self.ledger.cart_ok} "
                f"p99(last 5k) {percentile(recent, 99) * 1000:.0f} ms "
                f"load {os.getloadavg()[0]:.2f}"
            )
            await asyncio.sleep(SAMPLE_EVERY)

    async def run(self, servers) -> tuple[Ledger, list[dict]]:
        args, ledger = self.args, self.ledger
        cookies = self.seeded["cookies"]
        publishers = [
            Publisher(self.ws_url, self.origin, ledger, cookie=c) for c in cookies[: args.rate]
        ]
        for publisher in publishers:
            await publisher.join()
        crowd = [self.new_viewer(c) for c in cookies]
        crowd += [self.new_viewer() for _ in range(args.viewers - len(crowd))]
        seconds, failures = await open_all(crowd, per_second=200)
        for viewer in crowd:
            if viewer.ready.is_set():
                viewer.joined_at = time.time()
                ledger.joins += 1
                viewer.task = asyncio.ensure_future(viewer.listen())
                self.viewers.append(viewer)
            else:
                ledger.ws_failure("initial join")
        log(f"{len(self.viewers)} viewers in the room in {seconds:.1f}s ({failures} failed)")
        await asyncio.sleep(1.5)
        ledger.started = time.time()
        samples: list[dict] = []
        keys = [cookie.split("=", 1)[1] for cookie in cookies]
        loops = [
            asyncio.ensure_future(self.sample(servers, samples)),
            asyncio.ensure_future(self.churn()),
            asyncio.ensure_future(self.heartbeats()),
            asyncio.ensure_future(self.cart_adds(keys)),
        ]
        await self.chat(publishers, args.minutes * 60)
        self.running = False
        await asyncio.gather(*loops)
        samples.append(rss_sample(servers, ledger.started))
        await asyncio.gather(*(viewer.leave() for viewer in self.viewers))
        await asyncio.gather(*(publisher.leave() for publisher in publishers))
        return ledger, samples


def report(args, ledger: Ledger, samples: list[dict], load_start: float) -> dict:
    warm = [s for s in samples if s["t"] >= args.warmup] or samples[-1:]
    base, last = warm[0], samples[-1]
    growth = (last["rss_mb"] - base["rss_mb"]) / base["rss_mb"] * 100 if base["rss_mb"] else 0
    by_pid = {str(pid): [base["by_pid_mb"].get(pid), mb] for pid, mb in last["by_pid_mb"].items()}
    every = sorted(x for minute in ledger.latency_by_minute for x in minute)
    expected = len(ledger.sent_at)
    errors = ledger.http_5xx + ledger.ws_failures + ledger.lost + sum(ledger.chat_errors.values())
    return {
        "rss_growth_pct": round(growth, 2),
        "errors": errors,
        "p99_ms": round(percentile(every, 99) * 1000, 1),
        "p99_ms_by_minute": [
            round(percentile(sorted(minute), 99) * 1000, 1) for minute in ledger.latency_by_minute
        ],
        "p50_ms": round(percentile(every, 50) * 1000, 1),
        "rss_mb_after_warmup": base["rss_mb"],
        "rss_mb_end": last["rss_mb"],
        "rss_mb_peak": max(s["rss_mb"] for s in samples),
        "rss_mb_by_pid_after_warmup_end": by_pid,
        "rss_mb_samples": [s["rss_mb"] for s in samples],
        "http_5xx": ledger.http_5xx,
        "http_errors": ledger.http_errors,
        "ws_failures": ledger.ws_failures,
        "ws_failure_kinds": ledger.ws_failure_kinds,
        "lost_deliveries": ledger.lost,
        "chat_errors": ledger.chat_errors,
        "chat_sent": expected,
        "deliveries": ledger.deliveries,
        "joins": ledger.joins,
        "leaves": ledger.leaves,
        "page_fetches": ledger.page_fetches,
        "cart_adds_ok": ledger.cart_ok,
        "cart_refused": ledger.cart_refused,
        "minutes": args.minutes,
        "warmup_s": args.warmup,
        "viewers": args.viewers,
        "rate": args.rate,
        "churn_per_s": args.churn,
        "adds_per_s": args.adds,
        "load_avg_1m_start": round(load_start, 2),
        "load_avg_1m_end": round(os.getloadavg()[0], 2),
        "client_cpu_s": round(time.process_time(), 1),
    }


def seed_soak(shoppers: int) -> tuple[dict, list[int]]:
    seeded = seed(shoppers=shoppers)
    from django.conf import settings
    from django.core.cache import cache

    from core.models import CONFIG_CACHE_KEY, SystemConfig
    from shop.models import ProductVariant

    # Shoppers add again and again for minutes: lift the per-shopper cap (its check still runs).
    SystemConfig.objects.update_or_create(pk=1, defaults={"max_per_user": 1_000_000})
    cache.delete(CONFIG_CACHE_KEY)
    variants = list(
        ProductVariant.objects.filter(product_id__in=seeded["product_ids"]).values_list(
            "pk", flat=True
        )
    )
    seeded["session_cookie"] = settings.SESSION_COOKIE_NAME
    seeded["csrf_cookie"] = settings.CSRF_COOKIE_NAME
    return seeded, variants


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--viewers", type=int, default=1000)
    parser.add_argument("--rate", type=int, default=5, help="chat messages per second")
    parser.add_argument("--churn", type=int, default=5, help="viewers leaving (and joining) /s")
    parser.add_argument("--adds", type=float, default=2, help="cart adds per second")
    parser.add_argument("--shoppers", type=int, default=20, help="logged-in viewers")
    parser.add_argument("--warmup", type=float, default=120, help="seconds left out of growth")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL") or not os.environ.get("REDIS_URL"):
        sys.exit("DATABASE_URL and REDIS_URL must name the PostgreSQL database and Redis to use")
    args.warmup = min(args.warmup, args.minutes * 60 / 2)

    env = production_env()
    # Every shopper comes from 127.0.0.1: the per-IP cart limit would refuse the crowd.
    env["RATE_LIMITS"] = "cart_add=user:30/60,ip:1000000/60"
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    collect_static(env)
    seeded, variants = seed_soak(max(args.shoppers, args.rate))
    from django.db import connections

    connections.close_all()
    lean_http.raise_fd_limit(args.viewers * 2 + 1024)
    pages, sockets, page_base, ws_base = start_servers(env, workers=2, threads=8, name="soak")
    load_start = os.getloadavg()[0]
    log(f"pages {page_base}, sockets {ws_base}; load {load_start:.2f}; {args.minutes} min")
    try:
        soak = Soak(args, seeded, variants, page_base, ws_base)
        try:
            import uvloop

            ledger, samples = uvloop.run(soak.run([pages, sockets]))
        except ImportError:
            ledger, samples = asyncio.run(soak.run([pages, sockets]))
    finally:
        server_stop(pages)
        server_stop(sockets)
    print(json.dumps(report(args, ledger, samples, load_start)), flush=True)


if __name__ == "__main__":
    main()
