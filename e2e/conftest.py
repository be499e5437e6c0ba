"""Browser-test harness: a real uvicorn (ASGI: HTTP + websockets) child process serving the
test database, driven by Playwright on Debian's Chromium.

Run in its own pytest invocation: `pytest -m browser e2e` (Playwright's loop clashes with
pytest-asyncio tests in one process).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


E2E_DIR = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items):
    # Conftest hooks see every collected item: mark only the ones under e2e/.
    for item in items:
        if E2E_DIR in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    # A phone-sized viewport: the shopper pages are mobile first.
    return {**browser_context_args, "viewport": {"width": 390, "height": 844}, "locale": "ko-KR"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _database_url(settings_dict: dict) -> str:
    user = settings_dict.get("USER") or ""
    password = settings_dict.get("PASSWORD") or ""
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or 5432
    return f"postgres://{auth}{host}:{port}/{settings_dict['NAME']}"


class AsgiServer:
    def __init__(self, url: str, process: subprocess.Popen, log_path: Path):
        self.url = url
        self.process = process
        self.log_path = log_path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def start_asgi_server(*, extra_env: dict | None = None, tmp_path: Path) -> AsgiServer:
    from django.conf import settings
    from django.db import connection

    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(connection.settings_dict),
        "REDIS_URL": settings.REDIS_URL,
        "DORAMI_TESTING": "1",
        "DEBUG": "0",
        "SECURE_COOKIES": "0",
        "DEV_LOGIN_ENABLED": "1",
        "CELERY_TASK_ALWAYS_EAGER": "1",
        "EMBEDDED_SCHEDULER": "0",
        "DB_CONN_MAX_AGE": "0",
        **(extra_env or {}),
    }
    log_path = tmp_path / f"asgi-{port}.log"
    log = log_path.open("w")
    process = subprocess.Popen(
        [sys.executable, "manage.py", "serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("ASGI server exited:\n" + log_path.read_text())
        try:
            with urllib.request.urlopen(url + "/api/v1/health/live", timeout=1):
                return AsgiServer(url, process, log_path)
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("ASGI server did not start:\n" + log_path.read_text())


def stop_asgi_server(server: AsgiServer) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.process.kill()


@pytest.fixture
def asgi_live_server(transactional_db, tmp_path):
    """The real ASGI app in a child process, on the (committed) test database."""
    server = start_asgi_server(tmp_path=tmp_path)
    yield server
    stop_asgi_server(server)


def login_browser(context, user, base_url: str) -> None:
    """Log `user` in for a Playwright browser context by planting a real session cookie."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.save()
    context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": store.session_key, "url": base_url}]
    )


@pytest.fixture
def login(context, asgi_live_server):
    def _login(user):
        login_browser(context, user, asgi_live_server.url)

    return _login
