"""The cart fast lane (shop/fastlane.py) through the real ASGI app: it answers exactly what the
full Django stack would accept, as Django would answer it, and hands everything else over."""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from urllib.parse import urlencode

import pytest
from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.asgi import get_asgi_application
from django.db import connections
from django.test import Client

from accounts.tests.factories import UserFactory
from shop import fastlane
from shop.models import CartLine, ProductVariant
from shop.tests.checks import stock_held_lines
from shop.tests.factories import ProductFactory, VariantFactory

pytestmark = pytest.mark.django_db(transaction=True)

CSRF = secrets.token_hex(16)  # a 32-character secret: cookie and header, as the site's JS
JSON = {"accept": "application/json"}
FORM = "application/x-www-form-urlencoded"
HTMX = {"hx-request": "true", "accept": "*/*"}


class Lane:
    """A fast lane around Django's ASGI app, with a record of who answered each request."""

    def __init__(self):
        self.batches: list[int] = []

        def handler(items):
            answers = fastlane.handle_batch(items)
            self.batches.append(len(items))
            self.answered += sum(answer is not fastlane.FALLBACK for answer in answers)
            return answers

        self.batcher = fastlane.Batcher(handler)
        self.django = get_asgi_application()
        self.app = fastlane.CartAddFastLane(self.django, batcher=self.batcher)
        self.answered = 0  # requests the batch thread answered itself (not Django)

    def post(self, *, cookie: str, data: dict | None = None, headers: dict, body=None, app=None):
        return self.concurrently([(cookie, data, headers, body)], app=app)[0]

    def concurrently(self, requests, *, app=None):
        """[(cookie, form data, headers, raw body or None)] → [(status, headers, body)]."""

        async def run():
            try:
                return await asyncio.gather(
                    *(
                        _call(app or self.app, raw or urlencode(data).encode(), cookie, head)
                        for cookie, data, head, raw in requests
                    )
                )
            finally:
                await sync_to_async(connections.close_all)()

        return asyncio.run(run())

    def close(self):
        self.batcher.close()


async def _call(app, body: bytes, cookie: str, headers: dict):
    head = {
        "host": "testserver",
        "content-type": "application/x-www-form-urlencoded",
        "x-csrftoken": CSRF,
        "cookie": cookie,
        **headers,
    }
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/cart/add/",
        "raw_path": b"/cart/add/",
        "query_string": b"",
        "root_path": "",
        "headers": [(k.encode(), v.encode()) for k, v in head.items() if v is not None],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    pending = [{"type": "http.request", "body": body, "more_body": False}]
    sent = []

    async def receive():
        if pending:
            return pending.pop(0)
        await asyncio.sleep(3600)

    async def send(message):
        sent.append(message)

    await app(scope, receive, send)
    start = sent[0]
    content = b"".join(m.get("body", b"") for m in sent[1:])
    answer_headers = {k.decode().lower(): v.decode() for k, v in start["headers"]}
    return start["status"], answer_headers, content


def session_cookie(user, *, slid: bool = True) -> str:
    """Cookies of a logged-in browser (as after the login page, whose answer slid the session)."""
    client = Client()
    client.force_login(user)
    if slid:
        session = client.session
        session["_slid_at"] = int(time.time())
        session.save()
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    return f"{settings.SESSION_COOKIE_NAME}={key}; {settings.CSRF_COOKIE_NAME}={CSRF}"


@pytest.fixture
def lane(monkeypatch):
    # Django runs each ASGI request's sync code in a thread of its own: without persistent
    # connections (as in production under ASGI) they close when the request ends.
    monkeypatch.setitem(connections.settings["default"], "CONN_MAX_AGE", 0)
    lane = Lane()
    yield lane
    lane.close()


@pytest.fixture
def buyer():
    user = UserFactory(profile_complete=True)
    return user, session_cookie(user)


def add(variant, quantity=1) -> dict:
    return {"variant_id": str(variant.pk), "quantity": str(quantity)}


def held(variant) -> int:
    return ProductVariant.objects.get(pk=variant.pk).held


