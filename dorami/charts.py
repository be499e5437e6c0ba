"""Server-rendered SVG chart geometry (no chart library, no CDN): Decimal coordinates.

`coordinate` writes one SVG number; `bar_chart` lays out one bar per value (the studio's line
chart, `live.charts`, uses the same coordinates).

    >>> from decimal import Decimal
    >>> [bar["height"] for bar in bar_chart([Decimal("10"), Decimal("0"), Decimal("5")],
    ...     width=30, height=100)["bars"]]
    ['100', '0', '50']
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

_PLACE = Decimal("0.1")


def coordinate(value: Decimal) -> str:
    text = format(value.quantize(_PLACE, rounding=ROUND_HALF_UP).normalize(), "f")
    return "0" if text in ("-0", "") else text


def bar_chart(
    values: list[Decimal], *, width: int, height: int, gap: int = 2, max_bar: int = 48
) -> dict:
    """One bar per value, scaled so the largest reaches the top (all flat when every value is
    zero), at most `max_bar` wide (a few days do not become slabs). Each bar: x, y, width,
    height as SVG numbers, and its index."""
    count = max(len(values), 1)
    peak = max(values, default=Decimal(0))
    slot = Decimal(width) / count
    bar_width = min(max(slot - gap, Decimal("1")), Decimal(max_bar))
    h = Decimal(height)
    bars = []
    for index, value in enumerate(values):
        bar_height = h * value / peak if peak > 0 else Decimal(0)
        bars.append(
            {
                "index": index,
                "x": coordinate(slot * index + (slot - bar_width) / 2),
                "y": coordinate(h - bar_height),
                "width": coordinate(bar_width),
                "height": coordinate(bar_height),
            }
        )
    return {"width": width, "height": height, "bars": bars, "peak": peak}
