"""Notices reach shoppers: banners on home and store, the live page's ticker, closing them."""

from __future__ import annotations

import re

import pytest
from django.test import Client, RequestFactory
from django.urls import reverse

from accounts.tests.factories import UserFactory
from core.models import Notice, NoticeDismissal, get_config
from core.notices import NOTICE_COOKIE, box_notice, visible_notices
from live.models import LiveStream

pytestmark = pytest.mark.django_db


def banner_keys(response) -> list[str]:
    return re.findall(r'data-notice-key="([^"]+)"', response.content.decode())


def set_notice_text(text: str) -> None:
    config = get_config()
    config.notice_text = text
    config.save()


@pytest.mark.parametrize("url", ["/", "/store/"])
def test_active_notices_show_as_banners_important_first(client, url):
    # given
    general = Notice.objects.create(title="배송 안내", body="주말 배송 없음", kind="GENERAL")
    important = Notice.objects.create(title="설 연휴 휴무", kind="IMPORTANT")
    Notice.objects.create(title="지난 공지", is_active=False)
    set_notice_text("오늘 밤 8시 라이브!")
    # when
    response = client.get(url)
    # then
    body = response.content.decode()
    assert banner_keys(response) == [f"n{important.pk}", box_notice().key, f"n{general.pk}"]
    assert "설 연휴 휴무" in body and "주말 배송 없음" in body and "오늘 밤 8시 라이브!" in body
    assert "지난 공지" not in body


def test_notice_saved_in_admin_shows_at_once(client, staff_client):
    client.get("/")  # the empty list is cached now
    staff_client.post(
        reverse("admin:core_notice_add"),
        {"kind": "IMPORTANT", "title": "택배 파업 안내", "body": "", "is_active": "on"},
    )
    assert "택배 파업 안내" in client.get("/").content.decode()
    # unticked in the list (list_editable: a bulk update) — gone at once too
    Notice.objects.update(is_active=False)
    assert "택배 파업 안내" not in client.get("/").content.decode()


def test_notices_are_read_from_the_cache(client, shopper, django_assert_num_queries):
    Notice.objects.create(title="설 연휴 휴무", kind="IMPORTANT")
    client.get("/")  # fills the cache
    request = RequestFactory().get("/")
    request.user = shopper
    visible_notices(request)
    with django_assert_num_queries(0):
        assert [n.title for n in visible_notices(request)] == ["설 연휴 휴무"]


def test_important_dismissal_follows_the_user_to_another_device(shopper):
    important = Notice.objects.create(title="설 연휴 휴무", kind="IMPORTANT")
    phone, laptop = Client(), Client()
    phone.force_login(shopper)
    laptop.force_login(shopper)
    assert banner_keys(laptop.get("/")) == [f"n{important.pk}"]
    # when
    response = phone.post(reverse("core:notice-dismiss"), {"key": f"n{important.pk}", "next": "/"})
    # then
    assert response.status_code == 302 and response["Location"] == "/"
    assert NoticeDismissal.objects.filter(user=shopper, key=f"n{important.pk}").exists()
    assert banner_keys(phone.get("/")) == []
    assert banner_keys(laptop.get("/store/")) == []
    # another shopper still sees it
    other = Client()
    other.force_login(UserFactory())
    assert banner_keys(other.get("/")) == [f"n{important.pk}"]


def test_guest_dismissal_is_kept_in_the_browser(client):
    notice = Notice.objects.create(title="설 연휴 휴무", kind="IMPORTANT")
    response = client.post(
        reverse("core:notice-dismiss"), {"key": f"n{notice.pk}"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200 and response.content == b""
    assert response.cookies[NOTICE_COOKIE]["httponly"]
    assert banner_keys(client.get("/")) == []
    assert banner_keys(Client().get("/")) == [f"n{notice.pk}"]  # another browser
    assert not NoticeDismissal.objects.exists()


def test_general_dismissal_is_per_browser_even_logged_in(shopper_client):
    notice = Notice.objects.create(title="배송 안내", kind="GENERAL")
    shopper_client.post(reverse("core:notice-dismiss"), {"key": f"n{notice.pk}"})
    assert banner_keys(shopper_client.get("/")) == []
    assert not NoticeDismissal.objects.exists()


def test_edited_notice_box_text_shows_again(client):
    set_notice_text("8시 라이브")
    client.post(reverse("core:notice-dismiss"), {"key": box_notice().key})
    assert banner_keys(client.get("/")) == []
    set_notice_text("9시 라이브로 변경")
    assert banner_keys(client.get("/")) == [box_notice().key]


def test_unknown_key_and_unsafe_next_go_home(client):
    response = client.post(
        reverse("core:notice-dismiss"), {"key": "n999", "next": "https://evil.example/"}
    )
    assert response.status_code == 302 and response["Location"] == "/"
    assert NOTICE_COOKIE not in response.cookies


def test_live_ticker_shows_notice_box_and_active_notices(client):
    stream = LiveStream.objects.create(
        title="금요 라이브", status=LiveStream.Status.LIVE, notice_text="전 상품 무료배송"
    )
    Notice.objects.create(title="설 연휴 휴무", kind="IMPORTANT")
    set_notice_text("문의는 채팅으로")
    body = client.get(reverse("live:watch", args=[stream.public_id])).content.decode()
    ticker = body.split('data-testid="notice-ticker"')[1].split("</div>")[0]
    assert "전 상품 무료배송" in ticker
    assert "설 연휴 휴무" in ticker and "문의는 채팅으로" in ticker
    assert " hidden" not in ticker.split(">")[0]


def test_live_ticker_hidden_without_any_notice(client):
    stream = LiveStream.objects.create(title="금요 라이브", status=LiveStream.Status.LIVE)
    body = client.get(reverse("live:watch", args=[stream.public_id])).content.decode()
    assert 'data-testid="notice-ticker" hidden' in body
