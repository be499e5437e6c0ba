from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from accounts.tests.factories import UserFactory
from core.models import AuditLog
from notifications.models import (
    ALIMTALK_MAX_BODY,
    Channel,
    Kind,
    NotificationSend,
    NotificationTemplate,
    template_render,
    template_variables,
)

pytestmark = pytest.mark.django_db


def make(**kwargs) -> NotificationTemplate:
    fields = {
        "name": "입금 안내",
        "kind": Kind.PAYMENT_REMINDER,
        "channel": Channel.ALIMTALK,
        "provider_template_code": "PAY_01",
        "body": "{{name}}님, 주문 {{ order_id }} 입금 기한은 {{deadline}}입니다.",
    }
    return NotificationTemplate(**(fields | kwargs))


def test_render_replaces_variables():
    assert template_render("{{a}}-{{ b }}-{{c}}", {"a": 1, "b": "둘"}) == "1-둘-"


def test_known_variables_pass():
    make().full_clean()


def test_unknown_variable_is_refused_in_korean():
    with pytest.raises(ValidationError) as caught:
        make(body="{{name}}님 {{tracking_number}}").full_clean()
    (message,) = caught.value.message_dict["body"]
    assert "알 수 없는 변수: tracking_number" in message


def test_alimtalk_body_over_the_provider_limit_is_refused():
    with pytest.raises(ValidationError) as caught:
        make(body="가" * (ALIMTALK_MAX_BODY + 1)).full_clean()
    assert "1000자 이하" in caught.value.message_dict["body"][0]
    make(body="가" * ALIMTALK_MAX_BODY).full_clean()


def test_alimtalk_needs_a_template_code():
    with pytest.raises(ValidationError) as caught:
        make(provider_template_code="").full_clean()
    assert "provider_template_code" in caught.value.message_dict


@pytest.fixture
def admin_client():
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True, profile_complete=True))
    return client


def test_admin_form_refuses_unknown_variable_and_saves_nothing(admin_client):
    response = admin_client.post(
        reverse("admin:notifications_notificationtemplate_add"),
        {
            "name": "입금 안내",
            "kind": Kind.PAYMENT_REMINDER,
            "channel": Channel.ALIMTALK,
            "provider_template_code": "PAY_01",
            "title": "",
            "body": "{{name}}님 {{oops}}",
            "enabled": "on",
        },
    )
    assert response.status_code == 200
    assert "알 수 없는 변수: oops" in response.content.decode()
    assert not NotificationTemplate.objects.exists()


def test_admin_saves_audits_and_previews(admin_client):
    response = admin_client.post(
        reverse("admin:notifications_notificationtemplate_add"),
        {
            "name": "입금 안내",
            "kind": Kind.PAYMENT_REMINDER,
            "channel": Channel.PUSH,
            "provider_template_code": "",
            "title": "입금 안내",
            "body": "주문 {{order_id}} 입금 기한은 {{deadline}}입니다.",
            "enabled": "on",
        },
    )
    assert response.status_code == 302
    template = NotificationTemplate.objects.get()
    assert AuditLog.objects.filter(action="admin.create", object_id=str(template.pk)).exists()
    page = admin_client.get(
        reverse("admin:notifications_notificationtemplate_change", args=[template.pk])
    ).content.decode()
    assert "<p>주문 D2612030001 입금 기한은 12월 4일 오후 3:00입니다.</p>" in page
    assert "&lt;p&gt;" not in page


def test_send_log_is_read_only_with_filters(admin_client, shopper):
    send = NotificationSend.objects.create(
        dedupe_key="payment_reminder:D1",
        kind=Kind.PAYMENT_REMINDER,
        channel=Channel.PUSH,
        user=shopper,
        status=NotificationSend.Status.FAILED,
        error="push refused (400)",
    )
    changelist = reverse("admin:notifications_notificationsend_changelist")
    for query in ("", "?status__exact=FAILED", "?channel__exact=PUSH&kind__exact=payment_reminder"):
        response = admin_client.get(changelist + query)
        assert response.status_code == 200
        assert "payment_reminder:D1" in response.content.decode()
    assert (
        admin_client.get(changelist + "?status__exact=SENT")
        .content.decode()
        .count("payment_reminder:D1")
        == 0
    )
    change = reverse("admin:notifications_notificationsend_change", args=[send.pk])
    admin_client.post(change, {"status": "SENT"})
    send.refresh_from_db()
    assert send.status == NotificationSend.Status.FAILED
    assert admin_client.get(reverse("admin:notifications_notificationsend_add")).status_code == 403


def test_every_kind_has_variables_sample_values_and_a_default_push_text():
    from notifications.models import DEFAULT_PUSH_TEXT, KIND_VARIABLES, SAMPLE_CONTEXT

    for kind in Kind.values:
        assert kind in KIND_VARIABLES and kind in DEFAULT_PUSH_TEXT, kind
        assert set(KIND_VARIABLES[kind]) <= set(SAMPLE_CONTEXT), kind
        title, body = DEFAULT_PUSH_TEXT[kind]
        assert template_variables(title + body) <= set(KIND_VARIABLES[kind]), kind
