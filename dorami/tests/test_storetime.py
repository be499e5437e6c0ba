"""Times a person types or reads are the store's (STORE_TIME_ZONE), stored as UTC instants."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from dorami.storetime import store_format, store_make_aware
from dorami.tests.pagetext import visible_text
from live.models import LiveStream

LA = ZoneInfo("America/Los_Angeles")


@pytest.fixture(autouse=True)
def _store_in_california(settings):
    settings.STORE_TIME_ZONE = "America/Los_Angeles"


def _next_year() -> int:
    return timezone.now().astimezone(LA).year + 1


def test_studio_19_00_is_19_00_in_the_store_and_reads_as_오후_7_00(staff_client):
    # given a seller in California typing 19:00 on Dec 3 (next year: always in the future)
    year = _next_year()
    # when the studio form is posted (datetime-local sends no zone)
    response = staff_client.post(
        reverse("live:studio-stream-create"),
        {"title": "목요 라이브", "scheduled_at": f"{year}-12-03T19:00"},
    )
    assert response.status_code == 302
    stream = LiveStream.objects.get(title="목요 라이브")
    # then it is 19:00 on the store's clock: 03:00 UTC the next day, not 19:00 UTC
    assert stream.scheduled_at == datetime(year, 12, 3, 19, 0, tzinfo=LA)
    assert stream.scheduled_at.astimezone(UTC) == datetime(year, 12, 4, 3, 0, tzinfo=UTC)

    # and the home page shows it as 오후 7:00 with the zone, counting down to that instant
    LiveStream.objects.exclude(pk=stream.pk).delete()
    home = staff_client.get("/").content.decode()
    assert f'data-countdown-to="{year}-12-03T19:00:00-08:00"' in home
    text = visible_text(home)
    assert "12월 3일" in text and "오후 7:00 PST" in text
    assert "19:00" not in text and "03:00" not in text

    # and the studio list and the admin list read the same
    studio = staff_client.get(reverse("live:studio")).content.decode()
    assert "12월 3일" in studio and "오후 7:00 PST" in studio
    admin_list = staff_client.get(reverse("admin:live_livestream_changelist")).content.decode()
    assert f"{year}. 12. 3. 오후 7:00 PST" in admin_list


def test_admin_form_parses_in_the_store_zone(staff_client):
    # given the admin's split date/time inputs (no zone either)
    year = _next_year()
    stream = LiveStream.objects.create(title="관리자 예약")
    url = reverse("admin:live_livestream_change", args=[stream.pk])
    page = staff_client.get(url)
    assert page.status_code == 200
    form = page.context["adminform"].form
    data = {
        name: form.initial.get(name) or ""
        for name in form.fields
        if name not in ("thumbnail", "scheduled_at")
    }
    data.update(
        {
            "title": "관리자 예약",
            "scheduled_at_0": f"{year}-07-04",
            "scheduled_at_1": "09:30:00",
            "free_shipping_mode": stream.free_shipping_mode,
            "free_shipping_threshold": stream.free_shipping_threshold,
        }
    )
    # when saved
    response = staff_client.post(url, {k: v for k, v in data.items() if v is not None})
    assert response.status_code == 302, response.content.decode()[:2000]
    stream.refresh_from_db()
    # then 09:30 in California (PDT in July)
    assert stream.scheduled_at == datetime(year, 7, 4, 9, 30, tzinfo=LA)


def test_store_format_styles():
    year = _next_year()
    winter = datetime(year, 12, 3, 19, 0, tzinfo=LA).astimezone(UTC)
    summer = datetime(year, 7, 4, 9, 5, tzinfo=LA).astimezone(UTC)
    assert store_format(winter, "time") == "오후 7:00 PST"
    assert store_format(summer, "time") == "오전 9:05 PDT"
    assert (
        store_format(winter, "date")
        == f"12월 3일 ({'월화수목금토일'[winter.astimezone(LA).weekday()]})"
    )
    assert store_format(winter, "full").startswith(f"{year}년 12월 3일")
    assert store_format(winter, "iso") == f"{year}-12-03T19:00:00-08:00"
    assert store_format(datetime(year, 1, 1, 0, 0, tzinfo=LA), "time") == "오전 12:00 PST"
    assert store_format(datetime(year, 1, 1, 12, 0, tzinfo=LA), "time") == "오후 12:00 PST"
    # this year's dates leave the year out; other years show it
    now = timezone.now()
    assert not store_format(now).startswith(f"{now.astimezone(LA).year}년")
    assert store_format(now - timedelta(days=800)).startswith(
        f"{(now - timedelta(days=800)).astimezone(LA).year}년"
    )
    assert store_format(date(year, 12, 3), "date").endswith(
        "12월 3일 (" + "월화수목금토일"[date(year, 12, 3).weekday()] + ")"
    )
    assert store_format(None) == ""


def test_a_wall_time_without_zone_is_the_stores():
    assert store_make_aware(datetime(2030, 12, 3, 19, 0)) == datetime(2030, 12, 3, 19, 0, tzinfo=LA)
    aware = datetime(2030, 12, 3, 19, 0, tzinfo=UTC)
    assert store_make_aware(aware) is aware


def test_order_pages_show_store_time(shopper_client):
    from orders.tests.factories import make_order, make_variant

    # given an order placed at 03:00 UTC = 19:00 the evening before in California
    order = make_order(user=shopper_client.user, items=[(make_variant(), 1)])
    placed = datetime(2030, 12, 4, 3, 0, tzinfo=UTC)
    type(order).objects.filter(pk=order.pk).update(created_at=placed)
    # when the shopper opens their orders
    detail = shopper_client.get(reverse("orders:detail", args=[order.order_id])).content.decode()
    listing = shopper_client.get(reverse("orders:my-orders")).content.decode()
    # then both read 12월 3일 오후 7:00 PST
    for page in (detail, listing):
        assert "2030년 12월 3일 (화) 오후 7:00 PST" in page
