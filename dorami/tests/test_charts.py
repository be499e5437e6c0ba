from decimal import Decimal

from dorami.charts import bar_chart, coordinate


def test_bars_scale_to_the_peak_and_stay_narrow():
    chart = bar_chart([Decimal("10.00"), Decimal("0.00"), Decimal("2.50")], width=300, height=100)
    assert [bar["height"] for bar in chart["bars"]] == ["100", "0", "25"]
    assert [bar["y"] for bar in chart["bars"]] == ["0", "100", "75"]
    assert {bar["width"] for bar in chart["bars"]} == {"48"}  # not a 98-wide slab
    assert chart["bars"][1]["x"] == coordinate(Decimal(100) + Decimal(26))


def test_no_revenue_draws_flat_bars():
    chart = bar_chart([Decimal(0), Decimal(0)], width=100, height=50)
    assert [bar["height"] for bar in chart["bars"]] == ["0", "0"]
    assert bar_chart([], width=100, height=50)["bars"] == []
