"""The store's own pages: terms, privacy policy, contact, and closing a notice banner."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from core import notices, services
from core.models import get_config

COOKIE_AGE = 60 * 60 * 24 * 365


@require_GET
def terms(request):
    config = get_config()
    context = {"title": _("이용약관"), "text": config.terms_text, "config": config}
    return render(request, "core/legal.html", context)


@require_GET
def privacy(request):
    config = get_config()
    context = {"title": _("개인정보 처리방침"), "text": config.privacy_text, "config": config}
    return render(request, "core/legal.html", context)


@require_GET
def contact(request):
    return render(request, "core/contact.html", {"config": get_config()})


def _back(request) -> str:
    target = request.POST.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return "/"


@require_POST
def notice_dismiss(request):
    """Close one banner: an IMPORTANT one for the logged-in user everywhere, anything else in
    this browser. A key that is no longer shown is accepted and ignored (it is gone anyway)."""
    notice = notices.notice_by_key(request.POST.get("key", ""))
    response = HttpResponse("") if getattr(request, "htmx", False) else redirect(_back(request))
    if notice is None:
        return response
    if notice.important and request.user.is_authenticated:
        services.notice_dismiss(user=request.user, key=notice.key)
    else:
        value = notices.cookie_with(request.COOKIES.get(notices.NOTICE_COOKIE, ""), notice.key)
        response.set_cookie(
            notices.NOTICE_COOKIE,
            value,
            max_age=COOKIE_AGE,
            httponly=True,
            samesite="Lax",
            secure=settings.SESSION_COOKIE_SECURE,
        )
    return response
