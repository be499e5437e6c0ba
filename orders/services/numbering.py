"""Order IDs `ORD-YYYYMMDD-NNNNN` from a per-day database counter (store-local date)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection
from django.utils import timezone

from orders.models import OrderSequence


def store_today():
    return timezone.now().astimezone(ZoneInfo(settings.STORE_TIME_ZONE)).date()


def order_number_next(*, day=None) -> str:
    """Atomically take the next number of `day` (an upsert; row-locked by the database until the
    surrounding transaction ends, so concurrent checkouts never share a number)."""
    day = day or store_today()
    table = connection.ops.quote_name(OrderSequence._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (day, last) VALUES (%s, 1) "  # noqa: S608 — table name only
            f"ON CONFLICT (day) DO UPDATE SET last = {table}.last + 1 RETURNING last",
            [day],
        )
        number = cursor.fetchone()[0]
    return f"ORD-{day:%Y%m%d}-{number:05d}"
