from __future__ import annotations

from allauth.account.auth_backends import AuthenticationBackend
from django.contrib.auth import get_user_model


class EmailBackend(AuthenticationBackend):
    """The only authentication backend: one user lookup by email (case-insensitive, as the
    unique constraint), one password hash per attempt, also for unknown emails (so timing does
    not tell them apart). Django's ModelBackend is not listed because it would hash a wrong
    password a second time."""

    def _authenticate_by_email(self, email: str, password: str):
        User = get_user_model()
        # A plain SELECT that uses the unique index on LOWER(email) (the ORM's iexact compares
        # UPPER() and so reads the whole table; its query building also cost more than the
        # query).
        found = list(
            User._default_manager.raw(
                f"SELECT * FROM {User._meta.db_table} WHERE LOWER(email) = LOWER(%s) LIMIT 1",
                [email.strip()],
            )
        )
        return self._check_password(found[0] if found else None, password)

    def _authenticate_by_username(self, username: str, password: str):
        return None

    def get_user(self, user_id):
        """The signed-in user of a session, read on every signed-in request: one plain
        SELECT (the ORM's query building cost more than the query)."""
        try:
            pk = int(user_id)
        except (TypeError, ValueError):
            return None
        User = get_user_model()
        found = list(
            User._default_manager.raw(f"SELECT * FROM {User._meta.db_table} WHERE id = %s", [pk])
        )
        user = found[0] if found else None
        return user if user is not None and self.user_can_authenticate(user) else None
