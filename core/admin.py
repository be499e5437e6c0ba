"""The audited admin base every app's admin inherits (no models are registered here).

`AuditedModelAdmin` is the one way admin writes get audited: inherit it in any app's admin and
every add/change/delete through that admin (forms, list_editable, the bulk delete action)
records an `AuditLog` row with before/after JSON in the same transaction as the write.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib import admin
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.http import HttpRequest

from core.services import audit_log_record
from dorami.templatetags.money import usd


def money_column(field: str, description):
    """An admin column (list or read-only field) showing a Decimal field as "$1,234.50"."""

    @admin.display(description=description, ordering=field)
    def column(model_admin, obj) -> str:
        return usd(getattr(obj, field)) or "-"

    return column


def audit_snapshot(obj: models.Model, *, exclude: tuple[str, ...] = ()) -> dict[str, Any]:
    """The concrete field values of `obj` as JSON-safe data (FKs as ids, Decimals as text)."""
    data = {}
    for field in obj._meta.concrete_fields:
        if field.name in exclude or field.attname in exclude:
            continue
        value = field.value_from_object(obj)
        if isinstance(value, models.fields.files.FieldFile):
            value = value.name or ""
        data[field.attname if field.is_relation else field.name] = value
    return json.loads(json.dumps(data, cls=AuditJSONEncoder))


class AuditJSONEncoder(DjangoJSONEncoder):
    """Django's encoder, and the text of anything else (time zones, ...)."""

    def default(self, o):
        try:
            return super().default(o)
        except TypeError:
            return str(o)


class AuditedModelAdmin(admin.ModelAdmin):
    """A ModelAdmin whose every write leaves an AuditLog row (actor, action, before/after).

    - add: action ``admin.create``, ``after`` = all fields;
    - change: action ``admin.update``, ``before``/``after`` = only the fields that changed
      (``auto_now`` timestamps left out);
    - delete (single or bulk): action ``admin.delete``, ``before`` = all fields;
    - many-to-many fields of the form (groups, permissions): their own ``admin.update`` row
      with the ids before/after, when they changed.

    List secrets in ``audit_exclude_fields`` (``password`` is always left out). Inline formsets
    are not audited here; neither are custom admin actions: when those call services, the
    services audit (``audit_log_record``) with the request's user as actor.
    """

    audit_exclude_fields: tuple[str, ...] = ()

    def _audit_exclude(self) -> tuple[str, ...]:
        return ("password", *self.audit_exclude_fields)

    def _audit_stored(self, obj: models.Model) -> dict[str, Any]:
        stored = type(obj)._default_manager.filter(pk=obj.pk).first()
        return audit_snapshot(stored, exclude=self._audit_exclude()) if stored else {}

    def save_model(self, request: HttpRequest, obj, form, change: bool) -> None:
        with transaction.atomic():
            before = self._audit_stored(obj) if change and obj.pk is not None else {}
            super().save_model(request, obj, form, change)
            after = audit_snapshot(obj, exclude=self._audit_exclude())
            if change:
                stamps = {f.name for f in obj._meta.concrete_fields if getattr(f, "auto_now", 0)}
                changed = sorted(k for k in after if k not in stamps and before.get(k) != after[k])
                before = {k: before.get(k) for k in changed}
                after = {k: after[k] for k in changed}
            audit_log_record(
                actor=request.user,
                action="admin.update" if change else "admin.create",
                obj=obj,
                before=before if change else None,
                after=after,
            )

    def save_related(self, request: HttpRequest, form, formsets, change: bool) -> None:
        """Many-to-many fields of the form (a user's groups and permissions, ...) are saved
        here, after `save_model`: their changes get their own ``admin.update`` row."""
        obj = form.instance
        names = [f.name for f in obj._meta.many_to_many if f.name in form.cleaned_data]
        before = self._audit_relations(obj, names) if change else {name: [] for name in names}
        super().save_related(request, form, formsets, change)
        after = self._audit_relations(obj, names)
        changed = sorted(name for name in names if before[name] != after[name])
        if changed:
            audit_log_record(
                actor=request.user,
                action="admin.update",
                obj=obj,
                before={name: before[name] for name in changed},
                after={name: after[name] for name in changed},
            )

    @staticmethod
    def _audit_relations(obj: models.Model, names: list[str]) -> dict[str, list]:
        return {
            name: sorted(str(pk) for pk in getattr(obj, name).values_list("pk", flat=True))
            for name in names
        }

    def _audit_delete(self, request: HttpRequest, obj) -> None:
        audit_log_record(
            actor=request.user,
            action="admin.delete",
            obj=obj,
            before=audit_snapshot(obj, exclude=self._audit_exclude()),
        )

    def delete_model(self, request: HttpRequest, obj) -> None:
        with transaction.atomic():
            self._audit_delete(request, obj)
            super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset) -> None:
        with transaction.atomic():
            for obj in queryset:
                self._audit_delete(request, obj)
            super().delete_queryset(request, queryset)
