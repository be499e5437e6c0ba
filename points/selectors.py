from __future__ import annotations

from points.models import PointTransaction
from points.services import balance_of

HISTORY_LIMIT = 100


def user_points_summary(*, user) -> dict:
    """Balance and the latest ledger rows (with their order) for the my-points page."""
    return {
        "balance": balance_of(user=user),
        "history": list(
            PointTransaction.objects.filter(user=user).select_related("order")[:HISTORY_LIMIT]
        ),
    }
