from django.apps import AppConfig


class LiveConfig(AppConfig):
    name = "live"
    verbose_name = "라이브"

    def ready(self):
        from dorami import metrics
        from live.metrics import live_state

        metrics.register(live_state)
