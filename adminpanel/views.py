"""Admin pages of the admin site itself: the dashboard partial the index page polls."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse

from adminpanel.selectors import dashboard_summary


def _url(name: str, query: str = "") -> str:
    try:
        return reverse(name) + query
    except NoReverseMatch:  # that admin is not registered (yet)
        return ""


def dashboard_context(user) -> dict:
    """What `admin/_dashboard.html` shows; nothing for staff who may not view orders (sales
    figures are order data)."""
    if user is None or not user.is_staff or not user.has_perm("orders.view_order"):
        return {"dashboard": None}
    return {
        "dashboard": dashboard_summary(),
        "pending_url": _url("admin:orders_order_changelist", "?status__exact=PENDING_PAYMENT"),
        "streams_url": _url("admin:live_livestream_changelist"),
        "settlement_url": _url("admin:orders_order_settlement"),
        "refresh_url": _url("admin:dashboard"),
    }


def dashboard_partial(request):
    """The dashboard alone, for the index page to re-fetch every 15 s (htmx)."""
    if not request.user.has_perm("orders.view_order"):
        raise PermissionDenied
    return render(request, "admin/_dashboard.html", dashboard_context(request.user))
