"""Abuse limits: named per-user / per-IP / per-account counters in Redis, one table in settings.

`settings.RATE_LIMITS` maps a limit's name to its rules, each `(scope, count, seconds)`:

    "cart_add": (("user", 30, 60), ("ip", 300, 60)),

- `user`: a logged-in shopper's requests (anonymous requests skip the rule);
- `ip`: the client address, `REMOTE_ADDR` (`manage.py serve` sets it from nginx's
  X-Forwarded-For, which nginx replaces with the peer address); IPv6 counted by its /64;
- `account`: what was typed as the login name (login failures only; hashed in the key).

The environment variable `RATE_LIMITS` overrides entries (see settings.py).

Counting is a sliding-window counter per rule: this window's count (INCR) plus the previous
window's count weighted by how much of it still overlaps the last `seconds`. A check is one
Redis round trip (one Lua script), however many rules (and, with `hit_many`, however many
requests). A refused request still counts, so a script that keeps hammering stays refused (the
live chat takes refused messages back out: its limit is on messages sent).

If Redis cannot be reached the limiter logs it and allows the request (fails open): an abuse
limit must never take the shop down with it. It then leaves Redis alone for a few seconds
(`REDIS_REST`), so an outage costs one timeout per process, not one per request. Without
Redis (the embedded default) the counters live in this process.

Refusals answer 429 with `Retry-After` and a Korean message: `{"error": {"code":
"RATE_LIMITED", ...}}` for JSON and htmx callers (static/js/app.js shows it as a toast), the
`errors/429.html` page otherwise.
"""

from __future__ import annotations

import functools
import hashlib
import ipaddress
import logging
import math
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import wraps

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from accounts.permissions import wants_json

logger = logging.getLogger(__name__)

CODE = "RATE_LIMITED"
KEY_PREFIX = "rl"
SCOPES = ("user", "ip", "account")
REDIS_TIMEOUT = 0.5  # seconds: a slow Redis must not hold requests up (fail open instead)
REDIS_REST = 5.0  # seconds without trying Redis after it failed (requests are allowed)


@dataclass(frozen=True)
class Caller:
    """Who is making a request, as the rules see it."""

    user_id: int | None = None
    ip: str = ""
    account: str = ""

    def ident(self, scope: str) -> str | None:
        if scope == "user":
            return str(self.user_id) if self.user_id is not None else None
        if scope == "ip":
            return address_key(self.ip) if self.ip else None
        if not self.account:
            return None
        return hashlib.sha256(self.account.strip().lower().encode()).hexdigest()[:32]


@dataclass(frozen=True)
class Refusal:
    """A refused request: which limit and rule, and how long to wait (whole seconds)."""

    name: str
    scope: str
    retry_after: int

    @property
    def message(self) -> str:
        return _("요청이 너무 많습니다. %(n)s초 후에 다시 시도해 주세요.") % {"n": self.retry_after}


@functools.lru_cache(maxsize=4096)
def address_key(address: str) -> str:
    """The client address as counted: IPv4 as is, IPv6 by its /64 (one subscriber's
    network: a client must not escape its limit by rotating addresses inside it)."""
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return address
    if ip.version == 6 and ip.ipv4_mapped:
        return str(ip.ipv4_mapped)
    if ip.version == 6:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def _key_prefix() -> str:
    """`rl:`, after the cache's KEY_PREFIX (several sites may share one Redis)."""
    site = settings.CACHES.get("default", {}).get("KEY_PREFIX", "")
    return f"{site}:{KEY_PREFIX}:" if site else f"{KEY_PREFIX}:"


def rules(name: str) -> tuple[tuple[str, int, int], ...]:
    """The rules of limit `name` (KeyError for a name missing from settings.RATE_LIMITS)."""
    return tuple(settings.RATE_LIMITS[name])


def client_ip(request: HttpRequest) -> str:
    return request.META.get("REMOTE_ADDR", "") or ""


def caller_of(request: HttpRequest, *, account: str = "") -> Caller:
    user = getattr(request, "user", None)
    user_id = user.pk if user is not None and user.is_authenticated else None
    return Caller(user_id=user_id, ip=client_ip(request), account=account)


# --- counting -------------------------------------------------------------------------------


Rules = Sequence[tuple[str, int, int]]


