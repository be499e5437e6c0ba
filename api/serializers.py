"""What the API answers with (and, for the schema, what it takes). Input is parsed by the
pages' own forms (`shop.forms`, `orders.forms`, `accounts.forms`) in the views: the input
serializers here only describe it."""

from __future__ import annotations

from django.conf import settings
from rest_framework import serializers

from accounts.forms import US_STATES
from orders.models import Order
from shop.models import MAX_ID, MAX_STOCK
from shop.services.waitlist import WAITLIST_MAX_QUANTITY


def _money(**kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=12, decimal_places=2, **kwargs)


def media_url(file) -> str | None:
    if not file:
        return None
    name = getattr(file, "name", file)
    return f"{settings.MEDIA_URL}{name}"


# --- streams ---------------------------------------------------------------------------------


class PlayerSerializer(serializers.Serializer):
    flv_url = serializers.CharField()
    hls_url = serializers.CharField()


class StreamSerializer(serializers.Serializer):
    public_id = serializers.CharField()
    title = serializers.CharField()
    description = serializers.CharField()
    status = serializers.CharField()
    thumbnail = serializers.SerializerMethodField()
    scheduled_at = serializers.DateTimeField(allow_null=True)
    started_at = serializers.DateTimeField(allow_null=True)
    ended_at = serializers.DateTimeField(allow_null=True)
    free_shipping_mode = serializers.CharField()
    free_shipping_threshold = _money()
    notice = serializers.CharField(source="notice_text")
    player = serializers.SerializerMethodField()
    ws_path = serializers.SerializerMethodField()

    def get_thumbnail(self, stream) -> str | None:
        return media_url(stream.thumbnail)

    def get_player(self, stream) -> PlayerSerializer:
        from live.selectors import player_urls

        return player_urls(stream)

    def get_ws_path(self, stream) -> str:
        return f"/ws/live/{stream.public_id}/"


class RoomVariantSerializer(serializers.Serializer):
    variant_id = serializers.IntegerField()
    stock = serializers.IntegerField()
    available = serializers.IntegerField()
    status = serializers.CharField()


class RoomProductSerializer(serializers.Serializer):
    product_id = serializers.IntegerField()
    status = serializers.CharField()
    sold_out = serializers.BooleanField()
    available = serializers.IntegerField()
    variants = RoomVariantSerializer(many=True)


class ChatMessageSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    user_id = serializers.IntegerField(allow_null=True)
    name = serializers.CharField(source="display_name")
    seller = serializers.BooleanField(source="is_seller")
    body = serializers.CharField()
    created_at = serializers.DateTimeField()


class RoomMessageSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    user_id = serializers.IntegerField(allow_null=True)
    name = serializers.CharField()
    seller = serializers.BooleanField()
    body = serializers.CharField()
    created_at = serializers.CharField()


class RoomStateSerializer(serializers.Serializer):
    """`live.selectors.live_room_state`, as the live page's own refetch gets it."""

    seq = serializers.IntegerField()
    epoch = serializers.CharField(allow_blank=True)
    realtime = serializers.CharField()
    viewers = serializers.IntegerField(allow_null=True)
    notice = serializers.CharField(allow_blank=True)
    featured_product_id = serializers.IntegerField(allow_null=True)
    products = RoomProductSerializer(many=True)
    messages = RoomMessageSerializer(many=True)

    def to_representation(self, instance):
        return instance  # the selector's dict, as it is (with the stream's own fields)


# --- catalog ---------------------------------------------------------------------------------


class ProductListSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    price = serializers.SerializerMethodField()
    original_price = _money(allow_null=True)
    discount_rate = serializers.IntegerField(allow_null=True)
    is_new = serializers.BooleanField()
    status = serializers.CharField()
    sold_out = serializers.SerializerMethodField()
    image = serializers.SerializerMethodField()
    stream_public_id = serializers.SerializerMethodField()

    def get_price(self, product) -> serializers.DecimalField(max_digits=12, decimal_places=2):
        value = getattr(product, "display_price", None) or product.price
        return f"{value:.2f}"

    def get_sold_out(self, product) -> bool:
        return product.status != "AVAILABLE" or not getattr(product, "open_variants", 1)

    def get_image(self, product) -> str | None:
        return media_url(getattr(product, "cover", None))

    def get_stream_public_id(self, product) -> str | None:
        return product.stream.public_id if product.stream_id else None


class VariantSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    color = serializers.CharField()
    size = serializers.CharField()
    option = serializers.CharField(source="option_label")
    price = _money()
    status = serializers.CharField()
    available = serializers.SerializerMethodField()

    def get_available(self, variant) -> int:
        return max(variant.available + getattr(variant, "overdue_units", 0), 0)


class ProductDetailSerializer(ProductListSerializer):
    description = serializers.CharField()
    timer_enabled = serializers.BooleanField()
    timer_minutes = serializers.IntegerField()
    expires_at = serializers.DateTimeField(allow_null=True)
    images = serializers.SerializerMethodField()
    variants = VariantSerializer(many=True, source="variants.all")

    def get_images(self, product) -> list[str]:
        return [media_url(image.image) for image in product.images.all()]

    def get_sold_out(self, product) -> bool:
        from shop.selectors import product_is_sold_out

        return product_is_sold_out(product)

    def get_image(self, product) -> str | None:
        images = list(product.images.all())
        return media_url(images[0].image) if images else None


# --- cart and waitlist ----------------------------------------------------------------------


class CartLineSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="line.pk")
    variant_id = serializers.IntegerField(source="line.variant_id", allow_null=True)
    product_id = serializers.SerializerMethodField()
    product_name = serializers.SerializerMethodField()
    option = serializers.SerializerMethodField()
    quantity = serializers.IntegerField(source="line.quantity")
    unit_price = _money()
    subtotal = _money()
    status = serializers.CharField(source="line.status")
    expires_at = serializers.DateTimeField(source="line.expires_at", allow_null=True)
    seconds_left = serializers.IntegerField(allow_null=True)
    expired = serializers.BooleanField()
    sold_out = serializers.BooleanField()
    withdrawn = serializers.BooleanField()
    payable = serializers.BooleanField()

    def get_product_id(self, row) -> int | None:
        variant = row.line.variant
        return variant.product_id if variant is not None else None

    def get_product_name(self, row) -> str:
        variant = row.line.variant
        return variant.product.name if variant is not None else row.line.withdrawn_name

    def get_option(self, row) -> str:
        variant = row.line.variant
        return variant.option_label if variant is not None else ""


class CartSerializer(serializers.Serializer):
    lines = CartLineSerializer(many=True, source="rows")
    item_count = serializers.IntegerField()
    subtotal = _money()


class CartAddInput(serializers.Serializer):
    variant_id = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_STOCK, default=1)


class CartLineAdded(serializers.Serializer):
    id = serializers.IntegerField()
    variant_id = serializers.IntegerField()
    quantity = serializers.IntegerField()
    expires_at = serializers.DateTimeField(allow_null=True)


class LineQuantityInput(serializers.Serializer):
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_STOCK)


class ShippingQuoteSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    subtotal = _money()
    shipping_fee = _money()
    shipping_rule = serializers.CharField()
    shipping_label = serializers.CharField(allow_blank=True)
    total = _money()


class WaitlistEntrySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    product_id = serializers.IntegerField()
    product_name = serializers.CharField(source="product.name")
    variant_id = serializers.IntegerField()
    option = serializers.CharField(source="variant.option_label")
    quantity = serializers.IntegerField()
    number = serializers.IntegerField()
    status = serializers.CharField()
    position = serializers.IntegerField(allow_null=True)
    promotion_expires_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()


