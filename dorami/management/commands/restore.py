"""`manage.py restore FILE --yes`: replace the configured database with a backup.

PostgreSQL: `pg_restore --clean --if-exists` in one transaction (all or nothing).
SQLite: the backup file is copied over the database. Stop web, worker and beat first.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import connections

from dorami import backups


class Command(BaseCommand):
    help = "Restore the database from a `manage.py backup` file (destructive: needs --yes)."

    def add_arguments(self, parser):
        parser.add_argument("file", help="a file written by `manage.py backup`")
        parser.add_argument(
            "--yes", action="store_true", help="confirm: the current data is replaced"
        )

    def handle(self, *args, file, yes=False, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"{path} does not exist.")
        vendor = backups.vendor()
        kind = backups.file_kind(path)
        if kind != vendor:
            raise CommandError(
                f"{path} is not a {vendor} backup (found: {kind}). "
                "Use a file written by `manage.py backup` for this database."
            )
        name = backups.database()["NAME"]
        if not yes:
            raise CommandError(
                f"This replaces every table of database {name} with {path}. "
                "Stop web, worker and beat, then re-run with --yes."
            )
        connections.close_all()
        try:
            if vendor == "postgresql":
                self._pg_restore(path)
            else:
                backups.sqlite_copy(path, name)
        except backups.BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(self.style.SUCCESS(f"restored {name} from {path}"))

    def _pg_restore(self, path: Path) -> None:
        command = [
            backups.pg_tool("pg_restore"),
            "--clean",
            "--if-exists",
            "--no-owner",
            "--no-privileges",
            "--single-transaction",
            "--exit-on-error",
            "--no-password",
            f"--dbname={backups.database()['NAME']}",
            str(path),
        ]
        result = subprocess.run(  # noqa: S603 (fixed argv, no shell)
            command, env=backups.pg_env(), capture_output=True, text=True, check=False
        )
        if result.returncode != 0:
            raise CommandError(f"pg_restore failed (nothing was changed): {result.stderr.strip()}")
