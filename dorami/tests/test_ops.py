"""Operations: the compose file, nginx and SRS configs, graceful shutdown, ops commands."""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml
from django.conf import settings

ROOT = Path(settings.BASE_DIR)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- docker-compose -------------------------------------------------------------------------


def _compose(*args: str) -> subprocess.CompletedProcess:
    binary = shutil.which("docker-compose")
    if binary is None:
        pytest.fail(
            "docker-compose is not installed, so docker-compose.yml cannot be validated. "
            "`make test` installs it (scripts/ensure_system_packages.sh); or run "
            "`sudo apt-get install -y docker-compose`."
        )
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMPOSE_")}
    return subprocess.run(
        [binary, "-f", "docker-compose.yml", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )


@pytest.fixture(scope="module")
def compose_config() -> dict:
    result = _compose("config")
    assert result.returncode == 0, result.stderr
    return yaml.safe_load(result.stdout)


def test_compose_file_is_valid():
    result = _compose("config", "-q")
    assert result.returncode == 0, result.stderr


def _volumes(service: dict) -> list[str]:
    """Volumes as "source:target[:mode]" whichever syntax `config` printed."""
    return [
        volume.removesuffix(":rw")
        if isinstance(volume, str)
        else f"{volume.get('source', '')}:{volume['target']}" + (":ro" * volume.get("read_only", 0))
        for volume in service.get("volumes", [])
    ]


def _command(service: dict) -> str:
    command = service.get("command", "")
    return " ".join(command) if isinstance(command, list) else command


def test_compose_has_every_service(compose_config):
    services = compose_config["services"]
    assert set(services) >= {
        "postgres",
        "redis",
        "srs",
        "web",
        "worker",
        "beat",
        "restream",
        "nginx",
    }
    assert services["postgres"]["image"] == "postgres:16"
    assert "healthcheck" in services["postgres"]
    assert services["redis"]["image"] == "redis:7"
    assert "--appendonly yes" in _command(services["redis"])
    assert services["srs"]["image"] == "ossrs/srs:6"
    assert any(
        v.endswith("/srs/srs.conf:/etc/dorami/srs.conf:ro") for v in _volumes(services["srs"])
    )
    web = _command(services["web"])
    assert "migrate" in web
    assert "manage.py serve --host 0.0.0.0 --port 8000" in web
    assert "--wsgi" in web  # HTTP from granian; websockets from the `ws` service (uvicorn)
    ws = _command(services["ws"])
    assert "manage.py serve --host 0.0.0.0 --port 8001" in ws and "--wsgi" not in ws
    assert "celery -A dorami worker" in _command(services["worker"])
    assert "manage.py run_restream" in _command(services["restream"])
    assert any(
        v.endswith("/nginx/nginx.conf:/etc/nginx/nginx.conf:ro")
        for v in _volumes(services["nginx"])
    )
    shared = {"static:/app/staticfiles", "static:/srv/static:ro", "media:/srv/media:ro"}
    assert shared <= set(_volumes(services["web"])) | set(_volumes(services["nginx"]))


def test_compose_runs_exactly_one_beat(compose_config):
    beats = [
        name
        for name, service in compose_config["services"].items()
        if re.search(r"celery .*\bbeat\b", _command(service))
    ]
    assert beats == ["beat"]
    assert compose_config["services"]["beat"]["deploy"]["replicas"] == 1
    for name, service in compose_config["services"].items():
        assert "-B" not in _command(service).split(), f"{name} embeds a beat in a worker"


def test_web_image_dockerfile():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert dockerfile.startswith("# ") and "FROM python:3.11-slim" in dockerfile
    assert "pip install -r requirements.txt" in dockerfile
    assert "collectstatic" in dockerfile
    assert re.search(r"^USER dorami$", dockerfile, re.M)
    assert re.search(r"^STOPSIGNAL SIGTERM$", dockerfile, re.M)
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".git", ".venv", ".env"} <= set(ignored)