class WaitlistJoinInput(serializers.Serializer):
    variant_id = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    quantity = serializers.IntegerField(min_value=1, max_value=WAITLIST_MAX_QUANTITY, default=1)


# --- checkout and orders ------------------------------------------------------------------


class CheckoutInput(serializers.Serializer):
    payment_method = serializers.ChoiceField(choices=Order.PaymentMethod.choices)
    line_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
        required=False,
        max_length=200,
        help_text="주문할 장바구니 항목 (생략하면 담긴 항목 전부)",
    )
    points = serializers.IntegerField(min_value=0, max_value=10_000_000, default=0)
    expected_total = _money(
        required=False, min_value=0, help_text="화면에 보인 결제 금액 (다르면 PRICE_CHANGED)"
    )
    agree_terms = serializers.BooleanField()
    agree_privacy = serializers.BooleanField()


class OrderItemSerializer(serializers.Serializer):
    product_id = serializers.IntegerField(allow_null=True)
    variant_id = serializers.IntegerField(allow_null=True)
    product_name = serializers.CharField()
    option = serializers.CharField(source="option_label")
    unit_price = _money()
    quantity = serializers.IntegerField()
    line_total = _money()


class OrderSerializer(serializers.Serializer):
    order_id = serializers.CharField()
    status = serializers.CharField()
    payment_method = serializers.CharField()
    subtotal = _money()
    shipping_fee = _money()
    points_used = serializers.IntegerField()
    points_discount = _money()
    total = _money()
    points_earned = serializers.IntegerField()
    depositor_name = serializers.CharField()
    payment_deadline = serializers.DateTimeField(allow_null=True)
    tracking_number = serializers.CharField(allow_blank=True)
    created_at = serializers.DateTimeField()
    confirmed_at = serializers.DateTimeField(allow_null=True)
    shipped_at = serializers.DateTimeField(allow_null=True)
    delivered_at = serializers.DateTimeField(allow_null=True)
    cancelled_at = serializers.DateTimeField(allow_null=True)
    items = OrderItemSerializer(many=True, source="items.all")


class PaymentAccountSerializer(serializers.Serializer):
    method = serializers.CharField()
    label = serializers.CharField()
    bank_name = serializers.CharField(required=False)
    account_number = serializers.CharField(required=False)
    account_holder = serializers.CharField(required=False)
    zelle_id = serializers.CharField(required=False)
    recipient_name = serializers.CharField(required=False)


class PaymentInfoSerializer(serializers.Serializer):
    order_id = serializers.CharField()
    status = serializers.CharField()
    amount = _money()
    depositor_name = serializers.CharField()
    payment_method = serializers.CharField()
    payment_deadline = serializers.DateTimeField(allow_null=True)
    account = PaymentAccountSerializer()


# --- points and profile ------------------------------------------------------------------


class PointsBalanceSerializer(serializers.Serializer):
    balance = serializers.IntegerField()
    value = _money(help_text="1포인트 = $0.01")


class PointTransactionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    amount = serializers.IntegerField()
    balance_after = serializers.IntegerField()
    order_id = serializers.SerializerMethodField()
    reason = serializers.CharField(allow_blank=True)
    expires_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()

    def get_order_id(self, row) -> str | None:
        return row.order.order_id if row.order_id else None


class ProfileSerializer(serializers.Serializer):
    email = serializers.EmailField()
    depositor_name = serializers.CharField(allow_blank=True)
    instagram_id = serializers.CharField(allow_blank=True, allow_null=True)
    phone = serializers.CharField(allow_blank=True)
    full_name = serializers.CharField(allow_blank=True)
    address1 = serializers.CharField(allow_blank=True)
    address2 = serializers.CharField(allow_blank=True)
    city = serializers.CharField(allow_blank=True)
    state = serializers.CharField(allow_blank=True)
    zip = serializers.CharField(allow_blank=True)
    live_alert_opt_in = serializers.BooleanField()
    profile_complete = serializers.BooleanField()


