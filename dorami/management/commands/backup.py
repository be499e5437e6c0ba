"""`manage.py backup [--output FILE]`: a restorable copy of the configured database.

PostgreSQL: `pg_dump --format=custom` (restore with `manage.py restore FILE --yes`).
SQLite (embedded default): a consistent copy of the database file.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from dorami.management.commands import _dbtools


class Command(BaseCommand):
    help = "Back up the database: pg_dump custom format, or a copy of the SQLite file."

    def add_arguments(self, parser):
        parser.add_argument(
            "--output", "-o", help="file to write (default: dorami-<database>-<UTC time>.dump)"
        )
        parser.add_argument("--force", action="store_true", help="overwrite an existing file")

    def handle(self, *args, output=None, force=False, **options):
        vendor = _dbtools.vendor()
        if vendor not in ("postgresql", "sqlite"):
            raise CommandError(f"backup supports PostgreSQL and SQLite, not {vendor}.")
        name = Path(str(_dbtools.database()["NAME"])).stem
        stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
        suffix = ".dump" if vendor == "postgresql" else ".sqlite3"
        target = Path(output or f"dorami-{name}-{stamp}{suffix}").resolve()
        if target.exists() and not force:
            raise CommandError(f"{target} already exists (use --force to overwrite).")
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".partial")
        try:
            if vendor == "postgresql":
                self._pg_dump(partial)
            else:
                _dbtools.sqlite_copy(_dbtools.database()["NAME"], partial)
            partial.replace(target)
        finally:
            partial.unlink(missing_ok=True)
        size = target.stat().st_size
        self.stdout.write(self.style.SUCCESS(f"backup written: {target} ({size:,} bytes)"))

    def _pg_dump(self, path: Path) -> None:
        command = [
            _dbtools.pg_tool("pg_dump"),
            "--format=custom",
            "--compress=6",
            "--no-password",
            f"--file={path}",
        ]
        result = subprocess.run(  # noqa: S603 (fixed argv, no shell)
            command, env=_dbtools.pg_env(), capture_output=True, text=True, check=False
        )
        if result.returncode != 0:
            raise CommandError(f"pg_dump failed: {result.stderr.strip()}")
