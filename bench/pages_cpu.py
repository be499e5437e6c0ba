#!/usr/bin/env python
"""In-process CPU of the pages bench/pages.py loads: Django's WSGI handler called directly
(production settings, the bench's seed, one logged-in shopper with 2 cart lines), thread CPU
(`time.thread_time`) per request. For finding and checking costs between full bench runs
(docs/performance.md, Round 3); the full bench is what measures the server.

    DATABASE_URL=postgres://… REDIS_URL=redis://… .venv/bin/python bench/pages_cpu.py
    # options: -n 200 --pages product,live,hello --profile product (cProfile, thread CPU)

Compare two commits by running this from an export of each (`git archive`), interleaved.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=200, help="measured requests per page")
    parser.add_argument("--pages", default="product,live,hello")
    parser.add_argument("--profile", default="", help="a page to run under cProfile")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL") or not os.environ.get("REDIS_URL"):
        sys.exit("DATABASE_URL and REDIS_URL must name the PostgreSQL database and Redis to use")
    sys.path.insert(0, str(ROOT))
    from flash_sale import production_env
    from pages import collect_static, seed

    env = production_env()
    os.environ.update(env)
    collect_static(env)
    seeded = seed(shoppers=1)
    from django.core.handlers.wsgi import WSGIHandler

    app = WSGIHandler()
    paths = {
        "product": f"/products/{seeded['product_ids'][0]}/",
        "live": f"/live/{seeded['public_id']}/",
        "hello": "/api/v1/health/live",
    }

    def get(path: str, cookie: str) -> None:
        environ = {
            "REQUEST_METHOD": "GET", "PATH_INFO": path, "QUERY_STRING": "",
            "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8000", "HTTP_HOST": "127.0.0.1",
            "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "127.0.0.1",
            "wsgi.input": io.BytesIO(b""), "wsgi.url_scheme": "http", "wsgi.errors": sys.stderr,
        }  # fmt: skip
        if cookie:
            environ["HTTP_COOKIE"] = cookie
        status: list[str] = []
        body = b"".join(app(environ, lambda s, _headers, *_: status.append(s)))
        if not status[0].startswith("200"):
            raise RuntimeError(f"{path}: {status[0]} {body[:200]!r}")

    for name in args.pages.split(","):
        cookie = "" if name == "hello" else seeded["cookies"][0]
        for _ in range(30):  # templates, connections, caches
            get(paths[name], cookie)
        profile = cProfile.Profile(time.thread_time) if args.profile == name else None
        times = []
        for _ in range(args.n):
            started = time.thread_time()
            if profile:
                profile.enable()
            get(paths[name], cookie)
            if profile:
                profile.disable()
            times.append((time.thread_time() - started) * 1000)
        times.sort()
        median, mean = statistics.median(times), statistics.mean(times)
        p10 = times[len(times) // 10]
        load = os.getloadavg()[0]
        print(
            f"{name}: median {median:.2f} ms CPU, p10 {p10:.2f}, mean {mean:.2f}"
            f" ({args.n} requests, load {load:.2f})",
            flush=True,
        )
        if profile:
            pstats.Stats(profile).sort_stats("cumulative").print_stats(50)


if __name__ == "__main__":
    main()