def test_srs_config():
    conf = (ROOT / "srs" / "srs.conf").read_text()
    assert re.search(r"^listen\s+1935;", conf, re.M)
    assert re.search(r"mount\s+\[vhost\]/\[app\]/\[stream\]\.flv;", conf)
    assert re.search(r"hls_fragment\s+1;", conf)
    assert re.search(r"hls_window\s+6;", conf)
    # Flat names under /hls/, the layout live/hls.py serves from HLS_ROOT.
    assert re.search(r"hls_m3u8_file\s+\[stream\]\.m3u8;", conf)
    assert re.search(r"hls_ts_file\s+\[stream\]-\[seq\]\.ts;", conf)
    for event in ("on_publish", "on_unpublish"):
        assert re.search(
            rf"{event}\s+http://web:8000/api/v1/media/srs/{event}\?secret=\$\{{MEDIA_WEBHOOK_SECRET\}};",
            conf,
        )
    assert "/api/v1/media/srs/heartbeat?secret=" in conf
    assert conf.count("{") == conf.count("}")


def test_every_setting_is_documented_in_env_example():
    source = "\n".join(
        path.read_text() for path in [ROOT / "dorami" / "settings.py", *ROOT.glob("*/settings*.py")]
    )
    read = set(re.findall(r"\benv\.\w+\(\s*\"([A-Z][A-Z0-9_]*)\"", source)) - {"DORAMI_TESTING"}
    documented = set(
        re.findall(r"^#? ?([A-Z][A-Z0-9_]*)=", (ROOT / ".env.example").read_text(), re.M)
    )
    assert read, "no env reads found in settings.py"
    assert sorted(read - documented) == [], "document these in .env.example"


# --- nginx ----------------------------------------------------------------------------------


def test_nginx_config_declares_the_proxies():
    conf = (ROOT / "nginx" / "nginx.conf").read_text()
    assert "client_max_body_size 10m;" in conf
    ws = conf[conf.index("location /ws/") :]
    ws = ws[: ws.index("}")]
    assert "proxy_set_header Upgrade $http_upgrade;" in ws
    assert "proxy_set_header Connection $connection_upgrade;" in ws
    assert "proxy_read_timeout 3600s;" in ws
    flv = conf[conf.index('location ~ "^/live/live/') :]
    flv = flv[: flv.index("\n        }")]
    assert "proxy_pass http://dorami_srs" in flv
    assert "proxy_buffering off;" in flv
    assert 'location ~ "^/hls/[a-z2-9]{12}\\.m3u8$"' in conf
    assert "server srs:8080;" in conf and "server web:8000;" in conf
    assert "server ws:8001;" in conf and "proxy_pass http://dorami_ws;" in ws


class _Recorder(BaseHTTPRequestHandler):
    """A fake upstream that answers with what it received."""

    def _answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        body = json.dumps(
            {
                "upstream": self.server.name,
                "path": self.path,
                "headers": {k.lower(): v for k, v in self.headers.items()},
            }
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, *args):
        pass


