"""The free-shipping rules of the streams an order's items came from, supplied from above.

Each live show sets its own free-shipping rule, but orders sits below live and never imports
it. The live app registers one provider here in its `AppConfig.ready`; `orders.selectors`
asks for the rules of the stream ids it prices.
"""

from __future__ import annotations

from collections.abc import Callable, Collection

from orders.shipping import StreamRule

StreamRulesProvider = Callable[[Collection[int]], dict[int, StreamRule]]

_providers: list[StreamRulesProvider] = []


def stream_rules_register(provider: StreamRulesProvider) -> None:
    """Add `provider(stream_ids) -> {stream_id: StreamRule}`; once per provider."""
    if provider not in _providers:
        _providers.append(provider)


def stream_rules(stream_ids: Collection[int]) -> dict[int, StreamRule]:
    """The rule of each stream in `stream_ids` that a provider knows (none for store items)."""
    rules: dict[int, StreamRule] = {}
    if stream_ids:
        for provider in _providers:
            rules.update(provider(stream_ids))
    return rules