class ProfileInput(serializers.Serializer):
    """The profile page's fields; omitted fields keep their value (PATCH)."""

    email = serializers.CharField(required=False, max_length=254)
    depositor_name = serializers.CharField(required=False, max_length=100)
    instagram_id = serializers.CharField(required=False, max_length=64)
    full_name = serializers.CharField(required=False, max_length=100)
    address1 = serializers.CharField(required=False, max_length=200)
    address2 = serializers.CharField(required=False, allow_blank=True, max_length=200)
    city = serializers.CharField(required=False, max_length=100)
    state = serializers.ChoiceField(required=False, choices=[code for code, _n in US_STATES])
    zip = serializers.CharField(required=False, max_length=10)
    phone = serializers.CharField(required=False, allow_blank=True, max_length=20)


# --- notifications and tokens ---------------------------------------------------------------


class PushKeysInput(serializers.Serializer):
    p256dh = serializers.CharField(max_length=200)
    auth = serializers.CharField(max_length=100)


class PushSubscriptionInput(serializers.Serializer):
    """The browser's PushSubscription JSON (`subscription.toJSON()`), plus `stream_id` for
    one show's alerts only."""

    endpoint = serializers.URLField(max_length=1000)
    keys = PushKeysInput()
    stream_id = serializers.IntegerField(required=False, allow_null=True, min_value=1)


class PushEndpointInput(serializers.Serializer):
    endpoint = serializers.URLField(max_length=1000)


class SubscriptionCreated(serializers.Serializer):
    id = serializers.IntegerField()


class SubscriptionDeleted(serializers.Serializer):
    deleted = serializers.IntegerField()


class TokenSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    prefix = serializers.CharField()
    created_at = serializers.DateTimeField()
    last_used_at = serializers.DateTimeField(allow_null=True)


class TokenCreated(TokenSerializer):
    token = serializers.CharField(help_text="이 응답에서만 보입니다. 안전하게 보관하세요.")


class TokenInput(serializers.Serializer):
    name = serializers.CharField(max_length=100, help_text="기기 이름 (예: 내 아이폰)")


# --- staff ---------------------------------------------------------------------------------


class StaffCustomerSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.CharField()
    instagram_id = serializers.CharField(allow_null=True)


class StaffOrderSerializer(OrderSerializer):
    customer = StaffCustomerSerializer(source="user")
    cancel_reason = serializers.CharField(allow_blank=True)


class ShipInput(serializers.Serializer):
    tracking_number = serializers.CharField(max_length=100)


class CancelInput(serializers.Serializer):
    reason = serializers.CharField(max_length=300, required=False, allow_blank=True)


class StockInput(serializers.Serializer):
    stock = serializers.IntegerField(min_value=0, max_value=MAX_STOCK)


class SoldOutInput(serializers.Serializer):
    sold_out = serializers.BooleanField()


class VariantStockSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    product_id = serializers.IntegerField()
    stock = serializers.IntegerField()
    held = serializers.IntegerField()
    available = serializers.IntegerField()
    status = serializers.CharField()


class ProductStatusSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()
    manually_sold_out = serializers.BooleanField()


class SettlementDaySerializer(serializers.Serializer):
    date = serializers.DateField()
    count = serializers.IntegerField()
    revenue = _money()
    shipping = _money()
    points_used = serializers.IntegerField()
    points_discount = _money()


class SettlementShowSerializer(serializers.Serializer):
    stream_id = serializers.IntegerField(allow_null=True)
    title = serializers.CharField(allow_blank=True)
    orders = serializers.IntegerField()
    units = serializers.IntegerField()
    revenue = _money()


class SettlementSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()
    count = serializers.IntegerField()
    revenue = _money()
    average = _money()
    shipping = _money()
    points_used = serializers.IntegerField()
    points_discount = _money()
    daily = SettlementDaySerializer(many=True)
    shows = SettlementShowSerializer(many=True)
