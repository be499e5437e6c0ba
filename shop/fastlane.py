"""Cart fast lane: `POST /cart/add/` (JSON or htmx) answered in batches, beside Django's ASGI app.

In a flash sale hundreds of shoppers add the same item each second. Through the whole Django
stack each add cost ≈ 2.8 ms of server CPU (16 middleware, a session read, a user query, its own
transaction and commit), which capped a 2-core server near 400 adds/s (docs/performance.md).
The fast lane answers the same requests with the same code, in batches:

- the ASGI wrapper hands each add (scope + body) to one worker thread per process, which takes
  everything that arrived while it was busy as its next batch (natural group commit: no wait
  is added when the server is idle);
- for each request the thread builds Django's own `ASGIRequest` and runs the request side of
  the middleware that matter here (`REQUEST_MIDDLEWARE`: security, locale, common, CSRF — the
  real `CsrfViewMiddleware`, origin and token — and CSP), then loads all the batch's sessions
  in one cache read and all its users in one query, and checks each session's auth hash as
  `django.contrib.auth.get_user` does, and the buy gate (`accounts.permissions`);
- the adds that passed are counted against the view's rate limit (`dorami.ratelimit`, the
  same counters, one Redis round trip per batch; past it: the view's 429 answer);
- the adds within it run in ONE transaction (`shop.services.cart_add_batch`), and each
  answer comes from the view's own `cart_add_answer`, through the response side of the same
  middleware.

Everything else goes to Django's full stack unchanged, so every refusal, redirect and log line
there stays Django's own: other paths and methods, plain form posts (neither JSON nor htmx),
bodies over 4 KB or not form-encoded, no session cookie, a failed CSRF/host check, an anonymous,
inactive, suspended or incomplete-profile shopper, a session due for its daily slide or its
secret-key upgrade, any error before the add. The fast lane only ever *accepts* what the full
stack would accept, and answers it as the full stack would.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import io
import logging
import queue
import re
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module

from django.conf import settings
from django.contrib.auth import (
    BACKEND_SESSION_KEY,
    HASH_SESSION_KEY,
    SESSION_KEY,
    get_user_model,
    load_backend,
)
from django.contrib.auth.backends import ModelBackend
from django.contrib.sessions.middleware import SessionMiddleware
from django.core.cache import caches
from django.core.exceptions import DisallowedHost, SuspiciousOperation, ValidationError
from django.core.handlers.asgi import ASGIRequest, get_script_prefix
from django.core.handlers.exception import response_for_exception
from django.core.signals import setting_changed
from django.db import DatabaseError, close_old_connections, connection, connections
from django.dispatch import receiver
from django.http import HttpResponse
from django.middleware.clickjacking import XFrameOptionsMiddleware
from django.middleware.common import CommonMiddleware
from django.middleware.csrf import CsrfViewMiddleware
from django.middleware.locale import LocaleMiddleware
from django.middleware.security import SecurityMiddleware
from django.urls import reverse, set_script_prefix
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.utils.log import log_response
from django_htmx.middleware import HtmxDetails
from prometheus_client import Counter, Histogram

from accounts.middleware import session_needs_slide
from accounts.permissions import can_buy_or_chat, wants_json
from dorami import ratelimit
from dorami.csp_headers import CSPMiddleware
from shop import services
from shop.services import ShopError

logger = logging.getLogger(__name__)

MAX_BODY = 4096  # an add's form is ~100 bytes; anything bigger goes to Django
MAX_BATCH = 256
FORM = "application/x-www-form-urlencoded"
CACHED_DB = "django.contrib.sessions.backends.cached_db"
SESSION_KEY_FORMAT = re.compile(r"[a-z0-9]{32}")  # what Django's session stores make

# Of settings.MIDDLEWARE, what the fast lane runs itself (in this order; responses in reverse)
# and what it covers otherwise. tests/test_fastlane.py keeps this complete.
REQUEST_MIDDLEWARE = (
    SecurityMiddleware,
    SessionMiddleware,  # response side only: the session is loaded for the whole batch
    LocaleMiddleware,
    CommonMiddleware,
    CsrfViewMiddleware,  # as `_QuietCsrf`: a refusal is left to Django to answer and log
    XFrameOptionsMiddleware,
    CSPMiddleware,
)
COVERED_OTHERWISE = {
    "django_prometheus.middleware.PrometheusBeforeMiddleware": "FAST_LANE counters",
    "django_prometheus.middleware.PrometheusAfterMiddleware": "FAST_LANE counters",
    "whitenoise.middleware.WhiteNoiseMiddleware": "static files only",
    "accounts.middleware.SlidingSessionMiddleware": "a session due to slide goes to Django",
    "django.contrib.auth.middleware.AuthenticationMiddleware": "batched `_session_user`",
    "accounts.middleware.SuspendedUserMiddleware": "the buy gate sends them to Django",
    "django.contrib.messages.middleware.MessageMiddleware": "these answers add no message",
    "django_htmx.middleware.HtmxMiddleware": "request.htmx set here",
    "allauth.account.middleware.AccountMiddleware": "acts on GET pages only",
    "dorami.storetime.StoreTimeZoneMiddleware": "answers show no local time (storetime converts)",
    "dorami.sentry.request_middleware": "error reports scrub personal data by pattern here",
}

FAST_LANE = Counter(
    "dorami_cart_fastlane_requests_total",
    "Cart adds seen by the fast lane, by who answered them",
    ["answered_by"],
)
BATCH_SIZE = Histogram(
    "dorami_cart_fastlane_batch_size",
    "Requests per fast-lane batch",
    buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256),
)

FALLBACK = object()  # "let Django's full stack answer this one"


@dataclass(frozen=True)
class Answer:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes


# --- ASGI side ---------------------------------------------------------------------------


class CartAddFastLane:
    """ASGI wrapper around Django's app: cart adds go to the batch thread; everything else,
    and every add the thread hands back as FALLBACK, goes to `app` untouched."""

    def __init__(self, app, *, batcher: Batcher | None = None):
        self.app = app
        self.batcher = batcher or Batcher(handle_batch)
        self._path: str | None = None

    def path(self) -> str:
        if self._path is None:
            self._path = reverse("shop:cart-add")
        return self._path

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != self.path():
            return await self.app(scope, receive, send)
        body, finished = await _body_read(receive)
        if body is None:  # the client went away
            return
        answer = FALLBACK
        if finished and len(body) <= MAX_BODY and _eligible(scope["headers"]):
            answer = await self.batcher.submit((scope, body))
        if answer is FALLBACK:
            FAST_LANE.labels("django").inc()
            return await self.app(scope, _replay(body, finished, receive), send)
        FAST_LANE.labels("fast_lane").inc()
        await send(
            {"type": "http.response.start", "status": answer.status, "headers": answer.headers}
        )
        await send({"type": "http.response.body", "body": answer.body})


def _eligible(headers) -> bool:
    """Cheap look at the headers before the thread hop: a form-encoded JSON or htmx add with
    cookies. (`_Chain.admit` checks everything properly.)"""
    seen = dict(headers)
    accept = seen.get(b"accept", b"")
    json_accepted = b"application/json" in accept and b"text/html" not in accept
    return (
        (json_accepted or seen.get(b"hx-request") == b"true")
        and seen.get(b"content-type", b"").startswith(FORM.encode())
        and b"cookie" in seen
    )


async def _body_read(receive) -> tuple[bytes | None, bool]:
    """(body, finished): the whole body, or its first MAX_BODY+ bytes with finished False;
    (None, False) when the client went away."""
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None, False
        chunk = message.get("body", b"")
        chunks.append(chunk)
        size += len(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks), True
        if size > MAX_BODY:
            return b"".join(chunks), False


def _replay(body: bytes, finished: bool, receive):
    """`receive` for Django that first gives back what the fast lane already read."""
    replayed = False

    async def replay():
        nonlocal replayed
        if not replayed:
            replayed = True
            return {"type": "http.request", "body": body, "more_body": not finished}
        return await receive()

    return replay


class Batcher:
    """One worker thread per process running `handler` over batches: whatever was submitted
    while it worked on the previous batch (up to MAX_BATCH). Answers go back to each
    submitter's event loop in one callback per batch."""

    def __init__(self, handler: Callable[[list], list], *, max_batch: int = MAX_BATCH):
        self._handler = handler
        self._max_batch = max_batch
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def submit(self, item) -> asyncio.Future:
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._queue.put((loop, future, item))
        if self._thread is None or not self._thread.is_alive():
            with self._lock:
                if self._thread is None or not self._thread.is_alive():  # (or it died)
                    self._thread = threading.Thread(
                        target=self._run, name="cart-fast-lane", daemon=True
                    )
                    self._thread.start()
        return future

    def close(self) -> None:
        """Stop the thread after what is queued (it closes its database connection)."""
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout=30)
            self._thread = None

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                connections.close_all()
                return
            batch = [first]
            while len(batch) < self._max_batch:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:  # close(): finish this batch first
                    self._queue.put(None)
                    break
                batch.append(item)
            try:
                answers = self._handler([item for _loop, _future, item in batch])
            except Exception:  # before any add ran (the handler answers each ran add itself)
                logger.exception("cart fast lane: batch of %s failed; Django answers", len(batch))
                answers = [FALLBACK] * len(batch)
            with contextlib.suppress(Exception):
                BATCH_SIZE.observe(len(batch))
            per_loop: dict = defaultdict(list)
            for (loop, future, _item), answer in zip(batch, answers, strict=True):
                per_loop[loop].append((future, answer))
            for loop, pairs in per_loop.items():
                with contextlib.suppress(RuntimeError):  # that loop closed (shutdown)
                    loop.call_soon_threadsafe(_resolve, pairs)


