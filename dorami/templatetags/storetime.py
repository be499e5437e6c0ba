"""The one date filter: `{{ moment|storetime }}` → "12월 3일 (목) 오후 7:00 PST", on the store's
clock. Styles: `storetime:"date"`, `"time"`, `"full"` (with the year), `"iso"` (for scripts)."""

from django import template

from dorami.storetime import store_format

register = template.Library()


@register.filter(name="storetime")
def storetime(value, style: str = "datetime") -> str:
    return store_format(value, style)
