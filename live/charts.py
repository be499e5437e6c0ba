"""The studio's small chart: viewers and sales over the show, drawn as server-rendered SVG.

A pure function of what already exists: the viewer counts the room announced (the highest per
minute, `live.presence.viewer_history`) and the stream's revenue per minute
(`orders.selectors.stream_revenue_by_minute`). Both are step lines — a count holds until the
next announcement, revenue accumulates — over the show's time, from its start to its end (or
now). Each line has its own scale (0 … its maximum), so the two shapes can be compared.

    >>> from datetime import UTC, timedelta
    >>> start = datetime(2026, 1, 1, 20, 0, tzinfo=UTC)
    >>> chart = studio_chart(start=start, end=start + timedelta(minutes=10), width=100,
    ...     height=50, viewers=[(int(start.timestamp()) + 300, 4)],
    ...     revenue=[(start + timedelta(minutes=5), Decimal("20.00"))])
    >>> chart["viewers_points"]      # 0 until minute 5, then 4 (the maximum: the top)
    '0,50 50,50 50,0 100,0'
    >>> chart["revenue_points"], chart["revenue_total"]
    ('0,50 50,50 50,0 100,0', Decimal('20.00'))
"""

from __future__ import annotations

import logging
from datetime import datetime
from decimal import Decimal

from django.utils import timezone

from dorami.charts import coordinate
from live import presence
from live.models import LiveStream
from orders import selectors as order_selectors

logger = logging.getLogger(__name__)

WIDTH = 600
HEIGHT = 140


def _steps(samples: list[tuple[Decimal, Decimal]], *, width: int, height: int, top: Decimal):
    """`samples` are (x fraction 0…1, value) in time order; the line starts at 0 and holds each
    value until the next sample, then runs to the right edge."""
    w, h = Decimal(width), Decimal(height)
    top = top if top > 0 else Decimal(1)
    points = [(Decimal(0), h)]
    for fraction, value in samples:
        x = w * min(max(fraction, Decimal(0)), Decimal(1))
        y = h - h * value / top
        points.append((x, points[-1][1]))
        points.append((x, y))
    points.append((w, points[-1][1]))
    # drop repeats (a sample at the very start, or two at one x)
    unique = [p for i, p in enumerate(points) if i == 0 or p != points[i - 1]]
    return " ".join(f"{coordinate(x)},{coordinate(y)}" for x, y in unique)


def studio_chart(
    *,
    start: datetime,
    end: datetime,
    viewers: list[tuple[int, int]],
    revenue: list[tuple[datetime, Decimal]],
    width: int = WIDTH,
    height: int = HEIGHT,
) -> dict:
    """SVG polyline points for viewers (minute epoch, count) and cumulative revenue (minute,
    amount) between `start` and `end`, plus the figures the chart is labelled with."""
    span = max((end - start).total_seconds(), 60.0)
    begin = start.timestamp()

    def fraction(epoch: float) -> Decimal:
        return Decimal(str(round((epoch - begin) / span, 6)))

    viewer_samples = [(fraction(minute), Decimal(count)) for minute, count in viewers]
    viewers_max = max((count for _minute, count in viewers), default=0)
    total = Decimal("0.00")
    revenue_samples = []
    for minute, amount in revenue:
        total += amount
        revenue_samples.append((fraction(minute.timestamp()), total))
    return {
        "width": width,
        "height": height,
        "viewers_points": _steps(
            viewer_samples, width=width, height=height, top=Decimal(viewers_max)
        ),
        "revenue_points": _steps(revenue_samples, width=width, height=height, top=total),
        "viewers_max": viewers_max,
        "revenue_total": total,
        "start": start,
        "end": end,
    }


def stream_chart(stream: LiveStream) -> dict | None:
    """The studio chart of `stream` from its start to its end (or now); None before it went
    live. A store that cannot answer (Redis, database) leaves its line flat, never the page
    broken."""
    if stream.started_at is None:
        return None
    end = stream.ended_at if stream.status == LiveStream.Status.OFFLINE else None
    try:
        viewers = presence.viewer_history(stream.pk)
    except Exception:
        logger.warning("studio.viewer_history_failed stream_id=%s", stream.pk, exc_info=True)
        viewers = []
    try:
        revenue = order_selectors.stream_revenue_by_minute(stream_id=stream.pk)
    except Exception:
        logger.warning("studio.revenue_history_failed stream_id=%s", stream.pk, exc_info=True)
        revenue = []
    return studio_chart(
        start=stream.started_at, end=end or timezone.now(), viewers=viewers, revenue=revenue
    )
