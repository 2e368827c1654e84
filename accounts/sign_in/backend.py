from __future__ import annotations

import functools

from allauth.account.auth_backends import AuthenticationBackend
from django.contrib.auth import get_user_model
from django.db import connection

from accounts.models import email_normalize


class EmailBackend(AuthenticationBackend):
    """The only authentication backend: one user lookup by email (case-insensitive, as the
    unique constraint), one password hash per attempt, also for unknown emails (so timing does
    not tell them apart). Django's ModelBackend is not listed because it would hash a wrong
    password a second time."""

    def _authenticate_by_email(self, email: str, password: str):
        # On the unique index on email (stored lower-cased, accounts.models.email_normalize).
        user = _user_where("email = %s", email_normalize(email))
        return self._check_password(user, password)

    def _authenticate_by_username(self, username: str, password: str):
        return None

    def get_user(self, user_id):
        """The signed-in user of a session, read on every signed-in request: one plain
        SELECT (the ORM's query building cost more than the query)."""
        try:
            pk = int(user_id)
        except (TypeError, ValueError):
            return None
        user = _user_where("id = %s", pk)
        return user if user is not None and self.user_can_authenticate(user) else None


def user_by_pk(pk):
    """The user with primary key `pk`, or None: one plain SELECT."""
    return _user_where("id = %s", int(pk))


def login_deserialize_install() -> None:
    """A sign-in stashed in the session between its steps (allauth's Login, resumed on each
    page of the MFA step) reads its user with one plain SELECT instead of allauth's queryset
    (`filter(pk=...).first()`, whose query building cost four times the query): every
    request of a sign-in with a second factor resumes it. The rest of allauth's
    deserialisation is kept; installed by accounts.apps."""
    from allauth.account.models import Login
    from allauth.account.utils import url_str_to_user_pk

    original = Login.deserialize.__func__
    if getattr(original, "ciam_installed", False):
        return

    @functools.wraps(original)
    def deserialize(cls, data):
        user_pk = data["user_pk"]
        login = original(cls, {**data, "user_pk": None})
        if user_pk is not None:
            login.user = user_by_pk(url_str_to_user_pk(user_pk))
        return login

    deserialize.ciam_installed = True
    Login.deserialize = classmethod(deserialize)


def _user_where(condition: str, value):
    """The user matching `condition` (one placeholder), read with one plain SELECT and built
    with Model.from_db: a fifth of the ORM's cost and half of a raw queryset's, on every
    sign-in and every signed-in request."""
    User = get_user_model()
    fields = User._meta.concrete_fields
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {columns} FROM {User._meta.db_table} WHERE {condition} LIMIT 1", [value]
        )
        row = cursor.fetchone()
    if row is None:
        return None
    values = [
        field.from_db_value(raw, None, connection) if hasattr(field, "from_db_value") else raw
        for field, raw in zip(fields, row, strict=True)
    ]
    return User.from_db(connection.alias, [field.attname for field in fields], values)