def _resolve(pairs) -> None:
    for future, answer in pairs:
        if not future.done():
            future.set_result(answer)


# --- the batch (worker thread, sync Django) ----------------------------------------------


class _QuietCsrf(CsrfViewMiddleware):
    """Django's CSRF checks; a refusal returns a marker instead of rendering and logging the
    403, because the request then goes to Django, which refuses and logs it itself."""

    def _reject(self, request, reason):
        return FALLBACK


_connections_checked = threading.local()


def handle_batch(items: list[tuple[dict, bytes]]) -> list:
    """Answers (or FALLBACK) for a batch of (ASGI scope, body) adds, in order."""
    # What Django does around each request (drop broken or expired connections; with
    # CONN_HEALTH_CHECKS the next query pings first), at most once a second: a batch every
    # few milliseconds would otherwise pay a `SELECT 1` each. A connection that breaks in
    # between fails one batch, whose adds Django then answers (nothing was committed).
    now = time.monotonic()
    if getattr(_connections_checked, "at", 0.0) + 1.0 <= now:
        _connections_checked.at = now
        close_old_connections()
    try:
        return _batch_answers(items)
    except DatabaseError:
        close_old_connections()
        raise


_chains = threading.local()


@receiver(setting_changed)
def _chains_reset(**kwargs) -> None:  # the middleware read settings when built (tests)
    global _chains
    _chains = threading.local()


