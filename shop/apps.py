from django.apps import AppConfig


class ShopConfig(AppConfig):
    name = "shop"
    verbose_name = "상품"

    def ready(self) -> None:
        from accounts.erasure import eraser_register
        from shop.erasure import shop_erase

        # Account deletion gives the shopper's holds and waitlist places back.
        eraser_register(shop_erase)
