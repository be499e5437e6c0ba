"""Points adjustment in the admin needs `points.adjust_points`; viewing the ledger does not
give it."""

import pytest
from django.test import Client
from django.urls import reverse

from accounts.tests.factories import staff_with
from core.models import AuditLog
from points.models import PointTransaction
from points.services import balance_of

pytestmark = pytest.mark.django_db

ADJUST = "admin:points_pointtransaction_adjust"
ADD_500 = {"amount": "500", "reason": "이벤트 당첨 보상 지급"}


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_view_only_staff_cannot_adjust_points(shopper):
    # given staff who may view everything (the ledger included) but change nothing
    viewer = logged_in(staff_with("*.view"))
    # when they post an adjustment
    response = viewer.post(reverse(ADJUST), {"user": shopper.email, **ADD_500})
    # then it is refused and nothing moved
    assert response.status_code == 403
    assert balance_of(user=shopper) == 0
    assert not PointTransaction.objects.exists()
    assert not AuditLog.objects.exists()
    assert viewer.get(reverse(ADJUST)).status_code == 403


def test_the_ledger_hides_the_adjust_button_without_the_permission():
    viewer = logged_in(staff_with("points.view_pointtransaction"))
    adjuster = logged_in(staff_with("points.view_pointtransaction", "points.adjust_points"))
    changelist = reverse("admin:points_pointtransaction_changelist")
    assert reverse(ADJUST) not in viewer.get(changelist).content.decode()
    assert reverse(ADJUST) in adjuster.get(changelist).content.decode()


def test_staff_with_adjust_points_adjusts_and_is_audited(shopper):
    user = staff_with("points.adjust_points")
    response = logged_in(user).post(reverse(ADJUST), {"user": shopper.email, **ADD_500})
    assert response.status_code == 302
    assert balance_of(user=shopper) == 500
    audit = AuditLog.objects.get(action="points.adjust")
    assert audit.actor == user
    assert audit.after["amount"] == 500 and audit.after["user"] == shopper.pk
