"""Events of the shop, announced after commit through `dorami.realtime.send_event`.

A product that belongs to a stream announces to that stream's room (`live.<id>`); a store item
announces to `STORE_GROUP`. Event names are stable strings shared with the browser.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from dorami.realtime import STORE_GROUP, room_group, send_event, send_event_built, user_group

logger = logging.getLogger(__name__)

STOCK_CHANGED = "stock.changed"
PRODUCT_SOLD_OUT = "product.sold_out"
STOCK_LOW = "stock.low"
PRODUCT_ADDED = "product.added"
PRODUCT_UPDATED = "product.updated"
PRODUCT_DELETED = "product.deleted"
CART_ACTIVITY = "cart.activity"
WAITLIST_PROMOTED = "waitlist.promoted"


def product_group(product) -> str:
    return room_group(product.stream_id) if product.stream_id else STORE_GROUP


def _low_stock_threshold() -> int:
    from shop.services.holds import config

    return config().low_stock_threshold


def announce_stock(*, product, variant_id: int, stock: int, held: int, status: str) -> None:
    """stock.changed always; then product.sold_out at 0 available or stock.low at 1–threshold."""
    group = product_group(product)
    available = max(stock - held, 0)
    data = {
        "product_id": product.pk,
        "variant_id": variant_id,
        "stock": stock,
        "available": available,
        "status": status,
    }
    send_event(group=group, event=STOCK_CHANGED, data=data)
    if available == 0:
        send_event(
            group=group,
            event=PRODUCT_SOLD_OUT,
            data={"product_id": product.pk, "variant_id": variant_id},
        )
    elif available <= _low_stock_threshold():
        send_event(
            group=group,
            event=STOCK_LOW,
            data={"product_id": product.pk, "variant_id": variant_id, "available": available},
        )


def announce_product_sold_out(*, product) -> None:
    """The whole product was marked sold out by the seller."""
    send_event(
        group=product_group(product),
        event=PRODUCT_SOLD_OUT,
        data={"product_id": product.pk, "variant_id": None},
    )


def product_payload(product) -> dict:
    return {
        "product_id": product.pk,
        "name": product.name,
        "price": str(product.price),
        "status": product.status,
        "stream_id": product.stream_id,
    }


# What a show's room needs besides `product_payload` to show a product without fetching
# the page (live registers its carousel card): functions (product_id, stream_id) → extra keys,
# run once per event after commit, never per viewer.
RoomProductExtra = Callable[[int, int], dict]
_room_product_extras: list[RoomProductExtra] = []


def room_product_extra_register(extra: RoomProductExtra) -> RoomProductExtra:
    if extra not in _room_product_extras:
        _room_product_extras.append(extra)
    return extra


def _announce_product(event: str, product) -> None:
    group, payload = product_group(product), product_payload(product)
    if not product.stream_id or not _room_product_extras:
        send_event(group=group, event=event, data=payload)
        return
    stream_id = product.stream_id

    def build() -> dict:
        data = dict(payload)
        for extra in list(_room_product_extras):
            try:
                data.update(extra(payload["product_id"], stream_id))
            except Exception:  # the event still goes out; the page catches up on its own
                logger.exception("room product extra failed product_id=%s", payload["product_id"])
        return data

    send_event_built(group=group, event=event, build=build)


def announce_product_added(*, product) -> None:
    _announce_product(PRODUCT_ADDED, product)


def announce_product_updated(*, product) -> None:
    _announce_product(PRODUCT_UPDATED, product)


def announce_product_deleted(*, product_id: int, stream_id: int | None) -> None:
    group = room_group(stream_id) if stream_id else STORE_GROUP
    send_event(group=group, event=PRODUCT_DELETED, data={"product_id": product_id})


def announce_cart_activity(*, user, product, others: int = 0) -> None:
    """ "{name}님이 장바구니에 담았습니다" lines on the live page; `others` more shoppers added
    the product in the same moment ("{name}님 외 N명이 …"): one line per batch, not per add."""
    data = {"name": user.display_name, "product_name": product.name, "product_id": product.pk}
    send_event(group=product_group(product), event=CART_ACTIVITY, data={**data, "others": others})


def announce_waitlist_promoted(*, entry, product) -> None:
    """To the promoted shopper only (their open tabs)."""
    send_event(
        group=user_group(entry.user_id),
        event=WAITLIST_PROMOTED,
        data={
            "entry_id": entry.pk,
            "product_id": product.pk,
            "product_name": product.name,
            "quantity": entry.quantity,
            "expires_at": entry.promotion_expires_at.isoformat()
            if entry.promotion_expires_at
            else None,
        },
    )
