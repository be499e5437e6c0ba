"""Account deletion (`accounts.erasure`): the shopper's holds go back to stock and their
waitlist places are given up (the next in line moves up), through the usual services."""

from __future__ import annotations

from shop.models import WaitlistEntry
from shop.services.cart import cart_clear
from shop.services.waitlist import OPEN, waitlist_cancel


def shop_erase(user) -> None:
    entries = WaitlistEntry.objects.filter(user=user, status__in=OPEN)
    for entry_id in list(entries.values_list("pk", flat=True)):
        waitlist_cancel(user=user, entry_id=entry_id)
    cart_clear(user=user)
