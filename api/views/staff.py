"""The seller's API: permission-checked like the admin (the same permissions), written and
audited through the same services as the admin's actions and the studio's buttons."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.db.models import Q
from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response

from api import serializers as s
from api.errors import InvalidInput
from api.pagination import NewestFirst
from api.permissions import staff_permission
from api.views.base import ApiListView, ApiView
from dorami.storetime import store_tz
from orders import selectors as order_selectors
from orders import services as order_services
from orders.forms import SettlementForm
from orders.models import Order
from orders.services.numbering import store_today
from shop import services as shop_services


def _valid(serializer_class, request) -> dict:
    serializer = serializer_class(data=request.data if isinstance(request.data, dict) else {})
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _order_or_404(order_id: str) -> Order:
    order = Order.objects.filter(order_id=order_id).only("pk").first()
    if order is None:
        raise Http404
    return order


def _staff_order(pk: int) -> dict:
    order = Order.objects.select_related("user").prefetch_related("items").get(pk=pk)
    return s.StaffOrderSerializer(order).data


def _day(value: str):
    form = SettlementForm({"start": value, "end": value})
    form.is_valid()
    return form.cleaned_data.get("start")


class StaffOrders(ApiListView):
    permission_classes = [staff_permission("orders.view_order")]
    pagination_class = NewestFirst

    @extend_schema(
        operation_id="staff_orders_list",
        parameters=[
            OpenApiParameter("status", str, enum=Order.Status.values, required=False),
            OpenApiParameter("stream", int, required=False, description="방송 id"),
            OpenApiParameter("q", str, required=False, description="주문번호·인스타·입금자명"),
            OpenApiParameter("created_from", str, required=False, description="YYYY-MM-DD"),
            OpenApiParameter("created_to", str, required=False, description="YYYY-MM-DD"),
        ],
        responses=s.StaffOrderSerializer(many=True),
    )
    def get(self, request):
        """Orders, newest first, by cursor; filters as the admin's order list."""
        params = request.query_params
        orders = Order.objects.select_related("user").prefetch_related("items")
        if params.get("status") in Order.Status.values:
            orders = orders.filter(status=params["status"])
        stream = params.get("stream", "")
        if stream:
            if not stream.isdecimal() or len(stream) > 18:
                raise InvalidInput({"stream": ["방송 id는 숫자로 입력해 주세요."]})
            orders = orders.filter(items__stream_id=int(stream)).distinct()
        query = params.get("q", "").strip()[:100]
        if query:
            orders = orders.filter(
                Q(order_id__icontains=query)
                | Q(user__instagram_id__icontains=query)
                | Q(depositor_name__icontains=query)
                | Q(user__email__icontains=query)
            )
        for name, lookup in (("created_from", "gte"), ("created_to", "lt")):
            if params.get(name):
                day = _day(params[name])
                if day is None:
                    raise InvalidInput({name: ["날짜를 YYYY-MM-DD 형식으로 입력해 주세요."]})
                if lookup == "lt":
                    day = day + timedelta(days=1)
                at = datetime.combine(day, time.min, tzinfo=store_tz())
                orders = orders.filter(**{f"created_at__{lookup}": at})
        return self.page(orders, s.StaffOrderSerializer)


class StaffOrderConfirm(ApiView):
    permission_classes = [staff_permission("orders.confirm_payment")]

    @extend_schema(
        operation_id="staff_order_confirm", request=None, responses=s.StaffOrderSerializer
    )
    def post(self, request, order_id: str):
        """입금 확인 (the admin's action): points earned, the shopper told, audited."""
        order = order_services.payment_confirm(order=_order_or_404(order_id).pk, actor=request.user)
        return Response(_staff_order(order.pk))


class StaffOrderShip(ApiView):
    permission_classes = [staff_permission("orders.change_order")]

    @extend_schema(
        operation_id="staff_order_ship", request=s.ShipInput, responses=s.StaffOrderSerializer
    )
    def post(self, request, order_id: str):
        data = _valid(s.ShipInput, request)
        order = order_services.order_ship(
            order=_order_or_404(order_id).pk,
            tracking_number=data["tracking_number"],
            actor=request.user,
        )
        return Response(_staff_order(order.pk))


class StaffOrderCancel(ApiView):
    permission_classes = [staff_permission("orders.cancel_order")]

    @extend_schema(
        operation_id="staff_order_cancel", request=s.CancelInput, responses=s.StaffOrderSerializer
    )
    def post(self, request, order_id: str):
        """Cancel: stock back, points refunded and reversed, the waitlist promoted."""
        data = _valid(s.CancelInput, request)
        order = order_services.order_cancel(
            order=_order_or_404(order_id).pk, actor=request.user, reason=data.get("reason", "")
        )
        return Response(_staff_order(order.pk))


class StaffVariantStock(ApiView):
    permission_classes = [staff_permission("shop.change_productvariant")]

    @extend_schema(
        operation_id="staff_variant_stock", request=s.StockInput, responses=s.VariantStockSerializer
    )
    def post(self, request, variant_id: int):
        """Set an option's stock (not below what carts hold: 409 STOCK_BELOW_HELD)."""
        data = _valid(s.StockInput, request)
        variant = shop_services.stock_adjust(
            variant_id=variant_id, stock=data["stock"], actor=request.user
        )
        return Response(s.VariantStockSerializer(variant).data)


class StaffProductSoldOut(ApiView):
    permission_classes = [staff_permission("shop.change_product")]

    @extend_schema(
        operation_id="staff_product_sold_out",
        request=s.SoldOutInput,
        responses=s.ProductStatusSerializer,
    )
    def post(self, request, product_id: int):
        """Mark sold out (holds released) or reopen, as the studio's switch."""
        data = _valid(s.SoldOutInput, request)
        product = shop_services.product_mark_sold_out(
            product_id=product_id, sold_out=data["sold_out"], actor=request.user
        )
        return Response(s.ProductStatusSerializer(product).data)


class StaffSettlement(ApiView):
    permission_classes = [staff_permission("orders.view_order")]

    @extend_schema(
        operation_id="staff_settlement",
        parameters=[
            OpenApiParameter(
                "start", str, required=False, description="YYYY-MM-DD (매장 기준일, 기본: 이달 1일)"
            ),
            OpenApiParameter(
                "end", str, required=False, description="YYYY-MM-DD, 포함 (기본: 오늘)"
            ),
        ],
        responses=s.SettlementSerializer,
    )
    def get(self, request):
        """정산: orders confirmed in the store-local days start..end, as the admin's page
        (which also shows this month so far when no days are given)."""
        params = request.query_params
        if "start" in params or "end" in params:
            form = SettlementForm(params)
        else:
            today = store_today()
            form = SettlementForm({"start": today.replace(day=1), "end": today})
        if not form.is_valid():
            raise InvalidInput({name: list(msgs) for name, msgs in form.errors.items()})
        summary = order_selectors.settlement_summary(
            start=form.cleaned_data["start"], end=form.cleaned_data["end"]
        )
        return Response(s.SettlementSerializer(summary).data)
