"""Cart adds batched behind the view (shop/batcher.py): Django's own handler, middleware and
decorators decide who may add; concurrent adds then share one transaction, and each answer is
the one the view gives for a single add."""

from __future__ import annotations

import secrets
import threading
import time

import pytest
from django.conf import settings
from django.core.signals import request_finished, request_started
from django.db import OperationalError, connections
from django.test import Client

from accounts.tests.factories import UserFactory
from shop import batcher, services
from shop.models import CartLine, ProductVariant
from shop.tests.checks import stock_held_lines
from shop.tests.factories import ProductFactory, VariantFactory

pytestmark = pytest.mark.django_db(transaction=True)

CSRF = secrets.token_hex(16)  # a 32-character secret: cookie and header, as the site's JS
JSON = {"HTTP_ACCEPT": "application/json"}
HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_ACCEPT": "*/*"}


class Recorder:
    """The process's batcher replaced by one that records its batches; `slow_first` makes the
    first batch take a moment, so what arrives meanwhile queues for the next one."""

    def __init__(self, *, slow_first: float = 0.0):
        self.sizes: list[int] = []
        self.slow_first = slow_first

        def run(adds):
            if not self.sizes and self.slow_first:
                time.sleep(self.slow_first)
            self.sizes.append(len(adds))
            return services.cart_add_batch(requests=adds)

        self.batcher = batcher.AddBatcher(run)


@pytest.fixture
def batches(monkeypatch):
    recorder = Recorder()
    monkeypatch.setattr(batcher, "_batcher", recorder.batcher)
    yield recorder
    recorder.batcher.close()


def browser(user=None) -> Client:
    """A logged-in browser with the CSRF cookie the site's script sends back as a header."""
    client = Client(enforce_csrf_checks=True)
    if user is not None:
        client.force_login(user)
    client.cookies[settings.CSRF_COOKIE_NAME] = CSRF
    return client


def post(client: Client, data: dict, headers: dict, **extra):
    return client.post("/cart/add/", data, HTTP_X_CSRFTOKEN=CSRF, **headers, **extra)


def concurrently(calls):
    """Run each (client, data, headers) add in its own thread (its own database connection,
    as a server thread) at the same moment; the responses in order."""
    gate = threading.Barrier(len(calls))
    responses: list = [None] * len(calls)

    def run(index, client, data, headers):
        try:
            gate.wait()
            responses[index] = post(client, data, headers)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, *call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return responses


def add(variant, quantity=1) -> dict:
    return {"variant_id": str(variant.pk), "quantity": str(quantity)}


def held(variant) -> int:
    return ProductVariant.objects.get(pk=variant.pk).held


def shopper() -> Client:
    return browser(UserFactory(profile_complete=True))


def test_an_add_goes_through_djangos_handler_and_the_batcher(batches):
    client = shopper()
    variant = VariantFactory(stock=5)
    signals = []

    def seen(sender, **kwargs):
        signals.append(sender)

    request_started.connect(seen)
    request_finished.connect(seen)
    try:
        response = post(client, add(variant, 2), JSON)
    finally:
        request_started.disconnect(seen)
        request_finished.disconnect(seen)
    assert response.status_code == 201
    line = CartLine.objects.get(variant=variant, status="ACTIVE")
    assert response.json() == {
        "ok": True,
        "line_id": line.pk,
        "quantity": 2,
        "expires_at": line.expires_at.isoformat(),
    }
    assert batches.sizes == [1] and held(variant) == 2
    assert len(signals) == 2  # request_started and request_finished fired
    assert "content-security-policy" in response.headers
    assert response.headers["x-frame-options"] == "DENY"


def test_a_rush_is_batched_and_never_oversells(monkeypatch):
    recorder = Recorder(slow_first=0.3)
    monkeypatch.setattr(batcher, "_batcher", recorder.batcher)
    variant = VariantFactory(stock=7)
    clients = [shopper() for _ in range(40)]
    try:
        responses = concurrently([(client, add(variant), JSON) for client in clients])
    finally:
        recorder.batcher.close()
    statuses = sorted(response.status_code for response in responses)
    assert statuses.count(201) == 7 and statuses.count(409) == 33
    codes = {r.json()["error"]["code"] for r in responses if r.status_code == 409}
    assert codes == {"INSUFFICIENT_STOCK"}
    assert sum(recorder.sizes) == 40 and len(recorder.sizes) < 40  # group commit
    assert recorder.batcher.batches == len(recorder.sizes)
    assert stock_held_lines(variant.pk) == (7, 7, 7)


def _both_ways(settings, client, data, headers):
    """(batched, inline) answers to the same add: through the batcher, then with batching
    off (the view's own single-add path)."""
    batched = post(client, data, headers)
    settings.CART_ADD_BATCHING = False
    try:
        inline = post(client, data, headers)
    finally:
        settings.CART_ADD_BATCHING = True
    return batched, inline


@pytest.mark.usefixtures("no_cap")
@pytest.mark.parametrize(
    ("quantity", "code"),
    [("0", "INVALID_QUANTITY"), ("-1", "INVALID_QUANTITY"), ("abc", "INVALID_QUANTITY"),
     ("100000", "INVALID_QUANTITY"), ("6", "INSUFFICIENT_STOCK")],
)  # fmt: skip
def test_bad_quantity_gets_the_views_error_and_changes_nothing(batches, settings, quantity, code):
    client = shopper()
    variant = VariantFactory(stock=5)
    data = {"variant_id": str(variant.pk), "quantity": quantity}
    batched, inline = _both_ways(settings, client, data, JSON)
    # the form refuses a malformed quantity before the batch; stock is the batch's to refuse
    assert batches.sizes == ([1] if code == "INSUFFICIENT_STOCK" else [])
    assert batched.status_code == inline.status_code and batched.json() == inline.json()
    assert batched.json()["error"]["code"] == code
    assert held(variant) == 0 and not CartLine.objects.exists()


def test_htmx_answers_are_the_views_partials(batches, settings):
    client = shopper()
    variant = VariantFactory(stock=1)
    response = post(client, add(variant), HTMX)
    assert response.status_code == 200 and response.headers["hx-trigger"] == "cart-changed"
    assert "장바구니에 담았습니다" in response.content.decode()
    batched, inline = _both_ways(settings, client, add(variant), HTMX)
    page = batched.content.decode()
    assert batched.status_code == 200 and 'data-error-code="INSUFFICIENT_STOCK"' in page
    assert "예비번호 받기" in page and 'name="csrfmiddlewaretoken"' in page  # waitlist offer
    assert batched.headers.keys() == inline.headers.keys()
    assert batches.sizes == [1, 1]


def test_the_per_user_cap_is_answered_as_by_the_view(batches, settings):
    client = shopper()
    variant = VariantFactory(stock=20)
    batched, inline = _both_ways(settings, client, add(variant, 6), JSON)
    assert batched.status_code == inline.status_code == 409
    assert batched.json() == inline.json()
    assert batched.json()["error"]["code"] == "MAX_PER_USER_EXCEEDED"
    responses = concurrently([(client, add(variant, 2), JSON) for _ in range(3)])
    assert sorted(r.status_code for r in responses) == [201, 201, 409]
    assert held(variant) == 4


def test_unknown_hidden_or_sold_out_variants_are_refused(batches):
    client = shopper()
    hidden = VariantFactory(product=ProductFactory(hidden_from_store=True), stock=5)
    sold_out = VariantFactory(stock=5, status=ProductVariant.Status.SOLD_OUT)
    for variant_id in ("999999", "x", str(hidden.pk), str(sold_out.pk)):
        response = post(client, {"variant_id": variant_id, "quantity": "1"}, JSON)
        assert response.status_code == 409
        assert response.json()["error"]["code"] == "VARIANT_UNAVAILABLE"
    assert len(batches.sizes) == 3 and not CartLine.objects.exists()  # "x": the form's


def test_what_django_refuses_never_reaches_the_batcher(batches):
    variant = VariantFactory(stock=5)
    data = add(variant)
    # not logged in
    response = post(browser(), data, JSON)
    assert response.status_code == 401 and response.json()["error"]["code"] == "LOGIN_REQUIRED"
    # a wrong CSRF token, a foreign origin, a host not in ALLOWED_HOSTS
    user = UserFactory(profile_complete=True)
    client = browser(user)
    assert client.post("/cart/add/", data, HTTP_X_CSRFTOKEN="x" * 32, **JSON).status_code == 403
    foreign = post(client, data, JSON, HTTP_ORIGIN="https://evil.example", secure=True)
    assert foreign.status_code == 403
    assert post(client, data, JSON, HTTP_HOST="evil.example").status_code == 400
    # incomplete profile, a session ended by "log out everywhere", a suspended account
    response = post(browser(UserFactory()), data, JSON)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "PROFILE_INCOMPLETE"
    ended = UserFactory(profile_complete=True)
    ended_client = browser(ended)
    ended.session_version += 1
    ended.save(update_fields=["session_version"])
    response = post(ended_client, data, JSON)
    assert response.status_code == 401 and response.json()["error"]["code"] == "LOGIN_REQUIRED"
    user.status = user.Status.SUSPENDED
    user.save(update_fields=["status"])
    assert post(client, data, JSON).status_code == 302  # logged out
    assert batches.sizes == [] and held(variant) == 0 and not CartLine.objects.exists()


def test_the_add_rate_limit_holds_for_batched_adds(batches, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "cart_add": (("user", 2, 60),)}
    client = shopper()
    variant = VariantFactory(stock=10)
    responses = concurrently([(client, add(variant), JSON) for _ in range(4)])
    responses.append(post(client, add(variant), HTMX))
    assert sorted(r.status_code for r in responses) == [201, 201, 429, 429, 429]
    for response in (r for r in responses if r.status_code == 429):
        assert int(response.headers["retry-after"]) >= 1
        assert response.json()["error"]["code"] == "RATE_LIMITED"
    assert sum(batches.sizes) == 2 and held(variant) == 2


def test_a_plain_form_post_is_redirected_with_a_flash_message(batches):
    client = shopper()
    variant = VariantFactory(stock=5)
    response = post(client, add(variant), {"HTTP_ACCEPT": "text/html"})
    assert response.status_code == 302 and response["location"] == "/cart/"
    assert batches.sizes == [1] and held(variant) == 1


def test_a_failed_batch_gets_djangos_500_and_adds_nothing(monkeypatch):
    def broken(adds):
        raise OperationalError("connection lost")

    failing = batcher.AddBatcher(broken)
    monkeypatch.setattr(batcher, "_batcher", failing)
    client = shopper()
    client.raise_request_exception = False
    variant = VariantFactory(stock=5)
    try:
        response = post(client, add(variant), JSON)
    finally:
        failing.close()
    assert response.status_code == 500
    assert "content-security-policy" in response.headers  # Django's answer, its middleware
    assert held(variant) == 0 and not CartLine.objects.exists()


def test_an_add_inside_a_transaction_runs_inline(transactional_db):
    from django.db import transaction

    user = UserFactory(profile_complete=True)
    variant = VariantFactory(stock=5)
    with transaction.atomic():
        line = batcher.cart_add(user=user, variant_id=variant.pk, quantity=2)
        assert held(variant) == 2  # visible inside this transaction: not another thread's
    assert line.quantity == 2 and batcher.batcher().batches == 0


def test_the_batcher_keeps_running_after_a_broken_batch():
    calls = []

    def run(adds):
        calls.append(len(adds))
        if len(calls) == 1:
            return []  # a result missing: every add of the batch gets the error
        return services.cart_add_batch(requests=adds)

    adds = batcher.AddBatcher(run)
    user = UserFactory(profile_complete=True)
    variant = VariantFactory(stock=5)
    try:
        first = adds.submit(services.AddRequest(user, variant.pk, 1))
        with pytest.raises(RuntimeError):
            first.result(timeout=30)
        second = adds.submit(services.AddRequest(user, variant.pk, 2))
        assert second.result(timeout=30).quantity == 2
    finally:
        adds.close()
    assert calls == [1, 1] and adds.batches == 1 and held(variant) == 2