def _fake_upstream(name: str) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    server.name = name
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture
def running_nginx():
    """nginx/nginx.conf for real, with its upstreams and volumes pointed at local stand-ins."""
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(nginx).exists():
        pytest.fail("nginx is not installed: `make test` installs it (apt-get install nginx)")
    web, srs, ws = _fake_upstream("web"), _fake_upstream("srs"), _fake_upstream("ws")
    prefix = Path(tempfile.mkdtemp(prefix="dorami-nginx-"))
    static = prefix / "static"
    static.mkdir()
    (static / "app.css").write_text("body{}")
    for path in (prefix, static, static / "app.css"):
        path.chmod(0o755)
    port = _free_port()
    conf = (ROOT / "nginx" / "nginx.conf").read_text()
    conf = conf.replace("server web:8000;", f"server 127.0.0.1:{web.server_port};")
    conf = conf.replace("server srs:8080;", f"server 127.0.0.1:{srs.server_port};")
    conf = conf.replace("server ws:8001;", f"server 127.0.0.1:{ws.server_port};")
    conf = conf.replace("listen 80 default_server;", f"listen 127.0.0.1:{port} default_server;")
    conf = conf.replace("/srv/static/", f"{static}/").replace("/srv/media/", f"{prefix}/")
    conf = conf.replace("access_log /dev/stdout", f"access_log {prefix}/access.log")
    for temp in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        conf = conf.replace("http {", f"http {{\n    {temp}_temp_path {prefix}/{temp};", 1)
    (prefix / "nginx.conf").write_text(conf)
    user = "user root;" if os.getuid() == 0 else ""
    base = [nginx, "-p", str(prefix), "-e", str(prefix / "error.log"), "-c", "nginx.conf"]
    check = subprocess.run(
        [*base, "-t", "-g", f"pid {prefix}/nginx.pid;"], capture_output=True, text=True
    )
    assert check.returncode == 0, check.stderr
    process = subprocess.Popen(
        [*base, "-g", f"daemon off; pid {prefix}/nginx.pid; {user}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    process.terminate()
    process.wait(timeout=10)
    web.shutdown()
    srs.shutdown()
    ws.shutdown()
    shutil.rmtree(prefix, ignore_errors=True)


def _get(url: str, headers: dict | None = None, data: bytes | None = None):
    request = urllib.request.Request(url, headers=headers or {}, data=data)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def test_nginx_routes_requests(running_nginx):
    status, _headers, body = _get(running_nginx + "/live/live/abcdefgh2345.flv")
    seen = json.loads(body)
    assert (status, seen["upstream"], seen["path"]) == (200, "srs", "/live/abcdefgh2345.flv")

    status, headers, body = _get(running_nginx + "/hls/abcdefgh2345.m3u8")
    seen = json.loads(body)
    assert (seen["upstream"], seen["path"]) == ("srs", "/hls/abcdefgh2345.m3u8")
    assert headers["Cache-Control"] == "no-cache"
    status, headers, body = _get(running_nginx + "/hls/abcdefgh2345-17.ts")
    assert json.loads(body)["path"] == "/hls/abcdefgh2345-17.ts"
    assert "no-cache" not in headers.get("Cache-Control", "")

    # only public-id names reach SRS: a publish key (32 hex) names nothing playable
    key = "0123456789abcdef0123456789abcdef"
    for path in (f"/live/live/{key}.flv", f"/hls/{key}.m3u8", f"/hls/{key}-1.ts", "/hls/x.txt"):
        status, _headers, _body = _get(running_nginx + path)
        assert status == 404, path

    status, _headers, body = _get(
        running_nginx + "/ws/live/1/",
        headers={"Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Version": "13"},
    )
    seen = json.loads(body)
    assert seen["upstream"] == "ws"
    assert seen["headers"]["upgrade"] == "websocket"
    assert seen["headers"]["connection"] == "upgrade"

    status, _headers, body = _get(
        running_nginx + "/live/abc_123",
        headers={"Host": "shop.test", "X-Forwarded-For": "10.0.0.1"},  # a forged hop
    )
    seen = json.loads(body)
    assert (seen["upstream"], seen["path"]) == ("web", "/live/abc_123")
    assert seen["headers"]["host"] == "shop.test"
    assert seen["headers"]["x-forwarded-proto"] == "http"
    assert seen["headers"]["x-forwarded-for"] == "127.0.0.1"

    for private in ("/api/v1/media/srs/on_publish?secret=x", "/metrics"):
        status, _headers, body = _get(running_nginx + private, data=b"{}")
        assert status == 404, private

    status, _headers, body = _get(running_nginx + "/static/app.css")
    assert (status, body) == (200, b"body{}")

    status, _headers, _body = _get(running_nginx + "/upload", data=b"x" * (11 * 1024 * 1024))
    assert status == 413


def test_nginx_limits_floods_of_writes_per_address(running_nginx):
    # given one address posting to checkout as fast as it can (burst 20, then 2 a second)
    statuses = [_get(running_nginx + "/checkout/", data=b"x=1")[0] for _ in range(40)]
    # then the burst passes and the rest is refused, in Korean, with a Retry-After
    assert statuses[:20] == [200] * 20 and 429 in statuses
    status, headers, body = _get(running_nginx + "/checkout/", data=b"x=1")
    assert status == 429 and headers["Retry-After"] == "10"
    assert "요청이 너무 많습니다" in body.decode()
    assert "utf-8" in headers["Content-Type"]
    # looking is not limited, nor are other zones' paths
    assert _get(running_nginx + "/checkout/")[0] == 200
    assert _get(running_nginx + "/cart/add/", data=b"x=1")[0] == 200
    # password logins have their own, smaller zone
    logins = [_get(running_nginx + "/admin/login/", data=b"x=1")[0] for _ in range(30)]
    assert logins[:20] == [200] * 20 and 429 in logins
    assert _get(running_nginx + "/admin/login/")[0] == 200


# --- graceful shutdown ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "stopped"),
    [
        # uvicorn finishes its shutdown, then re-raises SIGTERM so the exit status tells why.
        ([], ("stopping: finishing open requests", "stopped")),
        (["--wsgi"], ("Shutting down granian", "Granian shutdown completed")),
    ],
    ids=["uvicorn", "granian"],
)
def test_serve_stops_cleanly_on_sigterm(tmp_path, extra, stopped):
    port = _free_port()
    env = {
        **os.environ,
        "DEBUG": "1",
        "DATABASE_URL": "",
        "REDIS_URL": "",
        "SQLITE_PATH": str(tmp_path / "db.sqlite3"),
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "serve",
            "--port",
            str(port),
            "--graceful-timeout",
            "2",
            "--no-scheduler",
            *extra,
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        for _ in range(150):
            try:
                status, _h, _b = _get(f"http://127.0.0.1:{port}/api/v1/health/live")
                if status == 200:
                    break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail("serve did not start")
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=15)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode in (0, -signal.SIGTERM), output
    assert all(line in output for line in stopped), output


# --- manage.py doctor -----------------------------------------------------------------------


@pytest.fixture
def production_like(settings):
    settings.DEBUG = False
    settings.SECRET_KEY = "k3y-" + "0123456789abcdefghijklmnopqrstuvwxyz" * 2
    settings.PROFILE_ENCRYPTION_KEYS = "2:" + "ab" * 32 + ",1:" + "cd" * 32
    settings.ALLOWED_HOSTS = ["shop.example.com"]
    settings.MEDIA_SERVER_API_URL = ""
    settings.SOCIALACCOUNT_PROVIDERS = {"kakao": {"APP": {"client_id": "rest-api-key"}}}
    return settings


@pytest.fixture
def celery_worker_process():
    """A real `celery -A dorami worker` on this test run's broker."""
    from dorami.celery import app

    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "dorami",
            "worker",
            "--pool",
            "solo",
            "-l",
            "WARNING",
            # A queue of its own: it answers pings but never runs tasks other tests left queued.
            "-Q",
            f"doctor-test-{os.getpid()}",
        ],
        cwd=ROOT,
        env={
            **os.environ,
            "REDIS_URL": settings.REDIS_URL,
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        },
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(60):
            if app.control.ping(timeout=0.5):
                break
        else:
            pytest.fail("the celery worker did not answer")
        yield process
    finally:
        process.terminate()
        process.wait(timeout=20)


