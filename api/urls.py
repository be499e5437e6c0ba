"""/api/v1/… and the schema and its documentation pages (docs/api.md)."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from api.views import account, catalog, shopping, staff

app_name = "api"

v1 = [
    # Streams and products (anyone).
    path("streams/", catalog.StreamList.as_view(), name="streams"),
    path("streams/current/", catalog.StreamCurrent.as_view(), name="stream-current"),
    path("streams/<str:public_id>/", catalog.StreamDetail.as_view(), name="stream"),
    path("streams/<str:public_id>/state/", catalog.StreamState.as_view(), name="stream-state"),
    path("streams/<str:public_id>/chat/", catalog.StreamChat.as_view(), name="stream-chat"),
    path("products/", catalog.ProductList.as_view(), name="products"),
    path("products/<int:product_id>/", catalog.ProductDetail.as_view(), name="product"),
    # Cart, waitlist, checkout (logged in, profile complete).
    path("cart/", shopping.Cart.as_view(), name="cart"),
    path("cart/lines/", shopping.CartLines.as_view(), name="cart-lines"),
    path("cart/lines/<int:line_id>/", shopping.CartLine.as_view(), name="cart-line"),
    path("cart/shipping/", shopping.CartShipping.as_view(), name="cart-shipping"),
    path("waitlist/", shopping.Waitlist.as_view(), name="waitlist"),
    path("waitlist/<int:entry_id>/", shopping.WaitlistEntry.as_view(), name="waitlist-entry"),
    path("checkout/", shopping.Checkout.as_view(), name="checkout"),
    # The shopper's own.
    path("orders/", account.OrderList.as_view(), name="orders"),
    path("orders/<str:order_id>/", account.OrderDetail.as_view(), name="order"),
    path("orders/<str:order_id>/payment/", account.OrderPayment.as_view(), name="order-payment"),
    path("points/", account.PointsBalance.as_view(), name="points"),
    path("points/ledger/", account.PointsLedger.as_view(), name="points-ledger"),
    path("profile/", account.Profile.as_view(), name="profile"),
    path(
        "notifications/subscriptions/",
        account.PushSubscriptions.as_view(),
        name="push-subscriptions",
    ),
    path(
        "notifications/subscriptions/remove/",
        account.PushUnsubscribe.as_view(),
        name="push-unsubscribe",
    ),
    path("auth/tokens/", account.Tokens.as_view(), name="tokens"),
    path("auth/tokens/<int:token_id>/", account.Token.as_view(), name="token"),
    # Staff.
    path("staff/orders/", staff.StaffOrders.as_view(), name="staff-orders"),
    path(
        "staff/orders/<str:order_id>/confirm/",
        staff.StaffOrderConfirm.as_view(),
        name="staff-order-confirm",
    ),
    path(
        "staff/orders/<str:order_id>/ship/", staff.StaffOrderShip.as_view(), name="staff-order-ship"
    ),
    path(
        "staff/orders/<str:order_id>/cancel/",
        staff.StaffOrderCancel.as_view(),
        name="staff-order-cancel",
    ),
    path(
        "staff/variants/<int:variant_id>/stock/",
        staff.StaffVariantStock.as_view(),
        name="staff-variant-stock",
    ),
    path(
        "staff/products/<int:product_id>/sold-out/",
        staff.StaffProductSoldOut.as_view(),
        name="staff-product-sold-out",
    ),
    path("staff/settlement/", staff.StaffSettlement.as_view(), name="staff-settlement"),
]

urlpatterns = [
    path("v1/", include(v1)),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # Swagger UI from drf-spectacular-sidecar's files; its script is served separately (CSP).
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
]