def test_json_add_is_answered_by_the_batch_like_the_view(lane, buyer):
    user, cookie = buyer
    variant = VariantFactory(stock=5)
    status, headers, body = lane.post(cookie=cookie, data=add(variant, 2), headers=JSON)
    assert status == 201
    answer = json.loads(body)
    line = CartLine.objects.get(user=user, variant=variant, status="ACTIVE")
    assert answer["ok"] is True and answer["line_id"] == line.pk and answer["quantity"] == 2
    assert answer["expires_at"] == line.expires_at.isoformat()
    assert lane.batches == [1] and lane.answered == 1  # the batch thread, not Django
    assert held(variant) == 2
    assert headers["content-type"] == "application/json"
    assert headers["content-length"] == str(len(body))


def test_answer_headers_match_the_full_stack(lane, buyer):
    _user, cookie = buyer
    first, second = VariantFactory(stock=5), VariantFactory(stock=5)
    fast = lane.post(cookie=cookie, data=add(first), headers=JSON)
    full = lane.post(cookie=cookie, data=add(second), headers=JSON, app=lane.django)
    assert lane.batches == [1] and lane.answered == 1
    assert fast[0] == full[0] == 201
    assert fast[1].keys() == full[1].keys()
    for name in fast[1].keys() - {"content-length"}:
        assert fast[1][name] == full[1][name], name
    assert "content-security-policy" in fast[1] and fast[1]["x-frame-options"] == "DENY"


def test_htmx_add_and_sold_out_answers_render_the_sheet_partial(lane, buyer):
    _user, cookie = buyer
    variant = VariantFactory(stock=1)
    status, headers, body = lane.post(cookie=cookie, data=add(variant), headers=HTMX)
    assert status == 200 and headers["hx-trigger"] == "cart-changed"
    assert "장바구니에 담았습니다" in body.decode()
    status, headers, body = lane.post(cookie=cookie, data=add(variant), headers=HTMX)
    page = body.decode()
    assert status == 200 and 'data-error-code="INSUFFICIENT_STOCK"' in page
    assert "예비번호 받기" in page and 'name="csrfmiddlewaretoken"' in page  # waitlist offer
    assert lane.batches == [1, 1] and lane.answered == 2
    full = lane.post(cookie=cookie, data=add(variant), headers=HTMX, app=lane.django)
    assert full[1].keys() == headers.keys()


@pytest.mark.usefixtures("no_cap")
@pytest.mark.parametrize(
    ("quantity", "code"),
    [("0", "INVALID_QUANTITY"), ("-1", "INVALID_QUANTITY"), ("abc", "INVALID_QUANTITY"),
     ("100000", "INVALID_QUANTITY"), ("6", "INSUFFICIENT_STOCK")],
)  # fmt: skip
def test_bad_quantity_gets_the_views_error_and_changes_nothing(lane, buyer, quantity, code):
    _user, cookie = buyer
    variant = VariantFactory(stock=5)
    data = {"variant_id": str(variant.pk), "quantity": quantity}
    fast = lane.post(cookie=cookie, data=data, headers=JSON)
    full = lane.post(cookie=cookie, data=data, headers=JSON, app=lane.django)
    assert lane.batches == [1] and lane.answered == 1
    assert fast[0] == full[0] and json.loads(fast[2]) == json.loads(full[2])
    assert json.loads(fast[2])["error"]["code"] == code
    assert held(variant) == 0 and not CartLine.objects.exists()


def test_unknown_hidden_or_sold_out_variants_are_refused(lane, buyer):
    _user, cookie = buyer
    hidden = VariantFactory(product=ProductFactory(hidden_from_store=True), stock=5)
    sold_out = VariantFactory(stock=5, status=ProductVariant.Status.SOLD_OUT)
    for variant_id in ("999999", "x", str(hidden.pk), str(sold_out.pk)):
        data = {"variant_id": variant_id, "quantity": "1"}
        status, _headers, body = lane.post(cookie=cookie, data=data, headers=JSON)
        assert status == 409 and json.loads(body)["error"]["code"] == "VARIANT_UNAVAILABLE"
    assert lane.answered == 4 and not CartLine.objects.exists()


def _refused_by_django(lane, expect_status, **post):
    answered = lane.answered
    status, _headers, body = lane.post(**post)
    assert status == expect_status, body[:300]
    assert lane.answered == answered  # Django's own answer
    return body


