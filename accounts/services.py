"""Every write to accounts goes through here."""

from __future__ import annotations

import ipaddress
from importlib import import_module

from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount
from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from accounts import erasure, realtime
from accounts.devices import session_digest
from accounts.models import User, UserSession
from accounts.permissions import ACCOUNT_SUSPENDED, SESSION_ENDED, STAFF_REVOKED
from core.errors import ServiceError
from core.models import AuditLog, NoticeDismissal
from core.services import audit_log_record

ADDRESS_KEYS = ("full_name", "address1", "address2", "city", "state", "zip")


def normalize_instagram_id(value: str) -> str:
    value = value.strip()
    return value if value.startswith("@") else f"@{value}"


class AccountError(ServiceError):
    code = "ACCOUNT_ERROR"
    message = "요청을 처리할 수 없습니다."

    def __init__(self, message: str | None = None, *, field: str | None = None):
        self.field = field
        super().__init__(message or type(self).message)


class InstagramIdTaken(AccountError):
    code = "INSTAGRAM_TAKEN"
    message = "이미 사용 중인 인스타그램 ID입니다"


class EmailTaken(AccountError):
    code = "EMAIL_TAKEN"
    message = "이미 사용 중인 이메일입니다."


class AccountSuspended(AccountError):
    code = "ACCOUNT_SUSPENDED"
    message = "이용이 정지된 계정입니다. 고객센터로 문의해 주세요."


def grant_admin_if_listed(user: User) -> bool:
    """Make an ADMIN_EMAILS address staff and superuser on `user` (not saved); True if changed."""
    if user.email.lower() in settings.ADMIN_EMAILS and not (user.is_staff and user.is_superuser):
        user.is_staff = True
        user.is_superuser = True
        return True
    return False


@transaction.atomic
def user_get_or_create_by_email(*, email: str) -> tuple[User, bool]:
    """The dev login: find or create the user for an email (ADMIN_EMAILS become staff)."""
    email = email.strip().lower()
    user = User.objects.filter(email__iexact=email).first()
    if user is not None:
        return user, False
    user = User(email=email)
    user.set_unusable_password()
    grant_admin_if_listed(user)
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError:
        return User.objects.get(email__iexact=email), False
    return user, True


@transaction.atomic
def profile_complete(*, user: User, data: dict) -> User:
    """Save the profile (validated form data); the address is stored encrypted only.

    Locks the user row so two tabs saving at once cannot interleave.
    """
    locked = User.objects.select_for_update().get(pk=user.pk)
    if data.get("email"):
        locked.email = data["email"].strip().lower()
    locked.depositor_name = data["depositor_name"].strip()
    locked.instagram_id = normalize_instagram_id(data["instagram_id"])
    locked.phone = data.get("phone") or ""
    locked.shipping_address = {key: (data.get(key) or "").strip() for key in ADDRESS_KEYS}
    if locked.profile_completed_at is None:
        locked.profile_completed_at = timezone.now()
    try:
        with transaction.atomic():
            locked.save()
    except IntegrityError as exc:
        text = str(exc).lower()
        if "instagram" in text:
            raise InstagramIdTaken(field="instagram_id") from exc
        if "email" in text:
            raise EmailTaken(field="email") from exc
        raise
    # Keep the caller's instance current (request.user is reused by the same request).
    for field in (
        "email",
        "depositor_name",
        "instagram_id",
        "phone",
        "shipping_address_encrypted",
        "address_key_version",
        "profile_completed_at",
        "updated_at",
    ):
        setattr(user, field, getattr(locked, field))
    return user


@transaction.atomic
def live_alert_set(*, user: User, enabled: bool) -> User:
    User.objects.filter(pk=user.pk).update(live_alert_opt_in=enabled, updated_at=timezone.now())
    user.live_alert_opt_in = enabled
    return user


def _audit_status(*, actor: User | None, action: str, user: User, before: str) -> None:
    if actor is None or not actor.is_staff:
        return

    audit_log_record(
        actor=actor,
        action=action,
        obj=user,
        before={"status": before},
        after={"status": user.status, "session_version": user.session_version},
    )


