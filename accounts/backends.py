from __future__ import annotations

from allauth.account.auth_backends import AuthenticationBackend
from django.contrib.auth import get_user_model


class EmailBackend(AuthenticationBackend):
    """The only authentication backend: one user lookup by email (case-insensitive, as the
    unique constraint), one password hash per attempt, also for unknown emails (so timing does
    not tell them apart). Django's ModelBackend is not listed because it would hash a wrong
    password a second time."""

    def _authenticate_by_email(self, email: str, password: str):
        user = get_user_model().objects.filter(email__iexact=email.strip()).first()
        return self._check_password(user, password)

    def _authenticate_by_username(self, username: str, password: str):
        return None
