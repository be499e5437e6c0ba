"""Database backups: dump, verify, store in a directory or an S3-compatible bucket, prune.

One code path for `manage.py backup` and the daily beat job (`dorami.tasks.backup_daily`).

- PostgreSQL: `pg_dump --format=custom`, verified with `pg_restore --list` before it is stored.
- SQLite (embedded default): a consistent copy of the file, verified with `PRAGMA quick_check`.
- Destination (`BACKUP_DESTINATION`): a directory, or `s3://bucket/prefix` (boto3, with
  `BACKUP_S3_ENDPOINT_URL` for MinIO, Backblaze B2, Cloudflare R2, ...).
- Retention: files this module wrote (`dorami-<db>-<UTC stamp>.<ext>`) older than
  `BACKUP_KEEP_DAYS` are deleted after a successful backup; nothing else is touched.

Restore with `manage.py restore FILE --yes` (the drill is in docs/operations.md).
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, connections
from django.utils import timezone

logger = logging.getLogger(__name__)

PG_MAGIC = b"PGDMP"
SQLITE_MAGIC = b"SQLite format 3\x00"
LAST_SUCCESS_KEY = "dorami:backup:last"  # epoch seconds of the last stored backup (/metrics)
STAMP_FORMAT = "%Y%m%d-%H%M%S"
NAME_RE = re.compile(r"^dorami-(?P<db>.+)-(?P<stamp>\d{8}-\d{6})\.(?:dump|sqlite3)$")

Progress = Callable[[int], None]  # called with bytes done since the last call


class BackupError(Exception):
    """A backup or restore step failed; the message says which and why (for operators)."""

    code = "BACKUP_FAILED"


@dataclass
class BackupResult:
    location: str
    size: int
    verified: str
    pruned: list[str] = field(default_factory=list)


# --- Database tools --------------------------------------------------------------------------


def database() -> dict:
    return connections[DEFAULT_DB_ALIAS].settings_dict


def vendor() -> str:
    return connections[DEFAULT_DB_ALIAS].vendor


def pg_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(
            f"{name} is not installed. Install the PostgreSQL client tools matching the server "
            "(Debian: apt-get install postgresql-client; the web image ships them)."
        )
    return path


def pg_env(db: dict | None = None) -> dict[str, str]:
    """libpq variables for the database (the password never goes on a command line)."""
    db = db or database()
    env = dict(os.environ)
    for key, value in (
        ("PGHOST", db.get("HOST")),
        ("PGPORT", db.get("PORT")),
        ("PGUSER", db.get("USER")),
        ("PGPASSWORD", db.get("PASSWORD")),
        ("PGDATABASE", db.get("NAME")),
    ):
        if value:
            env[key] = str(value)
        else:
            env.pop(key, None)
    return env


def sqlite_copy(source: Path | str, target: Path | str) -> None:
    """A consistent copy of a live SQLite database (the online backup API)."""
    with closing(sqlite3.connect(str(source))) as src, closing(sqlite3.connect(str(target))) as dst:
        src.backup(dst)


def file_kind(path: Path) -> str:
    with path.open("rb") as handle:
        head = handle.read(16)
    if head.startswith(PG_MAGIC):
        return "postgresql"
    if head == SQLITE_MAGIC:
        return "sqlite"
    return "unknown"


def _run(command: list[str], *, what: str) -> str:
    result = subprocess.run(  # noqa: S603 (fixed argv, no shell)
        command, env=pg_env(), capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise BackupError(f"{what} failed: {result.stderr.strip()}")
    return result.stdout


# --- Dump and verify -------------------------------------------------------------------------


def backup_name(*, now: datetime | None = None) -> str:
    name = Path(str(database()["NAME"])).stem
    stamp = (now or timezone.now()).astimezone(UTC).strftime(STAMP_FORMAT)
    suffix = ".dump" if vendor() == "postgresql" else ".sqlite3"
    return f"dorami-{name}-{stamp}{suffix}"


def backup_dump(*, path: Path) -> None:
    """Write the configured database to `path` (PostgreSQL custom format or a SQLite copy)."""
    kind = vendor()
    if kind == "postgresql":
        _run(
            [
                pg_tool("pg_dump"),
                "--format=custom",
                "--compress=6",
                "--no-password",
                f"--file={path}",
            ],
            what="pg_dump",
        )
    elif kind == "sqlite":
        sqlite_copy(database()["NAME"], path)
    else:
        raise BackupError(f"backup supports PostgreSQL and SQLite, not {kind}.")


def backup_verify(*, path: Path) -> str:
    """Check a backup file can be read back; returns a one-line summary."""
    kind = file_kind(path)
    if kind == "postgresql":
        listing = _run([pg_tool("pg_restore"), "--list", str(path)], what="pg_restore --list")
        entries = [line for line in listing.splitlines() if line and not line.startswith(";")]
        tables = sum(1 for line in entries if " TABLE DATA " in line)
        if not tables:
            raise BackupError(f"{path.name}: pg_restore --list shows no table data.")
        return f"pg_restore --list: {len(entries)} entries, {tables} tables with data"
    if kind == "sqlite":
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
            status = conn.execute("PRAGMA quick_check").fetchone()[0]
            count = conn.execute(
                "SELECT count(*) FROM sqlite_master WHERE type='table'"
            ).fetchone()[0]
        if status != "ok":
            raise BackupError(f"{path.name}: SQLite quick_check says {status}.")
        return f"sqlite quick_check ok, {count} tables"
    raise BackupError(f"{path.name} is not a backup written by this site.")


# --- Destinations ----------------------------------------------------------------------------


def _s3_parts(destination: str) -> tuple[str, str]:
    bucket, _, prefix = destination.removeprefix("s3://").partition("/")
    if not bucket:
        raise BackupError(f"{destination}: expected s3://bucket/prefix")
    return bucket, (prefix.strip("/") + "/" if prefix.strip("/") else "")


def s3_client():
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=settings.BACKUP_S3_ENDPOINT_URL or None,
        region_name=settings.BACKUP_S3_REGION or None,
        aws_access_key_id=settings.BACKUP_S3_ACCESS_KEY_ID or None,
        aws_secret_access_key=settings.BACKUP_S3_SECRET_ACCESS_KEY or None,
    )


def _store(path: Path, destination: str, *, progress: Progress | None) -> str:
    if destination.startswith("s3://"):
        bucket, prefix = _s3_parts(destination)
        key = prefix + path.name
        client = s3_client()
        try:
            client.upload_file(str(path), bucket, key, Callback=progress)
            stored = client.head_object(Bucket=bucket, Key=key)["ContentLength"]
        except Exception as exc:  # botocore raises many kinds; all mean "not stored"
            raise BackupError(f"upload to s3://{bucket}/{key} failed: {exc}") from exc
        size = path.stat().st_size
        if stored != size:
            raise BackupError(f"s3://{bucket}/{key}: stored {stored} bytes of {size}")
        return f"s3://{bucket}/{key}"
    directory = Path(destination).expanduser().resolve()
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / path.name
    shutil.move(str(path), target)
    if progress:
        progress(target.stat().st_size)
    return str(target)


def _expired(name: str, *, cutoff: datetime) -> bool:
    match = NAME_RE.match(name)
    if not match:
        return False
    stamp = datetime.strptime(match["stamp"], STAMP_FORMAT).replace(tzinfo=UTC)
    return stamp < cutoff


def backups_prune(*, destination: str, keep_days: int, now: datetime | None = None) -> list[str]:
    """Delete this site's backups older than `keep_days` (0 keeps everything)."""
    if keep_days <= 0:
        return []
    cutoff = (now or timezone.now()) - timedelta(days=keep_days)
    removed: list[str] = []
    if destination.startswith("s3://"):
        bucket, prefix = _s3_parts(destination)
        client = s3_client()
        pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        for page in pages:
            for obj in page.get("Contents", []):
                name = obj["Key"][len(prefix) :]
                if "/" not in name and _expired(name, cutoff=cutoff):
                    client.delete_object(Bucket=bucket, Key=obj["Key"])
                    removed.append(f"s3://{bucket}/{obj['Key']}")
        return removed
    directory = Path(destination).expanduser()
    if not directory.is_dir():
        return []
    for path in sorted(directory.iterdir()):
        if path.is_file() and _expired(path.name, cutoff=cutoff):
            path.unlink()
            removed.append(str(path))
    return removed


# --- The whole job -------------------------------------------------------------------------


def backup_run(
    *,
    destination: str | None = None,
    keep_days: int | None = None,
    progress: Progress | None = None,
) -> BackupResult:
    """Dump, verify, store, then prune old backups at the same destination."""
    destination = destination or settings.BACKUP_DESTINATION
    if not destination:
        raise BackupError("No destination: set BACKUP_DESTINATION (a directory or s3://bucket/).")
    keep_days = settings.BACKUP_KEEP_DAYS if keep_days is None else keep_days
    with tempfile.TemporaryDirectory(prefix="dorami-backup-") as workdir:
        path = Path(workdir) / backup_name()
        backup_dump(path=path)
        summary = backup_verify(path=path)
        size = path.stat().st_size
        location = _store(path, destination, progress=progress)
    pruned = backups_prune(destination=destination, keep_days=keep_days)
    cache.set(LAST_SUCCESS_KEY, timezone.now().timestamp(), timeout=None)
    logger.info(
        "backup stored location=%s bytes=%d verified=%r pruned=%d",
        location,
        size,
        summary,
        len(pruned),
    )
    return BackupResult(location=location, size=size, verified=summary, pruned=pruned)
