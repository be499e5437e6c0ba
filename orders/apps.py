from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = "주문"

    def ready(self) -> None:
        from accounts import crypto

        # `rotate_encryption_key` re-encrypts the order's address snapshot too.
        register = getattr(crypto, "register_encrypted_field", None)
        if register is not None:
            register("orders.Order", "shipping_address_encrypted")
