"""Authorization matrix: every URL of the URLconf and every admin action × every kind of person.

The URLs come from walking the URLconf (`get_resolver()`), the admin's from the admin registry
(`apps.get_models()` + `admin.site.is_registered`). Each one must have a row below with the
expected answer for each role, so a new URL (or a newly registered admin model, or a new admin
action) fails this test until someone decides who may use it.

Answers: a status code, or ``L`` = a redirect to a login page (the site's or the admin's).
Roles, in this order:
  anon       not logged in
  shopper    the owner of the order / cart line / waitlist entry used in the URL
  other      another shopper (owned objects answer 404, never someone else's data)
  viewer     staff with every ``view_*`` permission and nothing else
  staff      staff with every permission (not superuser)
  superuser

Websocket moderation (delete/mute/ban) is refused to shoppers, guests and view-only staff in
live/tests/test_consumers.py (`test_shopper_cannot_moderate`,
`test_view_only_staff_and_guests_cannot_moderate`).
"""

from __future__ import annotations

import re

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.test import Client, RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from accounts.tests.factories import UserFactory
from api.services import api_token_create
from core.admin import audit_snapshot
from core.models import AuditLog, Notice, get_config
from core.services import audit_log_record
from live.models import ChatMessage, ChatSanction, LiveStream, RestreamSession, RestreamTarget
from notifications.models import Channel, Kind, NotificationSend, NotificationTemplate
from orders.tests.factories import hold, make_order
from points.models import PointTransaction
from points.services import points_adjust
from shop.models import CartLine, WaitlistEntry
from shop.tests.factories import ProductFactory, VariantFactory

pytestmark = pytest.mark.django_db

ROLES = ("anon", "shopper", "other", "viewer", "staff", "superuser")
REQUEST_ORDER = ("anon", "other", "viewer", "staff", "superuser", "shopper")