def _chain() -> _Chain:
    """The batch thread's middleware chain, built once."""
    chain = getattr(_chains, "chain", None)
    if chain is None:
        chain = _chains.chain = _Chain()
    return chain


def _batch_answers(items) -> list:
    answers: list = [FALLBACK] * len(items)
    chain = _chain()
    admitted = []
    for index, (scope, body) in enumerate(items):
        try:
            request = chain.admit(scope, body)
        except (UnicodeDecodeError, SuspiciousOperation):  # Django answers 400 and logs it
            continue
        except Exception:
            logger.exception("cart fast lane: request check failed; Django answers it")
            continue
        if request is not None:
            admitted.append((index, request))
    if not admitted:
        return answers
    _sessions_load([request.session for _index, request in admitted])
    users = _users_load([request.session for _index, request in admitted])
    adds = []
    for index, request in admitted:
        user = _session_user(request.session, users)
        if user is None or can_buy_or_chat(user) is not None:
            continue
        if session_needs_slide(request.session):
            continue
        request.user = user
        variant_id = request.POST.get("variant_id", "")
        quantity = request.POST.get("quantity", "1")
        adds.append((index, request, services.AddRequest(user, variant_id, quantity)))
    adds = _adds_within_limits(chain, adds, answers)
    if not adds:
        return answers
    results = services.cart_add_batch(requests=[add for _i, _r, add in adds])
    for (index, request, add), result in zip(adds, results, strict=True):
        if isinstance(result, Exception) and not isinstance(result, ShopError):
            _connections_checked.at = 0.0  # check the connection before the next batch
            continue  # its transaction rolled back: Django retries it from the start
        answers[index] = chain.answer(request, result, add)  # never FALLBACK: committed
    return answers


