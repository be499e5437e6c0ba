"""Shared bits of `manage.py backup` and `manage.py restore` (PostgreSQL tools, SQLite copy)."""

from __future__ import annotations

import os
import shutil
import sqlite3
from pathlib import Path

from django.core.management.base import CommandError
from django.db import DEFAULT_DB_ALIAS, connections

PG_MAGIC = b"PGDMP"
SQLITE_MAGIC = b"SQLite format 3\x00"


def database() -> dict:
    return connections[DEFAULT_DB_ALIAS].settings_dict


def vendor() -> str:
    return connections[DEFAULT_DB_ALIAS].vendor


def pg_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise CommandError(
            f"{name} is not installed. Install the PostgreSQL client tools matching the server "
            "(Debian: apt-get install postgresql-client; the web image ships them)."
        )
    return path


def pg_env() -> dict[str, str]:
    """libpq variables for the configured database (the password never goes on a command line)."""
    db = database()
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
    with sqlite3.connect(str(source)) as src, sqlite3.connect(str(target)) as dst:
        src.backup(dst)


def file_kind(path: Path) -> str:
    with path.open("rb") as handle:
        head = handle.read(16)
    if head.startswith(PG_MAGIC):
        return "postgresql"
    if head == SQLITE_MAGIC:
        return "sqlite"
    return "unknown"
