import time

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from accounts.models import User
from accounts.services import user_restore, user_sessions_end, user_suspend
from core.models import AuditLog

pytestmark = pytest.mark.django_db


def _logged_in_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_suspension_ends_every_session_at_once(shopper, staff_user):
    # given the shopper is logged in on two devices
    phone, laptop = _logged_in_client(shopper), _logged_in_client(shopper)
    assert phone.get("/my/").status_code == 200
    assert laptop.get("/my/").status_code == 200

    # when an admin suspends them
    user_suspend(user=shopper, actor=staff_user)

    # then both devices are logged out on their next request, and told why
    for device in (phone, laptop):
        response = device.get("/my/")
        assert response.status_code == 302
        assert response["Location"] == reverse("accounts:login") + "?suspended=1"
        assert "_auth_user_id" not in device.session
        page = device.get(response["Location"]).content.decode()
        assert "이용이 정지된 계정입니다" in page
    shopper.refresh_from_db()
    assert shopper.status == User.Status.SUSPENDED
    assert shopper.session_version == 1


def test_restored_user_can_log_in_again(client, settings, shopper):
    settings.DEV_LOGIN_ENABLED = True
    user_suspend(user=shopper)
    assert client.post(reverse("accounts:dev-login"), {"email": shopper.email}).status_code == 403
    user_restore(user=shopper)
    response = client.post(reverse("accounts:dev-login"), {"email": shopper.email})
    assert response.status_code == 302
    assert client.get("/my/").status_code == 200


def test_log_out_everywhere(shopper):
    device = _logged_in_client(shopper)
    user_sessions_end(user=shopper)
    response = device.get("/my/")
    assert response.status_code == 302
    assert "suspended" not in response["Location"]  # not suspended: no such message


def test_ended_session_page_says_suspended_only_once(shopper):
    # given a suspended shopper's ended session
    device = _logged_in_client(shopper)
    user_suspend(user=shopper)
    # when they open the home page, they are sent to the login page with the reason
    response = device.get("/")
    assert response["Location"] == reverse("accounts:login") + "?suspended=1"
    # and the session is gone, so later pages are ordinary guest pages
    assert device.get("/").status_code == 200


def test_suspended_user_middleware_logs_out_even_without_a_session_bump(shopper):
    device = _logged_in_client(shopper)
    # status flipped directly (e.g. by SQL), session_version untouched
    User.objects.filter(pk=shopper.pk).update(status=User.Status.SUSPENDED)
    response = device.get("/")
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:login") + "?suspended=1"
    assert "_auth_user_id" not in device.session
    page = device.get(response["Location"]).content.decode()
    assert "이용이 정지된 계정입니다" in page


def test_session_is_extended_on_a_visit(shopper_client):
    # given a session last extended two days ago that would end in a minute
    session = shopper_client.session
    session["_slid_at"] = int(time.time()) - 2 * 24 * 3600
    session.set_expiry(60)
    session.save()

    # when the shopper visits
    response = shopper_client.get("/my/")

    # then the session (and its cookie) lasts 30 days again
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert int(cookie["max-age"]) == 30 * 24 * 3600
    assert shopper_client.session.get_expiry_age() == 30 * 24 * 3600
    assert shopper_client.session["_slid_at"] > int(time.time()) - 60


def test_session_is_not_rewritten_on_every_request(shopper_client):
    shopper_client.get("/my/")  # slides once
    response = shopper_client.get("/my/")
    assert settings.SESSION_COOKIE_NAME not in response.cookies


def test_admin_suspend_action_ends_sessions_and_writes_audit_log(staff_client, shopper):
    device = _logged_in_client(shopper)
    response = staff_client.post(
        "/admin/accounts/user/",
        {"action": "suspend_users", "_selected_action": [shopper.pk, staff_client.user.pk]},
    )
    assert response.status_code == 302
    shopper.refresh_from_db()
    staff_client.user.refresh_from_db()
    assert shopper.status == User.Status.SUSPENDED
    assert staff_client.user.status == User.Status.ACTIVE  # never yourself
    assert device.get("/my/").status_code == 302
    log = AuditLog.objects.get(action="user.suspend")
    assert log.actor == staff_client.user
    assert log.object_id == str(shopper.pk)
    assert log.before == {"status": "ACTIVE"}

    staff_client.post(
        "/admin/accounts/user/", {"action": "restore_users", "_selected_action": [shopper.pk]}
    )
    shopper.refresh_from_db()
    assert shopper.status == User.Status.ACTIVE
    assert AuditLog.objects.filter(action="user.restore", object_id=str(shopper.pk)).exists()


def test_admin_user_pages_show_decrypted_address_and_search(staff_client, shopper):
    changelist = staff_client.get("/admin/accounts/user/", {"q": shopper.instagram_id})
    assert changelist.status_code == 200
    assert shopper.email in changelist.content.decode()
    for query in (
        {"status__exact": "SUSPENDED"},
        {"profile": "incomplete"},
        {"is_staff__exact": "1"},
    ):
        assert staff_client.get("/admin/accounts/user/", query).status_code == 200
    detail = staff_client.get(f"/admin/accounts/user/{shopper.pk}/change/").content.decode()
    assert "3250 Wilshire Blvd" in detail
    assert "shipping_address_encrypted" not in detail
    assert shopper.shipping_address_encrypted not in detail
