from decimal import Decimal

import pytest

from orders.shipping import StreamRule, line_total, money, shipping_quote

D = Decimal
FEES = {"fee_ca": D("8.00"), "fee_other": D("10.00")}


def rule(stream_id, mode, threshold="150.00"):
    return StreamRule(stream_id=stream_id, mode=mode, threshold=D(threshold))


@pytest.mark.parametrize(
    ("amounts", "expected"),
    [
        ([(D("12.70"), 3)], D("38.10")),
        ([(D("0.10"), 1), (D("0.20"), 1)], D("0.30")),
        ([(D("19.99"), 1), (D("5.50"), 1)], D("25.49")),
        ([(D("9.99"), 100)], D("999.00")),
    ],
)
def test_sums_are_exact_to_the_cent(amounts, expected):
    total = money(sum((line_total(price, qty) for price, qty in amounts), D("0")))
    assert total == expected
    assert str(total) == str(expected)


def test_store_items_pay_the_flat_fee_by_state():
    ca = shipping_quote(
        subtotal_by_stream={None: D("500.00")},
        state="CA",
        streams={},
        prior_subtotal_by_stream={},
        **FEES,
    ).fee
    ny = shipping_quote(
        subtotal_by_stream={None: D("500.00")},
        state="ny",
        streams={},
        prior_subtotal_by_stream={},
        **FEES,
    ).fee
    assert (ca, ny) == (D("8.00"), D("10.00"))


def test_rule_1_unconditional_stream_is_free_even_mixed_with_store_items():
    quote = shipping_quote(
        subtotal_by_stream={None: D("5.00"), 7: D("1.00")},
        state="NY",
        streams={7: rule(7, "UNCONDITIONAL")},
        prior_subtotal_by_stream={},
        **FEES,
    )
    assert (quote.fee, quote.rule) == (D("0.00"), 1)


def test_rule_2_threshold_counts_earlier_orders_of_the_same_stream():
    args = {
        "state": "CA",
        "streams": {7: rule(7, "THRESHOLD", "150.00")},
        **FEES,
    }
    below = shipping_quote(subtotal_by_stream={7: D("100.00")}, prior_subtotal_by_stream={}, **args)
    exactly = shipping_quote(
        subtotal_by_stream={7: D("100.00")}, prior_subtotal_by_stream={7: D("50.00")}, **args
    )
    alone = shipping_quote(subtotal_by_stream={7: D("150.00")}, prior_subtotal_by_stream={}, **args)
    assert (below.fee, below.rule) == (D("8.00"), 4)
    assert (exactly.fee, exactly.rule) == (D("0.00"), 2)
    assert (alone.fee, alone.rule) == (D("0.00"), 2)


def test_threshold_ignores_other_streams_and_store_items():
    quote = shipping_quote(
        subtotal_by_stream={7: D("100.00"), None: D("100.00")},
        state="TX",
        streams={7: rule(7, "THRESHOLD"), 8: rule(8, "THRESHOLD")},
        prior_subtotal_by_stream={},
        **FEES,
    )
    assert (quote.fee, quote.rule) == (D("10.00"), 4)


def test_rule_3_combined_shipping_with_an_earlier_order_of_the_stream():
    quote = shipping_quote(
        subtotal_by_stream={7: D("10.00")},
        state="NJ",
        streams={7: rule(7, "DISABLED")},
        prior_subtotal_by_stream={7: D("20.00")},
        **FEES,
    )
    assert (quote.fee, quote.rule) == (D("0.00"), 3)


def test_earlier_order_of_another_stream_does_not_combine():
    quote = shipping_quote(
        subtotal_by_stream={7: D("10.00")},
        state="NJ",
        streams={7: rule(7, "DISABLED")},
        prior_subtotal_by_stream={8: D("20.00")},
        **FEES,
    )
    assert (quote.fee, quote.rule) == (D("10.00"), 4)


def test_first_matching_rule_wins():
    quote = shipping_quote(
        subtotal_by_stream={7: D("200.00"), 8: D("1.00")},
        state="CA",
        streams={7: rule(7, "THRESHOLD"), 8: rule(8, "UNCONDITIONAL")},
        prior_subtotal_by_stream={7: D("1.00")},
        **FEES,
    )
    assert quote.rule == 1


def test_empty_order_costs_nothing():
    quote = shipping_quote(
        subtotal_by_stream={}, state="CA", streams={}, prior_subtotal_by_stream={}, **FEES
    )
    assert quote.fee == D("0.00")
