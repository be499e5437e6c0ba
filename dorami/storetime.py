"""The store's clock: every time a person types or reads is in `STORE_TIME_ZONE`.

The database keeps UTC (`USE_TZ`). `StoreTimeZoneMiddleware` makes the store's zone the
current time zone of every request, so forms (studio, admin) parse what the seller typed as
store time and templates render in it. `store_format` is the one way a date is written for a
person — "12월 3일 (목) 오후 7:00 PST" — and works outside a request too (consumers, tasks),
because it converts to the store's zone itself.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone

WEEKDAYS = "월화수목금토일"

# store_format styles: what each shows of "2026-12-03 19:00 America/Los_Angeles".
STYLES = {
    "datetime",  # 12월 3일 (목) 오후 7:00 PST (the year too when it is not this year)
    "date",  # 12월 3일 (목)
    "time",  # 오후 7:00 PST
    "full",  # 2026년 12월 3일 (목) 오후 7:00 PST
    "iso",  # 2026-12-03T19:00:00-08:00 (for scripts: an instant with its offset)
}


def store_tz() -> ZoneInfo:
    return ZoneInfo(settings.STORE_TIME_ZONE)


def store_localtime(value: datetime) -> datetime:
    """An aware datetime seen on the store's clock (a naive one is taken as UTC)."""
    if timezone.is_naive(value):
        value = timezone.make_aware(value, ZoneInfo("UTC"))
    return value.astimezone(store_tz())


def store_make_aware(value: datetime) -> datetime:
    """What a person typed ("19:00", no zone) as an instant: that wall time in the store."""
    if timezone.is_aware(value):
        return value
    return timezone.make_aware(value, store_tz())


def _clock(moment: datetime) -> str:
    hour = moment.hour % 12 or 12
    meridiem = "오전" if moment.hour < 12 else "오후"
    return f"{meridiem} {hour}:{moment.minute:02d} {moment.tzname()}"


def _day(moment: date) -> str:
    return f"{moment.month}월 {moment.day}일 ({WEEKDAYS[moment.weekday()]})"


def store_format(value: datetime | date | None, style: str = "datetime") -> str:
    """A date or time for people to read, on the store's clock. Empty for None."""
    if value is None or value == "":
        return ""
    if style not in STYLES:
        raise ValueError(f"unknown store_format style {style!r}")
    if not isinstance(value, datetime):  # a plain date has no clock
        if style in ("time", "iso"):
            return value.isoformat() if style == "iso" else ""
        year = f"{value.year}년 " if style == "full" or not _this_year(value.year) else ""
        return year + _day(value)
    moment = store_localtime(value)
    if style == "iso":
        return moment.isoformat()
    if style == "time":
        return _clock(moment)
    if style == "date":
        return _day(moment)
    year = f"{moment.year}년 " if style == "full" or not _this_year(moment.year) else ""
    return f"{year}{_day(moment)} {_clock(moment)}"


def _this_year(year: int) -> bool:
    return store_localtime(timezone.now()).year == year


class StoreTimeZoneMiddleware:
    """The store's zone is the current time zone of every request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        timezone.activate(store_tz())
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