# --- Expected answers: site URLs ------------------------------------------------------------
# "METHOD anon shopper other viewer staff superuser". POST bodies are empty: the row is about
# who gets in, not about what a valid form does.
URLS: dict[str, str | tuple[str, ...]] = {
    "health-live": "GET 200 200 200 200 200 200",
    "favicon.ico": "GET 301 301 301 301 301 301",
    "health-ready": "GET 200 200 200 200 200 200",
    # scraped on the private network; nginx answers 404 for /metrics
    "prometheus-django-metrics": "GET 200 200 200 200 200 200",
    "accounts/login/": "GET L L L L L L",
    "accounts/signup/": "GET L L L L L L",
    "account_login": "GET L L L L L L",
    "account_logout": "GET 302 200 200 200 200 200",
    "account_inactive": "GET 200 200 200 200 200 200",
    "account_signup": "GET L L L L L L",
    "account_reauthenticate": "GET L 200 200 200 200 200",
    "account_email": "GET L 200 200 200 200 200",
    "account_email_verification_sent": "GET 200 200 200 200 200 200",
    "account_change_password": "GET L 200 200 200 200 200",
    "account_set_password": "GET L 302 302 302 302 302",
    "account_reset_password": "GET 200 200 200 200 200 200",
    "account_confirm_login_code": "GET L 302 302 302 302 302",
    "account_confirm_email": "GET 200 200 200 200 200 200",
    "account_reset_password_from_key_done": "GET 200 200 200 200 200 200",
    "account_reset_password_from_key": "GET 200 200 200 200 200 200",
    "account_reset_password_done": "GET 200 200 200 200 200 200",
    "socialaccount_login_cancelled": "GET 200 200 200 200 200 200",
    "socialaccount_login_error": "GET 401 401 401 401 401 401",
    "socialaccount_signup": "GET L L L L L L",
    "socialaccount_connections": "GET L 200 200 200 200 200",
    "accounts/social/login/cancelled/": "GET 301 301 301 301 301 301",
    "accounts/social/login/error/": "GET 301 301 301 301 301 301",
    "accounts/social/signup/": "GET 301 301 301 301 301 301",
    "accounts/social/connections/": "GET 301 301 301 301 301 301",
    "kakao_login": "GET 200 200 200 200 200 200",
    "kakao_callback": "GET 401 401 401 401 401 401",
    "core:terms": "GET 200 200 200 200 200 200",
    "core:privacy": "GET 200 200 200 200 200 200",
    "core:contact": "GET 200 200 200 200 200 200",
    # closing a banner: a guest's is kept in a cookie; an unknown key just goes back
    "core:notice-dismiss": "POST 302 302 302 302 302 302",
    "accounts:login": "GET 200 302 302 302 302 302",
    "accounts:dev-login": "GET 404 404 404 404 404 404",
    "accounts:logout": "POST 302 302 302 302 302 302",
    "accounts:profile-register": "GET L 200 200 200 200 200",
    "accounts:my-page": "GET L 200 200 200 200 200",
    "accounts:profile-edit": "GET L 200 200 200 200 200",
    # POST only; GET is refused once logged in
    "accounts:live-alert": "GET L 405 405 405 405 405",
    "accounts:sessions": "GET L 200 200 200 200 200",
    "accounts:delete": "GET L 200 200 200 200 200",
    # a session id that is not the person's own: refused with a message, back to the list
    "accounts:session-end": "POST L 302 302 302 302 302",
    "accounts:sessions-end-others": "POST L 302 302 302 302 302",
    "live:home": "GET 200 200 200 200 200 200",
    "shop:store": "GET 200 200 200 200 200 200",
    "shop:product-detail": "GET 200 200 200 200 200 200",
    "shop:product-sheet": "GET 200 200 200 200 200 200",
    "shop:cart": "GET L 200 200 200 200 200",
    "shop:cart-add": "POST L 302 302 302 302 302",
    "shop:cart-summary": "GET L 200 200 200 200 200",
    "shop:cart-badge": "GET 200 200 200 200 200 200",
    "shop:cart-clear": "POST L 302 302 302 302 302",
    "shop:cart-line-update": "POST L 302 302 302 302 302",
    "shop:cart-line-remove": "POST L 302 302 302 302 302",
    "shop:waitlist-join": "POST L 302 302 302 302 302",
    "shop:waitlist": "GET L 200 200 200 200 200",
    "shop:waitlist-cancel": "POST L 302 302 302 302 302",
    "live:index": "GET 302 302 302 302 302 302",
    "live:watch": "GET 200 200 200 200 200 200",
    "live:viewer-badge": "GET 200 200 200 200 200 200",
    "live:room-state": "GET 200 200 200 200 200 200",
    # webhooks need the shared secret, whoever is logged in
    "live:media-srs": "POST 403 403 403 403 403 403",
    "live:media-rtmp": "POST 403 403 403 403 403 403",
    "live:hls": "GET 404 404 404 404 404 404",
    "live:studio": "GET L 403 403 403 200 200",
    "live:studio-stream-create": "POST L 403 403 403 302 302",
    "live:studio-stream": "GET L 403 403 403 200 200",
    "live:studio-key-refresh": "POST L 403 403 403 302 302",
    "live:studio-stream-end": "POST L 403 403 403 302 302",
    "live:studio-feature": "POST L 403 403 403 302 302",
    "live:studio-notice": "POST L 403 403 403 302 302",
    "live:studio-sold-out": "POST L 403 403 403 302 302",
    "live:studio-stock": "POST L 403 403 403 302 302",
    "live:studio-target-create": "POST L 403 403 403 302 302",
    "live:studio-target-update": "POST L 403 403 403 302 302",
    "live:studio-target-toggle": "POST L 403 403 403 302 302",
    # the superuser finds the target already deleted by staff
    "live:studio-target-delete": "POST L 403 403 403 302 404",
    "orders:checkout": "GET L 200 200 200 200 200",
    "orders:checkout-sheet": "GET L 200 200 200 200 200",
    "orders:checkout-summary": "GET L 200 200 200 200 200",
    "orders:cart-shipping": "GET L 200 200 200 200 200",
    "orders:complete": "GET L 200 404 404 404 404",
    "orders:my-orders": "GET L 200 200 200 200 200",
    "orders:detail": "GET L 200 404 404 404 404",
    "points:my-points": "GET L 200 200 200 200 200",
    "notifications:service-worker": "GET 200 200 200 200 200 200",
    "notifications:manifest": "GET 200 200 200 200 200 200",
    "notifications:push-key": "GET 200 200 200 200 200 200",
    "notifications:preferences": "GET L 200 200 200 200 200",
    # an empty body is not a subscription: 400 once logged in
    "notifications:push-subscribe": "POST L 400 400 400 400 400",
    "notifications:push-unsubscribe": "POST L 400 400 400 400 400",
    # The JSON API (api/, docs/api.md): 401 LOGIN_REQUIRED for guests; 415 = in, but an empty
    # form body is not JSON; 404 = someone else's object; 403 = not the admin's permission.
    # A URL with several methods has one row per method.
    "api:streams": "GET 200 200 200 200 200 200",
    "api:stream-current": "GET 200 200 200 200 200 200",
    "api:stream": "GET 200 200 200 200 200 200",
    "api:stream-state": "GET 200 200 200 200 200 200",
    "api:stream-chat": "GET 200 200 200 200 200 200",
    "api:products": "GET 200 200 200 200 200 200",
    "api:product": "GET 200 200 200 200 200 200",
    "api:cart": ("GET 401 200 200 200 200 200", "DELETE 401 200 200 200 200 200"),
    "api:cart-lines": "POST 401 415 415 415 415 415",
    "api:cart-line": ("PATCH 401 400 400 400 400 400", "DELETE 401 200 404 404 404 404"),
    "api:cart-shipping": "GET 401 200 200 200 200 200",
    "api:waitlist": ("GET 401 200 200 200 200 200", "POST 401 415 415 415 415 415"),
    "api:waitlist-entry": "DELETE 401 204 404 404 404 404",
    "api:checkout": "POST 401 415 415 415 415 415",
    "api:orders": "GET 401 200 200 200 200 200",
    "api:order": "GET 401 200 404 404 404 404",
    "api:order-payment": "GET 401 200 404 404 404 404",
    "api:points": "GET 401 200 200 200 200 200",
    "api:points-ledger": "GET 401 200 200 200 200 200",
    "api:profile": ("GET 401 200 200 200 200 200", "PATCH 401 200 200 200 200 200"),
    "api:push-subscriptions": "POST 401 400 400 400 400 400",
    "api:push-unsubscribe": "POST 401 400 400 400 400 400",
    "api:tokens": ("GET 401 200 200 200 200 200", "POST 401 415 415 415 415 415"),
    "api:token": "DELETE 401 204 404 404 404 404",
    "api:staff-orders": "GET 401 403 403 200 200 200",
    "api:staff-order-confirm": "POST 401 403 403 403 200 400",
    "api:staff-order-ship": "POST 401 403 403 403 415 415",
    "api:staff-order-cancel": "POST 401 403 403 403 415 415",
    "api:staff-variant-stock": "POST 401 403 403 403 415 415",
    "api:staff-product-sold-out": "POST 401 403 403 403 415 415",
    "api:staff-settlement": "GET 401 403 403 200 200 200",
    "api:schema": "GET 200 200 200 200 200 200",
    "api:docs": "GET 200 200 200 200 200 200",
}