def _doctor() -> tuple[str, str | None]:
    from io import StringIO

    from django.core.management import CommandError, call_command

    out = StringIO()
    try:
        call_command("doctor", stdout=out, no_color=True)
    except CommandError as exc:
        return out.getvalue(), str(exc)
    return out.getvalue(), None


def _rows(output: str) -> dict[str, tuple[str, str]]:
    rows = {}
    for line in output.splitlines()[1:]:
        parts = line.split(None, 2)
        if len(parts) >= 2 and parts[1] in ("OK", "WARN", "FAIL"):
            rows[parts[0]] = (parts[1], parts[2] if len(parts) > 2 else "")
    return rows


@pytest.mark.django_db
def test_doctor_passes_on_a_healthy_setup(production_like, celery_worker_process):
    from django.core.cache import cache
    from django.utils import timezone

    from dorami.backups import LAST_SUCCESS_KEY
    from dorami.tasks import heartbeat

    heartbeat()
    production_like.BACKUP_DESTINATION = "s3://shop-backups/nightly"
    cache.set(LAST_SUCCESS_KEY, timezone.now().timestamp() - 3 * 3600)
    output, error = _doctor()
    assert error is None, output
    rows = _rows(output)
    assert {name: status for name, (status, _d) in rows.items()} == {
        "settings.debug": "OK",
        "settings.secret_key": "OK",
        "settings.encryption_key": "OK",
        "settings.allowed_hosts": "OK",
        "settings.kakao": "OK",
        "static_files": "OK",
        "database": "OK",
        "database.migrations": "OK",
        "redis": "OK",
        "celery.workers": "OK",
        "beat.heartbeat": "OK",
        "media_server": "OK",
        "backup": "OK",
    }
    assert rows["backup"][1] == "last backup 3 h ago to s3://shop-backups/nightly"
    assert rows["settings.encryption_key"][1] == "current version 2 (known: 2, 1)"
    assert rows["celery.workers"][1] == "1 worker(s) answered"
    assert "doctor: all checks passed" in output


