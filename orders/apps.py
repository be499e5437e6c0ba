from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = "주문"

    def ready(self) -> None:
        from accounts import crypto, erasure
        from orders import erasure as order_erasure
        from orders.selectors import cart_summary_extra
        from shop.cart_summary import cart_summary_register

        # `rotate_encryption_key` re-encrypts the order's address snapshot too.
        crypto.register_encrypted_field(
            "orders.Order", "shipping_address_encrypted", version_field="address_key_version"
        )
        # Account deletion waits for orders in progress, then seals their personal snapshot.
        erasure.blocker_register(order_erasure.deletion_blocker)
        erasure.eraser_register(order_erasure.orders_erase)
        # The cart page (shop) shows what checkout will charge for shipping.
        cart_summary_register(cart_summary_extra)
