"""The user admin: stats columns (one query per page, sortable), the overview on the change
page checked against SQL, and its suspend/restore/points buttons (permissions, audit)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from accounts.tests.factories import UserFactory, staff_with
from adminpanel.selectors import user_overview, users_with_stats
from core.models import AuditLog
from dorami.storetime import store_format
from orders.models import Order
from orders.services import payment_confirm
from orders.tests.factories import hold, make_order, make_variant
from points.services import balance_of, points_adjust
from shop.models import WaitlistEntry

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:accounts_user_changelist"


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def sql_stats(user_id: int) -> tuple[int, Decimal, int]:
    """(orders not cancelled, total of paid orders, points balance) straight from SQL."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM orders_order WHERE user_id = %s AND status <> 'CANCELLED'",
            [user_id],
        )
        count = cursor.fetchone()[0]
        cursor.execute(
            "SELECT coalesce(sum(total), 0) FROM orders_order WHERE user_id = %s"
            " AND status IN ('PAYMENT_CONFIRMED', 'SHIPPED', 'DELIVERED')",
            [user_id],
        )
        spent = cursor.fetchone()[0]
        cursor.execute(
            "SELECT coalesce(sum(amount), 0) FROM points_pointtransaction WHERE user_id = %s",
            [user_id],
        )
        points = cursor.fetchone()[0]
    return count, Decimal(spent).quantize(Decimal("0.01")), points


@pytest.fixture
def buyer(staff_user):
    """A shopper with paid, unpaid, shipped and cancelled orders, points, a hold and a
    waitlist entry."""
    user = UserFactory(profile_complete=True, email="buyer@example.com")
    paid = make_order(user=user, items=[(make_variant(price="33.33"), 3)])
    payment_confirm(order=paid, actor=staff_user)
    make_order(user=user, items=[(make_variant(price="10.05"), 1)])  # unpaid
    make_order(user=user, items=[(make_variant(price="99.99"), 1)], status="SHIPPED")
    make_order(user=user, items=[(make_variant(price="500.00"), 1)], status="CANCELLED")
    points_adjust(user=user, amount=1234, reason="행사 참여 적립 포인트", actor=staff_user)
    hold(
        user=user,
        variant=make_variant(price="5.00", stock=3),
        expires_at=timezone.now() + timedelta(minutes=10),
    )
    sold_out = make_variant(stock=0)
    WaitlistEntry.objects.create(
        user=user, product=sold_out.product, variant=sold_out, quantity=2, number=4
    )
    return user


def test_stats_match_sql(buyer):
    count, spent, points = sql_stats(buyer.pk)
    row = users_with_stats(User.objects.filter(pk=buyer.pk)).get()
    assert (row.order_count, row.total_spent, row.points_balance) == (count, spent, points)
    assert (count, spent) == (3, Decimal("107.99") + Decimal("99.99") + Decimal("8.00"))
    assert points == balance_of(user=buyer) == 1234 + 499  # 5% of $99.99 earned on confirm
    overview = user_overview(user=buyer)
    assert (overview.order_count, overview.total_spent) == (count, spent)
    assert overview.points_balance == points
    assert overview.last_order == Order.objects.filter(user=buyer).latest("created_at")
    assert len(overview.holds) == 1 and len(overview.waitlist) == 1
    # a user without orders or points: zeros, not None
    empty = users_with_stats(User.objects.filter(pk=UserFactory().pk)).get()
    assert (empty.order_count, empty.total_spent, empty.points_balance) == (0, Decimal("0"), 0)
    assert empty.last_order_at is None


def test_list_columns_cost_no_query_per_user(staff_client, buyer):
    url = reverse(CHANGELIST)
    staff_client.get(url)  # warm: the first request also loads what is cached afterwards
    with CaptureQueriesContext(connection) as few:
        html = staff_client.get(url).content.decode()
    assert "$215.98" in html and "1,733P" in html
    for _ in range(15):
        shopper = UserFactory(profile_complete=True)
        make_order(user=shopper, items=[(make_variant(), 1)])
    with CaptureQueriesContext(connection) as many:
        assert staff_client.get(url).status_code == 200
    assert len(many) == len(few)


def test_list_sorts_by_total_spent(staff_client, buyer):
    small = UserFactory(profile_complete=True, email="small@example.com")
    order = make_order(user=small, items=[(make_variant(price="1.00"), 1)])
    Order.objects.filter(pk=order.pk).update(status=Order.Status.PAYMENT_CONFIRMED)
    from adminpanel.users import UserDetailAdmin

    column = UserDetailAdmin.list_display.index("total_spent_column") + 1
    html = staff_client.get(reverse(CHANGELIST), {"o": f"-{column}"}).content.decode()
    assert html.index("buyer@example.com") < html.index("small@example.com")
    html = staff_client.get(reverse(CHANGELIST), {"o": f"{column}"}).content.decode()
    assert html.index("small@example.com") < html.index("buyer@example.com")