def _adds_within_limits(chain: _Chain, adds: list, answers: list) -> list:
    """The adds within `RATE_LIMITS["cart_add"]` (the view's limit, counted in the same Redis
    counters, one round trip for the batch); the others get their 429 answer. An add handed
    to Django after this (its transaction failed) is counted again there: rare, and strict."""
    callers = [
        ratelimit.Caller(user_id=request.user.pk, ip=ratelimit.client_ip(request))
        for _index, request, _add in adds
    ]
    kept = []
    for (index, request, add), refusal in zip(
        adds, ratelimit.hit_many("cart_add", callers), strict=True
    ):
        if refusal is None:
            kept.append((index, request, add))
        else:
            answers[index] = chain.reply(request, ratelimit.refused_response(request, refusal))
    return kept


class _Chain:
    """The request and response sides of REQUEST_MIDDLEWARE, built once per thread."""

    def __init__(self):
        self.csrf = _QuietCsrf(_no_view)
        self.middleware = [
            self.csrf if cls is CsrfViewMiddleware else cls(_no_view) for cls in REQUEST_MIDDLEWARE
        ]
        self.store = import_module(settings.SESSION_ENGINE).SessionStore
        # Sessions are read as `cached_db` reads them; the others would write the session
        # while answering: Django's full stack then.
        self.usable = settings.SESSION_ENGINE == CACHED_DB and not (
            settings.CSRF_USE_SESSIONS or settings.SESSION_SAVE_EVERY_REQUEST
        )
        from shop.views import cart_add

        self.view = cart_add

    def admit(self, scope: dict, body: bytes) -> ASGIRequest | None:
        """The request, ready for the add, or None: Django's full stack should answer it."""
        if not self.usable:
            return None
        set_script_prefix(get_script_prefix(scope))
        request = ASGIRequest(scope, io.BytesIO(body))
        request.htmx = HtmxDetails(request)
        if not (wants_json(request) or request.htmx):
            return None
        if request.content_type != FORM:
            return None
        try:
            request.get_host()
        except DisallowedHost:
            return None
        session_key = request.COOKIES.get(settings.SESSION_COOKIE_NAME, "")
        if not SESSION_KEY_FORMAT.fullmatch(session_key):  # not one Django made: Django's
            return None
        request.session = self.store(session_key)
        for middleware in self.middleware:
            if isinstance(middleware, SessionMiddleware):
                continue
            if hasattr(middleware, "process_request") and middleware.process_request(request):
                return None  # a redirect (https, www) or a refusal: Django's to give
            if middleware is self.csrf and self.csrf.process_view(request, self.view, (), {}):
                return None
        return request

    def answer(self, request, result, add) -> Answer:
        """The view's answer through the response side of the middleware, logged as Django's
        handler logs it. Never FALLBACK: the add has run, Django must not run it again; an
        error here gets Django's 500 answer instead."""
        from shop.views import cart_add_answer

        try:
            response = cart_add_answer(
                request, result, variant_id=str(add.variant_id), quantity=str(add.quantity)
            )
        except Exception as error:
            response = response_for_exception(request, error)
        return self.reply(request, response)

    def reply(self, request, response) -> Answer:
        """`response` through the response side of the middleware, logged as Django's handler
        logs it."""
        try:
            response = self._respond(request, response)
        except Exception as error:
            try:
                response = self._respond(request, response_for_exception(request, error))
            except Exception:
                logger.exception("cart fast lane: answer failed after the add ran")
                response = HttpResponse(status=500)
        if response.status_code >= 400:
            log_response(
                "%s: %s", response.reason_phrase, request.path, response=response, request=request
            )
        return _asgi_answer(response)

    def _respond(self, request, response) -> HttpResponse:
        for middleware in reversed(self.middleware):
            if hasattr(middleware, "process_response"):
                response = middleware.process_response(request, response)
        return response


