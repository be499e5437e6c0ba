"""`{% admin_dashboard %}`: the sales summary on the admin index page."""

from django import template
from django.urls import NoReverseMatch, reverse

from adminpanel.selectors import dashboard_summary

register = template.Library()


def _url(name: str, query: str = "") -> str:
    try:
        return reverse(name) + query
    except NoReverseMatch:  # that admin is not registered (yet)
        return ""


@register.inclusion_tag("admin/_dashboard.html", takes_context=True)
def admin_dashboard(context):
    request = context.get("request")
    user = getattr(request, "user", None)
    # Sales figures are order data: staff who may not view orders get the plain index.
    if user is None or not user.is_staff or not user.has_perm("orders.view_order"):
        return {"dashboard": None}
    return {
        "dashboard": dashboard_summary(),
        "pending_url": _url("admin:orders_order_changelist", "?status__exact=PENDING_PAYMENT"),
        "streams_url": _url("admin:live_livestream_changelist"),
    }
