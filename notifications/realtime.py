"""In-page events of the notifications app, announced after commit through
`dorami.realtime.send_event` to the shopper's own group (every open tab, `static/js/app.js`)."""

from __future__ import annotations

from datetime import datetime

from dorami.realtime import send_event, user_group

CART_EXPIRING = "cart.expiring"


def cart_expiring(
    *, user_id: int, product_name: str, minutes: int, expires_at: datetime, url: str
) -> None:
    """A held cart line runs out in `minutes` (the toast: "… N분 후 장바구니에서 빠집니다")."""
    send_event(
        group=user_group(user_id),
        event=CART_EXPIRING,
        data={
            "product_name": product_name,
            "minutes": minutes,
            "expires_at": expires_at.isoformat(),
            "url": url,
        },
    )
