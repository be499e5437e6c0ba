"""Korean everywhere: no untranslated English on shopper, studio or admin screens.

Each page is rendered with the demo data (as a guest, a shopper, a new member and staff); the
text a person reads (tags, scripts and styles stripped; placeholders, titles and button
captions kept) may contain Latin letters only for names: the brand, payment services, banks,
US states, the shopper's own data (address, email, Instagram ID), product data and the
allow-listed terms below.
"""

from __future__ import annotations

import re

import pytest
from django.contrib import admin
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from accounts.forms import US_STATES
from accounts.models import User
from core.models import AuditLog, get_config
from dorami.tests.pagetext import visible_text
from live.models import LiveStream
from orders.models import Order
from shop.models import Product, ProductVariant

# Names and terms that stay in Latin letters in a Korean UI.
ALLOWED = {
    "Dorami",  # brand
    "Zelle",  # payment service
    "LIVE",  # the live badge
    "NEW",  # the new-product badge
    "ID",  # 인스타그램 ID, 주문 ID
    "ZIP",  # 우편번호 (US)
    "PST",
    "PDT",  # the store's time zone
    "OBS",
    "RTMP",
    "URL",
    "CSV",
    "XLSX",
    "FLV",
    "HLS",  # the seller's broadcasting tools and file formats
    "YouTube",
    "Instagram",
    "TikTok",
    "Kakao",  # platforms
    "ORD",  # order numbers ORD-YYYYMMDD-NNNNN
    "Bank",
    "Hanmi",
    "LLC",  # the demo bank account (SystemConfig data)
    "JPG",
    "PNG",
    "GIF",
    "WEBP",
    "MB",  # upload rules
}
WORD = re.compile(r"[A-Za-z][A-Za-z'’\-]*[A-Za-z]|\b[A-Za-z]\b")


def _data_words() -> set[str]:
    """Words that are data, not UI text: people's details, products, options, config."""
    texts: list[str] = [name for _code, name in US_STATES] + [code for code, _ in US_STATES]
    for user in User.objects.all():
        texts += [user.email, user.instagram_id or "", user.name, user.depositor_name]
        texts += [str(v) for v in (user.shipping_address or {}).values()]
    for order in Order.objects.all():
        texts += [str(v) for v in (order.shipping_address or {}).values()]
    texts += list(Product.objects.values_list("name", flat=True))
    for color, size in ProductVariant.objects.values_list("color", "size"):
        texts += [color, size]
    config = get_config()
    texts += [config.bank_name, config.bank_account_holder, config.zelle_email]
    texts += [config.zelle_recipient_name, config.business_name, config.contact_email]
    texts += [config.business_address, config.notice_text, config.business_owner]
    texts += [config.contact_hours, config.terms_text, config.privacy_text]
    for stream in LiveStream.objects.all():
        texts += [stream.title, stream.public_id, stream.publish_key]
    return {w for text in texts for w in WORD.findall(text or "")}


def english_words(body: str, allowed: set[str], *, attributes: bool = True) -> set[str]:
    text = visible_text(body, attributes=attributes)
    # web addresses and emails on the page are data (RTMP URLs, contact email)
    text = re.sub(r"\S+@\S+|\b\w+://\S+|\b[\w-]+(\.[\w-]+)+\b", " ", text)
    return {w for w in WORD.findall(text) if w not in allowed and w.upper() not in allowed}


@pytest.fixture
def demo(db, settings):
    settings.DEBUG = False
    call_command("seed_demo", stdout=None)
    return {
        "allowed": ALLOWED | _data_words(),
        "stream": LiveStream.objects.order_by("pk").first(),
        "shopper": User.objects.get(email="minji@dorami.local"),
        "newbie": User.objects.get(email="newbie@dorami.local"),
        "admin": User.objects.get(email="admin@dorami.local"),
    }


def _check(client: Client, urls: list[str], allowed: set[str]) -> dict[str, set[str]]:
    found = {}
    for url in urls:
        response = client.get(url, follow=True)
        assert response.status_code in (200, 404), (url, response.status_code)
        words = english_words(response.content.decode(), allowed)
        if words:
            found[url] = words
    return found


