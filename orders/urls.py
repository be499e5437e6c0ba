from django.urls import path

from orders import views

app_name = "orders"

urlpatterns = [
    path("checkout/", views.checkout, name="checkout"),
    path("checkout/sheet/", views.checkout_sheet, name="checkout-sheet"),
    path("checkout/summary/", views.checkout_summary, name="checkout-summary"),
    path("cart/shipping/", views.cart_shipping, name="cart-shipping"),
    path("orders/<str:order_id>/complete/", views.order_complete, name="complete"),
    path("my/orders/", views.my_orders, name="my-orders"),
    path("my/orders/<str:order_id>/", views.order_detail, name="detail"),
]
