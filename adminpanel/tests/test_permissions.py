"""Admin pages outside the model admins follow the same permissions."""

import pytest
from django.test import Client
from django.urls import reverse

from accounts.tests.factories import staff_with

pytestmark = pytest.mark.django_db


def test_sales_dashboard_needs_order_view_permission():
    for perms, shown in ((("core.view_notice",), False), (("orders.view_order",), True)):
        client = Client()
        client.force_login(staff_with(*perms))
        html = client.get(reverse("admin:index")).content.decode()
        assert ('data-testid="revenue-7d"' in html) is shown, perms


def test_other_packages_admin_writes_are_audited(staff_client, staff_user):
    from django.contrib.auth.models import Group, Permission

    from core.models import AuditLog

    permission = Permission.objects.get(codename="adjust_points")
    staff_client.post(
        reverse("admin:auth_group_add"), {"name": "회계", "permissions": [permission.pk]}
    )
    group = Group.objects.get(name="회계")
    created = AuditLog.objects.get(action="admin.create", object_type="auth.Group")
    assert created.actor == staff_user and created.after["name"] == "회계"
    granted = AuditLog.objects.get(action="admin.update", object_id=str(group.pk))
    assert granted.after == {"permissions": [str(permission.pk)]}
