from __future__ import annotations

import base64
import itertools
import os

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from dorami.celery import app as celery_app
from notifications.models import PushSubscription
from notifications.push import vapid_keys_generate
from notifications.tasks import notification_send
from notifications.tests.fakes import FakeServer

_endpoint_numbers = itertools.count(1)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def browser_keys() -> tuple[str, str]:
    """(p256dh, auth) as a browser's PushSubscription would give them."""
    key = ec.generate_private_key(ec.SECP256R1())
    public = key.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    return b64url(public), b64url(os.urandom(16))


@pytest.fixture
def vapid(settings):
    settings.VAPID_PUBLIC_KEY, settings.VAPID_PRIVATE_KEY = vapid_keys_generate()
    settings.VAPID_SUBJECT = "mailto:admin@dorami.test"


@pytest.fixture
def push_server():
    server = FakeServer(default=201).start()
    yield server
    server.stop()


@pytest.fixture
def alimtalk_server(settings):
    server = FakeServer(default=200).start()
    settings.ALIMTALK_BASE_URL = server.url
    settings.ALIMTALK_API_KEY = "test-api-key"
    settings.ALIMTALK_SENDER_KEY = "test-sender-key"
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def celery_eager():
    """Tasks run in the calling thread, retries included (without waiting the countdown).

    Celery re-runs an eager retry only when the `Retry` is not propagated, so propagation is
    off here; `run_send` checks the final state instead, so a real error still fails a test."""
    old = celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = False
    yield
    celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates = old


def run_send(send_id: int) -> None:
    """Run `notification_send` eagerly, retries included; fail on an unexpected error."""
    result = notification_send.apply(args=[send_id])
    assert result.state == "SUCCESS", result.traceback


@pytest.fixture
def subscribe(push_server):
    def make(user, *, stream=None) -> PushSubscription:
        p256dh, auth = browser_keys()
        return PushSubscription.objects.create(
            user=user,
            endpoint=f"{push_server.url}/push/{next(_endpoint_numbers)}",
            p256dh=p256dh,
            auth=auth,
            stream=stream,
        )

    return make
