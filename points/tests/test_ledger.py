from datetime import timedelta

import pytest
from django.db.models import Sum
from django.utils import timezone

from core.models import get_config
from points import services
from points.models import PointBalance, PointTransaction


def ledger_sum(user) -> int:
    return PointTransaction.objects.filter(user=user).aggregate(s=Sum("amount"))["s"] or 0


def assert_consistent(user) -> int:
    balance = services.balance_of(user=user)
    assert balance == ledger_sum(user)
    remaining = (
        PointTransaction.objects.filter(user=user, amount__gt=0).aggregate(s=Sum("remaining"))["s"]
        or 0
    )
    assert remaining == balance
    return balance


@pytest.fixture
def staff(user_factory):
    return user_factory(is_staff=True)


def test_adjust_needs_a_reason_of_ten_characters(shopper, staff):
    with pytest.raises(services.ReasonTooShort):
        services.points_adjust(user=shopper, amount=100, reason="짧은 사유", actor=staff)
    assert services.balance_of(user=shopper) == 0
    services.points_adjust(user=shopper, amount=100, reason="이벤트 당첨 포인트 지급", actor=staff)
    assert assert_consistent(shopper) == 100


def test_subtract_cannot_go_below_zero(shopper, staff):
    services.points_adjust(user=shopper, amount=300, reason="고객 보상 포인트 지급", actor=staff)
    with pytest.raises(services.InsufficientPoints):
        services.points_adjust(
            user=shopper, amount=-301, reason="잘못 지급한 포인트 회수", actor=staff
        )
    services.points_adjust(user=shopper, amount=-300, reason="잘못 지급한 포인트 회수", actor=staff)
    assert assert_consistent(shopper) == 0


def test_zero_or_non_integer_adjustments_are_refused(shopper, staff):
    for bad in (0, 1.5, "100", True):
        with pytest.raises(services.InvalidPointsAmount):
            services.points_adjust(
                user=shopper, amount=bad, reason="유효하지 않은 조정 요청", actor=staff
            )
    assert not PointTransaction.objects.filter(user=shopper).exists()


def test_expiring_800_with_a_balance_of_500_expires_500(shopper, staff):
    # given: 800 credited long ago, 300 of it already spent
    services.points_adjust(user=shopper, amount=800, reason="오래전 지급한 포인트", actor=staff)
    PointTransaction.objects.filter(user=shopper).update(
        expires_at=timezone.now() - timedelta(days=1)
    )
    services.points_adjust(user=shopper, amount=-300, reason="일부 사용 처리 포인트", actor=staff)
    assert services.balance_of(user=shopper) == 500
    # when
    result = services.points_expire()
    # then
    assert result == {"users": 1, "points": 500}
    expired = PointTransaction.objects.get(user=shopper, kind="EXPIRED")
    assert expired.amount == -500
    assert assert_consistent(shopper) == 0
    # and a second run is harmless
    assert services.points_expire() == {"users": 0, "points": 0}


def test_expiry_never_takes_more_than_the_balance_even_if_remaining_drifted(shopper, staff):
    services.points_adjust(user=shopper, amount=800, reason="오래전 지급한 포인트", actor=staff)
    # a balance lower than the credit's unspent remainder (e.g. data from an older system)
    PointTransaction.objects.filter(user=shopper).update(
        expires_at=timezone.now() - timedelta(days=1)
    )
    PointBalance.objects.filter(user=shopper).update(balance=500)
    PointTransaction.objects.filter(user=shopper).update(
        balance_after=500, amount=500, remaining=500
    )
    services.points_expire_user(user=shopper)
    assert services.balance_of(user=shopper) == 0
    assert PointTransaction.objects.get(kind="EXPIRED").amount == -500


def test_unexpired_and_never_expiring_points_stay(shopper, staff):
    services.points_adjust(user=shopper, amount=1000, reason="만료 전 지급 포인트", actor=staff)
    config = get_config()
    config.points_expiry_months = 0
    config.save()
    services.points_adjust(user=shopper, amount=200, reason="무기한 지급 포인트", actor=staff)
    assert PointTransaction.objects.get(amount=200).expires_at is None
    assert services.points_expire() == {"users": 0, "points": 0}
    assert assert_consistent(shopper) == 1200


