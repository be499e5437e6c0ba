"""Cart, waitlist and checkout: the pages' forms parse, the pages' services decide.

A cart add goes through `shop.batcher` like the page's (one door for holds); the gate is
`accounts.permissions.can_buy_or_chat`; each write counts against the page's rate limit."""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.response import Response

from api import serializers as s
from api.errors import InvalidInput
from api.permissions import CanBuy
from api.views.base import ApiView
from orders import selectors as order_selectors
from orders import services as order_services
from orders.forms import CheckoutForm
from shop import batcher, selectors, services
from shop.forms import CartAddForm, LineQuantityForm, WaitlistJoinForm

IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    str,
    location=OpenApiParameter.HEADER,
    required=True,
    pattern=r"^[A-Za-z0-9_-]{16,64}$",
    description="주문 요청마다 새로 만든 키 (16~64자). 같은 키로 다시 보내면 같은 주문이 옵니다.",
)


def _data(request) -> dict:
    """The JSON body as a dict (anything else reads as empty: the forms then say what is
    missing)."""
    return request.data if isinstance(request.data, dict) else {}


def _cart(request) -> Response:
    return Response(s.CartSerializer(selectors.cart_view(user=request.user)).data)


class Cart(ApiView):
    permission_classes = [CanBuy]

    @extend_schema(operation_id="cart_read", responses=s.CartSerializer)
    def get(self, request):
        """Active lines and recently released ones (flagged), as the cart page shows them."""
        return _cart(request)

    @extend_schema(operation_id="cart_clear", request=None, responses={200: s.CartSerializer})
    def delete(self, request):
        """Empty the cart (every hold released)."""
        services.cart_clear(user=request.user)
        return _cart(request)


class CartLines(ApiView):
    permission_classes = [CanBuy]
    rate_limits = {"POST": "cart_add"}

    @extend_schema(
        operation_id="cart_add",
        request=s.CartAddInput,
        responses={201: s.CartLineAdded},
    )
    def post(self, request):
        """Hold stock and put it in the cart (summed with a line of the same option). Too few
        left: 409 INSUFFICIENT_STOCK with `available` (then the waitlist may be joined)."""
        add = CartAddForm.from_post(_data(request)).parsed()
        result = batcher.cart_add(user=request.user, **add)
        if isinstance(result, Exception):
            raise result
        line = result
        body = {
            "id": line.pk,
            "variant_id": line.variant_id,
            "quantity": line.quantity,
            "expires_at": line.expires_at,
        }
        return Response(s.CartLineAdded(body).data, status=201)


class CartLine(ApiView):
    permission_classes = [CanBuy]
    rate_limits = {"PATCH": "cart_update"}

    @extend_schema(
        operation_id="cart_line_update", request=s.LineQuantityInput, responses=s.CartSerializer
    )
    def patch(self, request, line_id: int):
        """Set a line's quantity (holds or releases the difference; restarts its timer)."""
        quantity = LineQuantityForm.from_post(_data(request)).parsed()["quantity"]
        services.cart_line_update(user=request.user, line_id=line_id, quantity=quantity)
        return _cart(request)

    @extend_schema(operation_id="cart_line_remove", request=None, responses={200: s.CartSerializer})
    def delete(self, request, line_id: int):
        services.cart_line_remove(user=request.user, line_id=line_id)
        return _cart(request)


class CartShipping(ApiView):
    permission_classes = [CanBuy]

    @extend_schema(operation_id="cart_shipping", responses=s.ShippingQuoteSerializer)
    def get(self, request):
        """Subtotal, shipping fee and total of the held lines, by the rule checkout uses."""
        quote = order_selectors.cart_shipping_quote(user=request.user)
        return Response(s.ShippingQuoteSerializer(quote).data)


class Waitlist(ApiView):
    permission_classes = [CanBuy]
    rate_limits = {"POST": "waitlist_join"}

    @extend_schema(operation_id="waitlist_list", responses=s.WaitlistEntrySerializer(many=True))
    def get(self, request):
        """Open and recent entries with the place in line (`position`, 1 = next)."""
        entries = selectors.waitlist_entries(user=request.user)
        return Response(s.WaitlistEntrySerializer(entries, many=True).data)

    @extend_schema(
        operation_id="waitlist_join",
        request=s.WaitlistJoinInput,
        responses={201: s.WaitlistEntrySerializer},
    )
    def post(self, request):
        """Take a waitlist number for an option with too little stock (409
        WAITLIST_NOT_NEEDED when it can be added to the cart now)."""
        join = WaitlistJoinForm.from_post(_data(request)).parsed()
        entry = services.waitlist_join(user=request.user, **join)
        entry.position = selectors.waitlist_position(entry=entry)
        return Response(s.WaitlistEntrySerializer(entry).data, status=201)


class WaitlistEntry(ApiView):
    permission_classes = [CanBuy]

    @extend_schema(operation_id="waitlist_cancel", request=None, responses={204: None})
    def delete(self, request, entry_id: int):
        """Give the number up (a promoted entry's hold goes to the next in line)."""
        services.waitlist_cancel(user=request.user, entry_id=entry_id)
        return Response(status=204)


class Checkout(ApiView):
    permission_classes = [CanBuy]
    rate_limits = {"POST": "checkout"}

    @extend_schema(
        operation_id="checkout",
        parameters=[IDEMPOTENCY_HEADER],
        request=s.CheckoutInput,
        responses={
            201: s.OrderSerializer,
            200: OpenApiResponse(s.OrderSerializer, description="같은 키로 이미 만든 주문"),
        },
    )
    def post(self, request):
        """Place an order from held cart lines, as the checkout page does (same form, same
        service). `Idempotency-Key` is required: a retry with the same key answers 200 with
        the order the first request created, never a second order."""
        started = timezone.now()
        data = _data(request)
        whole_cart = data.get("line_ids") is None
        # Without `line_ids` the order takes the whole cart (line_ids=None: the service says
        # CART_EMPTY or CART_ITEMS_EXPIRED); the form's own selection check has nothing to see.
        line_ids = ["1"] if whole_cart else data["line_ids"]
        if not isinstance(line_ids, list):
            line_ids = [line_ids]
        fields = ("payment_method", "points", "expected_total", "agree_terms", "agree_privacy")
        form_data = {key: data[key] for key in fields if data.get(key) is not None}
        form_data["idempotency_key"] = request.headers.get("Idempotency-Key", "")
        form = CheckoutForm(form_data, line_ids_raw=[str(v) for v in line_ids])
        if not form.is_valid():
            fields = {
                ("Idempotency-Key" if name == "idempotency_key" else name): list(messages)
                for name, messages in form.errors.items()
            }
            raise InvalidInput(fields)
        cleaned = form.cleaned_data
        order = order_services.order_place(
            user=request.user,
            idempotency_key=cleaned["idempotency_key"],
            payment_method=cleaned["payment_method"],
            line_ids=None if whole_cart else cleaned["line_ids"],
            points_to_use=cleaned["points"],
            expected_total=cleaned["expected_total"],
        )
        replayed = order.created_at < started
        response = Response(s.OrderSerializer(order).data, status=200 if replayed else 201)
        if replayed:
            response["Idempotent-Replayed"] = "true"
        return response