# --- Expected answers: admin pages other than each model's five standard ones ---------------
ADMIN_URLS: dict[str, str | tuple[str, ...]] = {
    "admin:index": "GET L L L 200 200 200",
    "admin:login": "GET 200 200 200 302 302 302",
    "admin:logout": "GET 302 302 302 405 405 405",
    "admin:password_change": "GET L L L 200 200 200",
    "admin:password_change_done": "GET L L L 200 200 200",
    "admin:autocomplete": "GET L L L 403 403 403",
    "admin:jsi18n": "GET L L L 200 200 200",
    "admin:view_on_site": "GET L L L 404 404 404",
    "admin:shop_product_variant_grid": "GET L L L 403 200 200",
    "admin:shop_product_import": "GET L L L 403 200 200",
    "admin:orders_order_cancel": "GET L L L 403 200 200",
    "admin:orders_order_ship_csv": "GET L L L 403 200 200",
    "admin:orders_order_reconcile": "GET L L L 403 200 200",
    "admin:orders_order_settlement": "GET L L L 200 200 200",
    "admin:dashboard": "GET L L L 200 200 200",
    "admin:orders_order_items": "GET L L L 403 200 200",
    "admin:orders_order_ship": "GET L L L 403 200 200",
    "admin:orders_order_confirm": "GET L L L 403 200 200",
    # POST only; the superuser finds the order already reminded (sends again: a new request)
    "admin:orders_order_remind": "POST L L L 403 302 302",
    "admin:points_pointtransaction_adjust": "GET L L L 403 200 200",
    # the user page's buttons, POST only (an empty points form is refused back to the page)
    "admin:accounts_user_suspend": "POST L L L 403 302 302",
    "admin:accounts_user_restore": "POST L L L 403 302 302",
    "admin:accounts_user_points": "POST L L L 403 302 302",
    "admin:app_list": "GET L L L 200 200 200",
    "admin:notifications_notificationtemplate_test_send": "GET L L L 403 405 405",
    "admin/(?P<url>.*)$": "GET L L L 404 404 404",
}

