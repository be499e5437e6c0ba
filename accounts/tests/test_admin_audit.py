"""The user admin: every change (privileges and suspension included) is audited with
before/after, and only a superuser grants privileges."""

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from accounts.models import User
from accounts.tests.factories import UserFactory, staff_with
from core.models import AuditLog

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:accounts_user_changelist"


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def change_form(user: User, **changes) -> dict:
    data = {
        "email": user.email,
        "name": user.name,
        "instagram_id": user.instagram_id or "",
        "depositor_name": user.depositor_name,
        "phone": user.phone,
        "groups": [],
        "user_permissions": [],
    }
    for flag in ("is_active", "is_staff", "is_superuser", "live_alert_opt_in"):
        if getattr(user, flag):
            data[flag] = "on"
    for name, value in changes.items():
        if value is False:
            data.pop(name, None)
        else:
            data[name] = "on" if value is True else value
    return data


def test_privilege_changes_are_audited_with_before_and_after(staff_user):
    member = UserFactory(profile_complete=True)
    group = Group.objects.create(name="판매 보조")
    response = logged_in(staff_user).post(
        reverse("admin:accounts_user_change", args=[member.pk]),
        change_form(member, is_staff=True, is_superuser=True, groups=[group.pk]),
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    member.refresh_from_db()
    assert member.is_staff and member.is_superuser
    rows = AuditLog.objects.filter(action="admin.update", object_id=str(member.pk))
    fields = next(row for row in rows if "is_staff" in row.after)
    assert fields.actor == staff_user
    assert fields.before == {"is_staff": False, "is_superuser": False}
    assert fields.after == {"is_staff": True, "is_superuser": True}
    relations = next(row for row in rows if "groups" in row.after)
    assert (relations.before, relations.after) == ({"groups": []}, {"groups": [str(group.pk)]})
    for row in rows:
        assert "shipping_address_encrypted" not in row.after and "password" not in row.after


def test_deactivation_is_audited(staff_user):
    member = UserFactory(profile_complete=True)
    logged_in(staff_user).post(
        reverse("admin:accounts_user_change", args=[member.pk]),
        change_form(member, is_active=False),
    )
    row = AuditLog.objects.get(action="admin.update", object_id=str(member.pk))
    # deactivation also ends every session (the session version moves)
    assert row.before == {"is_active": True, "session_version": 0}
    assert row.after == {"is_active": False, "session_version": 1}


def test_staff_who_may_change_users_cannot_grant_privileges():
    editor = staff_with("accounts.view_user", "accounts.change_user")
    response = logged_in(editor).post(
        reverse("admin:accounts_user_change", args=[editor.pk]),
        change_form(editor, is_superuser=True, name="새 이름"),
    )
    assert response.status_code == 302
    editor.refresh_from_db()
    assert not editor.is_superuser and editor.name == "새 이름"
    assert editor.user_permissions.count() == 2


def test_suspend_and_restore_need_change_permission_and_are_audited():
    member = UserFactory(profile_complete=True)
    viewer = staff_with("*.view")
    logged_in(viewer).post(
        reverse(CHANGELIST), {"action": "suspend_users", "_selected_action": [member.pk]}
    )
    member.refresh_from_db()
    assert member.status == User.Status.ACTIVE and not AuditLog.objects.exists()

    editor = staff_with("accounts.view_user", "accounts.change_user")
    client = logged_in(editor)
    client.post(reverse(CHANGELIST), {"action": "suspend_users", "_selected_action": [member.pk]})
    client.post(reverse(CHANGELIST), {"action": "restore_users", "_selected_action": [member.pk]})
    suspended = AuditLog.objects.get(action="user.suspend")
    restored = AuditLog.objects.get(action="user.restore")
    assert suspended.actor == restored.actor == editor
    assert suspended.before == {"status": "ACTIVE"}
    assert suspended.after["status"] == "SUSPENDED"
    assert (restored.before, restored.after["status"]) == ({"status": "SUSPENDED"}, "ACTIVE")
