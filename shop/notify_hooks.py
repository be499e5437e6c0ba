"""Registration points for the shopper notification channels (web push, Alimtalk).

shop sits below notifications and never imports it: the notifications app registers its
handlers here in its `AppConfig.ready`, and shop calls them from inside the service that made
the change (handlers defer their sends to `transaction.on_commit`).
"""

from __future__ import annotations

from collections.abc import Callable

from shop.models import Product, WaitlistEntry

WaitlistHandler = Callable[[WaitlistEntry, Product], None]

_waitlist_promoted: list[WaitlistHandler] = []


def waitlist_promoted_register(handler: WaitlistHandler) -> None:
    """Add `handler(entry, product)`, called once per promotion (`waitlist.promote`)."""
    if handler not in _waitlist_promoted:
        _waitlist_promoted.append(handler)


def waitlist_promoted_notify(entry: WaitlistEntry, product: Product) -> None:
    for handler in _waitlist_promoted:
        handler(entry, product)