@pytest.mark.django_db
def test_doctor_fails_on_unreachable_redis(production_like):
    production_like.REDIS_URL = "redis://127.0.0.1:1/0"
    output, error = _doctor()
    assert error == "1 check(s) failed: redis"
    rows = _rows(output)
    assert rows["redis"][0] == "FAIL"
    assert rows["celery.workers"][0] == "WARN"  # none running here


@pytest.mark.django_db
def test_doctor_fails_on_insecure_settings(production_like):
    from dorami import settings as project_settings

    production_like.SECRET_KEY = project_settings._DEV_SECRET
    production_like.PROFILE_ENCRYPTION_KEYS = "1:not-hex"
    production_like.ALLOWED_HOSTS = ["*"]
    output, error = _doctor()
    rows = _rows(output)
    assert rows["settings.secret_key"][0] == "FAIL"
    assert rows["settings.encryption_key"][0] == "FAIL"
    assert "PROFILE_ENCRYPTION_KEYS" in rows["settings.encryption_key"][1]
    assert rows["settings.allowed_hosts"][0] == "FAIL"
    assert error.startswith("3 check(s) failed")


@pytest.mark.django_db
def test_doctor_reports_a_stale_beat_and_the_media_server(production_like):
    from datetime import timedelta

    from django.core.cache import cache
    from django.utils import timezone

    cache.set("dorami:beat:last", (timezone.now() - timedelta(minutes=20)).isoformat())
    fake = _fake_upstream("srs")
    production_like.MEDIA_SERVER_API_URL = f"http://127.0.0.1:{fake.server_port}"
    try:
        output, error = _doctor()
    finally:
        fake.shutdown()
    rows = _rows(output)
    assert rows["beat.heartbeat"] == ("FAIL", "last heartbeat 20 min ago: beat is down")
    assert rows["media_server"][0] == "OK"
    assert error == "1 check(s) failed: beat.heartbeat"

    production_like.MEDIA_SERVER_API_URL = f"http://127.0.0.1:{_free_port()}"
    cache.delete("dorami:beat:last")
    output, error = _doctor()
    rows = _rows(output)
    assert rows["beat.heartbeat"][0] == "WARN"
    assert rows["media_server"][0] == "FAIL"
    assert error == "1 check(s) failed: media_server"


@pytest.mark.django_db
def test_doctor_reports_missing_and_stale_backups(production_like):
    from django.core.cache import cache
    from django.utils import timezone

    from dorami.backups import LAST_SUCCESS_KEY

    production_like.BACKUP_DESTINATION = ""
    assert _rows(_doctor()[0])["backup"][0] == "WARN"
    production_like.BACKUP_DESTINATION = "/data/backups"
    cache.delete(LAST_SUCCESS_KEY)
    assert _rows(_doctor()[0])["backup"] == (
        "WARN",
        "none yet to /data/backups (run_job database-backup-daily)",
    )
    cache.set(LAST_SUCCESS_KEY, timezone.now().timestamp() - 50 * 3600)
    output, error = _doctor()
    assert _rows(output)["backup"][0] == "FAIL" and "backup" in error