# --- Admin models: which standard pages a staff member with every permission may use --------
# add/delete: whether the admin allows them at all. changelist: 200, or 302 when the list opens
# the one object (SystemConfig).
ADMIN_MODELS: dict[str, dict] = {
    "auth.group": {"add": True, "delete": True},
    "account.emailaddress": {"add": True, "delete": True},
    "accounts.user": {"add": True, "delete": True},
    "core.systemconfig": {"add": False, "delete": False, "changelist": "302"},
    "core.notice": {"add": True, "delete": True},
    "core.auditlog": {"add": False, "delete": False},
    "shop.product": {"add": True, "delete": True},
    "shop.waitlistentry": {"add": False, "delete": True},
    "live.livestream": {"add": True, "delete": False},  # the stream in the URL is LIVE
    "live.restreamtarget": {"add": True, "delete": True},
    "live.restreamsession": {"add": False, "delete": True},
    "live.chatmessage": {"add": False, "delete": False},
    "live.chatsanction": {"add": True, "delete": True},
    "orders.order": {"add": False, "delete": False},
    "points.pointtransaction": {"add": False, "delete": False},
    "notifications.notificationtemplate": {"add": True, "delete": True},
    "notifications.notificationsend": {"add": False, "delete": False},
}

# --- Admin actions: the lowest role allowed ("staff" = a permission beyond view) ------------
ADMIN_ACTIONS: dict[str, str] = {
    "account.emailaddress.delete_selected": "staff",
    "account.emailaddress.make_verified": "staff",
    "accounts.user.delete_selected": "staff",
    "accounts.user.restore_users": "staff",
    "accounts.user.suspend_users": "staff",
    "core.notice.delete_selected": "staff",
    "auth.group.delete_selected": "staff",
    "live.chatmessage.hide_messages": "staff",
    "live.chatsanction.delete_selected": "staff",
    "live.livestream.delete_not_live": "staff",
    "live.livestream.end_streams": "staff",
    "live.restreamsession.delete_selected": "staff",
    "live.restreamtarget.delete_selected": "staff",
    "notifications.notificationtemplate.delete_selected": "staff",
    "orders.order.cancel_orders": "staff",
    "orders.order.confirm_payment": "staff",
    "orders.order.export_csv": "viewer",
    "orders.order.export_xlsx": "viewer",
    "orders.order.mark_delivered": "staff",
    "orders.order.resend_payment_reminder": "staff",
    "shop.product.action_delete": "staff",
    "shop.product.action_duplicate": "staff",
    "shop.product.action_hide": "staff",
    "shop.product.action_mark_sold_out": "staff",
    "shop.product.action_reopen": "staff",
    "shop.product.action_show": "staff",
    "shop.waitlistentry.delete_selected": "staff",
}


# --- The people -----------------------------------------------------------------------------


def make_people() -> dict:
    viewer = UserFactory(is_staff=True, profile_complete=True)
    viewer.user_permissions.set(Permission.objects.filter(codename__startswith="view_"))
    staff = UserFactory(is_staff=True, profile_complete=True)
    staff.user_permissions.set(Permission.objects.all())
    return {
        "anon": None,
        "shopper": UserFactory(profile_complete=True),
        "other": UserFactory(profile_complete=True),
        "viewer": viewer,
        "staff": staff,
        "superuser": UserFactory(is_staff=True, is_superuser=True, profile_complete=True),
    }