def hit(
    name: str, caller: Caller, *, limits: Rules | None = None, count_refused: bool = True
) -> Refusal | None:
    """Count one request of `caller` against limit `name` (its rules from settings, or
    `limits`): None if allowed, else the Refusal. With `count_refused=False` a refused request
    is taken back out of the counts (live chat: the limit is on messages sent)."""
    return _count(name, [caller], limits=limits, increment=True, count_refused=count_refused)[0]


def hit_many(name: str, callers: Sequence[Caller]) -> list[Refusal | None]:
    """`hit` for many requests in one Redis round trip."""
    return _count(name, callers, limits=None, increment=True, count_refused=True)


def peek(name: str, caller: Caller) -> Refusal | None:
    """Whether `caller` is over limit `name` now, without counting (login lock checks)."""
    return _count(name, [caller], limits=None, increment=False, count_refused=False)[0]


def _count(
    name: str,
    callers: Sequence[Caller],
    *,
    limits: Rules | None,
    increment: bool,
    count_refused: bool,
) -> list[Refusal | None]:
    now = time.time()
    checks = []  # (caller index, scope, limit, window, current key, previous key, elapsed)
    for index, caller in enumerate(callers):
        for scope, limit, window in limits or rules(name):
            ident = caller.ident(scope)
            if ident is None or window < 1:
                continue
            bucket, elapsed = divmod(now, window)
            base = f"{_key_prefix()}{name}:{scope}:{ident}:"
            current, previous = f"{base}{int(bucket)}", f"{base}{int(bucket) - 1}"
            checks.append((index, scope, limit, window, current, previous, elapsed))
    results: list[Refusal | None] = [None] * len(callers)
    if not checks:
        return results
    store = _store()
    if store.resting():
        return results
    try:
        counts = store.counts(
            [(current, previous, window) for _i, _s, _l, window, current, previous, _e in checks],
            increment=increment,
        )
    except Exception:  # Redis down or slow: allow (fail open), say so in the log, and rest
        store.rest()
        logger.warning(
            "ratelimit.unavailable limit=%s action=allow retry_in=%ss",
            name,
            REDIS_REST,
            exc_info=True,
        )
        return results
    for (index, scope, limit, window, _c, _p, elapsed), (current, previous) in zip(
        checks, counts, strict=True
    ):
        if results[index] is not None:
            continue
        # Counting: this request is in `current` already; peeking: would one more fit?
        estimate = previous * (1 - elapsed / window) + current + (0 if increment else 1)
        if estimate > limit:
            wait = _retry_after(current, previous, limit, window, elapsed)
            results[index] = Refusal(name=name, scope=scope, retry_after=wait)
    if increment and not count_refused:
        taken_back = [check[4] for check in checks if results[check[0]] is not None]
        if taken_back:
            try:
                store.uncount(taken_back)
            except Exception:
                logger.warning("ratelimit.unavailable limit=%s action=uncount", name, exc_info=True)
    return results


def _retry_after(current, previous, limit, window, elapsed) -> int:
    """Seconds until one more request fits, if none is sent meanwhile."""
    room = limit - 1  # what the weighted counts may be at most for one more request to fit
    if current <= room and previous:
        # Within this window: wait for the previous window's weight to fall far enough.
        seconds = window * (1 - (room - current) / previous) - elapsed
    else:
        # After this window: `current` becomes the previous window, fading from full weight.
        seconds = (window - elapsed) + window * (1 - room / current if current else 0)
    return max(1, math.ceil(seconds))


# One script for every rule of every request in a call: one command to build, send and parse
# instead of a pipeline of INCR + EXPIRE + GET per rule (a third of the limiter's CPU).
# KEYS: current, previous (per rule); ARGV[1]: 1 to count; ARGV[1 + i]: rule i's key lifetime.
_COUNT_SCRIPT = """
local counting = ARGV[1] == '1'
local answers = {}
for i = 1, #KEYS, 2 do
  local current
  if counting then
    current = redis.call('INCR', KEYS[i])
    redis.call('EXPIRE', KEYS[i], ARGV[1 + (i + 1) / 2])
  else
    current = tonumber(redis.call('GET', KEYS[i]) or '0')
  end
  answers[#answers + 1] = current
  answers[#answers + 1] = tonumber(redis.call('GET', KEYS[i + 1]) or '0')
end
return answers
"""


