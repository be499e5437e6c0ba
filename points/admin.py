"""Points admin: the ledger read-only, plus an "adjust points" page that calls
`points.services.points_adjust` (reason ≥ 10 characters; audited)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _

from core.admin import AuditedModelAdmin
from points import services
from points.forms import PointsAdjustForm
from points.models import PointTransaction


@admin.register(PointTransaction)
class PointTransactionAdmin(AuditedModelAdmin):
    list_display = ("created_at", "user", "kind", "amount", "balance_after", "order", "reason")
    list_filter = ("kind", "created_at")
    search_fields = ("user__email", "user__instagram_id", "order__order_id", "reason")
    list_select_related = ("user", "order")
    readonly_fields = [f.name for f in PointTransaction._meta.fields]
    change_list_template = "points/admin/change_list.html"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        return [
            path(
                "adjust/",
                self.admin_site.admin_view(self.adjust_view),
                name="points_pointtransaction_adjust",
            ),
            *super().get_urls(),
        ]

    def has_adjust_points_permission(self, request, obj=None) -> bool:
        return request.user.has_perm("points.adjust_points")

    def adjust_view(self, request):
        # Viewing the ledger is not enough: adjusting moves money (points.adjust_points).
        if not self.has_adjust_points_permission(request):
            raise PermissionDenied
        form = PointsAdjustForm(request.POST or None, initial={"user": request.GET.get("user", "")})
        error = None
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                tx = services.points_adjust(
                    user=data["user"],
                    amount=data["amount"],
                    reason=data["reason"],
                    actor=request.user,
                )
            except services.PointsError as exc:
                error = exc.message
            else:
                self.message_user(
                    request,
                    f"{data['user']}: {tx.amount:+,}P (잔액 {tx.balance_after:,}P)",
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(reverse("admin:points_pointtransaction_changelist"))
        return render(
            request,
            "points/admin/adjust.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "title": _("포인트 조정"),
                "form": form,
                "error": error,
            },
        )
