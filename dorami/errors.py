"""Friendly Korean error pages."""

from django.shortcuts import render


def permission_denied(request, exception=None):
    return render(request, "errors/403.html", status=403)


def page_not_found(request, exception=None):
    return render(request, "errors/404.html", status=404)


def server_error(request):
    return render(request, "errors/500.html", status=500)


def too_many_requests(request, exception=None):
    """allauth's limiter answers with this (`handler429`); dorami.ratelimit renders the same
    page with the wait in seconds."""
    return render(request, "errors/429.html", status=429)