@transaction.atomic
def user_suspend(*, user: User, actor: User | None = None) -> User:
    """Suspend and end everything of the user at once: every session (the session hash
    changes) and, after commit, every open socket (a live page, the studio).

    `actor` is who did it; a change by staff is written to the audit log in this transaction.
    """
    before = user.status
    User.objects.filter(pk=user.pk).update(
        status=User.Status.SUSPENDED,
        session_version=F("session_version") + 1,
        updated_at=timezone.now(),
    )
    user.refresh_from_db(fields=["status", "session_version", "updated_at"])
    _audit_status(actor=actor, action="user.suspend", user=user, before=before)
    realtime.announce_user_closed(user_id=user.pk, code=ACCOUNT_SUSPENDED)
    return user


@transaction.atomic
def user_restore(*, user: User, actor: User | None = None) -> User:
    before = user.status
    User.objects.filter(pk=user.pk).update(status=User.Status.ACTIVE, updated_at=timezone.now())
    user.refresh_from_db(fields=["status", "session_version", "updated_at"])
    _audit_status(actor=actor, action="user.restore", user=user, before=before)
    return user


@transaction.atomic
def user_sessions_end(*, user: User) -> User:
    """Log the user out everywhere (every session's auth hash stops matching, open sockets
    close after commit)."""
    User.objects.filter(pk=user.pk).update(session_version=F("session_version") + 1)
    user.refresh_from_db(fields=["session_version"])
    realtime.announce_user_closed(user_id=user.pk, code=SESSION_ENDED)
    return user


@transaction.atomic
def user_save_by_admin(*, user: User) -> User:
    """Save a user edited in the admin form. Losing staff rights closes the user's open
    sockets (studio, moderation); deactivation also ends every session, like a suspension.

    Locks the row to compare with what it was.
    """
    if user.pk is None:
        user.save()
        return user
    before = User.objects.select_for_update().filter(pk=user.pk).values("is_staff", "is_active")
    before = before.first() or {"is_staff": False, "is_active": False}
    user.save()
    if before["is_active"] and not user.is_active:
        User.objects.filter(pk=user.pk).update(session_version=F("session_version") + 1)
        user.refresh_from_db(fields=["session_version"])
        realtime.announce_user_closed(user_id=user.pk, code=ACCOUNT_SUSPENDED)
    elif before["is_staff"] and not user.is_staff:
        realtime.announce_user_closed(user_id=user.pk, code=STAFF_REVOKED)
    return user


# --- sessions ("로그인 기기") ------------------------------------------------------------------


def _session_store():
    return import_module(settings.SESSION_ENGINE).SessionStore


def user_session_seen(*, user: User, session_key: str, user_agent: str, ip: str) -> None:
    """Record that this session of `user` was just used (device, address, time): one
    INSERT … ON CONFLICT UPDATE."""
    try:
        address = str(ipaddress.ip_address(ip)) if ip else None
    except ValueError:  # not an address (a unix socket peer, a proxy's placeholder)
        address = None
    record = UserSession(
        user=user,
        session_key=session_key,
        user_agent=(user_agent or "")[:300],
        ip=address,
        last_seen_at=timezone.now(),
    )
    UserSession.objects.bulk_create(
        [record],
        update_conflicts=True,
        unique_fields=["session_key"],
        update_fields=["user", "user_agent", "ip", "last_seen_at"],
    )


def user_sessions_list(*, user: User) -> list[UserSession]:
    """The user's sessions that still exist, newest first; records of sessions that ended
    elsewhere (logout, expiry, key change) are dropped on the way."""
    store = _session_store()
    alive: list[int] = []
    gone: list[int] = []
    for record in UserSession.objects.filter(user=user):
        (alive if store().exists(record.session_key) else gone).append(record.pk)
    if gone:
        UserSession.objects.filter(pk__in=gone).delete()
    return list(UserSession.objects.filter(pk__in=alive))


class SessionNotFound(AccountError):
    code = "SESSION_NOT_FOUND"
    message = "이미 로그아웃된 기기입니다."
    status = 404


class CurrentSession(AccountError):
    code = "CURRENT_SESSION"
    message = "지금 사용 중인 기기는 로그아웃 버튼으로 로그아웃해 주세요."


@transaction.atomic
def user_session_end(*, user: User, record_id: int, current_session_key: str) -> None:
    """End one other session of `user`: its data is deleted (the next request of that browser
    is logged out) and, after commit, the sockets opened with it close (4401)."""
    record = UserSession.objects.select_for_update().filter(pk=record_id, user=user).first()
    if record is None:
        raise SessionNotFound()
    if record.session_key == current_session_key:
        raise CurrentSession()
    _session_store()().delete(record.session_key)
    record.delete()
    realtime.announce_user_closed(
        user_id=user.pk, code=SESSION_ENDED, session=session_digest(record.session_key)
    )


