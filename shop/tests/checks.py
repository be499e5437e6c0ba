"""SQL checks shared by the race and batch tests."""

from django.db import connection


def stock_held_lines(variant_id: int) -> tuple[int, int, int]:
    """(stock, held, Σ quantity of ACTIVE lines) of a variant, read straight from the tables."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT v.stock, v.held, COALESCE(SUM(l.quantity), 0) FROM shop_productvariant v "
            "LEFT JOIN shop_cartline l ON l.variant_id = v.id AND l.status = 'ACTIVE' "
            "WHERE v.id = %s GROUP BY v.id",
            [variant_id],
        )
        return cursor.fetchone()