class _RedisStore:
    def __init__(self, url: str):
        import redis

        self.rest_until = 0.0
        self.client = redis.Redis.from_url(
            url,
            socket_timeout=REDIS_TIMEOUT,
            socket_connect_timeout=REDIS_TIMEOUT,
            max_connections=200,
        )
        self.script = self.client.register_script(_COUNT_SCRIPT)  # EVALSHA, EVAL if unknown

    def counts(self, keys, *, increment: bool) -> list[tuple[int, int]]:
        names: list[str] = []
        lifetimes: list[int] = []
        for current, previous, window in keys:
            names += (current, previous)
            lifetimes.append(2 * window)
        replies = self.script(keys=names, args=[1 if increment else 0, *lifetimes])
        return [(int(replies[i]), int(replies[i + 1])) for i in range(0, len(replies), 2)]

    def resting(self) -> bool:
        return self.rest_until > time.monotonic()

    def rest(self) -> None:
        self.rest_until = time.monotonic() + REDIS_REST

    def uncount(self, keys) -> None:
        pipe = self.client.pipeline(transaction=False)
        for key in keys:
            pipe.decr(key)
        pipe.execute()


class _MemoryStore:
    """The embedded default (no Redis): one process, so its own dict is the truth."""

    def __init__(self):
        self.lock = threading.Lock()
        self.data: dict[str, tuple[int, float]] = {}

    def counts(self, keys, *, increment: bool) -> list[tuple[int, int]]:
        now = time.monotonic()
        with self.lock:
            if len(self.data) > 10_000:
                self.data = {k: v for k, v in self.data.items() if v[1] > now}
            answers = []
            for current, previous, window in keys:
                count = self._get(current, now)
                if increment:
                    count += 1
                    self.data[current] = (count, now + 2 * window)
                answers.append((count, self._get(previous, now)))
            return answers

    def resting(self) -> bool:
        return False

    def rest(self) -> None:
        pass

    def uncount(self, keys) -> None:
        with self.lock:
            for key in keys:
                count, expires = self.data.get(key, (0, 0.0))
                if count:
                    self.data[key] = (count - 1, expires)

    def _get(self, key: str, now: float) -> int:
        count, expires = self.data.get(key, (0, 0.0))
        return count if expires > now else 0


_stores: dict[str, object] = {}
_stores_lock = threading.Lock()


def _store():
    url = getattr(settings, "REDIS_URL", "")
    store = _stores.get(url)
    if store is None:
        with _stores_lock:
            store = _stores.get(url)
            if store is None:
                store = _stores[url] = _RedisStore(url) if url else _MemoryStore()
    return store


# --- answers --------------------------------------------------------------------------------


def refused_response(request: HttpRequest, refusal: Refusal) -> HttpResponse:
    """429 with Retry-After: JSON for JSON and htmx callers, the Korean page otherwise."""
    if wants_json(request) or getattr(request, "htmx", False):
        body = {
            "error": {
                "code": CODE,
                "message": refusal.message,
                "retry_after": refusal.retry_after,
            }
        }
        response = JsonResponse(body, status=429)
    else:
        context = {"retry_after": refusal.retry_after}
        response = render(request, "errors/429.html", context, status=429)
    response["Retry-After"] = str(refusal.retry_after)
    logger.info(
        "ratelimit.refused limit=%s scope=%s path=%s retry_after=%s",
        refusal.name,
        refusal.scope,
        request.path,
        refusal.retry_after,
    )
    return response


def rate_limited(name: str, *, methods: Sequence[str] = ("POST",)):
    """View decorator: count each request (of `methods`) against limit `name`; 429 past it."""
    rules(name)  # a typo in the name fails at import, not on the first request

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if request.method in methods:
                refusal = hit(name, caller_of(request))
                if refusal is not None:
                    return refused_response(request, refusal)
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


# --- login failures -------------------------------------------------------------------------

LOGIN_FAILURES = "login_failure"


def login_failures_limited(view=None, *, account_field: str = "username"):
    """Wrap a password form's view: after too many failed POSTs from one address or for one
    account (`settings.RATE_LIMITS["login_failure"]`) further attempts get 429 without the
    password being checked. A POST answered with a redirect is a success and is not counted;
    any other answer to a POST (the form shown again with its error) is a failure."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if request.method != "POST":
                return view(request, *args, **kwargs)
            caller = Caller(ip=client_ip(request), account=request.POST.get(account_field, ""))
            refusal = peek(LOGIN_FAILURES, caller)
            if refusal is not None:
                return refused_response(request, refusal)
            response = view(request, *args, **kwargs)
            if not 300 <= response.status_code < 400:
                hit(LOGIN_FAILURES, caller)
            return response

        return wrapper

    return decorator(view) if view is not None else decorator