def test_what_the_full_stack_refuses_is_left_to_it(lane, buyer):
    user, cookie = buyer
    variant = VariantFactory(stock=5)
    data = add(variant)
    csrf_only = f"{settings.CSRF_COOKIE_NAME}={CSRF}"
    # not logged in
    body = _refused_by_django(lane, 401, cookie=csrf_only, data=data, headers=JSON)
    assert json.loads(body)["error"]["code"] == "LOGIN_REQUIRED"
    # a wrong CSRF token, a foreign origin: Django's 403
    _refused_by_django(
        lane, 403, cookie=cookie, data=data, headers={**JSON, "x-csrftoken": "x" * 32}
    )
    _refused_by_django(
        lane, 403, cookie=cookie, data=data, headers={**JSON, "origin": "https://evil.example"}
    )
    # a host not in ALLOWED_HOSTS
    _refused_by_django(
        lane, 400, cookie=cookie, data=data, headers={**JSON, "host": "evil.example"}
    )
    # incomplete profile, suspended account, a session ended by "log out everywhere"
    incomplete = UserFactory()
    body = _refused_by_django(lane, 403, cookie=session_cookie(incomplete), data=data, headers=JSON)
    assert json.loads(body)["error"]["code"] == "PROFILE_INCOMPLETE"
    ended = UserFactory(profile_complete=True)
    ended_cookie = session_cookie(ended)
    ended.session_version += 1
    ended.save(update_fields=["session_version"])
    body = _refused_by_django(lane, 401, cookie=ended_cookie, data=data, headers=JSON)
    assert json.loads(body)["error"]["code"] == "LOGIN_REQUIRED"
    user.status = user.Status.SUSPENDED
    user.save(update_fields=["status"])
    _refused_by_django(lane, 302, cookie=cookie, data=data, headers=JSON)  # logged out
    assert held(variant) == 0 and not CartLine.objects.exists()


def test_a_plain_form_post_is_djangos_redirect_with_a_flash_message(lane, buyer):
    user, cookie = buyer
    variant = VariantFactory(stock=5)
    status, headers, _body = lane.post(cookie=cookie, data=add(variant), headers={"accept": "*/*"})
    assert status == 302 and headers["location"] == "/cart/"
    assert lane.batches == [] and CartLine.objects.filter(user=user, variant=variant).exists()


def test_a_body_over_the_limit_is_replayed_to_django(lane, buyer):
    user, cookie = buyer
    variant = VariantFactory(stock=5)
    body = (urlencode(add(variant)) + "&pad=" + "x" * 5000).encode()
    status, _headers, answer = lane.post(cookie=cookie, headers=JSON, body=body)
    assert status == 201 and json.loads(answer)["quantity"] == 1
    assert lane.batches == []  # Django read the whole replayed body and added
    assert CartLine.objects.filter(user=user, variant=variant).count() == 1


def test_a_session_due_to_slide_goes_to_django_which_extends_it(lane):
    from django.contrib.sessions.models import Session

    user = UserFactory(profile_complete=True)
    cookie = session_cookie(user, slid=False)
    key = cookie.split(";")[0].split("=")[1]
    status, _headers, _body = lane.post(cookie=cookie, data=add(VariantFactory()), headers=JSON)
    assert status == 201 and lane.batches == [1] and lane.answered == 0  # handed to Django
    assert "_slid_at" in Session.objects.get(session_key=key).get_decoded()
    lane.post(cookie=cookie, data=add(VariantFactory()), headers=JSON)
    assert lane.batches == [1, 1] and lane.answered == 1
    assert CartLine.objects.filter(user=user).count() == 2


def test_a_rush_is_batched_and_never_oversells(lane):
    variant = VariantFactory(stock=7)
    buyers = [session_cookie(UserFactory(profile_complete=True)) for _ in range(40)]
    answers = lane.concurrently([(cookie, add(variant), JSON, None) for cookie in buyers])
    statuses = sorted(status for status, _h, _b in answers)
    assert statuses.count(201) == 7 and statuses.count(409) == 33
    codes = {json.loads(body)["error"]["code"] for status, _h, body in answers if status == 409}
    assert codes == {"INSUFFICIENT_STOCK"}
    assert max(lane.batches) > 1 and sum(lane.batches) == lane.answered == 40  # group commit
    assert stock_held_lines(variant.pk) == (7, 7, 7)


