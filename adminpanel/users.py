"""The user admin with what a seller wants to know about a shopper: order count, total spent,
last order and points balance as list columns, and on the change page an overview (recent
orders, points ledger, open holds with their expiry in store time, waitlist entries) with
suspend/restore and a points adjustment.

accounts sits at the bottom of the layers and knows nothing of orders, points or shop, so its
`UserAdmin` is extended here, on top. The buttons call the same services as the list actions
and the points page (`accounts.services.user_suspend` / `user_restore`, `points_adjust`), with
the same permissions: `accounts.change_user` and `points.adjust_points`.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.decorators import method_decorator
from django.views.decorators.http import require_POST

from accounts import services as account_services
from accounts.admin import UserAdmin
from accounts.models import User
from adminpanel.selectors import user_overview, users_with_stats
from dorami.storetime import store_format
from dorami.templatetags.money import usd
from points import services as points_services
from points.forms import PointsAdjustForm


class UserPointsForm(PointsAdjustForm):
    """The points page's form without its user field: the user is the page's."""

    user = None  # type: ignore[assignment]


admin.site.unregister(User)


@admin.register(User)
class UserDetailAdmin(UserAdmin):
    list_display = (
        "email",
        "instagram_id",
        "name",
        "depositor_name",
        "status",
        "order_count_column",
        "total_spent_column",
        "last_order_column",
        "points_column",
        "is_staff",
        "date_joined",
    )
    change_form_template = "adminpanel/user_change_form.html"

    def get_queryset(self, request):
        return users_with_stats(super().get_queryset(request))

    @admin.display(description="주문 수", ordering="order_count")
    def order_count_column(self, obj: User) -> int:
        return obj.order_count

    @admin.display(description="구매 금액", ordering="total_spent")
    def total_spent_column(self, obj: User) -> str:
        return usd(obj.total_spent)

    @admin.display(description="최근 주문", ordering="last_order_at")
    def last_order_column(self, obj: User) -> str:
        return store_format(obj.last_order_at, "date") if obj.last_order_at else "—"

    @admin.display(description="포인트", ordering="points_balance")
    def points_column(self, obj: User) -> str:
        return f"{obj.points_balance:,}P"

    # --- the change page -----------------------------------------------------------------

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra = dict(extra_context or {})
        user = self.get_object(request, object_id)
        if user is not None:
            extra.update(
                overview=user_overview(user=user),
                can_suspend=self.has_change_permission(request, user)
                and user.pk != request.user.pk,
                can_adjust_points=request.user.has_perm("points.adjust_points"),
                points_form=UserPointsForm(),
            )
        return super().change_view(request, object_id, form_url, extra_context=extra)

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/suspend/", view(self.suspend_view), name="accounts_user_suspend"),
            path("<int:pk>/restore/", view(self.restore_view), name="accounts_user_restore"),
            path("<int:pk>/points/", view(self.points_view), name="accounts_user_points"),
            *super().get_urls(),
        ]

    def _back(self, pk: int) -> HttpResponseRedirect:
        return HttpResponseRedirect(reverse("admin:accounts_user_change", args=[pk]))

    @method_decorator(require_POST)
    def suspend_view(self, request, pk: int):
        user = get_object_or_404(User, pk=pk)
        if not self.has_change_permission(request, user):
            raise PermissionDenied
        if user.pk == request.user.pk:
            self.message_user(request, "자기 자신은 정지할 수 없습니다.", messages.ERROR)
        elif user.status == User.Status.SUSPENDED:
            self.message_user(request, "이미 이용 정지된 회원입니다.", messages.WARNING)
        else:
            account_services.user_suspend(user=user, actor=request.user)
            self.message_user(
                request, f"{user}: 이용 정지 (모든 기기에서 로그아웃)", messages.SUCCESS
            )
        return self._back(pk)

    @method_decorator(require_POST)
    def restore_view(self, request, pk: int):
        user = get_object_or_404(User, pk=pk)
        if not self.has_change_permission(request, user):
            raise PermissionDenied
        if user.status != User.Status.SUSPENDED:
            self.message_user(request, "정지된 회원이 아닙니다.", messages.WARNING)
        else:
            account_services.user_restore(user=user, actor=request.user)
            self.message_user(request, f"{user}: 정지 해제", messages.SUCCESS)
        return self._back(pk)

    @method_decorator(require_POST)
    def points_view(self, request, pk: int):
        if not request.user.has_perm("points.adjust_points"):
            raise PermissionDenied
        user = get_object_or_404(User, pk=pk)
        form = UserPointsForm(request.POST)
        if not form.is_valid():
            for errors in form.errors.values():
                for error in errors:
                    self.message_user(request, f"포인트 조정: {error}", messages.ERROR)
            return self._back(pk)
        try:
            tx = points_services.points_adjust(
                user=user,
                amount=form.cleaned_data["amount"],
                reason=form.cleaned_data["reason"],
                actor=request.user,
            )
        except points_services.PointsError as exc:
            self.message_user(request, f"포인트 조정: {exc.message}", messages.ERROR)
        else:
            self.message_user(
                request,
                f"포인트 {tx.amount:+,}P (잔액 {tx.balance_after:,}P)",
                messages.SUCCESS,
            )
        return self._back(pk)