def _no_view(request):  # middleware needs a get_response; the fast lane never calls it
    raise AssertionError("not called")


def _sessions_load(stores) -> None:
    """Load the batch's sessions as `cached_db` does: one cache MGET, then one query for the
    misses (put back in the cache, as `cached_db` does; unknown or expired: empty, so Django
    answers)."""
    cache = caches[settings.SESSION_CACHE_ALIAS]
    found = cache.get_many([store.cache_key for store in stores])
    missing = {}
    for store in stores:
        data = found.get(store.cache_key)
        if data is None:
            missing[store.session_key] = store
        else:
            store._session_cache = data
    if not missing:
        return
    model = type(stores[0]).get_model_class()
    rows = model.objects.filter(session_key__in=list(missing), expire_date__gt=timezone.now())
    for key, data, expire_date in rows.values_list("session_key", "session_data", "expire_date"):
        store = missing.pop(key)
        store._session_cache = store.decode(data)
        cache.set(store.cache_key, store._session_cache, store.get_expiry_age(expiry=expire_date))
    for store in missing.values():
        store._session_cache = {}


def _user_pk(session):
    try:
        return get_user_model()._meta.pk.to_python(session[SESSION_KEY])
    except (KeyError, ValidationError):
        return None


# What the checks, the service and the answer read of a user: a narrow row, loaded for the
# whole batch in one plain query (the ORM's query compilation cost more than the query).
USER_FIELDS = {"id", "password", "session_version", "is_active", "status"}
USER_FIELDS |= {"profile_completed_at", "instagram_id", "name"}


@functools.cache
def _users_query() -> tuple[str, tuple[str, ...]]:
    """The SQL and its columns, in the model's field order (what `Model.from_db` expects)."""
    model = get_user_model()
    fields = tuple(f.attname for f in model._meta.concrete_fields if f.attname in USER_FIELDS)
    columns = ", ".join(model._meta.get_field(name).column for name in fields)
    return f"SELECT {columns} FROM {model._meta.db_table} WHERE id = ANY(%s)", fields  # noqa: S608


def _users_load(sessions) -> dict:
    ids = sorted({pk for pk in map(_user_pk, sessions) if pk is not None})
    if not ids:
        return {}
    sql, fields = _users_query()
    with connection.cursor() as cursor:
        cursor.execute(sql, [ids])
        rows = cursor.fetchall()
    model = get_user_model()
    return {
        user.pk: user for user in (model.from_db(connection.alias, fields, row) for row in rows)
    }


@functools.cache
def _model_backends(paths: tuple[str, ...]) -> frozenset[str]:
    """Of `paths`, the backends that find a session's user exactly as ModelBackend does."""
    kinds = {path: type(load_backend(path)) for path in paths}
    return frozenset(
        path
        for path, kind in kinds.items()
        if kind.get_user is ModelBackend.get_user
        and kind.user_can_authenticate is ModelBackend.user_can_authenticate
    )


def _session_user(session, users: dict):
    """The session's user as `django.contrib.auth.get_user` would find it, or None (then
    Django answers: it may also log out, or upgrade a hash made with an old secret key)."""
    user = users.get(_user_pk(session))
    if user is None or session.get(BACKEND_SESSION_KEY) not in _model_backends(
        tuple(settings.AUTHENTICATION_BACKENDS)
    ):
        return None
    if not getattr(user, "is_active", True):  # ModelBackend.user_can_authenticate
        return None
    session_hash = session.get(HASH_SESSION_KEY)
    if not session_hash or not constant_time_compare(session_hash, user.get_session_auth_hash()):
        return None
    return user


def _asgi_answer(response: HttpResponse) -> Answer:
    """As django.core.handlers.asgi.ASGIHandler.send_response does it."""
    headers = [(name.encode("ascii"), value.encode("latin1")) for name, value in response.items()]
    for cookie in response.cookies.values():
        headers.append((b"Set-Cookie", cookie.output(header="").encode("ascii").strip()))
    return Answer(status=response.status_code, headers=headers, body=response.content)
