from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from accounts import inapp, selectors, services
from accounts.forms import DevLoginForm, ProfileForm
from accounts.permissions import after_login_url, safe_next
from dorami.ratelimit import rate_limited

_MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


def _next_param(request, fallback: str = "/") -> str:
    return safe_next(request, request.POST.get("next") or request.GET.get("next"), fallback)


def _render_login(request, *, dev_form=None, status=200, error: str = ""):
    next_url = _next_param(request)
    login_url = request.build_absolute_uri(
        f"{reverse('accounts:login')}?{urlencode({'next': next_url})}"
    )
    context = {
        "next": next_url,
        "inapp": inapp.detect(request.headers.get("User-Agent", ""), login_url),
        "dev_login_enabled": settings.DEV_LOGIN_ENABLED,
        "dev_form": dev_form or DevLoginForm(),
        "login_error": error,
    }
    return render(request, "accounts/login.html", context, status=status)


@require_http_methods(["GET", "HEAD"])
def login_page(request):
    if request.user.is_authenticated:
        return redirect(after_login_url(request.user, _next_param(request)))
    error = services.AccountSuspended.message if request.GET.get("suspended") else ""
    return _render_login(request, error=error)


def dev_login(request):
    if not settings.DEV_LOGIN_ENABLED:
        return render(request, "errors/404.html", status=404)
    if request.method != "POST":
        return redirect(f"{reverse('accounts:login')}?{urlencode({'next': _next_param(request)})}")
    form = DevLoginForm(request.POST)
    if not form.is_valid():
        return _render_login(request, dev_form=form, status=400)
    user, _ = services.user_get_or_create_by_email(email=form.cleaned_data["email"])
    if user.is_suspended or not user.is_active:
        return _render_login(request, status=403, error=services.AccountSuspended.message)
    login(request, user, backend=_MODEL_BACKEND)
    return redirect(after_login_url(user, _next_param(request)))


@require_POST
def logout_view(request):
    logout(request)
    return redirect("/")


def _profile_form_view(request, *, template: str, success_url: str, success_message: str):
    user = request.user
    locked = selectors.email_locked(user=user)
    if request.method == "POST":
        form = ProfileForm(
            request.POST, user=user, email_locked=locked, initial=ProfileForm.initial_for(user)
        )
        if form.is_valid():
            try:
                services.profile_complete(user=user, data=form.cleaned_data)
            except services.AccountError as exc:
                form.add_error(exc.field, exc.message)
            else:
                messages.success(request, success_message)
                return redirect(success_url)
        status = 400
    else:
        form = ProfileForm(user=user, email_locked=locked, initial=ProfileForm.initial_for(user))
        status = 200
    context = {"form": form, "next": _next_param(request, "")}
    return render(request, template, context, status=status)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
@rate_limited("profile_save")
def profile_register(request):
    return _profile_form_view(
        request,
        template="accounts/profile_register.html",
        success_url=_next_param(request, "/"),
        success_message="프로필이 저장되었습니다.",
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
@rate_limited("profile_save")
def profile_edit(request):
    return _profile_form_view(
        request,
        template="accounts/profile_edit.html",
        success_url=reverse("accounts:my-page"),
        success_message="프로필과 배송지가 저장되었습니다.",
    )


@login_required
def my_page(request):
    return render(request, "accounts/my_page.html", {"address": request.user.shipping_address})


@login_required
@require_POST
def live_alert_toggle(request):
    enabled = request.POST.get("enabled") in ("1", "true", "on")
    services.live_alert_set(user=request.user, enabled=enabled)
    if request.htmx:
        return render(request, "accounts/my_page.html#live-alert", {})
    messages.success(
        request, "라이브 시작 알림을 켰습니다." if enabled else "라이브 시작 알림을 껐습니다."
    )
    return redirect("accounts:my-page")
