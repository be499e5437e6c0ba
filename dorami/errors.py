"""Friendly Korean error pages."""

from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from accounts.permissions import wants_json


def permission_denied(request, exception=None):
    return render(request, "errors/403.html", status=403)


def csrf_failure(request, reason=""):
    """CSRF_FAILURE_VIEW: the site's 403 page saying what happened and what to do (usually a
    page left open long, or cookies blocked); JSON callers get a stable code."""
    message = _("보안 확인에 실패했습니다")
    hint = _(
        "페이지를 새로고침한 뒤 다시 시도해 주세요. 브라우저 쿠키가 차단되어 있다면 허용해 주세요."
    )
    if wants_json(request):
        body = {"error": {"code": "CSRF_FAILED", "message": f"{message}. {hint}"}}
        return JsonResponse(body, status=403)
    return render(request, "errors/403.html", {"title": message, "hint": hint}, status=403)


API_PREFIX = "/api/"


def page_not_found(request, exception=None):
    """The 404 page; under /api/ the API's error body (a URL no route matches)."""
    if request.path.startswith(API_PREFIX):
        body = {"error": {"code": "NOT_FOUND", "message": _("찾을 수 없습니다."), "fields": {}}}
        return JsonResponse(body, status=404)
    return render(request, "errors/404.html", status=404)


def server_error(request):
    return render(request, "errors/500.html", status=500)


def too_many_requests(request, exception=None):
    """allauth's limiter answers with this (`handler429`); dorami.ratelimit renders the same
    page with the wait in seconds."""
    return render(request, "errors/429.html", status=429)