def client_for(user) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


# --- The objects every URL points at ---------------------------------------------------------


def make_world(people: dict) -> dict:
    from allauth.account.models import EmailAddress

    shopper, other, superuser = people["shopper"], people["other"], people["superuser"]
    stream = LiveStream.objects.create(title="금요 라이브", status=LiveStream.Status.LIVE)
    stream_product = ProductFactory(stream=stream, name="라이브 니트")
    stream_variant = VariantFactory(product=stream_product, stock=5)
    store_product = ProductFactory(name="스토어 니트", timer_enabled=False)
    store_variant = VariantFactory(product=store_product, stock=5)
    sold_out = VariantFactory(product=ProductFactory(name="품절 니트"), stock=0)
    line = hold(user=shopper, variant=store_variant)
    entry = WaitlistEntry.objects.create(
        user=shopper, product=sold_out.product, variant=sold_out, quantity=1, number=1
    )
    order = make_order(user=shopper, items=[(stream_variant, 1)])
    points_adjust(user=shopper, amount=500, reason="행사 참여 적립 포인트", actor=superuser)
    token, _raw = api_token_create(user=shopper, name="쇼퍼의 휴대폰")
    target = RestreamTarget.objects.create(
        name="유튜브", rtmp_url="rtmp://a.rtmp.youtube.com/live2", stream_key="yt-secret"
    )
    group = Group.objects.create(name="판매 보조")
    objects = {
        "auth.group": group,
        "account.emailaddress": EmailAddress.objects.create(
            user=other, email=other.email, verified=False, primary=True
        ),
        "accounts.user": UserFactory(profile_complete=True),  # nobody who logs in here
        "core.systemconfig": get_config(),
        "core.notice": Notice.objects.create(title="배송 안내"),
        "core.auditlog": audit_log_record(actor=superuser, action="test", obj=group),
        "shop.product": store_product,
        "shop.waitlistentry": entry,
        "live.livestream": stream,
        "live.restreamtarget": target,
        "live.restreamsession": RestreamSession.objects.create(stream=stream, target=target),
        "live.chatmessage": ChatMessage.objects.create(
            stream=stream, user=other, display_name="@other", body="안녕하세요"
        ),
        "live.chatsanction": ChatSanction.objects.create(
            stream=stream, user=other, kind=ChatSanction.Kind.MUTE, created_by=superuser
        ),
        "orders.order": order,
        "points.pointtransaction": PointTransaction.objects.filter(user=shopper).first(),
        "notifications.notificationtemplate": NotificationTemplate.objects.create(
            name="입금 안내", kind=Kind.PAYMENT_REMINDER, channel=Channel.PUSH, body="{{order_id}}"
        ),
        "notifications.notificationsend": NotificationSend.objects.create(
            dedupe_key="payment_reminder:test",
            kind=Kind.PAYMENT_REMINDER,
            channel=Channel.PUSH,
            user=shopper,
        ),
    }
    values = {
        "product_id": store_product.pk,
        "line_id": line.pk,
        "entry_id": entry.pk,
        "public_id": stream.public_id,
        "event": "on_publish",
        "filename": "index.m3u8",
        "stream_id": stream.pk,
        "variant_id": stream_variant.pk,
        "target_id": target.pk,
        "order_id": order.order_id,
        "key": "not-a-key",
        "uidb36": "1",
        "pk": order.pk,
        "app_label": "orders",
        "content_type_id": ContentType.objects.get_for_model(type(group)).pk,
        "object_id": group.pk,
        "session_id": 999999,
        "token_id": token.pk,
    }
    return {"objects": objects, "values": values, "stream_product": stream_product}


# Per URL, kwargs that differ from the defaults above.
KWARGS = {
    "live:studio-sold-out": lambda world: {"product_id": world["stream_product"].pk},
    **{
        f"admin:accounts_user_{page}": lambda world: {"pk": world["objects"]["accounts.user"].pk}
        for page in ("suspend", "restore", "points")
    },
    "admin:notifications_notificationtemplate_test_send": lambda world: {
        "pk": world["objects"]["notifications.notificationtemplate"].pk
    },
}


# --- Walking the URLconf ----------------------------------------------------------------------


