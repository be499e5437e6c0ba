"""ORM queries compiled once per process, for the few reads every page view runs.

Building a queryset and compiling it to SQL costs far more CPU than running it: the product
page's variant read (options with the overdue units of their lines, through a prefetch) took
≈ 7.9 ms of CPU in-process, the same SQL sent with a cursor ≈ 0.3 ms (docs/performance.md,
Round 3). A `Statement` keeps the ORM as the one definition of the query: `build` returns the
queryset for the given parameter values; it is built and compiled once, with marker values
(each named parameter gets a distinct marker), and each call binds the call's values where the
markers were. The rows become model instances the way the ORM makes them (`Model.from_db`,
each field's `from_db_value`), with the queryset's annotations set as attributes; with
`tuples=True` (a `values_list` queryset) the rows come back as tuples.

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
    the query and returns model instances with the queryset's annotations as attributes, or
    tuples with `tuples=True` (a `values_list` queryset).

    Only the compile step goes below the QuerySet API (`query.get_compiler(...).as_sql()`, the
    compiler interface custom expressions and lookups are written against); the row's shape is
    read from the cursor's description (DB-API): the model's columns in field order, then the
    annotations by their aliases."""

    def __init__(self, build: Callable[..., QuerySet], *, tuples: bool = False, **kinds: str):
        self.build = build
        self.tuples = tuples
        self.kinds = kinds
        self._prepared: tuple | None = None
        self._annotations: list[str] | None = None

    def _prepare(self) -> tuple:
        markers = {name: _marker(kind) for name, kind in self.kinds.items()}
        queryset = self.build(**markers)
        alias = queryset.db
        sql, params = queryset.query.get_compiler(using=alias).as_sql()
        by_marker = {value: name for name, value in markers.items()}
        slots = [by_marker.get(param) for param in params]
        missing = set(markers) - set(filter(None, slots))
        if missing:
            raise ValueError(f"parameters not in the compiled SQL: {sorted(missing)}")
        model = queryset.model
        fields = list(model._meta.concrete_fields)
        return alias, sql, list(params), slots, model, fields

    def _shape(self, description, fields) -> list[str]:
        """The annotation aliases after the model's columns; refuses any other row."""
        names = [column[0] for column in description]
        own = [field.column for field in fields]
        extra = names[len(own) :]
        taken = set(own) | {field.attname for field in fields}
        if names[: len(own)] != own or len(set(extra)) != len(extra) or taken & set(extra):
            raise ValueError("a Statement reads whole rows of its model (or tuples=True)")
        return extra

    def __call__(self, **values) -> list:
        if self._prepared is None:
            self._prepared = self._prepare()
        alias, sql, params, slots, model, fields = self._prepared
        bound = [values[slot] if slot else param for slot, param in zip(slots, params, strict=True)]
        connection = connections[alias]
        with connection.cursor() as cursor:
            cursor.execute(sql, bound)
            rows = cursor.fetchall()
            if not self.tuples and self._annotations is None:
                self._annotations = self._shape(cursor.description, fields)
        if self.tuples:
            return rows
        annotations = self._annotations or []
        names = [field.attname for field in fields]
        hooks = [getattr(field, "from_db_value", None) for field in fields]
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
