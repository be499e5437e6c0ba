"""`{% notice_banner %}` (home, store) and `{% site_footer %}` (shopper pages): cached reads
only — the notices and SystemConfig come from the cache."""

from __future__ import annotations

from django import template

from core.models import get_config
from core.notices import visible_notices

register = template.Library()


@register.inclusion_tag("partials/notice_banner.html", takes_context=True)
def notice_banner(context):
    request = context.get("request")
    return {
        "notices": visible_notices(request) if request is not None else [],
        "next": request.get_full_path() if request is not None else "/",
    }


@register.inclusion_tag("partials/site_footer.html")
def site_footer():
    return {"config": get_config()}