def test_debits_consume_soonest_expiring_credits_first(shopper, staff):
    services.points_adjust(user=shopper, amount=1000, reason="나중에 만료될 포인트", actor=staff)
    services.points_adjust(user=shopper, amount=1000, reason="먼저 만료될 포인트 지급", actor=staff)
    later, sooner = PointTransaction.objects.order_by("id")
    PointTransaction.objects.filter(pk=sooner.pk).update(
        expires_at=timezone.now() + timedelta(days=1)
    )
    services.points_adjust(
        user=shopper, amount=-1500, reason="포인트 사용 처리 테스트", actor=staff
    )
    later.refresh_from_db()
    sooner.refresh_from_db()
    assert (sooner.remaining, later.remaining) == (0, 500)
    assert assert_consistent(shopper) == 500


def test_limits_for_an_order(shopper):
    from decimal import Decimal

    limits = services.points_limits(user=shopper, order_total=Decimal("80.00"))
    assert (limits.minimum, limits.balance, limits.maximum) == (1000, 0, 0)
    assert services.order_max_points(order_total=Decimal("80.00"), config=get_config()) == 4000
    # never the whole positive total, even at 100%
    config = get_config()
    config.points_max_use_percent = 100
    assert services.order_max_points(order_total=Decimal("0.50"), config=config) == 49


@pytest.mark.parametrize(
    ("points", "balance", "total", "error"),
    [
        (2000, 10000, "80.00", None),
        (500, 10000, "80.00", services.PointsBelowMinimum),
        (5000, 10000, "80.00", services.PointsExceedMax),
        (1000, 500, "80.00", services.InsufficientPoints),
        (-1, 10000, "80.00", services.InvalidPointsAmount),
    ],
)
def test_use_rules(db, points, balance, total, error):
    from decimal import Decimal

    if error is None:
        services.points_validate_use(points=points, order_total=Decimal(total), balance=balance)
    else:
        with pytest.raises(error) as caught:
            services.points_validate_use(points=points, order_total=Decimal(total), balance=balance)
        assert caught.value.code == error.code
        assert caught.value.message


def test_disabled_points_are_refused(db):
    from decimal import Decimal

    config = get_config()
    config.points_enabled = False
    config.save()
    with pytest.raises(services.PointsDisabled):
        services.points_validate_use(points=2000, order_total=Decimal("80.00"), balance=10000)


@pytest.mark.parametrize(
    ("earned", "months", "expires"),
    [
        # the same day and time N calendar months later, in the store's time zone
        ("2026-03-15 10:00", 12, "2027-03-15 10:00"),  # 30-day months would say 2027-03-10
        ("2026-01-31 10:00", 1, "2026-02-28 10:00"),  # no 31st: the month's last day
        ("2027-12-31 23:30", 2, "2028-02-29 23:30"),  # leap year
        ("2026-08-31 09:00", 6, "2027-02-28 09:00"),
        ("2026-11-30 23:00", 1, "2026-12-30 23:00"),  # already December in UTC
        ("2026-03-08 01:30", 1, "2026-04-08 01:30"),  # across the DST change
    ],
)
def test_points_expire_n_calendar_months_after_earning(settings, earned, months, expires):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    settings.STORE_TIME_ZONE = "America/Los_Angeles"
    store = ZoneInfo("America/Los_Angeles")

    def local(text):
        return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=store)

    earned_at = local(earned).astimezone(ZoneInfo("UTC"))
    assert services.points_expiry_at(earned_at=earned_at, months=months) == local(expires)
    assert services.points_expiry_at(earned_at=earned_at, months=0) is None


def test_earned_points_expire_in_calendar_months(shopper, staff):
    config = get_config()
    config.points_expiry_months = 12
    config.save()
    credit = services.points_adjust(
        user=shopper, amount=100, reason="테스트 포인트 지급 사유", actor=staff
    )
    expected = services.points_expiry_at(earned_at=credit.created_at, months=12)
    assert abs(credit.expires_at - expected) < timedelta(seconds=1)