def test_shopper_pages_have_no_untranslated_english(demo):
    stream = demo["stream"]
    products = list(Product.objects.values_list("pk", flat=True))
    order = Order.objects.filter(user=demo["shopper"]).order_by("pk").first()
    guest_urls = [
        "/",
        "/store/",
        "/login/",
        "/live/",
        f"/live/{stream.public_id}/",
        "/no-such-page/",
        *[f"/products/{pk}/" for pk in products],
    ]
    shopper_urls = [
        *guest_urls,
        "/cart/",
        "/checkout/",
        "/my/",
        "/my/profile/",
        "/my/orders/",
        f"/my/orders/{order.order_id}/",
        f"/orders/{order.order_id}/complete/",
        "/my/points/",
        "/my/waitlist/",
    ]
    guest = Client()
    shopper = Client()
    shopper.force_login(demo["shopper"])
    newbie = Client()
    newbie.force_login(demo["newbie"])
    found = {
        **{f"guest {u}": w for u, w in _check(guest, guest_urls, demo["allowed"]).items()},
        **{f"shopper {u}": w for u, w in _check(shopper, shopper_urls, demo["allowed"]).items()},
        **{
            f"new member {u}": w
            for u, w in _check(newbie, ["/profile/register/"], demo["allowed"]).items()
        },
    }
    assert found == {}

    # and the seller's studio
    staff = Client()
    staff.force_login(demo["admin"])
    urls = [reverse("live:studio"), reverse("live:studio-stream", args=[stream.pk])]
    assert _check(staff, urls, demo["allowed"]) == {}


def test_admin_screens_speak_korean(demo):
    # given an audit trail and order events from the demo orders, as the admin sees them
    staff = Client()
    staff.force_login(demo["admin"])
    order = Order.objects.order_by("pk").first()
    pages = {
        "index": reverse("admin:index"),
        "orders": reverse("admin:orders_order_changelist"),
        "order": reverse("admin:orders_order_change", args=[order.pk]),
        "users": reverse("admin:accounts_user_changelist"),
        "products": reverse("admin:shop_product_changelist"),
        "audit": reverse("admin:core_auditlog_changelist"),
        "streams": reverse("admin:live_livestream_changelist"),
        "notices": reverse("admin:core_notice_changelist"),
        "user": reverse("admin:accounts_user_change", args=[demo["shopper"].pk]),
        "group": reverse("admin:auth_group_add"),
        "audit row": reverse(
            "admin:core_auditlog_change",
            args=[AuditLog.objects.filter(action="order.cancelled").first().pk],
        ),
        "points": reverse("admin:points_pointtransaction_changelist"),
    }
    text = {name: visible_text(staff.get(url).content.decode()) for name, url in pages.items()}
    everything = " ".join(text.values())
    # then the column headers are Korean (Django upper-cases them with CSS, not in the text)
    for english in ("created at", "sort order", "date joined", "actor", "updated at"):
        assert english not in everything.lower()
    assert "가입일" in text["users"]
    assert "정렬 순서" in text["products"]
    assert "생성 시각" in text["notices"] or "생성 시각" in text["audit"]
    assert "작업자" in text["audit"]
    # no raw event codes, no "11 CREATED", no English greeting
    assert AuditLog.objects.filter(action__startswith="order.").exists()
    assert not re.search(r"\border\.[a-z_]+", everything)
    assert "CREATED" not in text["order"]
    assert "주문 생성" in text["order"]
    assert "Welcome" not in everything and "환영합니다, " not in everything
    # Django's own Korean where it reads badly: list titles and filter headings
    assert "보기위한" not in everything and "(으)로" not in everything
    assert "감사 로그 목록" in text["audit"] and "상태별" in text["orders"]
    # no django-celery-beat menus
    for menu in ("Clocked", "Crontabs", "Intervals", "Periodic tasks", "Solar events"):
        assert menu not in text["index"]
    # money in dollars
    assert f"${order.total:,.2f}" in text["orders"]
    assert f"${order.total:,.2f}" in text["order"]
    # and nothing else in English on those pages (Django's own icon alt texts aside)
    bodies = {name: staff.get(url).content.decode() for name, url in pages.items()}
    leftovers = {
        name: words
        for name, body in bodies.items()
        if (words := english_words(body, demo["allowed"], attributes=False))
    }
    assert leftovers == {}

    # every menu entry of the index is Korean
    index = staff.get(reverse("admin:index"))
    for app in index.context["app_list"]:
        for model in app["models"]:
            assert not re.search(r"[A-Za-z]{3,}", str(model["name"])), model["name"]
    assert "django_celery_beat" not in {m._meta.app_label for m in admin.site._registry}


def test_admin_login_error_reads_naturally(db, client):
    response = client.post(
        reverse("admin:login"), {"username": "nobody@example.com", "password": "wrong"}
    )
    text = visible_text(response.content.decode())
    assert "이메일과 비밀번호" in text
    assert "이메일 와" not in text
