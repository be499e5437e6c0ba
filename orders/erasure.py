"""What account deletion (`accounts.services.account_delete`) asks of orders.

Blocker: an order still unpaid, paid but not shipped, or on its way needs its shopper (to
confirm the deposit, to ship, to reach them about a delivery), so the account stays until it is
delivered or cancelled. A real shop does the same: it cannot ship to an address it erased.

Eraser: orders are kept for accounting (amounts, items, dates, status untouched). Their personal
snapshot — depositor name, shipping address (name, street, city, ZIP), and the account's email,
name, phone and Instagram ID at deletion — is sealed with the archive key
(`accounts.crypto.archive_seal`, Fernet) into `personal_archive`, and the plain columns are
emptied. Ops read it back only for a legal request: `python manage.py order_archive_read`.
"""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import crypto
from orders.models import Order

IN_PROGRESS = (
    Order.Status.PENDING_PAYMENT,
    Order.Status.PAYMENT_CONFIRMED,
    Order.Status.SHIPPED,
)
ERASED_DEPOSITOR = "탈퇴 회원"


def deletion_blocker(user) -> str | None:
    count = Order.objects.filter(user=user, status__in=IN_PROGRESS).count()
    if not count:
        return None
    return _(
        "진행 중인 주문이 %(count)d건 있어 지금은 탈퇴할 수 없습니다. "
        "배송이 끝나거나 주문이 취소된 뒤에 다시 시도해 주세요."
    ) % {"count": count}


def orders_erase(user) -> None:
    """Seal each order's personal snapshot in the archive and empty the plain columns."""
    now = timezone.now()
    account = {
        "email": user.email,
        "name": user.name,
        "phone": user.phone,
        "instagram_id": user.instagram_id or "",
    }
    for order in Order.objects.select_for_update().filter(user=user, personal_erased_at=None):
        snapshot = {
            "order_id": order.order_id,
            "depositor_name": order.depositor_name,
            "shipping_address": order.shipping_address or {},
            "account": account,
        }
        order.personal_archive = crypto.archive_seal(snapshot)
        order.depositor_name = ERASED_DEPOSITOR
        order.shipping_address_encrypted = ""
        order.address_key_version = 0
        order.personal_erased_at = now
        order.save(
            update_fields=[
                "personal_archive",
                "depositor_name",
                "shipping_address_encrypted",
                "address_key_version",
                "personal_erased_at",
                "updated_at",
            ]
        )
