from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout, update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from accounts import inapp, selectors, services
from accounts.devices import device_label
from accounts.forms import DevLoginForm, ProfileForm
from accounts.permissions import after_login_url, safe_next
from dorami.ratelimit import rate_limited

_MODEL_BACKEND = "accounts.backends.ModelBackend"


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


@login_required
@require_http_methods(["GET", "HEAD"])
def sessions_page(request):
    current = request.session.session_key or ""
    records = services.user_sessions_list(user=request.user)
    rows = [
        {
            "id": record.pk,
            "device": device_label(record.user_agent),
            "ip": record.ip or "",
            "last_seen_at": record.last_seen_at,
            "created_at": record.created_at,
            "current": record.session_key == current,
        }
        for record in records
    ]
    rows.sort(key=lambda row: not row["current"])  # this device first
    return render(request, "accounts/sessions.html", {"sessions": rows})


@login_required
@require_POST
def session_end(request, session_id: int):
    try:
        services.user_session_end(
            user=request.user,
            record_id=session_id,
            current_session_key=request.session.session_key or "",
        )
    except services.AccountError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "선택한 기기에서 로그아웃했습니다.")
    return redirect("accounts:sessions")


@login_required
@require_POST
def sessions_end_others(request):
    current = request.session.session_key or ""
    user = services.user_sessions_end_others(user=request.user, current_session_key=current)
    update_session_auth_hash(request, user)  # this device stays logged in (under a new key)
    services.user_session_rekeyed(old_key=current, new_key=request.session.session_key or "")
    messages.success(request, "다른 기기에서 모두 로그아웃했습니다.")
    return redirect("accounts:sessions")


DELETE_PHRASE = "탈퇴합니다"


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def account_delete(request):
    """마이페이지 → 회원 탈퇴: the shopper types the phrase to confirm (Kakao accounts have no
    password here). Refused with the reason while an order is in progress."""
    error = ""
    status = 200
    if request.method == "POST":
        if request.POST.get("confirm", "").strip() != DELETE_PHRASE:
            error = f"확인 문구 '{DELETE_PHRASE}'를 정확히 입력해 주세요."
            status = 400
        else:
            try:
                services.account_delete(user=request.user)
            except services.AccountError as exc:
                error, status = exc.message, exc.status
            else:
                logout(request)
                messages.success(request, "탈퇴가 완료되었습니다. 그동안 이용해 주셔서 감사합니다.")
                return redirect("/")
    context = {"phrase": DELETE_PHRASE, "error": error}
    return render(request, "accounts/delete.html", context, status=status)
