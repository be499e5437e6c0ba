"""Web push in a real browser: the page asks permission, registers /sw.js and subscribes; the
seller goes live; the push service receives one encrypted message for that browser.

Chromium's `pushManager.subscribe` registers with Google's push service (FCM/GCM), which this
machine cannot reach: in a persistent profile the call never answers (measured: no answer after
20 s), and in Playwright's default (incognito) contexts Chromium refuses it at once ("Registration
failed - permission denied": no Push API in incognito). So the test replaces only that browser
boundary: an init script makes `PushManager.prototype.subscribe` / `getSubscription` return a
subscription whose endpoint is the local fake push service and whose keys the test holds. The
rest is the page's own code: the button, the permission request (granted by the context), the
service worker registration, the VAPID key fetch, the post to /notifications/push/subscribe/;
and on the server the real webhook, fan-out, pywebpush encryption and VAPID signature. The test
decrypts the message (RFC 8291, aes128gcm) with the subscription's private key.
"""

from __future__ import annotations

import base64
import json
import os
import time
import urllib.request
from pathlib import Path

import http_ece
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from playwright.sync_api import expect

from accounts.tests.factories import UserFactory
from e2e.conftest import login_browser, start_asgi_server, stop_asgi_server
from live.services.stream import stream_create
from notifications.models import PushSubscription
from notifications.push import vapid_keys_generate
from notifications.tests.fakes import FakeServer

SECRET = "push-test-secret"
# Links in messages are absolute (they open outside the site): on this host.
SITE_URL = "http://dorami.test"
SHOTS = Path(os.environ.get("E2E_SCREENSHOTS", "/tmp/dorami-e2e-shots"))
IPHONE_SAFARI = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)

# The browser's push-service boundary, replaced (see the module docstring). Records the
# applicationServerKey the page passed, so the test checks it is the server's VAPID key.
FAKE_PUSH_MANAGER = """
(() => {
  const fake = %s;
  const b64 = (bytes) => btoa(String.fromCharCode(...new Uint8Array(bytes)))
      .replace(/\\+/g, "-").replace(/\\//g, "_").replace(/=+$/, "");
  // Like a browser, the subscription outlives the page (kept in localStorage here).
  const make = () => ({
    endpoint: fake.endpoint,
    toJSON() { return { endpoint: fake.endpoint, expirationTime: null, keys: fake.keys }; },
    unsubscribe() { localStorage.removeItem("fake-push"); return Promise.resolve(true); },
  });
  window.__pushCalls = [];
  PushManager.prototype.getSubscription = function () {
    return Promise.resolve(localStorage.getItem("fake-push") ? make() : null);
  };
  PushManager.prototype.subscribe = function (options) {
    window.__pushCalls.push({ userVisibleOnly: options.userVisibleOnly,
                              key: b64(options.applicationServerKey) });
    localStorage.setItem("fake-push", "1");
    return Promise.resolve(make());
  };
})();
"""


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class BrowserKeys:
    """What a browser keeps for one subscription: its ECDH key pair and auth secret."""

    def __init__(self):
        self.private = ec.generate_private_key(ec.SECP256R1())
        public = self.private.public_key().public_bytes(
            Encoding.X962, PublicFormat.UncompressedPoint
        )
        self.auth = os.urandom(16)
        self.json = {"p256dh": b64url(public), "auth": b64url(self.auth)}

    def decrypt(self, body: bytes) -> dict:
        plain = http_ece.decrypt(
            body, private_key=self.private, auth_secret=self.auth, version="aes128gcm"
        )
        return json.loads(plain)


@pytest.fixture
def push_service():
    server = FakeServer(default=201).start()
    yield server
    server.stop()


@pytest.fixture
def vapid_server(transactional_db, tmp_path):
    public, private = vapid_keys_generate()
    server = start_asgi_server(
        tmp_path=tmp_path,
        extra_env={
            "VAPID_PUBLIC_KEY": public,
            "VAPID_PRIVATE_KEY": private,
            "VAPID_SUBJECT": "mailto:push-test@dorami.test",
            "MEDIA_WEBHOOK_SECRET": SECRET,
            "SITE_URL": SITE_URL,
        },
    )
    server.vapid_public = public
    yield server
    stop_asgi_server(server)


def phone_context(browser, server, user, keys, endpoint, **extra):
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="ko-KR", **extra)
    context.grant_permissions(["notifications"], origin=server.url)
    fake = {"endpoint": endpoint, "keys": keys.json}
    context.add_init_script(FAKE_PUSH_MANAGER % json.dumps(fake))
    login_browser(context, user, server.url)
    return context


def publish(server, stream) -> tuple[int, float]:
    """The media server's on_publish for `stream` (nginx-rtmp form post)."""
    data = f"call=publish&app=live&name={stream.public_id}&key={stream.publish_key}".encode()
    request = urllib.request.Request(
        f"{server.url}/api/v1/media/rtmp/on_publish?secret={SECRET}", data=data, method="POST"
    )
    started = time.monotonic()
    with urllib.request.urlopen(request, timeout=10) as response:
        status = response.status
    return status, time.monotonic() - started


