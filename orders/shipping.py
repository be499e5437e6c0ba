"""The shipping rule of SPEC §5 as ONE pure function. Cart page, checkout and admin item edits
all call `shipping_quote` through `orders.selectors.shipping_for`, which gathers its inputs.

One fee per order; the first rule that matches wins:
  1. any of the order's streams has UNCONDITIONAL free shipping → $0;
  2. a THRESHOLD stream: this order's subtotal from that stream + the user's earlier
     non-cancelled orders' subtotals from the same stream ≥ threshold → $0;
  3. the user already has a non-cancelled order from one of the order's streams → $0
     (combined shipping);
  4. otherwise the flat fee: California vs every other state (SystemConfig).
Stream-less (store) items take part in no stream rule, so a store-only order always gets rule 4.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

CENT = Decimal("0.01")
ZERO = Decimal("0.00")

UNCONDITIONAL = "UNCONDITIONAL"
THRESHOLD = "THRESHOLD"


@dataclass(frozen=True)
class StreamRule:
    stream_id: int
    mode: str  # DISABLED / UNCONDITIONAL / THRESHOLD (live.LiveStream.FreeShipping)
    threshold: Decimal


@dataclass(frozen=True)
class ShippingQuote:
    fee: Decimal
    rule: int  # 1–4 as above; 0 when the order is empty
    label: str


def money(value) -> Decimal:
    return Decimal(value).quantize(CENT)


def line_total(unit_price: Decimal, quantity: int) -> Decimal:
    return money(Decimal(unit_price) * quantity)


def shipping_quote(
    *,
    subtotal_by_stream: Mapping[int | None, Decimal],
    state: str,
    streams: Mapping[int, StreamRule],
    prior_subtotal_by_stream: Mapping[int, Decimal],
    fee_ca: Decimal,
    fee_other: Decimal,
) -> ShippingQuote:
    """Pure: no database, no clock. `subtotal_by_stream` keys are stream ids (None = store
    items); `prior_subtotal_by_stream` holds only streams the user has an earlier
    non-cancelled order from (value = those orders' subtotal from that stream)."""
    if not subtotal_by_stream:
        return ShippingQuote(fee=ZERO, rule=0, label="")
    stream_ids = [sid for sid in subtotal_by_stream if sid is not None]
    rules = [streams[sid] for sid in stream_ids if sid in streams]
    if any(rule.mode == UNCONDITIONAL for rule in rules):
        return ShippingQuote(fee=ZERO, rule=1, label="무료배송 방송")
    for rule in rules:
        if rule.mode != THRESHOLD:
            continue
        combined = money(subtotal_by_stream[rule.stream_id]) + money(
            prior_subtotal_by_stream.get(rule.stream_id, ZERO)
        )
        if combined >= money(rule.threshold):
            return ShippingQuote(fee=ZERO, rule=2, label=f"${money(rule.threshold)} 이상 무료배송")
    if any(sid in prior_subtotal_by_stream for sid in stream_ids):
        return ShippingQuote(fee=ZERO, rule=3, label="합배송")
    fee = fee_ca if (state or "").strip().upper() == "CA" else fee_other
    return ShippingQuote(fee=money(fee), rule=4, label="기본 배송비")