def test_bad_cookies_in_a_batch_leave_the_others_to_the_fast_lane(lane):
    variant = VariantFactory(stock=10)
    buyers = [session_cookie(UserFactory(profile_complete=True)) for _ in range(3)]
    csrf = f"{settings.CSRF_COOKIE_NAME}={CSRF}"
    unknown = f"{settings.SESSION_COOKIE_NAME}={secrets.token_hex(16)}; {csrf}"
    # Not a key Django makes (one with a NUL once broke the batch's session query).
    malformed = f"{settings.SESSION_COOKIE_NAME}={'A' * 32}; {csrf}"
    requests = [(cookie, add(variant), JSON, None) for cookie in [*buyers, unknown, malformed]]
    answers = lane.concurrently(requests)
    assert [status for status, _h, _b in answers] == [201, 201, 201, 401, 401]
    assert lane.answered == 3 and held(variant) == 3  # the unknown and malformed: Django's
    scope_headers = [(b"cookie", f'{settings.SESSION_COOKIE_NAME}="abcdefgh\\000x"'.encode())]
    scope_headers += [(b"accept", b"application/json"), (b"content-type", FORM.encode())]
    scope = {"type": "http", "method": "POST", "path": "/cart/add/", "headers": scope_headers}
    assert fastlane._chain().admit({**scope, "query_string": b"", "root_path": ""}, b"") is None


def test_an_error_after_the_add_gets_djangos_500_and_no_second_add(lane, buyer, monkeypatch):
    import shop.views

    _user, cookie = buyer
    variant = VariantFactory(stock=5)

    def broken(*args, **kwargs):
        raise RuntimeError("template broke")

    monkeypatch.setattr(shop.views, "cart_add_answer", broken)
    status, headers, _body = lane.post(cookie=cookie, data=add(variant), headers=JSON)
    assert status == 500 and lane.answered == 1  # answered here, never handed to Django
    assert "content-security-policy" in headers and headers["x-frame-options"] == "DENY"
    assert held(variant) == 1 and CartLine.objects.filter(variant=variant).count() == 1


def test_refusals_are_logged_as_djangos_handler_logs_them(lane, buyer, caplog):
    _user, cookie = buyer
    variant = VariantFactory(stock=1)
    with caplog.at_level("WARNING", logger="django.request"):
        lane.post(cookie=cookie, data=add(variant, 2), headers=JSON)
    assert lane.answered == 1
    assert [r.getMessage() for r in caplog.records] == ["Conflict: /cart/add/"]


def test_every_middleware_is_run_or_accounted_for():
    run = {f"{cls.__module__}.{cls.__qualname__}" for cls in fastlane.REQUEST_MIDDLEWARE}
    for path in settings.MIDDLEWARE:
        assert path in run or path in fastlane.COVERED_OTHERWISE, path


def test_the_add_rate_limit_holds_in_the_fast_lane_too(lane, buyer, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "cart_add": (("user", 2, 60),)}
    _user, cookie = buyer
    variant = VariantFactory(stock=10)
    answers = lane.concurrently([(cookie, add(variant), JSON, None) for _ in range(4)])
    answers += [lane.post(cookie=cookie, data=add(variant), headers=HTMX)]
    assert sorted(status for status, _h, _b in answers) == [201, 201, 429, 429, 429]
    assert lane.answered == 5  # refused by the batch thread itself, not handed to Django
    refused = [(h, body) for status, h, body in answers if status == 429]
    for headers, body in refused:
        assert int(headers["retry-after"]) >= 1
        assert json.loads(body)["error"]["code"] == "RATE_LIMITED"
        assert "요청이 너무 많습니다" in json.loads(body)["error"]["message"]
        assert "content-security-policy" in headers  # through the response middleware
    # the same counters as the view: Django refuses this shopper too
    full = lane.post(cookie=cookie, data=add(variant), headers=JSON, app=lane.django)
    assert full[0] == 429
    assert held(variant) == 2


def test_the_per_user_cap_is_answered_in_the_fast_lane_as_by_the_view(lane, buyer):
    _user, cookie = buyer
    variant = VariantFactory(stock=20)
    fast = lane.post(cookie=cookie, data=add(variant, 6), headers=JSON)
    full = lane.post(cookie=cookie, data=add(variant, 6), headers=JSON, app=lane.django)
    assert lane.answered == 1
    assert fast[0] == full[0] == 409 and json.loads(fast[2]) == json.loads(full[2])
    assert json.loads(fast[2])["error"]["code"] == "MAX_PER_USER_EXCEEDED"
    answers = lane.concurrently([(cookie, add(variant, 2), JSON, None) for _ in range(3)])
    assert sorted(status for status, _h, _b in answers) == [201, 201, 409]
    assert held(variant) == 4
