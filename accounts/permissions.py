"""The one gate for buying and chatting: logged in, not suspended, profile complete."""

from __future__ import annotations

from functools import wraps
from inspect import iscoroutinefunction
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import resolve_url
from django.utils.http import url_has_allowed_host_and_scheme
from django_htmx.http import HttpResponseClientRedirect

LOGIN_REQUIRED = "LOGIN_REQUIRED"
ACCOUNT_SUSPENDED = "ACCOUNT_SUSPENDED"
PROFILE_INCOMPLETE = "PROFILE_INCOMPLETE"
# Why an already-open page (a websocket holding the user it loaded) must stop acting as them.
SESSION_ENDED = "SESSION_ENDED"
STAFF_REVOKED = "STAFF_REVOKED"

MESSAGES = {
    LOGIN_REQUIRED: "로그인이 필요합니다.",
    ACCOUNT_SUSPENDED: "이용이 정지된 계정입니다.",
    PROFILE_INCOMPLETE: "구매와 채팅을 하려면 프로필(배송지)을 먼저 등록해 주세요.",
    SESSION_ENDED: "로그아웃되었습니다. 다시 로그인해 주세요.",
    STAFF_REVOKED: "관리자 권한이 해제되었습니다.",
}

# The user columns `account_change` compares (read them in the query the caller already makes).
ACCOUNT_STATE_FIELDS = ("status", "is_active", "is_staff", "session_version")


def can_buy_or_chat(user) -> str | None:
    """None when `user` may buy and chat, else a stable error code (see MESSAGES).

    Reads only attributes already on the user object, so consumers may call it as is
    (e.g. with `scope["user"]`) without a database hop.
    """
    if user is None or not getattr(user, "is_authenticated", False):
        return LOGIN_REQUIRED
    if getattr(user, "is_suspended", False):
        return ACCOUNT_SUSPENDED
    if not getattr(user, "has_complete_profile", False):
        return PROFILE_INCOMPLETE
    return None


def can_chat(user) -> str | None:
    """`can_buy_or_chat` for chat alone: staff (the seller) chat without a shopper profile,
    since they ship nothing to themselves. Buying still needs the profile."""
    code = can_buy_or_chat(user)
    if code == PROFILE_INCOMPLETE and user.is_staff:
        return None
    return code


def account_change(user, state: dict | None) -> str | None:
    """Why `user`, loaded earlier (a socket keeps the user of its handshake), no longer holds,
    judged against `state`, the row's current `ACCOUNT_STATE_FIELDS` (None: the row is gone).

    ACCOUNT_SUSPENDED (suspended, deactivated or deleted), SESSION_ENDED ("log out everywhere":
    the session the socket was opened with no longer exists), STAFF_REVOKED (was staff, no
    longer is), or None.
    """
    if state is None or not state["is_active"] or state["status"] == "SUSPENDED":
        return ACCOUNT_SUSPENDED
    if state["session_version"] != user.session_version:
        return SESSION_ENDED
    if user.is_staff and not state["is_staff"]:
        return STAFF_REVOKED
    return None


def safe_next(request: HttpRequest, candidate: str | None, fallback: str = "/") -> str:
    """`candidate` if it is a same-site URL, else `fallback`."""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return fallback


def after_login_url(user, next_url: str) -> str:
    """`next_url`, or the profile registration page first (then `next_url`) if incomplete."""
    if user.has_complete_profile:
        return next_url
    return f"{resolve_url('accounts:profile-register')}?{urlencode({'next': next_url})}"


def _return_path(request: HttpRequest) -> str:
    """Where the shopper was: for HTMX the page URL, not the fragment endpoint."""
    htmx = getattr(request, "htmx", None)
    current = htmx.current_url_abs_path if htmx else None
    return safe_next(request, current, request.get_full_path())


def gate_url(request: HttpRequest, code: str) -> str:
    if code in (LOGIN_REQUIRED, ACCOUNT_SUSPENDED):
        target = "accounts:login"
    else:
        target = "accounts:profile-register"
    return f"{resolve_url(target)}?{urlencode({'next': _return_path(request)})}"


def wants_json(request: HttpRequest) -> bool:
    """The caller asked for JSON, not a page (`Accept` read from META: `request.headers`
    builds a dict of every header, measurable on the cart's hot path)."""
    accept = request.META.get("HTTP_ACCEPT", "")
    return "application/json" in accept and "text/html" not in accept


def gate_response(request: HttpRequest, code: str) -> HttpResponse:
    url = gate_url(request, code)
    if getattr(request, "htmx", False):
        return HttpResponseClientRedirect(url)
    if wants_json(request):
        status = 401 if code == LOGIN_REQUIRED else 403
        body = {"error": {"code": code, "message": MESSAGES[code], "redirect": url}}
        return JsonResponse(body, status=status)
    return HttpResponseRedirect(url)


def profile_required(view):
    """Gate a view (sync or async) on `can_buy_or_chat`.

    HTMX → `HX-Redirect`; `Accept: application/json` → 401/403 `{"error": {...}}`;
    otherwise a redirect to the login or profile page that comes back via `next`.
    """
    if iscoroutinefunction(view):

        @wraps(view)
        async def async_wrapper(request, *args, **kwargs):
            user = await request.auser()
            code = can_buy_or_chat(user)
            if code:
                return gate_response(request, code)
            return await view(request, *args, **kwargs)

        return async_wrapper

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        code = can_buy_or_chat(request.user)
        if code:
            return gate_response(request, code)
        return view(request, *args, **kwargs)

    return wrapper
