"""A shopper deletes their account: no personal data is left in the database (checked on a
`pg_dump` of it), orders stay for accounting with their totals, the snapshot sealed."""

from __future__ import annotations

import os
import subprocess
from decimal import Decimal

import pytest
from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount
from django.db import connection
from django.db.models import Sum
from django.test import Client
from django.urls import reverse

from accounts import crypto
from accounts.models import User, UserSession
from accounts.tests.factories import UserFactory
from api.models import ApiToken
from api.services import api_token_create
from live.models import ChatMessage, LiveStream
from live.services.chat import history_decode, history_push, history_raw
from notifications.models import Channel, Kind, NotificationSend, PushSubscription
from orders.models import Order
from orders.tests.factories import hold, make_order, make_variant
from shop.models import CartLine, ProductVariant, WaitlistEntry

pytestmark = pytest.mark.django_db

PERSONAL = {
    "email": "jiwoo.deletes@example.com",
    "name": "Jiwoo Seonghyeon",
    "instagram_id": "@jiwoo_leaving",
    "depositor_name": "Seonghyeon Jiwoo",
    "phone": "+12135559876",
}
ADDRESS = {
    "full_name": "Jiwoo Seonghyeon",
    "address1": "8812 Larkspur Terrace",
    "address2": "Unit 41",
    "city": "Fullerton",
    "state": "CA",
    "zip": "92831",
}


def pg_dump() -> str:
    db = connection.settings_dict
    env = {**os.environ, "PGPASSWORD": db.get("PASSWORD") or ""}
    command = ["pg_dump", "--no-owner", "-h", db.get("HOST") or "127.0.0.1"]
    command += ["-p", str(db.get("PORT") or 5432), "-U", db["USER"], db["NAME"]]
    return subprocess.run(
        command, env=env, capture_output=True, text=True, check=True, timeout=120
    ).stdout


def personal_strings() -> list[str]:
    return [
        *PERSONAL.values(),
        "jiwoo_leaving",
        "8812 Larkspur",
        "Larkspur Terrace",
        "92831",
        "지우의 갤럭시",
    ]


@pytest.fixture
def leaving(staff_client):
    """A shopper with a bit of everything: delivered and cancelled orders, a cart hold, a
    waitlist place, chat, a push subscription, a sent message, a Kakao link, staff edits."""
    user = UserFactory(profile_complete=True, address=ADDRESS, **PERSONAL)
    SocialAccount.objects.create(
        user=user, provider="kakao", uid="998877", extra_data={"email": PERSONAL["email"]}
    )
    EmailAddress.objects.create(user=user, email=PERSONAL["email"], verified=True, primary=True)
    delivered = make_order(user=user, items=[(make_variant(price="25.50"), 2)], status="DELIVERED")
    cancelled = make_order(user=user, items=[(make_variant(price="9.99"), 1)], status="CANCELLED")
    held = make_variant(price="5.00", stock=3)
    hold(user=user, variant=held, quantity=2)
    sold_out = make_variant(stock=0)
    WaitlistEntry.objects.create(
        user=user, product=sold_out.product, variant=sold_out, quantity=1, number=1
    )
    stream = LiveStream.objects.create(title="금요 라이브")
    line = ChatMessage.objects.create(
        stream=stream, user=user, display_name=PERSONAL["instagram_id"], body="예뻐요"
    )
    history_push(
        stream_id=stream.pk, payload={"id": line.pk, "name": line.display_name, "body": "예뻐요"}
    )
    PushSubscription.objects.create(
        user=user, endpoint="https://push.example/jiwoo-device", p256dh="k", auth="a"
    )
    NotificationSend.objects.create(
        dedupe_key="shipped:1",
        kind=Kind.SHIPPED,
        channel=Channel.PUSH,
        user=user,
        title=f"{PERSONAL['name']}님, 상품이 발송되었습니다",
        body=f"{ADDRESS['address1']}로 배송 중",
    )
    api_token_create(user=user, name="지우의 갤럭시")
    # a staff edit of this user in the admin: its audit row holds the values
    url = reverse("admin:accounts_user_change", args=[user.pk])
    form = staff_client.get(url).context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v not in (None, False)}
    data.update({"name": PERSONAL["name"], "is_active": "on"})
    data = {k: ("on" if v is True else v) for k, v in data.items() if not isinstance(v, list)}
    staff_client.post(url, data)
    return {"user": user, "orders": [delivered, cancelled], "held": held, "stream": stream}


