"""The shopper's own: orders, points, profile, push subscriptions, device tokens."""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response

from accounts import selectors as account_selectors
from accounts import services as account_services
from accounts.forms import ProfileForm
from accounts.services import ADDRESS_KEYS
from api import selectors, services
from api import serializers as s
from api.errors import InvalidInput
from api.pagination import NewestFirst
from api.permissions import CanBuy, LoggedIn
from api.views.base import ApiListView, ApiView
from core.models import get_config
from live.models import LiveStream
from notifications import services as notification_services
from notifications.errors import InvalidSubscription
from notifications.forms import parse_endpoint, parse_subscription
from orders import selectors as order_selectors
from orders.models import Order
from points import services as points
from points.models import PointTransaction


def _own_order(request, order_id: str) -> Order:
    order = order_selectors.order_for_user(user=request.user, order_id=order_id)
    if order is None:
        raise Http404
    return order


class OrderList(ApiListView):
    permission_classes = [CanBuy]
    pagination_class = NewestFirst

    @extend_schema(
        operation_id="orders_list",
        parameters=[OpenApiParameter("status", str, enum=Order.Status.values, required=False)],
        responses=s.OrderSerializer(many=True),
    )
    def get(self, request):
        """My orders, newest first, by cursor (`status` filters as the page's tabs)."""
        status = request.query_params.get("status", "")
        if status not in Order.Status.values:
            status = ""
        orders = order_selectors.orders_for_user(user=request.user, status=status)
        return self.page(orders, s.OrderSerializer)


class OrderDetail(ApiView):
    permission_classes = [CanBuy]

    @extend_schema(operation_id="orders_detail", responses=s.OrderSerializer)
    def get(self, request, order_id: str):
        return Response(s.OrderSerializer(_own_order(request, order_id)).data)


def payment_account(order: Order, config) -> dict:
    """Where the money goes for the order's payment method (the order-complete page's box)."""
    if order.payment_method == Order.PaymentMethod.ZELLE:
        return {
            "method": order.payment_method,
            "label": str(order.get_payment_method_display()),
            "zelle_id": config.zelle_email,
            "recipient_name": config.zelle_recipient_name,
        }
    return {
        "method": order.payment_method,
        "label": str(order.get_payment_method_display()),
        "bank_name": config.bank_name,
        "account_number": config.bank_account_number,
        "account_holder": config.bank_account_holder,
    }


class OrderPayment(ApiView):
    permission_classes = [CanBuy]

    @extend_schema(operation_id="orders_payment", responses=s.PaymentInfoSerializer)
    def get(self, request, order_id: str):
        """What to pay, to whom, by when (the order-complete page's payment box)."""
        order = _own_order(request, order_id)
        body = {
            "order_id": order.order_id,
            "status": order.status,
            "amount": order.total,
            "depositor_name": order.depositor_name,
            "payment_method": order.payment_method,
            "payment_deadline": order.payment_deadline,
            "account": payment_account(order, get_config()),
        }
        return Response(s.PaymentInfoSerializer(body).data)


class PointsBalance(ApiView):
    permission_classes = [CanBuy]

    @extend_schema(operation_id="points_balance", responses=s.PointsBalanceSerializer)
    def get(self, request):
        balance = points.balance_of(user=request.user)
        body = {"balance": balance, "value": points.points_to_money(balance)}
        return Response(s.PointsBalanceSerializer(body).data)


class PointsLedger(ApiListView):
    permission_classes = [CanBuy]
    pagination_class = NewestFirst

    @extend_schema(operation_id="points_ledger", responses=s.PointTransactionSerializer(many=True))
    def get(self, request):
        """Every change of the balance, newest first, by cursor."""
        rows = PointTransaction.objects.filter(user=request.user).select_related("order")
        return self.page(rows, s.PointTransactionSerializer)


