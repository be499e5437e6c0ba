"""Two `manage.py serve` processes behind nginx: a chat message sent through one process reaches
viewers connected to the other (one Redis subscription per room per process). Also: uvicorn
refuses a frame over 4 KB with close code 1009 before the application sees it.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import psutil
import pytest

from bench.chat_fanout import NGINX_CONF
from e2e.conftest import _free_port, start_asgi_server, stop_asgi_server


def _session_cookie(user) -> str:
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.save()
    return f"{settings.SESSION_COOKIE_NAME}={store.session_key}"


def _port(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


def _established(pid: int, port: int) -> int:
    return sum(
        1
        for c in psutil.Process(pid).net_connections(kind="tcp")
        if c.status == psutil.CONN_ESTABLISHED and c.laddr.port == port
    )


async def _open(url: str, origin: str, cookie: str | None = None):
    from websockets.asyncio.client import connect

    ws = await connect(
        url,
        origin=origin,
        additional_headers={"Cookie": cookie} if cookie else None,
        max_queue=None,
        open_timeout=10,
    )
    while '"type":"hello"' not in await asyncio.wait_for(ws.recv(), 10):
        pass
    return ws


async def _until(ws, needle: str, timeout: float = 5.0) -> str:
    deadline = time.monotonic() + timeout
    while True:
        frame = await asyncio.wait_for(ws.recv(), max(deadline - time.monotonic(), 0.01))
        if needle in frame:
            return frame


@pytest.fixture
def two_servers_behind_nginx(transactional_db, tmp_path):
    if not shutil.which("nginx"):
        pytest.fail("nginx is required (apt-get install nginx)")
    servers = [start_asgi_server(tmp_path=tmp_path), start_asgi_server(tmp_path=tmp_path)]
    port = _free_port()
    conf = tmp_path / "nginx.conf"
    conf.write_text(
        NGINX_CONF.format(
            dir=tmp_path, p1=_port(servers[0].url), p2=_port(servers[1].url), port=port
        )
    )
    nginx = subprocess.Popen(["nginx", "-p", str(tmp_path), "-c", str(conf), "-g", "daemon off;"])
    front = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 10
    while True:
        try:
            with urllib.request.urlopen(front + "/api/v1/health/live", timeout=1):
                break
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
    yield front, servers
    nginx.terminate()
    nginx.wait(timeout=10)
    for server in servers:
        stop_asgi_server(server)


def test_message_through_one_process_reaches_viewers_on_the_other(two_servers_behind_nginx):
    from accounts.tests.factories import UserFactory
    from live.models import LiveStream

    front, servers = two_servers_behind_nginx
    stream = LiveStream.objects.create(title="멀티", status=LiveStream.Status.LIVE)
    cookie = _session_cookie(UserFactory(profile_complete=True))
    path = f"/ws/live/{stream.public_id}/"
    ws_front = front.replace("http", "ws") + path

    async def scenario():
        viewers = [await _open(f"{ws_front}?g=viewer{i:04d}", front) for i in range(8)]
        per_backend = [_established(s.process.pid, _port(s.url)) for s in servers]
        direct = servers[0].url
        sender = await _open(direct.replace("http", "ws") + path, direct, cookie)
        await sender.send(json.dumps({"type": "chat", "body": "두 프로세스 안녕"}))
        frames = [await _until(v, "두 프로세스 안녕") for v in viewers]
        # uvicorn (ws_max_size=4096) refuses a bigger frame with 1009
        other = servers[1].url
        big = await _open(other.replace("http", "ws") + path, other, cookie)
        await big.send(json.dumps({"type": "chat", "body": "x" * 5000}))
        with pytest.raises(Exception):  # noqa: B017 - ConnectionClosed
            while True:
                await asyncio.wait_for(big.recv(), 5)
        close_code = big.close_code
        for ws in [*viewers, sender]:
            await ws.close()
        return per_backend, frames, close_code

    with ThreadPoolExecutor(1) as pool:  # keep clear of any event loop in this thread
        per_backend, frames, close_code = pool.submit(asyncio.run, scenario()).result(60)
    assert min(per_backend) >= 1, per_backend  # nginx spread the viewers over both processes
    assert sum(per_backend) == 8
    assert all(json.loads(f)["event"] == "chat.message" for f in frames)
    assert close_code == 1009
