"""Authentication backends: Django's and allauth's, with a cheaper `get_user`.

`get_user` runs on every request of a logged-in shopper (AuthenticationMiddleware resolves
`request.user` from the session). Django's `ModelBackend.get_user` is an ORM `get(pk=…)`: the
query is built and compiled anew each time, about a third of a cart add's CPU in a flash sale
(docs/performance.md). Here the statement is built once per process from the model's concrete
fields and the row becomes a `User` through `Model.from_db`, as the ORM itself does; fields
with a `from_db_value` hook get it applied. The answer is the same user (or None), and
`user_can_authenticate` is checked as before.

Sessions store the dotted path of the backend that logged them in, so these classes keep the
names of the ones they replace under `accounts.backends`, and sessions made before carry the
old paths: `session_backend_renamed` moves them onto these (`RENAMED`) before the user is
looked up — `accounts.middleware.SlidingSessionMiddleware` for pages, the websocket auth
stack (`dorami/routing.py`) for sockets — so nobody is logged out.
"""

from __future__ import annotations

from allauth.account.auth_backends import AuthenticationBackend as AllauthBackend
from django.contrib.auth import BACKEND_SESSION_KEY, get_user_model
from django.contrib.auth.backends import ModelBackend as DjangoModelBackend
from django.db import connections, router

# Backend paths stored in older sessions → the path of the class that replaces it.
RENAMED = {
    "django.contrib.auth.backends.ModelBackend": "accounts.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend": (
        "accounts.backends.AuthenticationBackend"
    ),
}


def session_backend_renamed(session) -> None:
    """Move a session that names a replaced backend onto its replacement (saved with the
    response, once per session; Django accepts only paths in AUTHENTICATION_BACKENDS)."""
    renamed = RENAMED.get(session.get(BACKEND_SESSION_KEY))
    if renamed is not None:
        session[BACKEND_SESSION_KEY] = renamed


class _UserRow:
    """The one statement that reads a user by primary key, and how its row becomes a User."""

    def __init__(self):
        model = get_user_model()
        self.model = model
        self.fields = [field for field in model._meta.concrete_fields]
        self.attnames = [field.attname for field in self.fields]
        self.hooks = [getattr(field, "from_db_value", None) for field in self.fields]
        self.pk_field = model._meta.pk

    def statement(self, connection) -> str:
        quote = connection.ops.quote_name
        columns = ", ".join(quote(field.column) for field in self.fields)
        # Only quoted names from the model's own definition; the id is a parameter.
        table, pk = quote(self.model._meta.db_table), quote(self.pk_field.column)
        return f"SELECT {columns} FROM {table} WHERE {pk} = %s"  # noqa: S608

    def get(self, user_id):
        try:
            pk = self.pk_field.to_python(user_id)
        except Exception:  # a session holding garbage is simply not a user
            return None
        alias = router.db_for_read(self.model)
        connection = connections[alias]
        with connection.cursor() as cursor:
            cursor.execute(self._statements(connection), [pk])
            row = cursor.fetchone()
        if row is None:
            return None
        values = [
            hook(value, None, connection) if hook is not None else value
            for hook, value in zip(self.hooks, row, strict=True)
        ]
        return self.model.from_db(alias, self.attnames, values)

    def _statements(self, connection) -> str:
        cache = self.__dict__.setdefault("_by_alias", {})
        sql = cache.get(connection.alias)
        if sql is None:
            sql = cache[connection.alias] = self.statement(connection)
        return sql


class _CheapGetUser:
    def get_user(self, user_id):
        user = _user_row().get(user_id)
        return user if user is not None and self.user_can_authenticate(user) else None


_row_reader: _UserRow | None = None


def _user_row() -> _UserRow:
    global _row_reader
    if _row_reader is None:
        _row_reader = _UserRow()
    return _row_reader


class ModelBackend(_CheapGetUser, DjangoModelBackend):
    """Django's ModelBackend; `get_user` in one prebuilt statement."""


class AuthenticationBackend(_CheapGetUser, AllauthBackend):
    """allauth's backend (allauth picks it for its logins); `get_user` in one prebuilt
    statement."""
