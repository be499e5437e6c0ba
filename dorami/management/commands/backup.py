"""`manage.py backup [--output FILE | --to DEST] [--keep-days N]`: a verified database backup.

PostgreSQL: `pg_dump --format=custom`, checked with `pg_restore --list`; SQLite (embedded
default): a consistent copy of the file. `--to` (default `BACKUP_DESTINATION`) is a directory or
`s3://bucket/prefix`, and prunes backups there older than `--keep-days` (`BACKUP_KEEP_DAYS`).
The daily beat job `database-backup-daily` runs the same code (`dorami/backups.py`).
Restore with `manage.py restore FILE --yes`.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from dorami import backups


class Command(BaseCommand):
    help = "Back up the database (verified), to a file, a directory or an S3 bucket."

    def add_arguments(self, parser):
        target = parser.add_mutually_exclusive_group()
        target.add_argument("--output", "-o", help="write exactly this file (no pruning)")
        target.add_argument(
            "--to", help="a directory or s3://bucket/prefix (default: BACKUP_DESTINATION)"
        )
        parser.add_argument("--force", action="store_true", help="overwrite an --output file")
        parser.add_argument(
            "--keep-days", type=int, help="delete backups older than this at --to (0: keep all)"
        )

    def handle(self, *args, output=None, to=None, force=False, keep_days=None, **options):
        try:
            if output or not (to or settings.BACKUP_DESTINATION):
                self._to_file(output, force=force)
                return
            with tqdm(
                unit="B", unit_scale=True, desc="backup", disable=None, file=self.stderr
            ) as bar:
                result = backups.backup_run(
                    destination=to, keep_days=keep_days, progress=bar.update
                )
        except backups.BackupError as exc:
            raise CommandError(str(exc)) from exc
        for path in result.pruned:
            self.stdout.write(f"pruned {path}")
        self.stdout.write(
            self.style.SUCCESS(
                f"backup written: {result.location} ({result.size:,} bytes; {result.verified}; "
                f"{len(result.pruned)} old backups pruned)"
            )
        )

    def _to_file(self, output: str | None, *, force: bool) -> None:
        target = Path(output or backups.backup_name()).resolve()
        if target.exists() and not force:
            raise CommandError(f"{target} already exists (use --force to overwrite).")
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=target.parent, prefix=".backup-") as workdir:
            partial = Path(workdir) / target.name
            backups.backup_dump(path=partial)
            summary = backups.backup_verify(path=partial)
            partial.replace(target)
        size = target.stat().st_size
        done = f"backup written: {target} ({size:,} bytes; {summary})"
        self.stdout.write(self.style.SUCCESS(done))
