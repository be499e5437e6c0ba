"""Orders admin (Korean). Orders change only through `orders.services`: the change form is
read-only; actions and the extra pages (cancel, item edit, ship, tracking CSV, reconciliation)
parse input and call one service each. The settlement page (정산) only reads. The order page's
buttons (입금 확인, 입금 안내 다시 보내기, 상품 수정, 발송 처리, 주문 취소) are in its template,
each shown only to staff holding the permission its page checks."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from core.admin import AuditedModelAdmin, money_column
from core.errors import ServiceError
from dorami import exports
from dorami.charts import bar_chart
from dorami.storetime import store_format
from orders import reconciliation, selectors, services
from orders.forms import CancelForm, ReconcileForm, SettlementForm, ShipCsvForm
from orders.models import Order, OrderEvent, OrderItem

ADMIN_TEMPLATES = "orders/admin"


class StreamFilter(admin.SimpleListFilter):
    title = _("라이브 방송")
    parameter_name = "stream"

    def lookups(self, request, model_admin):
        streams = (
            OrderItem.objects.filter(stream__isnull=False)
            .values_list("stream_id", "stream__title")
            .distinct()
            .order_by("-stream_id")[:50]
        )
        rows = [("store", _("스토어 상품"))]
        rows += [(str(pk), f"#{pk} {title}") for pk, title in streams]
        return rows

    def queryset(self, request, queryset):
        value = self.value()
        if value == "store":
            return queryset.filter(items__stream__isnull=True).distinct()
        if value and value.isdigit():
            return queryset.filter(items__stream_id=int(value)).distinct()
        return queryset


class AmountFilter(admin.SimpleListFilter):
    title = _("결제 금액")
    parameter_name = "amount"
    RANGES = {
        "lt50": (None, Decimal("50")),
        "50-100": (Decimal("50"), Decimal("100")),
        "100-200": (Decimal("100"), Decimal("200")),
        "200+": (Decimal("200"), None),
    }

    def lookups(self, request, model_admin):
        return [
            ("lt50", "$50 미만"),
            ("50-100", "$50–$100"),
            ("100-200", "$100–$200"),
            ("200+", "$200 이상"),
        ]

    def queryset(self, request, queryset):
        bounds = self.RANGES.get(self.value() or "")
        if not bounds:
            return queryset
        low, high = bounds
        if low is not None:
            queryset = queryset.filter(total__gte=low)
        if high is not None:
            queryset = queryset.filter(total__lt=high)
        return queryset


class OrderItemInline(admin.TabularInline):
    model = OrderItem
    extra = 0
    can_delete = False
    fields = (
        "product_name",
        "option_label",
        "unit_price_usd",
        "quantity",
        "line_total_usd",
        "stream",
    )
    readonly_fields = fields
    unit_price_usd = money_column("unit_price", _("단가"))
    line_total_usd = money_column("line_total", _("금액"))

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class OrderEventInline(admin.TabularInline):
    model = OrderEvent
    extra = 0
    can_delete = False
    fields = ("created_at", "kind", "message", "actor")
    readonly_fields = fields
    ordering = ("created_at", "id")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Order)
class OrderAdmin(AuditedModelAdmin):
    list_display = (
        "order_id",
        "instagram",
        "depositor_name",
        "status_badge",
        "total_usd",
        "payment_method",
        "points_used",
        "deadline",
        "created_at",
    )
    list_filter = ("status", StreamFilter, AmountFilter, "payment_method", "created_at")
    search_fields = ("order_id", "user__instagram_id", "depositor_name", "user__email")
    date_hierarchy = "created_at"
    list_select_related = ("user",)
    list_per_page = 50
    inlines = (OrderItemInline, OrderEventInline)
    actions = (
        "confirm_payment",
        "resend_payment_reminder",
        "cancel_orders",
        "mark_delivered",
        "export_csv",
        "export_xlsx",
    )
    readonly_fields = (
        "order_id",
        "user",
        "status",
        "payment_method",
        "subtotal_usd",
        "shipping_fee_usd",
        "points_used",
        "points_discount_usd",
        "total_usd",
        "points_earned",
        "depositor_name",
        "address_display",
        "payment_deadline",
        "reminder_sent_at",
        "confirmed_at",
        "shipped_at",
        "tracking_number",
        "delivered_at",
        "cancelled_at",
        "cancel_reason",
        "created_at",
    )
    exclude = (
        "shipping_address_encrypted",
        "address_key_version",
        "idempotency_key",
        "subtotal",
        "shipping_fee",
        "points_discount",
        "total",
    )
    change_list_template = f"{ADMIN_TEMPLATES}/order_change_list.html"
    change_form_template = f"{ADMIN_TEMPLATES}/order_change_form.html"

    subtotal_usd = money_column("subtotal", _("상품 금액"))
    shipping_fee_usd = money_column("shipping_fee", _("배송비"))
    points_discount_usd = money_column("points_discount", _("포인트 할인"))
    total_usd = money_column("total", _("결제 금액"))

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("인스타그램"), ordering="user__instagram_id")
    def instagram(self, obj):
        return obj.user.instagram_id or obj.user.email

    @admin.display(description=_("상태"), ordering="status")
    def status_badge(self, obj):
        return format_html(
            '<span class="order-status status-{}">{}</span>',
            obj.status.lower(),
            obj.get_status_display(),
        )

    @admin.display(description=_("입금 기한"), ordering="payment_deadline")
    def deadline(self, obj):
        """Store time; only unpaid orders have one that matters, overdue ones in red."""
        if obj.status != Order.Status.PENDING_PAYMENT or obj.payment_deadline is None:
            return "—"
        overdue = obj.payment_deadline <= timezone.now()
        return format_html(
            '<span class="order-deadline{}">{}<br>{}{}</span>',
            " order-deadline-overdue" if overdue else "",
            store_format(obj.payment_deadline, "date"),
            store_format(obj.payment_deadline, "time"),
            " (지남)" if overdue else "",
        )

    @admin.display(description=_("배송지"))
    def address_display(self, obj):
        a = obj.shipping_address
        if not a:
            return "—"
        return format_html(
            "{}<br>{} {}<br>{}, {} {}",
            a.get("full_name", ""),
            a.get("address1", ""),
            a.get("address2", ""),
            a.get("city", ""),
            a.get("state", ""),
            a.get("zip", ""),
        )

    # --- permissions: money actions have their own (orders.confirm_payment, cancel_order) ---

    def has_confirm_payment_permission(self, request, obj=None) -> bool:
        return request.user.has_perm("orders.confirm_payment")

    def has_cancel_order_permission(self, request, obj=None) -> bool:
        return request.user.has_perm("orders.cancel_order")

    def _require(self, request, allowed: bool) -> None:
        if not allowed:
            raise PermissionDenied

    # --- actions ---------------------------------------------------------------------------

    @admin.action(description=_("선택한 주문 입금 확인"), permissions=["confirm_payment"])
    def confirm_payment(self, request, queryset):
        result = services.payments_confirm_many(
            order_ids=list(queryset.values_list("pk", flat=True)), actor=request.user
        )
        if result["confirmed"]:
            self.message_user(
                request,
                f"입금 확인 {len(result['confirmed'])}건: " + ", ".join(result["confirmed"]),
                messages.SUCCESS,
            )
        for order_id, reason in result["refused"]:
            self.message_user(request, f"{order_id}: {reason}", messages.ERROR)

    @admin.action(description=_("입금 안내 다시 보내기"), permissions=["change"])
    def resend_payment_reminder(self, request, queryset):
        result = services.payment_reminders_resend(
            order_ids=list(queryset.values_list("pk", flat=True)), actor=request.user
        )
        self._report_resend(request, result)

    def _report_resend(self, request, result: dict) -> None:
        sent = result["sent"]
        if sent:
            text = f"입금 안내 {len(sent)}건을 다시 보냈습니다: " + ", ".join(sent)
            self.message_user(request, text, messages.SUCCESS)
        for order_id, reason in result["refused"]:
            self.message_user(request, f"{order_id}: {reason}", messages.ERROR)

    @admin.action(description=_("선택한 주문 취소…"), permissions=["cancel_order"])
    def cancel_orders(self, request, queryset):
        ids = ",".join(str(pk) for pk in queryset.values_list("pk", flat=True))
        return HttpResponseRedirect(reverse("admin:orders_order_cancel") + f"?ids={ids}")

    @admin.action(description=_("선택한 주문 배송 완료"), permissions=["change"])
    def mark_delivered(self, request, queryset):
        done = 0
        for pk in queryset.values_list("pk", flat=True):
            try:
                services.order_deliver(order=pk, actor=request.user)
                done += 1
            except services.OrderError as exc:
                self.message_user(request, f"#{pk}: {exc.message}", messages.ERROR)
        if done:
            self.message_user(request, f"배송 완료 {done}건", messages.SUCCESS)

    @admin.action(description=_("CSV 내보내기 (상품별 한 줄)"), permissions=["view"])
    def export_csv(self, request, queryset):
        rows = selectors.order_export_rows(orders=queryset)
        return exports.csv_response(
            filename="orders.csv", header=selectors.EXPORT_HEADER, rows=rows
        )

    @admin.action(description=_("XLSX 내보내기 (상품별 한 줄)"), permissions=["view"])
    def export_xlsx(self, request, queryset):
        rows = selectors.order_export_rows(orders=queryset)
        return exports.xlsx_response(
            filename="orders.xlsx", sheet_name="orders", header=selectors.EXPORT_HEADER, rows=rows
        )

    # --- extra pages -----------------------------------------------------------------------

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("cancel/", view(self.cancel_view), name="orders_order_cancel"),
            path("ship-csv/", view(self.ship_csv_view), name="orders_order_ship_csv"),
            path("reconcile/", view(self.reconcile_view), name="orders_order_reconcile"),
            path("settlement/", view(self.settlement_view), name="orders_order_settlement"),
            path("<int:pk>/items/", view(self.items_view), name="orders_order_items"),
            path("<int:pk>/ship/", view(self.ship_view), name="orders_order_ship"),
            path("<int:pk>/confirm/", view(self.confirm_view), name="orders_order_confirm"),
            path("<int:pk>/remind/", view(self.remind_view), name="orders_order_remind"),
            *super().get_urls(),
        ]

    def _context(self, request, **extra):
        return {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "changelist_url": reverse("admin:orders_order_changelist"),
            **extra,
        }

    def cancel_view(self, request):
        self._require(request, self.has_cancel_order_permission(request))
        raw = request.POST.get("ids") or request.GET.get("ids", "")
        ids = [int(part) for part in raw.split(",") if part.strip().isdigit()][:500]
        orders = list(Order.objects.filter(pk__in=ids).select_related("user"))
        form = CancelForm(request.POST or None)
        if request.method == "POST" and request.POST.get("confirm") == "yes" and form.is_valid():
            done = 0
            for order in orders:
                try:
                    services.order_cancel(
                        order=order.pk, actor=request.user, reason=form.cleaned_data["reason"]
                    )
                    done += 1
                except ServiceError as exc:
                    self.message_user(request, f"{order.order_id}: {exc.message}", messages.ERROR)
            if done:
                self.message_user(request, f"주문 취소 {done}건", messages.SUCCESS)
            return HttpResponseRedirect(reverse("admin:orders_order_changelist"))
        return render(
            request,
            f"{ADMIN_TEMPLATES}/cancel_confirm.html",
            self._context(request, title="주문 취소 확인", orders=orders, ids=raw, form=form),
        )

    def confirm_view(self, request, pk: int):
        """입금 확인 from the order page: a confirmation page first, then the service."""
        self._require(request, self.has_confirm_payment_permission(request))
        order = get_object_or_404(Order.objects.select_related("user"), pk=pk)
        change_url = reverse("admin:orders_order_change", args=[pk])
        if request.method == "POST":
            try:
                services.payment_confirm(order=order.pk, actor=request.user)
            except services.OrderError as exc:
                self.message_user(request, f"{order.order_id}: {exc.message}", messages.ERROR)
            else:
                self.message_user(request, f"{order.order_id} 입금 확인", messages.SUCCESS)
            return HttpResponseRedirect(change_url)
        return render(
            request,
            f"{ADMIN_TEMPLATES}/confirm_payment.html",
            self._context(
                request,
                title=f"{order.order_id} 입금 확인",
                order=order,
                change_url=change_url,
                pending=order.status == Order.Status.PENDING_PAYMENT,
            ),
        )

    @method_decorator(require_POST)
    def remind_view(self, request, pk: int):
        """The order page's "입금 안내 다시 보내기" button (POST only)."""
        self._require(request, self.has_change_permission(request))
        get_object_or_404(Order, pk=pk)
        self._report_resend(
            request, services.payment_reminders_resend(order_ids=[pk], actor=request.user)
        )
        return HttpResponseRedirect(reverse("admin:orders_order_change", args=[pk]))

    def ship_view(self, request, pk: int):
        self._require(request, self.has_change_permission(request))
        order = get_object_or_404(Order, pk=pk)
        error = None
        if request.method == "POST":
            try:
                services.order_ship(
                    order=order.pk,
                    tracking_number=request.POST.get("tracking_number", ""),
                    actor=request.user,
                )
            except services.OrderError as exc:
                error = exc.message
            else:
                self.message_user(request, f"{order.order_id} 발송 처리", messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:orders_order_change", args=[pk]))
        return render(
            request,
            f"{ADMIN_TEMPLATES}/ship.html",
            self._context(request, title=f"{order.order_id} 발송 처리", order=order, error=error),
        )

    def items_view(self, request, pk: int):
        self._require(request, self.has_change_permission(request))
        order = get_object_or_404(Order, pk=pk)
        errors: list[str] = []
        if request.method == "POST":
            changed = 0
            for item in list(order.items.all()):
                raw = request.POST.get(f"qty-{item.pk}", "").strip()
                if raw == "" or raw == str(item.quantity):
                    continue
                try:
                    quantity = int(raw)
                except ValueError:
                    errors.append(f"{item.product_name}: 수량은 정수로 입력해 주세요.")
                    continue
                try:
                    services.order_item_update(item=item.pk, quantity=quantity, actor=request.user)
                    changed += 1
                except ServiceError as exc:
                    errors.append(f"{item.product_name}: {exc.message}")
            if changed and not errors:
                self.message_user(request, f"상품 {changed}건 수정", messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:orders_order_change", args=[pk]))
            order.refresh_from_db()
        return render(
            request,
            f"{ADMIN_TEMPLATES}/items.html",
            self._context(
                request,
                title=f"{order.order_id} 상품 수정",
                order=order,
                items=list(order.items.all()),
                errors=errors,
                editable=order.status == Order.Status.PENDING_PAYMENT,
            ),
        )

    def ship_csv_view(self, request):
        self._require(request, self.has_change_permission(request))
        form = ShipCsvForm(request.POST or None, request.FILES or None)
        report = error = None
        if request.method == "POST" and form.is_valid():
            try:
                rows = reconciliation.tracking_csv_parse(raw=form.cleaned_data["file"].read())
            except reconciliation.StatementError as exc:
                error = exc.message
            else:
                report = services.orders_ship_from_rows(rows=rows, actor=request.user)
        return render(
            request,
            f"{ADMIN_TEMPLATES}/ship_csv.html",
            self._context(
                request, title="운송장 CSV로 발송 처리", form=form, report=report, error=error
            ),
        )

    def reconcile_view(self, request):
        self._require(request, self.has_confirm_payment_permission(request))
        if request.method == "POST" and request.POST.get("step") == "confirm":
            ids = [int(v) for v in request.POST.getlist("order") if v.isdigit()][:10_000]
            result = services.payments_confirm_many(order_ids=ids, actor=request.user)
            return render(
                request,
                f"{ADMIN_TEMPLATES}/reconcile.html",
                self._context(request, title="입금 대조", form=ReconcileForm(), result=result),
            )
        form = ReconcileForm(request.POST or None, request.FILES or None)
        rows = counts = error = None
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                deposits = reconciliation.statement_parse(
                    raw=data["file"].read(),
                    date_col=data["date_col"],
                    name_col=data["name_col"],
                    amount_col=data["amount_col"],
                )
            except reconciliation.StatementError as exc:
                error = exc
            else:
                rows = reconciliation.reconcile(deposits=deposits, window_days=data["window_days"])
                counts = reconciliation.summarize(rows)
        return render(
            request,
            f"{ADMIN_TEMPLATES}/reconcile.html",
            self._context(
                request, title="입금 대조", form=form, rows=rows, counts=counts, error=error
            ),
        )

    def settlement_view(self, request):
        """정산: a GET form of store-local days (default: this month so far); the page, or the
        same numbers as CSV (`download=csv`, `kind=daily|orders`) or XLSX (two sheets)."""
        self._require(request, self.has_view_permission(request))
        today = timezone.localdate()
        if "start" in request.GET or "end" in request.GET:
            form = SettlementForm(request.GET)
        else:
            form = SettlementForm({"start": today.replace(day=1), "end": today})
        summary = chart = None
        if form.is_valid():
            start, end = form.cleaned_data["start"], form.cleaned_data["end"]
            summary = selectors.settlement_summary(start=start, end=end)
            download = request.GET.get("download", "")
            name = f"settlement-{start:%Y%m%d}-{end:%Y%m%d}"
            daily = ("daily", selectors.SETTLEMENT_DAILY_HEADER)
            by_order = ("orders", selectors.SETTLEMENT_ORDER_HEADER)
            if download == "xlsx":
                return exports.xlsx_sheets_response(
                    filename=f"{name}.xlsx",
                    sheets=[
                        (*daily, selectors.settlement_daily_rows(summary=summary)),
                        (*by_order, selectors.settlement_order_rows(start=start, end=end)),
                    ],
                )
            if download == "csv":
                if request.GET.get("kind") == "orders":
                    rows = selectors.settlement_order_rows(start=start, end=end)
                    return exports.csv_response(
                        filename=f"{name}-orders.csv", header=by_order[1], rows=rows
                    )
                return exports.csv_response(
                    filename=f"{name}-daily.csv",
                    header=daily[1],
                    rows=selectors.settlement_daily_rows(summary=summary),
                )
            chart = bar_chart([row["revenue"] for row in summary.daily], width=720, height=160)
            for bar, row in zip(chart["bars"], summary.daily, strict=True):
                bar["day"] = row
        return render(
            request,
            f"{ADMIN_TEMPLATES}/settlement.html",
            self._context(
                request,
                title="정산",
                form=form,
                summary=summary,
                chart=chart,
                last_month=_previous_month(today),
            ),
        )


def _previous_month(today) -> dict:
    last = today.replace(day=1) - timedelta(days=1)
    return {"start": last.replace(day=1), "end": last}
