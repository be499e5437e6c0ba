from django.urls import path

from shop import views

app_name = "shop"

urlpatterns = [
    path("store/", views.store, name="store"),
    path("products/<int:product_id>/", views.product_detail, name="product-detail"),
    path("products/<int:product_id>/sheet/", views.product_sheet, name="product-sheet"),
    path("cart/", views.cart, name="cart"),
    path("cart/add/", views.cart_add, name="cart-add"),
    path("cart/summary/", views.cart_summary, name="cart-summary"),
    path("cart/badge/", views.cart_badge, name="cart-badge"),
    path("cart/clear/", views.cart_clear, name="cart-clear"),
    path("cart/lines/<int:line_id>/", views.cart_line_update, name="cart-line-update"),
    path("cart/lines/<int:line_id>/remove/", views.cart_line_remove, name="cart-line-remove"),
    path("waitlist/join/", views.waitlist_join, name="waitlist-join"),
    path("my/waitlist/", views.waitlist, name="waitlist"),
    path("my/waitlist/<int:entry_id>/cancel/", views.waitlist_cancel, name="waitlist-cancel"),
]
