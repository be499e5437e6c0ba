"""Who may do what: the pages' own gates, answered in the API's error format."""

from __future__ import annotations

from rest_framework import permissions

from accounts.permissions import LOGIN_REQUIRED, can_buy_or_chat
from api.errors import GateClosed


class Anyone(permissions.AllowAny):
    pass


class LoggedIn(permissions.BasePermission):
    """Logged in (suspended accounts never get this far: their sessions and tokens are dead)."""

    def has_permission(self, request, view) -> bool:
        if not (request.user and request.user.is_authenticated):
            raise GateClosed(LOGIN_REQUIRED)
        return True


class CanBuy(permissions.BasePermission):
    """`accounts.permissions.can_buy_or_chat`, the gate of the cart, waitlist and checkout
    pages: logged in, not suspended, profile complete."""

    def has_permission(self, request, view) -> bool:
        code = can_buy_or_chat(request.user)
        if code:
            raise GateClosed(code)
        return True


def staff_permission(*perms: str) -> type[permissions.BasePermission]:
    """Staff holding every one of `perms` (the admin's own: `orders.confirm_payment`...)."""

    class StaffPermission(permissions.BasePermission):
        required = perms

        def has_permission(self, request, view) -> bool:
            user = request.user
            if not (user and user.is_authenticated):
                raise GateClosed(LOGIN_REQUIRED)
            return bool(user.is_staff and user.is_active and user.has_perms(perms))

    StaffPermission.__name__ = "Staff_" + "_".join(p.replace(".", "_") for p in perms)
    return StaffPermission
