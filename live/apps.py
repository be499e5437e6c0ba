from django.apps import AppConfig


class LiveConfig(AppConfig):
    name = "live"
    verbose_name = "라이브"

    def ready(self) -> None:
        from accounts.erasure import eraser_register
        from dorami import metrics
        from live.cards import product_card
        from live.erasure import chat_erase
        from live.metrics import live_state
        from live.selectors import stream_shipping_rules
        from orders.stream_rules import stream_rules_register
        from shop.realtime import room_product_extra_register

        # Orders prices shipping with each show's free-shipping rule (orders never imports live).
        stream_rules_register(stream_shipping_rules)
        metrics.register(live_state)
        # Product events to a show's room carry its carousel card (no page fetch per viewer).
        room_product_extra_register(product_card)
        eraser_register(chat_erase)  # account deletion: chat lines signed 탈퇴한 회원
