"""The one money filter: `{{ amount|usd }}` → "$1,234.50". Decimal in, never float."""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django import template

register = template.Library()

CENT = Decimal("0.01")


@register.filter(name="usd")
def usd(value) -> str:
    if value is None or value == "":
        return ""
    try:
        amount = Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)
    except (InvalidOperation, ValueError):
        return ""
    sign = "-" if amount < 0 else ""
    return f"{sign}${abs(amount):,.2f}"


@register.filter(name="points")
def points(value) -> str:
    try:
        return f"{int(value):,}P"
    except (TypeError, ValueError):
        return ""