@transaction.atomic
def user_sessions_end_others(*, user: User, current_session_key: str) -> User:
    """ "다른 기기 모두 로그아웃": every session but the current one stops working — also those
    without a record yet — because the session version changes; the caller then re-signs the
    current session (`update_session_auth_hash`). Open sockets of the other sessions close."""
    User.objects.filter(pk=user.pk).update(session_version=F("session_version") + 1)
    user.refresh_from_db(fields=["session_version"])
    store = _session_store()
    others = UserSession.objects.filter(user=user).exclude(session_key=current_session_key)
    for key in others.values_list("session_key", flat=True):
        store().delete(key)
    others.delete()
    realtime.announce_user_closed(
        user_id=user.pk,
        code=SESSION_ENDED,
        except_session=session_digest(current_session_key),
        session_version=user.session_version,
    )
    return user


def user_session_rekeyed(*, old_key: str, new_key: str) -> None:
    """The session got a new key (Django re-keys it when it is re-signed): its record follows."""
    if old_key and new_key and old_key != new_key:
        UserSession.objects.filter(session_key=old_key).update(session_key=new_key)


# --- account deletion ------------------------------------------------------------------------

DELETED_NAME = "탈퇴한 회원"
PERSONAL_FIELDS = (
    "email",
    "name",
    "instagram_id",
    "depositor_name",
    "phone",
    "shipping_address_encrypted",
)


class AccountDeletionRefused(AccountError):
    code = "ACCOUNT_DELETION_REFUSED"
    message = "지금은 탈퇴할 수 없습니다."
    status = 409


@transaction.atomic
def account_delete(*, user: User) -> User:
    """The shopper deletes their account. Refused (with the reason) while another app says so —
    an order still unpaid, being prepared or on its way. Otherwise every app erases or
    anonymises what it holds (`accounts.erasure`), and the user row, which orders keep
    pointing at, is emptied: no email, name, Instagram ID, depositor name, phone or address;
    Kakao link, email addresses, sessions and closed-notice marks deleted; staff audit rows
    about this user redacted. Every session ends and open sockets close after commit.

    Locks the user row.
    """
    locked = User.objects.select_for_update().get(pk=user.pk)
    if locked.deleted_at is not None:
        return locked
    reasons = erasure.deletion_blockers(locked)
    if reasons:
        raise AccountDeletionRefused(" ".join(reasons))
    erasure.erase_everywhere(locked)
    SocialAccount.objects.filter(user=locked).delete()
    EmailAddress.objects.filter(user=locked).delete()
    NoticeDismissal.objects.filter(user=locked).delete()
    store = _session_store()
    records = UserSession.objects.filter(user=locked)
    for key in records.values_list("session_key", flat=True):
        store().delete(key)
    records.delete()
    _audit_rows_redact(user=locked)
    locked.email = f"deleted-{locked.pk}@deleted.invalid"
    locked.name = ""
    locked.instagram_id = None
    locked.depositor_name = ""
    locked.phone = ""
    locked.shipping_address_encrypted = ""
    locked.address_key_version = 0
    locked.profile_completed_at = None
    locked.live_alert_opt_in = False
    locked.is_active = False
    locked.is_staff = False
    locked.is_superuser = False
    locked.set_unusable_password()
    locked.session_version += 1
    locked.deleted_at = timezone.now()
    locked.save()
    locked.groups.clear()
    locked.user_permissions.clear()
    realtime.announce_user_closed(user_id=locked.pk, code=SESSION_ENDED)
    return locked


def _audit_rows_redact(*, user: User) -> None:
    """Staff edits of this user are kept (who did what, when) without the personal values."""
    rows = AuditLog.objects.filter(object_type=User._meta.label, object_id=str(user.pk))
    for row in rows:
        for side in ("before", "after"):
            data = getattr(row, side)
            if isinstance(data, dict):
                setattr(
                    row,
                    side,
                    {k: ("(삭제됨)" if k in PERSONAL_FIELDS else v) for k, v in data.items()},
                )
        row.object_repr = DELETED_NAME
        row.save(update_fields=["before", "after", "object_repr"])
    # Django's own admin history names the object too.
    LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(User), object_id=str(user.pk)
    ).update(object_repr=DELETED_NAME)
