"""ORM queries compiled once per process, for the few reads every page view runs.

Building a queryset and compiling it to SQL costs far more CPU than running it: the product
page's variant read (options with the overdue units of their lines, through a prefetch) took
≈ 7.9 ms of CPU in-process, the same SQL sent with a cursor ≈ 0.3 ms (docs/performance.md,
Round 3). A `Statement` keeps the ORM as the one definition of the query: `build` returns the
queryset for the given parameter values; it is built and compiled once, with marker values
(each named parameter gets a distinct marker), and each call binds the call's values where the
markers were. The rows become model instances the way the ORM makes them (`Model.from_db`,
each field's `from_db_value`), with the queryset's annotations set as attributes; a
`values_list` queryset gives its rows as tuples.

The markers must reach the SQL parameters unchanged: ints, strs and aware datetimes do (the query's
own constants, e.g. a status, stay as compiled). A marker that would not — a query that
transforms or folds the value — is refused when the statement is prepared, not silently
mis-bound.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable
from typing import Any

from django.db import connections
from django.db.models import QuerySet

_markers = itertools.count(1)


def _marker(kind: str) -> Any:
    """A value no real query passes: negative ids, control characters, instants in year 1."""
    n = next(_markers)
    if kind == "int":
        return -(10**12) - n
    if kind == "str":
        return f"\x1fstatement-marker-{n}\x1f"
    if kind == "datetime":
        base = dt.datetime(1, 1, 2, tzinfo=dt.UTC)
        return base + dt.timedelta(microseconds=n)
    raise ValueError(f"unsupported parameter kind {kind!r}")


class Statement:
    """`Statement(build, user_id="int", now="datetime")`; `statement(user_id=…, now=…)` runs
    the query and returns instances (a model queryset) or tuples (`values_list`)."""

    def __init__(self, build: Callable[..., QuerySet], **kinds: str):
        self.build = build
        self.kinds = kinds
        self._prepared: tuple | None = None

    def _prepare(self) -> tuple:
        markers = {name: _marker(kind) for name, kind in self.kinds.items()}
        queryset = self.build(**markers)
        query = queryset.query
        alias = queryset.db
        sql, params = query.get_compiler(using=alias).as_sql()
        by_marker = {value: name for name, value in markers.items()}
        slots = [by_marker.get(param) for param in params]
        missing = set(markers) - set(filter(None, slots))
        if missing:
            raise ValueError(f"parameters not in the compiled SQL: {sorted(missing)}")
        if query.values_select:
            maker = None
        elif query.default_cols and not (
            query.select_related or query.extra_select or query.deferred_loading[0]
        ):
            model = queryset.model
            fields = list(model._meta.concrete_fields)
            maker = (
                model,
                [field.attname for field in fields],
                [getattr(field, "from_db_value", None) for field in fields],
                list(query.annotation_select),
            )
        else:
            raise ValueError("a Statement reads whole rows of its model or a values_list")
        return alias, sql, list(params), slots, maker

    def __call__(self, **values) -> list:
        if self._prepared is None:
            self._prepared = self._prepare()
        alias, sql, params, slots, maker = self._prepared
        bound = [values[slot] if slot else param for slot, param in zip(slots, params, strict=True)]
        connection = connections[alias]
        with connection.cursor() as cursor:
            cursor.execute(sql, bound)
            rows = cursor.fetchall()
        if maker is None:
            return rows
        model, names, hooks, annotations = maker
        width = len(names)
        result = []
        for row in rows:
            instance = model.from_db(
                alias,
                names,
                [
                    hook(value, None, connection) if hook is not None else value
                    for hook, value in zip(hooks, row[:width], strict=True)
                ],
            )
            for name, value in zip(annotations, row[width:], strict=True):
                setattr(instance, name, value)
            result.append(instance)
        return result