# --- manage.py backup / restore -------------------------------------------------------------


def _manage(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**os.environ, "DEBUG": "1", "REDIS_URL": "", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def scratch_database():
    """A PostgreSQL database of this test's own, dropped afterwards."""
    import secrets

    import psycopg

    db = settings.DATABASES["default"]
    if db["ENGINE"] != "django.db.backends.postgresql":
        pytest.fail("the backup round trip needs PostgreSQL (set DATABASE_URL, see Makefile)")
    name = f"dorami_scratch_{secrets.token_hex(4)}"
    params = {
        "host": db["HOST"] or "127.0.0.1",
        "port": db["PORT"] or 5432,
        "user": db["USER"],
        "password": db["PASSWORD"],
    }
    with psycopg.connect(dbname="postgres", autocommit=True, **params) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = f"postgres://{params['user']}:{params['password']}@{params['host']}:{params['port']}"
    try:
        yield f"{url}/{name}", lambda: psycopg.connect(dbname=name, autocommit=True, **params)
    finally:
        with psycopg.connect(dbname="postgres", autocommit=True, **params) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_backup_and_restore_round_trip_on_postgresql(scratch_database, tmp_path):
    url, connect = scratch_database
    with connect() as conn:
        conn.execute("CREATE TABLE note (id int PRIMARY KEY, body text NOT NULL)")
        conn.execute("INSERT INTO note VALUES (1, '도라미'), (2, 'two')")
    dump = tmp_path / "backup.dump"

    result = _manage("backup", "--output", str(dump), env={"DATABASE_URL": url})
    assert result.returncode == 0, result.stderr
    assert "backup written" in result.stdout
    assert dump.read_bytes().startswith(b"PGDMP")
    again = _manage("backup", "--output", str(dump), env={"DATABASE_URL": url})
    assert again.returncode != 0 and "already exists" in again.stderr

    with connect() as conn:
        conn.execute("DELETE FROM note WHERE id = 1")
        conn.execute("UPDATE note SET body = 'changed' WHERE id = 2")

    refused = _manage("restore", str(dump), env={"DATABASE_URL": url})
    assert refused.returncode != 0
    assert "--yes" in refused.stderr
    with connect() as conn:
        assert conn.execute("SELECT count(*) FROM note").fetchone()[0] == 1

    not_a_dump = tmp_path / "notes.txt"
    not_a_dump.write_text("hello")
    wrong = _manage("restore", str(not_a_dump), "--yes", env={"DATABASE_URL": url})
    assert wrong.returncode != 0 and "is not a postgresql backup" in wrong.stderr

    restored = _manage("restore", str(dump), "--yes", env={"DATABASE_URL": url})
    assert restored.returncode == 0, restored.stderr
    with connect() as conn:
        rows = conn.execute("SELECT id, body FROM note ORDER BY id").fetchall()
    assert rows == [(1, "도라미"), (2, "two")]


def test_backup_and_restore_round_trip_on_sqlite(tmp_path):
    import sqlite3

    db_path = tmp_path / "db.sqlite3"
    with sqlite3.connect(db_path) as conn:
        conn.execute("CREATE TABLE note (id int PRIMARY KEY, body text)")
        conn.execute("INSERT INTO note VALUES (1, '도라미')")
    env = {"DATABASE_URL": "", "SQLITE_PATH": str(db_path)}
    copy = tmp_path / "copy.sqlite3"
    result = _manage("backup", "-o", str(copy), env=env)
    assert result.returncode == 0, result.stderr
    with sqlite3.connect(db_path) as conn:
        conn.execute("DELETE FROM note")
    result = _manage("restore", str(copy), "--yes", env=env)
    assert result.returncode == 0, result.stderr
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("SELECT body FROM note").fetchall() == [("도라미",)]
