"""`{% admin_dashboard %}`: the sales summary on the admin index page."""

from django import template

from adminpanel.views import dashboard_context

register = template.Library()


@register.inclusion_tag("admin/_dashboard.html", takes_context=True)
def admin_dashboard(context):
    request = context.get("request")
    return dashboard_context(getattr(request, "user", None))