def url_patterns() -> list[tuple[str, str, list[str]]]:
    """(row key, name, kwarg names) of every URL; the row key is the namespaced name, or the
    route for an unnamed pattern."""
    found = []

    def walk(patterns, prefix: str, namespace: str | None) -> None:
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                space = namespace
                if pattern.namespace:
                    space = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
                walk(pattern.url_patterns, route, space)
            elif isinstance(pattern, URLPattern):
                name = pattern.name
                if name and namespace:
                    name = f"{namespace}:{name}"
                found.append((name or route, name or "", list(pattern.pattern.regex.groupindex)))

    walk(get_resolver().url_patterns, "", None)
    return found


ADMIN_SUFFIXES = ("changelist", "add", "change", "delete", "history")


def admin_model_of(key: str) -> tuple[str, str] | None:
    """("app.model", page) for the standard admin pages of a registered model: the five named
    ones and the unnamed old-style change URL (which redirects to the change page)."""
    for model in apps.get_models():
        if not admin.site.is_registered(model):
            continue
        app_label, model_name = model._meta.app_label, model._meta.model_name
        if key == f"admin/{app_label}/{model_name}/<path:object_id>/":
            return model._meta.label_lower, "redirect"
        base = f"admin:{app_label}_{model_name}_"
        page = key.removeprefix(base)
        if key.startswith(base) and page in ADMIN_SUFFIXES:
            return model._meta.label_lower, page
    return None


def admin_expected(label: str, page: str) -> str:
    spec = ADMIN_MODELS[label]
    staff = {
        "changelist": spec.get("changelist", "200"),
        "add": "200" if spec["add"] else "403",
        "change": "200",
        "delete": "200" if spec["delete"] else "403",
        "history": "200",
        "redirect": "302",
    }[page]
    viewer = {
        "add": "403",
        "delete": "403",
        "changelist": spec.get("changelist", "200"),
        "redirect": "302",
    }
    return f"GET L L L {viewer.get(page, '200')} {staff} {staff}"


def unnamed_path(route: str, world: dict) -> str:
    """A concrete path for an unnamed route: the admin's old-style change URLs and its
    catch-all (given a page that does not exist)."""
    model_page = admin_model_of(route)
    if model_page is not None:
        pk = world["objects"][model_page[0]].pk
        return "/" + route.replace("<path:object_id>", str(pk))
    return "/" + re.sub(r"\^|\$", "", route).replace("(?P<url>.*)", "no-such-page/")


def expected_row(key: str) -> str | tuple[str, ...] | None:
    model_page = admin_model_of(key)
    if model_page is not None:
        label, page = model_page
        return admin_expected(label, page) if label in ADMIN_MODELS else None
    if key.startswith("admin:") or key.startswith("admin/"):
        return ADMIN_URLS.get(key)
    return URLS.get(key)


def answer(response) -> str:
    if response.status_code in (301, 302):
        location = response["Location"]
        login_pages = (reverse("accounts:login"), reverse("admin:login"), "/accounts/login/")
        if any(location.split("?")[0] == page for page in login_pages):
            return "L"
    return str(response.status_code)


def path_for(key: str, name: str, kwarg_names: list[str], world: dict) -> str:
    if not name:
        return unnamed_path(key, world)
    model_page = admin_model_of(name)
    values = dict(world["values"])
    if model_page is not None:
        values["object_id"] = world["objects"][model_page[0]].pk
    values.update(KWARGS.get(name, lambda world: {})(world))
    missing = [k for k in kwarg_names if k not in values]
    assert not missing, f"{name}: give the matrix a value for {missing}"
    return reverse(name, kwargs={k: values[k] for k in kwarg_names})


ALL_URLS = url_patterns()


def test_every_url_has_a_row_and_every_row_a_url():
    keys = {key for key, _name, _kwargs in ALL_URLS}
    missing = sorted(key for key in keys if expected_row(key) is None)
    assert not missing, f"URLs without a row in the authorization matrix: {missing}"
    stale = sorted((set(URLS) | set(ADMIN_URLS)) - keys)
    assert not stale, f"rows for URLs that no longer exist: {stale}"
    registered = {m._meta.label_lower for m in apps.get_models() if admin.site.is_registered(m)}
    assert set(ADMIN_MODELS) == registered