def wait_for(predicate, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


def test_live_page_subscribe_then_going_live_pushes_one_message(
    browser, vapid_server, push_service
):
    # given a shopper on the page of a show that has not started
    SHOTS.mkdir(parents=True, exist_ok=True)
    shopper = UserFactory(profile_complete=True)
    stream = stream_create(title="금요 라이브")
    keys = BrowserKeys()
    endpoint = f"{push_service.url}/push/e2e-device"
    context = phone_context(browser, vapid_server, shopper, keys, endpoint)
    page = context.new_page()
    page.goto(f"{vapid_server.url}/live/{stream.public_id}/")
    button = page.get_by_test_id("push-stream-button")
    expect(button).to_have_text("방송 알림 받기")
    page.screenshot(path=str(SHOTS / "push-live-before.png"))

    # when they tap "방송 알림 받기"
    button.click()

    # then the page registered the service worker, had permission and subscribed with our key
    expect(page.get_by_test_id("push-stream")).to_have_attribute("data-push-state", "on")
    expect(button).to_have_text("알림 신청됨")
    expect(page.get_by_test_id("push-stream-status")).to_have_text(
        "방송이 시작되면 이 기기로 알려드려요."
    )
    page.screenshot(path=str(SHOTS / "push-live-after.png"))
    assert page.evaluate("Notification.permission") == "granted"
    script = page.evaluate(
        "navigator.serviceWorker.getRegistration('/')"
        ".then(r => r && r.active && r.active.scriptURL)"
    )
    assert script == f"{vapid_server.url}/sw.js"
    calls = page.evaluate("window.__pushCalls")
    assert calls == [{"userVisibleOnly": True, "key": vapid_server.vapid_public}]
    subscription = PushSubscription.objects.get(user=shopper)
    assert (subscription.endpoint, subscription.stream_id) == (endpoint, stream.pk)

    # when the seller goes live (the media server's webhook)
    status, answered_in = publish(vapid_server, stream)
    assert status == 200

    # then the push service receives exactly one encrypted message for this browser
    assert wait_for(lambda: len(push_service.requests) >= 1), vapid_server.log()[-3000:]
    time.sleep(1.0)  # a second message would have arrived by now
    assert len(push_service.requests) == 1
    request = push_service.requests[0]
    assert request.path == "/push/e2e-device"
    assert request.headers["content-encoding"] == "aes128gcm"
    assert request.headers["authorization"].endswith("k=" + vapid_server.vapid_public)
    assert "금요".encode() not in request.body
    assert keys.decrypt(request.body) == {
        "title": "라이브 시작",
        "body": "금요 라이브 방송이 시작되었습니다.",
        "url": f"{SITE_URL}/live/{stream.public_id}/",
    }
    assert answered_in < 5

    # and a republish after a drop sends nothing more
    publish(vapid_server, stream)
    time.sleep(1.0)
    assert len(push_service.requests) == 1
    context.close()


def test_my_page_switch_subscribes_and_unsubscribes_this_device(
    browser, vapid_server, push_service
):
    SHOTS.mkdir(parents=True, exist_ok=True)
    shopper = UserFactory(profile_complete=True)
    keys = BrowserKeys()
    endpoint = f"{push_service.url}/push/my-device"
    context = phone_context(browser, vapid_server, shopper, keys, endpoint)
    page = context.new_page()
    page.goto(f"{vapid_server.url}/my/")
    toggle = page.get_by_test_id("push-device-toggle")
    expect(toggle).to_have_attribute("aria-checked", "false")

    toggle.click()
    expect(page.get_by_test_id("push-device")).to_have_attribute("data-push-state", "on")
    expect(toggle).to_have_attribute("aria-checked", "true")
    expect(page.get_by_test_id("push-device-status")).to_have_text(
        "이 기기에서 푸시 알림을 받고 있어요."
    )
    page.get_by_test_id("push-device").scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "push-my-on.png"))
    subscription = PushSubscription.objects.get(user=shopper)
    assert (subscription.endpoint, subscription.stream_id) == (endpoint, None)

    # the state survives a reload (the browser still holds the subscription)
    page.reload()
    expect(page.get_by_test_id("push-device")).to_have_attribute("data-push-state", "on")

    page.get_by_test_id("push-device-toggle").click()
    expect(page.get_by_test_id("push-device")).to_have_attribute("data-push-state", "off")
    assert wait_for(lambda: not PushSubscription.objects.filter(user=shopper).exists())
    context.close()


def test_ios_safari_outside_the_home_screen_gets_the_hint_not_the_button(
    browser, vapid_server, push_service
):
    SHOTS.mkdir(parents=True, exist_ok=True)
    shopper = UserFactory(profile_complete=True)
    stream = stream_create(title="금요 라이브")
    context = phone_context(
        browser,
        vapid_server,
        shopper,
        BrowserKeys(),
        f"{push_service.url}/push/ios",
        user_agent=IPHONE_SAFARI,
    )
    page = context.new_page()
    page.goto(f"{vapid_server.url}/live/{stream.public_id}/")
    expect(page.get_by_test_id("push-stream-button")).to_be_hidden()
    hint = page.get_by_test_id("push-ios-hint")
    expect(hint).to_be_visible()
    expect(hint).to_contain_text("홈 화면에 추가")
    page.screenshot(path=str(SHOTS / "push-live-ios.png"))

    page.goto(f"{vapid_server.url}/my/")
    expect(page.get_by_test_id("push-device-toggle")).to_be_hidden()
    expect(page.get_by_test_id("push-ios-hint")).to_be_visible()
    page.get_by_test_id("push-device").scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "push-my-ios.png"))
    context.close()


def test_a_guest_is_sent_to_the_login(page, asgi_live_server):
    stream = stream_create(title="금요 라이브")
    page.goto(f"{asgi_live_server.url}/live/{stream.public_id}/")
    page.get_by_test_id("push-stream-login").click()
    page.wait_for_url("**/login/**")
    assert f"next=/live/{stream.public_id}/" in page.url.replace("%2F", "/")
