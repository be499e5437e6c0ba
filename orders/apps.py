from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = "주문"

    def ready(self) -> None:
        from accounts import crypto
        from orders.selectors import cart_summary_extra
        from shop.cart_summary import cart_summary_register

        # `rotate_encryption_key` re-encrypts the order's address snapshot too.
        crypto.register_encrypted_field(
            "orders.Order", "shipping_address_encrypted", version_field="address_key_version"
        )
        # The cart page (shop) shows what checkout will charge for shipping.
        cart_summary_register(cart_summary_extra)
