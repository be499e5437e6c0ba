"""Error tracking with Sentry (or a compatible service), on only when `SENTRY_DSN` is set.

Events carry no personal data: `send_default_pii=False`, no request bodies, cookies or
headers beyond a short allowlist, no frame local variables, query values filtered, and
`before_send` removes what can still slip into messages — e-mail addresses, phone numbers,
Instagram IDs, street addresses and ZIP codes by pattern, and the current shopper's own name,
depositor name, phone, e-mail, Instagram ID and shipping address by value (`request_middleware`
remembers the request, so a message like "cannot ship to 김도라미" is scrubbed too).
"""

from __future__ import annotations

import contextvars
import logging
import re
import warnings
from collections.abc import Iterable

from asgiref.sync import iscoroutinefunction
from django.utils.decorators import sync_and_async_middleware

logger = logging.getLogger(__name__)

FILTERED = "[Filtered]"
# A dict value is dropped when a word of its key (split at `_`, `-`, digits) is one of these.
SENSITIVE_WORDS = {
    "name", "address", "street", "city", "state", "zip", "postal", "phone", "tel", "mobile",
    "email", "mail", "instagram", "depositor", "recipient", "password", "passwd", "secret",
    "token", "key", "cookie", "cookies", "session", "sessionid", "csrf", "csrftoken", "auth",
    "authorization", "signature", "account", "data", "body",
}  # fmt: skip
# Source code and code locations are not personal data: left as they are.
CODE_KEYS = {"context_line", "pre_context", "post_context", "abs_path", "filename", "module",
             "function", "package", "type", "lineno", "in_app", "platform"}  # fmt: skip
SAFE_HEADERS = {"host", "user-agent", "content-type", "content-length", "accept-language"}
PATTERNS = [
    re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"),  # e-mail
    re.compile(r"(?<![\w.])@[A-Za-z0-9._]{2,30}"),  # Instagram ID
    re.compile(  # phone: 010-1234-5678, (213) 555-0199, +1 310.555.0147, 3105550147
        r"(?<![\w-])(?:\+?\d{1,3}[\s.-]?)?(?:\(\d{2,4}\)|\d{2,4})[\s.-]?\d{3,4}[\s.-]?\d{4}(?![\w-])"
    ),
    re.compile(  # US street address: number, words, street type
        r"\b\d{1,6}\s+(?:[A-Za-z0-9.'-]+\s+){0,4}"
        r"(?:St|Street|Ave|Avenue|Blvd|Boulevard|Rd|Road|Dr|Drive|Ln|Lane|Way|Ct|Court|Pl|Place|"
        r"Pkwy|Parkway|Hwy|Highway|Ter|Terrace|Cir|Circle)\b\.?",
        re.I,
    ),
    re.compile(r"\b[A-Z]{2}\s+\d{5}(?:-\d{4})?\b"),  # state + ZIP
    re.compile(r"(?:apt|suite|unit|ste)\.?\s*#?\s*\w+", re.I),
]

_request: contextvars.ContextVar = contextvars.ContextVar("dorami_sentry_request", default=None)


@sync_and_async_middleware
def request_middleware(get_response):
    """Remembers the request for `before_send` (a context variable, reset after the response)."""
    if iscoroutinefunction(get_response):

        async def middleware(request):
            token = _request.set(request)
            try:
                return await get_response(request)
            finally:
                _request.reset(token)

        return middleware

    def middleware(request):
        token = _request.set(request)
        try:
            return get_response(request)
        finally:
            _request.reset(token)

    return middleware


def _known_values() -> list[str]:
    """The current shopper's personal values, longest first (empty outside a request)."""
    request = _request.get()
    if request is None:
        return []
    try:
        user = request.user
        if not user.is_authenticated:
            return []
        values = [user.name, user.depositor_name, user.phone, user.email, user.instagram_id]
        values += [str(v) for v in user.shipping_address.values()]
    except Exception:  # an async context cannot load the user: patterns still apply
        return []
    return sorted({v.strip() for v in values if v and len(v.strip()) >= 2}, key=len, reverse=True)


def scrub_text(text: str, known: Iterable[str] = ()) -> str:
    for value in known:
        text = text.replace(value, FILTERED)
    for pattern in PATTERNS:
        text = pattern.sub(FILTERED, text)
    return text


def _sensitive(key) -> bool:
    return isinstance(key, str) and bool(
        SENSITIVE_WORDS.intersection(re.split(r"[\W_\d]+", key.lower()))
    )


def _scrub(value, known: list[str]):
    if isinstance(value, str):
        return scrub_text(value, known)
    if isinstance(value, dict):
        return {
            k: v if k in CODE_KEYS else FILTERED if _sensitive(k) else _scrub(v, known)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [_scrub(v, known) for v in value]
    return value


def _request_clean(request: dict) -> dict:
    headers = request.get("headers") or {}
    clean = {key: request[key] for key in ("method", "url") if request.get(key)}
    clean["headers"] = {k: v for k, v in headers.items() if k.lower() in SAFE_HEADERS}
    query = request.get("query_string")
    if query:
        keys = [part.split("=", 1)[0] for part in str(query).split("&") if part]
        clean["query_string"] = "&".join(f"{k}={FILTERED}" for k in keys)
    return clean


def before_send(event: dict, hint: dict | None = None) -> dict:
    """Drop request bodies, cookies and user details; scrub personal data from every string."""
    known = _known_values()
    if "request" in event:
        event["request"] = _request_clean(event["request"])
    event.pop("user", None)
    for frame_holder in _frames(event):
        frame_holder.pop("vars", None)
    for key in ("message", "logentry", "exception", "breadcrumbs", "extra", "tags"):
        if key in event:
            event[key] = _scrub(event[key], known)
    return event


def before_breadcrumb(crumb: dict, hint: dict | None = None) -> dict:
    return _scrub(crumb, _known_values())


def _frames(event: dict):
    for exc in (event.get("exception") or {}).get("values", []):
        yield from (exc.get("stacktrace") or {}).get("frames", [])
    for thread in (event.get("threads") or {}).get("values", []):
        yield from (thread.get("stacktrace") or {}).get("frames", [])


def init(*, dsn: str, environment: str, traces_sample_rate: float = 0.0) -> bool:
    """Start the SDK with the Django and Celery integrations; False when `dsn` is empty."""
    if not dsn:
        return False
    with warnings.catch_warnings():
        # sentry-sdk 2.7x calls send_default_pii deprecated in favour of data_collection; the
        # explicit False keeps its own EventScrubber on as a second layer under before_send.
        warnings.filterwarnings("ignore", message=".*send_default_pii", category=DeprecationWarning)
        _start(dsn=dsn, environment=environment, traces_sample_rate=traces_sample_rate)
    logger.info("error tracking on environment=%s", environment)
    return True


def _start(*, dsn: str, environment: str, traces_sample_rate: float) -> None:
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        integrations=[DjangoIntegration(), CeleryIntegration()],
        send_default_pii=False,
        include_local_variables=False,
        max_request_body_size="never",
        before_send=before_send,
        before_breadcrumb=before_breadcrumb,
        traces_sample_rate=traces_sample_rate,
    )
