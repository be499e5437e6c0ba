import threading
import time

from django.conf import settings
from django.contrib.auth import SESSION_KEY, get_user_model, logout
from django.core.cache import cache
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone

from accounts.backends import session_backend_renamed
from accounts.devices import session_digest
from accounts.services import user_session_seen
from dorami.ratelimit import client_ip

_REFRESH_EVERY = 60 * 60 * 24  # extend the 30-day session at most once a day
SEEN_EVERY = 5 * 60  # a session's "last seen" is written at most every 5 minutes


class SlidingSessionMiddleware:
    """Keeps sessions alive for 30 days after the last visit without a write per request.

    Before the user is looked up, a session naming an authentication backend that was
    replaced (accounts.backends.RENAMED) is moved onto its replacement, once: Django only
    accepts backend paths listed in AUTHENTICATION_BACKENDS, and the user stays logged in."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session = getattr(request, "session", None)
        if session is not None:
            session_backend_renamed(session)
        response = self.get_response(request)
        session = getattr(request, "session", None)
        if session is None or session.is_empty():
            return response
        if session_needs_slide(session):
            session["_slid_at"] = int(timezone.now().timestamp())
            session.set_expiry(settings.SESSION_COOKIE_AGE)
        return response


def session_needs_slide(session) -> bool:
    """True once a day per session: time to extend it (a session write)."""
    return int(timezone.now().timestamp()) - session.get("_slid_at", 0) >= _REFRESH_EVERY


class SuspendedUserMiddleware:
    """A suspended user is logged out on their next request, wherever they are, and sent to
    the login page, which says why.

    Suspension changes the user's session hash, so Django itself drops the session on the
    next request and the user arrives here anonymous: the user id the session held (read
    before `request.user` is resolved) tells who it was. That costs one query only on the
    request whose session was just dropped.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session = getattr(request, "session", None)
        session_user_id = session.get(SESSION_KEY) if session is not None else None
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.is_suspended:
            logout(request)
            return _to_login_suspended()
        if (
            session_user_id is not None
            and user is not None
            and not user.is_authenticated
            and _is_suspended(session_user_id)
        ):
            return _to_login_suspended()
        return self.get_response(request)


def _is_suspended(user_id) -> bool:
    User = get_user_model()
    try:
        return User.objects.filter(pk=user_id, status=User.Status.SUSPENDED).exists()
    except (TypeError, ValueError):
        return False


def _to_login_suspended():
    # Runs before the messages middleware, so the login page is told by a flag.
    return redirect(reverse("accounts:login") + "?suspended=1")


class SessionRecordMiddleware:
    """Keeps `UserSession` ("로그인 기기" on my page) current: after a logged-in request, at most
    once per `SEEN_EVERY` per session, writes device, address and time. The throttle is one
    Redis SET NX per session per `CHECK_EVERY` in each process (a process remembers the
    sessions it checked; no session write, no query); while Redis is away nothing is recorded
    and pages answer as usual."""

    CHECK_EVERY = 60.0  # seconds a process skips the Redis check for a session it just checked
    REMEMBERED = 20_000  # sessions a process remembers (the oldest are forgotten first)

    def __init__(self, get_response):
        self.get_response = get_response
        self.checked: dict[str, float] = {}  # session digest -> monotonic time of the check
        self.lock = threading.Lock()  # the server's request threads share this instance

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        session = getattr(request, "session", None)
        if user is None or not user.is_authenticated or session is None:
            return response
        key = session.session_key
        if (
            key
            and self.check_due(digest := session_digest(key))
            and cache.add(f"acct:seen:{digest}", 1, timeout=SEEN_EVERY)
        ):
            user_session_seen(
                user=user,
                session_key=key,
                user_agent=request.headers.get("User-Agent", ""),
                ip=client_ip(request),
            )
        return response

    def check_due(self, digest: str) -> bool:
        """Whether this process should ask Redis about the session now (and remember it did)."""
        now = time.monotonic()
        with self.lock:
            checked = self.checked.get(digest)
            if checked is not None and now - checked < self.CHECK_EVERY:
                return False
            self.checked.pop(digest, None)  # re-inserted last: the dict stays oldest-first
            self.checked[digest] = now
            if len(self.checked) > self.REMEMBERED:
                del self.checked[next(iter(self.checked))]
        return True