@pytest.mark.django_db(transaction=True)  # pg_dump reads what is committed
def test_deleted_account_leaves_no_personal_data_and_keeps_order_totals(leaving):
    user = leaving["user"]
    shopper = Client()
    shopper.force_login(user)
    assert shopper.get("/my/").status_code == 200
    totals = Order.objects.filter(user=user).aggregate(t=Sum("total"), s=Sum("subtotal"))
    dump_before = pg_dump()
    assert PERSONAL["depositor_name"] in dump_before  # the check below can fail

    # when the shopper deletes the account, typing the phrase
    response = shopper.post(reverse("accounts:delete"), {"confirm": "탈퇴합니다"})

    # then they are logged out, told, and nothing personal remains in the database
    assert response.status_code == 302 and response["Location"] == "/"
    assert "탈퇴가 완료되었습니다" in shopper.get("/").content.decode()
    assert shopper.get("/my/").status_code == 302
    dump = pg_dump()
    for text in personal_strings():
        assert text not in dump, text
    # orders are kept, totals unchanged to the cent
    after = Order.objects.filter(user=user).aggregate(t=Sum("total"), s=Sum("subtotal"))
    assert after == totals and after["t"] == Decimal(
        "76.99"
    )  # 2 × 25.50 + 9.99 + 2 × 8.00 shipping
    # the snapshot can be read back with the archive key only
    order = Order.objects.get(pk=leaving["orders"][0].pk)
    assert order.depositor_name == "탈퇴 회원" and order.shipping_address_encrypted == ""
    sealed = crypto.archive_open(order.personal_archive)
    assert sealed["shipping_address"]["address1"] == ADDRESS["address1"]
    assert sealed["account"]["email"] == PERSONAL["email"]
    # every other trace is gone or anonymous
    user.refresh_from_db()
    assert user.deleted_at is not None and not user.is_active
    assert not SocialAccount.objects.filter(user=user).exists()
    assert not EmailAddress.objects.filter(user=user).exists()
    assert not PushSubscription.objects.filter(user=user).exists()
    assert not ApiToken.objects.filter(user=user).exists()
    assert not UserSession.objects.filter(user=user).exists()
    assert ChatMessage.objects.get().display_name == "탈퇴한 회원"
    recent = history_decode(history_raw(stream_id=leaving["stream"].pk))
    assert [m["name"] for m in recent] == ["탈퇴한 회원"]
    assert not CartLine.objects.filter(user=user, status="ACTIVE").exists()
    assert ProductVariant.objects.get(pk=leaving["held"].pk).held == 0
    assert not WaitlistEntry.objects.filter(user=user, status__in=["WAITING", "PROMOTED"]).exists()


def test_deletion_waits_for_orders_in_progress(shopper_client):
    user = shopper_client.user
    make_order(user=user, items=[(make_variant(), 1)], status="SHIPPED")
    response = shopper_client.post(reverse("accounts:delete"), {"confirm": "탈퇴합니다"})
    assert response.status_code == 409
    assert "진행 중인 주문이 1건 있어" in response.content.decode()
    user.refresh_from_db()
    assert user.deleted_at is None and user.email.endswith("@example.com")
    assert shopper_client.get("/my/").status_code == 200


def test_wrong_phrase_deletes_nothing(shopper_client):
    response = shopper_client.post(reverse("accounts:delete"), {"confirm": "탈퇴"})
    assert response.status_code == 400
    assert "탈퇴합니다" in response.content.decode()
    assert User.objects.get(pk=shopper_client.user.pk).deleted_at is None


def test_deleted_account_cannot_log_in_again_and_email_is_free(client, settings, shopper):
    from accounts.services import account_delete

    settings.DEV_LOGIN_ENABLED = True
    email = shopper.email
    account_delete(user=shopper)
    client.post(reverse("accounts:dev-login"), {"email": email})
    new = User.objects.get(email=email)  # a new, empty account
    assert new.pk != shopper.pk and not new.has_complete_profile


def test_ops_read_the_sealed_snapshot_with_an_audited_command(shopper):
    from io import StringIO

    from django.core.management import call_command
    from django.core.management.base import CommandError

    from accounts.services import account_delete
    from core.models import AuditLog

    order = make_order(user=shopper, items=[(make_variant(), 1)], status="DELIVERED")
    address1 = shopper.shipping_address["address1"]
    account_delete(user=shopper)
    out = StringIO()
    call_command("order_archive_read", order.order_id, reason="세무 조사", stdout=out)
    assert address1 in out.getvalue()
    row = AuditLog.objects.get(action="order.archive_read")
    assert row.after == {"reason": "세무 조사"} and address1 not in str(row.after)
    with pytest.raises(CommandError):
        call_command("order_archive_read", "ORD-NONE", reason="x")


def test_archive_key_change_makes_old_archives_unreadable(settings):
    token = crypto.archive_seal({"name": "x"})
    settings.ARCHIVE_ENCRYPTION_KEY = "A" * 43 + "="
    with pytest.raises(crypto.DecryptionError):
        crypto.archive_open(token)
