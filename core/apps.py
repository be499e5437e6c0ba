from django.apps import AppConfig


class CoreConfig(AppConfig):
    """The ground floor every app may import: the seller's settings (SystemConfig), notices, the
    audit log, the audited admin base and the service error base. It imports no other app."""

    name = "core"
    verbose_name = "운영"