@pytest.mark.parametrize(("key", "name", "kwarg_names"), ALL_URLS, ids=[u[0] for u in ALL_URLS])
def test_url_answers_each_role_as_expected(key, name, kwarg_names):
    row = expected_row(key)
    if row is None:
        pytest.fail(f"{key} has no row in the authorization matrix")
    for method_row in row if isinstance(row, tuple) else (row,):
        # each method meets a fresh world (rolled back after it)
        with transaction.atomic():
            method, *expected = method_row.split()
            people = make_people()
            world = make_world(people)
            path = path_for(key, name, kwarg_names, world)
            answers = {}
            # The owner goes last: the other shopper and staff try the owner's objects untouched.
            for role in REQUEST_ORDER:
                response = getattr(client_for(people[role]), method.lower())(path)
                answers[role] = answer(response)
            transaction.set_rollback(True)
        got = [answers[role] for role in ROLES]
        assert got == expected, f"{key} {method} {path}: expected {expected}, got {got}"


# --- Admin actions ----------------------------------------------------------------------------


def admin_actions() -> list[tuple[str, str]]:
    request = RequestFactory().get("/admin/")
    request.user = UserFactory.build(is_staff=True, is_superuser=True, is_active=True)
    found = []
    for model in apps.get_models():
        if not admin.site.is_registered(model):
            continue
        model_admin = admin.site.get_model_admin(model)
        for action in model_admin.get_actions(request):
            found.append((model._meta.label_lower, action))
    return found


ALL_ACTIONS = admin_actions()


def test_every_admin_action_has_a_row():
    keys = {f"{label}.{action}" for label, action in ALL_ACTIONS}
    assert not (keys - set(ADMIN_ACTIONS)), sorted(keys - set(ADMIN_ACTIONS))
    assert not (set(ADMIN_ACTIONS) - keys), sorted(set(ADMIN_ACTIONS) - keys)


def state_of(model_admin, obj) -> dict | None:
    stored = type(obj)._default_manager.filter(pk=obj.pk).first()
    return audit_snapshot(stored) if stored is not None else None


@pytest.mark.parametrize(("label", "action"), ALL_ACTIONS, ids=[f"{a}.{b}" for a, b in ALL_ACTIONS])
def test_admin_action_is_refused_below_its_role_and_changes_nothing(label, action):
    lowest = ADMIN_ACTIONS[f"{label}.{action}"]
    people = make_people()
    world = make_world(people)
    obj = world["objects"][label]
    model = type(obj)
    model_admin = admin.site.get_model_admin(model)
    changelist = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    for role in ROLES[: ROLES.index(lowest)]:
        # given someone below the action's role
        before, audit_rows = state_of(model_admin, obj), AuditLog.objects.count()
        # when they post the action anyway
        response = client_for(people[role]).post(
            changelist,
            {"action": action, "_selected_action": [obj.pk], "index": 0, "post": "yes"},
        )
        # then it is not run: nothing changed, nothing audited
        assert response.status_code in (200, 302, 403), (role, response.status_code)
        assert state_of(model_admin, obj) == before, f"{role} ran {label}.{action}"
        assert AuditLog.objects.count() == audit_rows, f"{role} ran {label}.{action}"
    for role in ROLES[ROLES.index(lowest) :]:
        request = RequestFactory().get(changelist)
        request.user = people[role]
        assert action in model_admin.get_actions(request), f"{role} lacks {label}.{action}"


def test_another_shopper_cannot_touch_the_owners_cart_line_or_waitlist_entry():
    people = make_people()
    world = make_world(people)
    values = world["values"]
    line_id, entry_id = values["line_id"], values["entry_id"]
    other = client_for(people["other"])
    other.post(reverse("shop:cart-line-update", args=[line_id]), {"quantity": "3"})
    other.post(reverse("shop:cart-line-remove", args=[line_id]))
    other.post(reverse("shop:waitlist-cancel", args=[entry_id]))
    line = CartLine.objects.get(pk=line_id)
    assert (line.status, line.quantity) == (CartLine.Status.ACTIVE, 1)
    assert WaitlistEntry.objects.get(pk=entry_id).status == WaitlistEntry.Status.WAITING
