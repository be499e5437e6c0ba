"""`manage.py doctor`: is this deployment configured and are its dependencies up?

Checks: settings (DEBUG, SECRET_KEY, encryption keys, ALLOWED_HOSTS, Kakao), collected static
files, database and migrations, Redis, Celery workers, the beat heartbeat, the media server,
the last backup.

Prints one line per check (OK / WARN / FAIL) and exits non-zero when any check fails, so it can
gate a deploy: `docker-compose run --rm web python manage.py doctor`.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from accounts.crypto import parse_keys
from dorami import settings as project_settings
from dorami.backups import LAST_SUCCESS_KEY
from dorami.tasks import BEAT_KEY

OK, WARN, FAIL = "OK", "WARN", "FAIL"
BACKUP_STALE_HOURS = 48  # the job is daily: two missed runs
# The heartbeat job runs every 60 s; allow for a late tick or a beat restart.
BEAT_STALE_AFTER = timedelta(minutes=5)


@dataclass(frozen=True)
class Check:
    name: str
    status: str
    detail: str


def check_debug() -> Check:
    if settings.DEBUG:
        return Check("settings.debug", WARN, "DEBUG is on: development only")
    return Check("settings.debug", OK, "DEBUG is off")


def check_secret_key() -> Check:
    key = settings.SECRET_KEY
    if not key or key == project_settings._DEV_SECRET:
        status = WARN if settings.DEBUG else FAIL
        return Check("settings.secret_key", status, "SECRET_KEY is unset (development key)")
    if len(key) < 32 or len(set(key)) < 5:
        status = WARN if settings.DEBUG else FAIL
        return Check("settings.secret_key", status, "SECRET_KEY is too short or too simple")
    return Check("settings.secret_key", OK, f"set ({len(key)} characters)")


def check_encryption_key() -> Check:
    try:
        current, keys = parse_keys(settings.PROFILE_ENCRYPTION_KEYS)
    except ImproperlyConfigured as exc:
        return Check("settings.encryption_key", FAIL, str(exc))
    if keys[current] == bytes.fromhex(project_settings._DEV_PROFILE_KEY):
        status = WARN if settings.DEBUG else FAIL
        return Check("settings.encryption_key", status, "PROFILE_ENCRYPTION_KEY is the dev key")
    versions = ", ".join(str(v) for v in sorted(keys, reverse=True))
    return Check("settings.encryption_key", OK, f"current version {current} (known: {versions})")


def check_allowed_hosts() -> Check:
    hosts = list(settings.ALLOWED_HOSTS)
    if not hosts:
        return Check("settings.allowed_hosts", FAIL, "ALLOWED_HOSTS is empty")
    if "*" in hosts:
        status = WARN if settings.DEBUG else FAIL
        return Check("settings.allowed_hosts", status, "ALLOWED_HOSTS allows any host ('*')")
    return Check("settings.allowed_hosts", OK, ", ".join(hosts))


def check_database() -> list[Check]:
    connection = connections[DEFAULT_DB_ALIAS]
    vendor = connection.vendor
    try:
        connection.ensure_connection()
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:  # reported, not raised
        return [Check("database", FAIL, f"{vendor}: {type(exc).__name__}: {exc}".strip())]
    checks = [Check("database", OK, f"{vendor} {connection.settings_dict['NAME']}")]
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if plan:
        names = ", ".join(f"{m.app_label}.{m.name}" for m, _backwards in plan[:5])
        more = f" (+{len(plan) - 5} more)" if len(plan) > 5 else ""
        checks.append(Check("database.migrations", FAIL, f"{len(plan)} unapplied: {names}{more}"))
    else:
        checks.append(Check("database.migrations", OK, "all applied"))
    return checks


def check_redis() -> Check:
    if not settings.REDIS_URL:
        status = OK if settings.DEBUG else WARN
        return Check("redis", status, "REDIS_URL unset: embedded default (single process)")
    import redis

    try:
        client = redis.Redis.from_url(
            settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2
        )
        client.ping()
        version = client.info("server").get("redis_version", "?")
        client.close()
    except Exception as exc:
        return Check("redis", FAIL, f"{type(exc).__name__}: {exc}")
    return Check("redis", OK, f"Redis {version}")


def check_beat() -> Check:
    backend = settings.CACHES["default"]["BACKEND"]
    if backend.endswith("LocMemCache"):
        return Check(
            "beat.heartbeat",
            WARN,
            "not checkable with the local-memory cache (embedded default: jobs run in serve)",
        )
    try:
        last = cache.get(BEAT_KEY)
    except Exception as exc:
        return Check("beat.heartbeat", FAIL, f"cache unreachable: {type(exc).__name__}")
    if not last:
        return Check("beat.heartbeat", WARN, "no heartbeat yet: is `celery -A dorami beat` up?")
    age = timezone.now() - datetime.fromisoformat(last)
    if age > BEAT_STALE_AFTER:
        minutes = int(age.total_seconds() // 60)
        return Check("beat.heartbeat", FAIL, f"last heartbeat {minutes} min ago: beat is down")
    return Check("beat.heartbeat", OK, f"last heartbeat {int(age.total_seconds())} s ago")


def check_media_server() -> Check:
    base = settings.MEDIA_SERVER_API_URL.rstrip("/")
    if not base:
        return Check("media_server", OK, "MEDIA_SERVER_API_URL unset: not checked")
    url = f"{base}/api/v1/versions"
    try:
        with urllib.request.urlopen(url, timeout=3) as response:  # noqa: S310 (URL from settings)
            payload = json.loads(response.read().decode("utf-8") or "{}")
    except (OSError, ValueError, urllib.error.URLError) as exc:
        return Check("media_server", FAIL, f"{url}: {exc}")
    version = (payload.get("data") or {}).get("version", "") if isinstance(payload, dict) else ""
    return Check("media_server", OK, f"{base} {version}".strip())


def check_kakao() -> Check:
    app = settings.SOCIALACCOUNT_PROVIDERS.get("kakao", {}).get("APP", {})
    client_id = app.get("client_id", "")
    if not client_id or client_id == "dorami-dev-kakao":
        if settings.DEBUG:
            return Check("settings.kakao", OK, "KAKAO_CLIENT_ID unset (dev login in use)")
        return Check("settings.kakao", WARN, "KAKAO_CLIENT_ID unset: Kakao login will fail")
    return Check("settings.kakao", OK, "client id set")


def check_static_files() -> Check:
    backend = settings.STORAGES["staticfiles"]["BACKEND"]
    if "Manifest" not in backend:
        return Check("static_files", OK, "served from the source folders (DEBUG)")
    manifest = Path(settings.STATIC_ROOT) / "staticfiles.json"
    if not manifest.is_file():
        return Check("static_files", FAIL, f"{manifest} missing: run `manage.py collectstatic`")
    return Check("static_files", OK, f"collected in {settings.STATIC_ROOT}")


def check_workers() -> Check:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return Check("celery.workers", OK, "tasks run inline (no worker needed)")
    from dorami.celery import app

    try:
        replies = app.control.ping(timeout=1.0) or []
    except Exception as exc:
        return Check("celery.workers", FAIL, f"broker unreachable: {type(exc).__name__}: {exc}")
    if not replies:
        return Check("celery.workers", WARN, "no worker answered: is `celery -A dorami worker` up?")
    return Check("celery.workers", OK, f"{len(replies)} worker(s) answered")


def check_backup() -> Check:
    """The daily backup job's destination and its last verified, stored backup."""
    if not settings.BACKUP_DESTINATION:
        return Check("backup", WARN, "BACKUP_DESTINATION unset: the daily backup job fails")
    try:
        last = cache.get(LAST_SUCCESS_KEY)
    except Exception as exc:
        return Check("backup", FAIL, f"cache unreachable: {type(exc).__name__}")
    where = settings.BACKUP_DESTINATION
    if not last:
        return Check("backup", WARN, f"none yet to {where} (run_job database-backup-daily)")
    hours = int((timezone.now().timestamp() - float(last)) // 3600)
    if hours >= BACKUP_STALE_HOURS:
        return Check("backup", FAIL, f"last backup {hours} h ago to {where}: the job fails")
    return Check("backup", OK, f"last backup {hours} h ago to {where}")


def run_checks() -> list[Check]:
    checks = [check_debug(), check_secret_key(), check_encryption_key(), check_allowed_hosts()]
    checks += [check_kakao(), check_static_files()]
    checks += check_database()
    checks += [check_redis(), check_workers(), check_beat(), check_media_server()]
    checks.append(check_backup())
    return checks


class Command(BaseCommand):
    help = "Check settings, database, Redis, the beat heartbeat and the media server."

    requires_system_checks = []

    def handle(self, *args, **options):
        checks = run_checks()
        width = max(len(c.name) for c in checks)
        style = {OK: self.style.SUCCESS, WARN: self.style.WARNING, FAIL: self.style.ERROR}
        self.stdout.write(f"{'CHECK'.ljust(width)}  STATUS  DETAIL")
        for check in checks:
            status = style[check.status](check.status.ljust(6))
            self.stdout.write(f"{check.name.ljust(width)}  {status}  {check.detail}")
        failed = [c.name for c in checks if c.status == FAIL]
        warned = sum(c.status == WARN for c in checks)
        if failed:
            raise CommandError(f"{len(failed)} check(s) failed: {', '.join(failed)}")
        self.stdout.write(f"doctor: all checks passed ({warned} warning(s))")