def _profile(user) -> dict:
    address = user.shipping_address
    return {
        "email": user.email,
        "depositor_name": user.depositor_name,
        "instagram_id": user.instagram_id,
        "phone": user.phone,
        **{key: address.get(key, "") for key in ADDRESS_KEYS},
        "live_alert_opt_in": user.live_alert_opt_in,
        "profile_complete": user.has_complete_profile,
    }


class Profile(ApiView):
    permission_classes = [LoggedIn]
    rate_limits = {"PATCH": "profile_save"}

    @extend_schema(operation_id="profile_read", responses=s.ProfileSerializer)
    def get(self, request):
        return Response(s.ProfileSerializer(_profile(request.user)).data)

    @extend_schema(
        operation_id="profile_update", request=s.ProfileInput, responses=s.ProfileSerializer
    )
    def patch(self, request):
        """Change the profile and shipping address, checked by the profile page's own form
        (every rule of the page; the email of a Kakao account cannot change)."""
        user = request.user
        initial = ProfileForm.initial_for(user)
        sent = request.data if isinstance(request.data, dict) else {}
        data = {**initial, **{k: v for k, v in sent.items() if k in ProfileForm.base_fields}}
        data = {
            k: v if isinstance(v, str) else "" if v is None else str(v) for k, v in data.items()
        }
        locked = account_selectors.email_locked(user=user)
        form = ProfileForm(data, user=user, email_locked=locked, initial=initial)
        if not form.is_valid():
            raise InvalidInput({name: list(msgs) for name, msgs in form.errors.items()})
        account_services.profile_complete(user=user, data=form.cleaned_data)
        return Response(s.ProfileSerializer(_profile(user)).data)


class PushSubscriptions(ApiView):
    permission_classes = [LoggedIn]

    @extend_schema(
        operation_id="push_subscribe",
        request=s.PushSubscriptionInput,
        responses={201: s.SubscriptionCreated},
    )
    def post(self, request):
        """Web push for this browser: every show, or one (`stream_id`)."""
        data = parse_subscription(request.body)
        if data.stream_id is not None and not LiveStream.objects.filter(pk=data.stream_id).exists():
            raise InvalidSubscription("방송을 찾을 수 없습니다.")
        subscription = notification_services.push_subscription_save(
            user=request.user,
            endpoint=data.endpoint,
            p256dh=data.p256dh,
            auth=data.auth,
            stream_id=data.stream_id,
            user_agent=request.headers.get("User-Agent", ""),
        )
        return Response({"id": subscription.pk}, status=201)


class PushUnsubscribe(ApiView):
    permission_classes = [LoggedIn]

    @extend_schema(
        operation_id="push_unsubscribe",
        request=s.PushEndpointInput,
        responses={200: s.SubscriptionDeleted},
    )
    def post(self, request):
        endpoint = parse_endpoint(request.body)
        deleted = notification_services.push_subscription_delete(
            user=request.user, endpoint=endpoint
        )
        return Response({"deleted": deleted})


class Tokens(ApiView):
    permission_classes = [LoggedIn]
    rate_limits = {"POST": "api_token_create"}

    @extend_schema(operation_id="tokens_list", responses=s.TokenSerializer(many=True))
    def get(self, request):
        """My device tokens (never the tokens themselves)."""
        tokens = selectors.user_tokens(user=request.user)
        return Response(s.TokenSerializer(tokens, many=True).data)

    @extend_schema(
        operation_id="tokens_create", request=s.TokenInput, responses={201: s.TokenCreated}
    )
    def post(self, request):
        """A token for one device. The token is in this answer only: store it there."""
        serializer = s.TokenInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        token, raw = services.api_token_create(
            user=request.user, name=serializer.validated_data["name"]
        )
        token.token = raw
        return Response(s.TokenCreated(token).data, status=201)


class Token(ApiView):
    permission_classes = [LoggedIn]

    @extend_schema(operation_id="tokens_revoke", request=None, responses={204: None})
    def delete(self, request, token_id: int):
        """Revoke a device's token: it stops working at once."""
        services.api_token_revoke(user=request.user, token_id=token_id)
        return Response(status=204)
