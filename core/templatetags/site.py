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


FOOTER_FIELDS = (
    "business_name",
    "business_owner",
    "business_registration",
    "business_address",
    "contact_phone",
    "contact_email",
)


@register.inclusion_tag("partials/site_footer.html")
def site_footer():
    """The footer, rendered once per process for each value of the fields it shows
    (`footer_key`, the key of its fragment in the "fragments" cache)."""
    config = get_config()
    key = repr(tuple(getattr(config, name) for name in FOOTER_FIELDS))
    return {"config": config, "footer_key": key}
