"""Error tracking: an error in a view reaches a (fake) Sentry endpoint without personal data."""

import gzip
import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import sentry_sdk
from django.http import HttpResponse
from django.urls import path

from accounts.tests.factories import UserFactory
from dorami import sentry

ADDRESS = {
    "full_name": "Minji Park",
    "address1": "4120 W 3rd St",
    "address2": "Apt 7",
    "city": "Torrance",
    "state": "CA",
    "zip": "90503",
}
logger = logging.getLogger(__name__)


def _ship(request):
    user = request.user
    address = user.shipping_address
    logger.warning("label for %s (%s) failed", user.email, user.instagram_id)
    raise ValueError(
        f"cannot ship to {address['full_name']}, {address['address1']} {address['address2']}, "
        f"{address['city']}, {address['state']} {address['zip']}; call {user.phone}; "
        f"depositor {user.depositor_name}; buyer {user.name}"
    )


def _fine(request):
    return HttpResponse("ok")


urlpatterns = [path("boom/", _ship), path("fine/", _fine)]


class _Collector(BaseHTTPRequestHandler):
    envelopes: list[bytes]

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        self.server.envelopes.append(body)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


@pytest.fixture
def fake_sentry():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Collector)
    server.envelopes = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    dsn = f"http://publickey@127.0.0.1:{server.server_address[1]}/42"
    assert sentry.init(dsn=dsn, environment="test")
    try:
        yield server.envelopes
    finally:
        sentry_sdk.get_client().close()
        sentry_sdk.init()  # no DSN: off again for the other tests
        server.shutdown()


def _events(envelopes: list[bytes]) -> list[dict]:
    events = []
    for envelope in envelopes:
        lines = envelope.split(b"\n")
        for header, payload in zip(lines[1::2], lines[2::2], strict=False):
            if json.loads(header).get("type") == "event":
                events.append(json.loads(payload))
    return events


def test_init_without_a_dsn_leaves_error_tracking_off():
    assert sentry.init(dsn="", environment="production") is False


def test_error_event_reaches_sentry_without_personal_data(db, client, settings, fake_sentry):
    settings.ROOT_URLCONF = __name__
    shopper = UserFactory(
        profile_complete=True,
        name="박민지",
        email="minji.park@example.com",
        instagram_id="@minji.closet",
        depositor_name="PARK MINJI",
        phone="310-555-0147",
        address=ADDRESS,
    )
    client.force_login(shopper)
    client.raise_request_exception = False
    client.cookies["tracking"] = "cookie-value-123"

    response = client.post(
        "/boom/?zip=90503&page=2",
        {"full_name": "Minji Park", "note": "leave at 4120 W 3rd St"},
        HTTP_AUTHORIZATION="Bearer secret-token-xyz",
    )
    assert response.status_code == 500
    sentry_sdk.flush(timeout=5)

    (event,) = _events(fake_sentry)
    assert event["exception"]["values"][-1]["type"] == "ValueError"
    assert "cannot ship to" in event["exception"]["values"][-1]["value"]
    assert event["transaction"] == "/boom/"
    text = json.dumps(event, ensure_ascii=False)
    personal = [
        "Minji Park", "4120 W 3rd St", "Apt 7", "Torrance", "90503", "310-555-0147", "3105550147",
        "박민지", "PARK MINJI", "minji.park@example.com", "@minji.closet", "minji.closet",
        "cookie-value-123", "secret-token-xyz", "leave at", "sessionid", "csrftoken",
    ]  # fmt: skip
    assert [value for value in personal if value in text] == []
    assert "user" not in event or set(event["user"]) <= {"id"}
    assert any(
        "label for" in (crumb.get("message") or "") for crumb in event["breadcrumbs"]["values"]
    )


def test_scrub_patterns_without_a_request():
    text = sentry.scrub_text(
        "order for jane@example.com @jane.doe (213) 555-0199 at 12 Main Street, LA, CA 90010"
    )
    assert text.count(sentry.FILTERED) >= 5
    for value in ("jane@", "@jane.doe", "555-0199", "12 Main Street", "90010"):
        assert value not in text
    assert sentry.scrub_text("ORD-20261203-00001 failed: stock 3") == (
        "ORD-20261203-00001 failed: stock 3"
    )
