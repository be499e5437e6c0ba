"""`manage.py import_products FILE`: the admin's 상품 가져오기 (CSV or XLSX) from a shell.

Same code as the admin page (`shop.services.importer.products_import`): a rejected row is
listed with its reasons and does not stop the others. Exit status 1 when any row was rejected.
`--as EMAIL` names the staff member in the audit log, as the admin page does.
"""

from __future__ import annotations

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from shop.services.importer import ImportFileError, products_import, rows_read


class Command(BaseCommand):
    help = "Import products from a CSV or XLSX file (columns as in the admin's import page)."

    def add_arguments(self, parser):
        parser.add_argument("file", help="a .csv or .xlsx file")
        parser.add_argument(
            "--as",
            dest="actor",
            metavar="EMAIL",
            help="the staff member the audit log names for each created product",
        )

    def handle(self, *args, file, actor=None, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"{path} does not exist.")
        staff = None
        if actor:
            staff = get_user_model().objects.filter(email__iexact=actor, is_staff=True).first()
            if staff is None:
                raise CommandError(f"No staff member with e-mail {actor}.")
        data = path.read_bytes()
        try:
            rows = rows_read(filename=path.name, data=data)
            total = max(sum(1 for row in rows if any((c or "").strip() for c in row)) - 1, 0)
            with tqdm(
                total=total, unit="row", desc="import", disable=None, file=self.stderr
            ) as bar:
                report = products_import(
                    filename=path.name, data=data, actor=staff, progress=bar.update
                )
        except ImportFileError as exc:
            raise CommandError(exc.message) from exc
        for row in report.rejected:
            self.stderr.write(f"row {row.row} ({row.name or '-'}): {'; '.join(row.reasons)}")
        summary = (
            f"imported {report.products_created} products, {report.variants_created} options "
            f"from {len(report.accepted)} rows; {len(report.rejected)} rows rejected"
        )
        if report.rejected:
            raise CommandError(summary)
        self.stdout.write(self.style.SUCCESS(summary))
