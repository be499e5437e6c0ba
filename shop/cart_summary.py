"""The cart summary's extra rows (shipping, total, the checkout link) come from above.

Shop knows nothing of orders, yet the cart page shows what checkout will charge. The app that
knows (orders) registers one provider here in its `AppConfig.ready`; the dependency stays
one-way (orders imports shop, never the reverse) with no dotted path in settings.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

CartSummaryProvider = Callable[..., dict[str, Any]]

_providers: list[CartSummaryProvider] = []


def cart_summary_register(provider: CartSummaryProvider) -> None:
    """Add `provider(*, user, cart) -> dict` (rows, total, checkout_url); once per provider."""
    if provider not in _providers:
        _providers.append(provider)


def cart_summary_extra(*, user, cart) -> dict[str, Any]:
    """What the registered providers add to the summary of a cart with payable rows."""
    if not cart.payable_rows:
        return {}
    extra: dict[str, Any] = {}
    for provider in _providers:
        extra.update(provider(user=user, cart=cart) or {})
    return extra