def test_change_page_shows_the_overview(staff_client, buyer):
    html = staff_client.get(reverse("admin:accounts_user_change", args=[buyer.pk])).content
    html = html.decode()
    assert 'data-testid="user-overview"' in html
    assert 'data-testid="stat-orders">3<' in html
    assert 'data-testid="stat-spent">$215.98<' in html
    assert 'data-testid="stat-points">1733P<' in html
    line = user_overview(user=buyer).holds[0]
    assert f"{store_format(line.expires_at)}까지" in html
    assert "#4 ×2" in html  # waitlist number and quantity
    assert "관리자 지급" in html and "+1234P" in html  # the ledger row of the adjustment
    assert reverse("admin:accounts_user_suspend", args=[buyer.pk]) in html
    assert reverse("admin:accounts_user_points", args=[buyer.pk]) in html


def test_suspend_restore_and_points_from_the_page_are_audited(staff_client, buyer):
    change = reverse("admin:accounts_user_change", args=[buyer.pk])
    start = timezone.now()
    response = staff_client.post(reverse("admin:accounts_user_suspend", args=[buyer.pk]))
    assert response.status_code == 302 and response.url == change
    buyer.refresh_from_db()
    assert buyer.status == User.Status.SUSPENDED
    page = staff_client.get(change).content.decode()
    assert reverse("admin:accounts_user_restore", args=[buyer.pk]) in page
    staff_client.post(reverse("admin:accounts_user_restore", args=[buyer.pk]))
    buyer.refresh_from_db()
    assert buyer.status == User.Status.ACTIVE
    staff_client.post(
        reverse("admin:accounts_user_points", args=[buyer.pk]),
        {"amount": "-233", "reason": "중복 적립분 회수 처리"},
    )
    assert balance_of(user=buyer) == 1500
    actions = list(
        AuditLog.objects.filter(actor=staff_client.user, created_at__gte=start)
        .order_by("pk")
        .values_list("action", flat=True)
    )
    assert actions == ["user.suspend", "user.restore", "points.adjust"]


def test_points_form_errors_are_korean_and_change_nothing(staff_client, buyer):
    url = reverse("admin:accounts_user_points", args=[buyer.pk])
    short = staff_client.post(url, {"amount": "100", "reason": "짧음"}, follow=True)
    assert "사유를 10자 이상 입력해 주세요." in short.content.decode()
    too_much = staff_client.post(
        url, {"amount": "-999999", "reason": "잘못 지급된 포인트 회수"}, follow=True
    )
    assert "포인트 조정:" in too_much.content.decode()
    assert balance_of(user=buyer) == 1733
    assert staff_client.get(url).status_code == 405


def test_staff_cannot_suspend_themselves_from_the_page(staff_client):
    me = staff_client.user
    staff_client.post(reverse("admin:accounts_user_suspend", args=[me.pk]))
    me.refresh_from_db()
    assert me.status == User.Status.ACTIVE


def test_view_only_staff_see_the_overview_but_cannot_act(buyer):
    viewer = logged_in(staff_with("*.view"))
    page = viewer.get(reverse("admin:accounts_user_change", args=[buyer.pk])).content.decode()
    assert 'data-testid="user-overview"' in page
    for name in ("suspend", "restore", "points"):
        url = reverse(f"admin:accounts_user_{name}", args=[buyer.pk])
        assert url not in page
        assert (
            viewer.post(url, {"amount": "100", "reason": "권한 없는 조정 시도"}).status_code == 403
        )
    buyer.refresh_from_db()
    assert buyer.status == User.Status.ACTIVE and balance_of(user=buyer) == 1733
    assert not AuditLog.objects.filter(actor__is_superuser=False).exists()


def test_points_need_their_own_permission(buyer):
    # change user (suspend) is not enough to move points, and the reverse
    clerk = logged_in(staff_with("accounts.view_user", "accounts.change_user"))
    url = reverse("admin:accounts_user_points", args=[buyer.pk])
    assert clerk.post(url, {"amount": "100", "reason": "권한 없는 조정 시도"}).status_code == 403
    cashier = logged_in(staff_with("accounts.view_user", "points.adjust_points"))
    assert cashier.post(reverse("admin:accounts_user_suspend", args=[buyer.pk])).status_code == 403
    cashier.post(url, {"amount": "100", "reason": "고객 보상 포인트 지급"})
    assert balance_of(user=buyer) == 1833
    assert buyer.status == User.Status.ACTIVE
    page = cashier.get(reverse("admin:accounts_user_change", args=[buyer.pk])).content.decode()
    assert reverse("admin:accounts_user_points", args=[buyer.pk]) in page
    assert reverse("admin:accounts_user_suspend", args=[buyer.pk]) not in page


def test_hold_expiry_is_shown_in_store_time(staff_client):
    user = UserFactory(profile_complete=True)
    expires = timezone.now() + timedelta(minutes=7)
    hold(user=user, variant=make_variant(stock=2), expires_at=expires)
    html = staff_client.get(reverse("admin:accounts_user_change", args=[user.pk])).content
    assert f"{store_format(expires)}까지" in html.decode()
