"""A shopper sees their logged-in devices and ends them (SPEC §2, "로그인 기기 관리")."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from accounts.devices import device_label
from accounts.models import UserSession
from accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1"
)
WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0 Safari/537.36"
)
KAKAO = (
    "Mozilla/5.0 (Linux; Android 14; SM-S918N) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0 Mobile Safari/537.36 KAKAOTALK 10.4.5"
)


def device(user, user_agent: str, ip: str = "203.0.113.7") -> Client:
    client = Client(HTTP_USER_AGENT=user_agent, REMOTE_ADDR=ip)
    client.force_login(user)
    assert client.get("/my/").status_code == 200  # the first request records the session
    return client


def logged_in(client: Client) -> bool:
    return client.get("/my/").status_code == 200


@pytest.mark.parametrize(
    ("ua", "label"),
    [
        (IPHONE, "iPhone · Safari"),
        (WINDOWS, "Windows · Chrome"),
        (KAKAO, "Android · 카카오톡"),
        ("", "알 수 없는 기기"),
    ],
)
def test_device_label(ua, label):
    assert device_label(ua) == label


def test_my_sessions_lists_devices_with_current_marked(shopper, settings):
    # given: the shopper is logged in on a phone and a laptop
    phone = device(shopper, IPHONE, "203.0.113.7")
    device(shopper, WINDOWS, "198.51.100.20")
    # when
    response = phone.get(reverse("accounts:sessions"))
    # then
    body = response.content.decode()
    items = body.split('data-testid="session-item"')[1:]
    assert len(items) == 2
    assert "iPhone · Safari" in items[0] and 'data-testid="session-current"' in items[0]
    assert "203.0.113.7" in items[0] and 'data-testid="session-end"' not in items[0]
    assert "Windows · Chrome" in items[1] and "198.51.100.20" in items[1]
    assert 'data-testid="session-current"' not in items[1]
    assert re.search(r"마지막 접속 \d+월 \d+일 \([^)]\) 오[전후] \d+:\d\d P[SD]T", items[0])
    for record in UserSession.objects.all():  # the key never reaches the page
        assert record.session_key not in body


def test_ending_another_session_logs_that_device_out_only(shopper):
    phone, laptop = device(shopper, IPHONE), device(shopper, WINDOWS)
    laptop_record = UserSession.objects.get(user_agent=WINDOWS)
    # when
    response = phone.post(reverse("accounts:session-end", args=[laptop_record.pk]))
    # then
    assert response.status_code == 302
    assert "선택한 기기에서 로그아웃했습니다" in phone.get(response["Location"]).content.decode()
    assert not logged_in(laptop)
    assert logged_in(phone)
    assert list(UserSession.objects.values_list("user_agent", flat=True)) == [IPHONE]


def test_the_current_session_and_other_users_sessions_cannot_be_ended_here(shopper):
    phone = device(shopper, IPHONE)
    stranger = device(UserFactory(profile_complete=True), WINDOWS)
    mine = UserSession.objects.get(user=shopper)
    theirs = UserSession.objects.exclude(user=shopper).get()
    response = phone.post(reverse("accounts:session-end", args=[mine.pk]), follow=True)
    assert "로그아웃 버튼으로" in response.content.decode()
    response = phone.post(reverse("accounts:session-end", args=[theirs.pk]), follow=True)
    assert "이미 로그아웃된 기기입니다" in response.content.decode()
    assert logged_in(phone) and logged_in(stranger)


def test_log_out_other_devices_keeps_this_one(shopper):
    phone, laptop, tablet = device(shopper, IPHONE), device(shopper, WINDOWS), Client()
    tablet.force_login(shopper)  # never made a request: no record yet
    # when
    response = phone.post(reverse("accounts:sessions-end-others"))
    # then
    assert response.status_code == 302
    assert logged_in(phone)
    assert not logged_in(laptop) and not logged_in(tablet)
    assert list(UserSession.objects.values_list("session_key", flat=True)) == [
        phone.session.session_key
    ]


def test_sessions_that_ended_elsewhere_disappear_from_the_list(shopper):
    phone, laptop = device(shopper, IPHONE), device(shopper, WINDOWS)
    laptop.post(reverse("accounts:logout"))
    body = phone.get(reverse("accounts:sessions")).content.decode()
    assert "Windows · Chrome" not in body
    assert UserSession.objects.count() == 1


def test_last_seen_is_written_at_most_every_few_minutes(shopper, monkeypatch):
    from django.core.cache import cache

    from accounts import middleware

    clock = [1000.0]
    monkeypatch.setattr(middleware.time, "monotonic", lambda: clock[0])
    phone = device(shopper, IPHONE)
    record = UserSession.objects.get()
    phone.get("/my/")
    assert UserSession.objects.get().last_seen_at == record.last_seen_at
    # the throttle lives in the cache, and each process skips asking it for a minute per session
    cache.clear()
    phone.get("/my/")
    assert UserSession.objects.get().last_seen_at == record.last_seen_at
    clock[0] += middleware.SessionRecordMiddleware.CHECK_EVERY
    phone.get("/my/")
    assert UserSession.objects.get().last_seen_at > record.last_seen_at


def test_a_process_remembers_a_bounded_number_of_sessions():
    recorder = middleware_instance()
    recorder.REMEMBERED = 3
    assert [recorder.check_due(f"s{n}") for n in range(5)] == [True] * 5
    assert list(recorder.checked) == ["s2", "s3", "s4"]
    assert not recorder.check_due("s4") and recorder.check_due("s0")


def middleware_instance():
    from accounts.middleware import SessionRecordMiddleware

    return SessionRecordMiddleware(lambda request: None)


def test_guests_leave_no_record(client):
    client.get("/")
    assert not UserSession.objects.exists()


def test_an_address_that_is_not_an_ip_is_left_out(shopper):
    device(shopper, IPHONE, ip="unix:/run/web.sock")
    assert UserSession.objects.get().ip is None
