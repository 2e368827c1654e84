from __future__ import annotations

import re

from django.conf import settings
from django.contrib.auth.password_validation import CommonPasswordValidator
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils.translation import gettext as _
from zxcvbn import zxcvbn

DEFAULT_MIN_LENGTH = 12
MAX_LENGTH = 1024  # far above any passphrase; bounds the hashing work an attacker can ask for
# zxcvbn's estimate is scored on the first 72 characters (its own limit; its matching work grows
# fast with length): a passphrase that long is strong unless those characters are weak.
STRENGTH_CHECKED_LENGTH = 72

_common = CommonPasswordValidator()


def _current_policy_min_length() -> int:
    """The minimum length of the tenant's user flow (the request's tenant: validators run
    inside the tenant's schema); the default on the platform host."""
    from accounts.selectors import user_flow_get

    if connection.schema_name == "public":
        return DEFAULT_MIN_LENGTH
    return user_flow_get().password_min_length or DEFAULT_MIN_LENGTH


class TenantPasswordPolicyValidator:
    """NIST 800-63B: length over composition, common and context passwords refused."""

    def __init__(self, min_length: int | None = None):
        self.min_length = min_length

    def validate(self, password: str, user=None) -> None:
        min_length = self.min_length or _current_policy_min_length()
        if len(password) < min_length:
            raise ValidationError(
                _("Use at least %(min)d characters. A few unrelated words make a strong one.")
                % {"min": min_length},
                code="password_too_short",
            )
        if len(password) > MAX_LENGTH:
            raise ValidationError(
                _("Use at most %(max)d characters.") % {"max": MAX_LENGTH},
                code="password_too_long",
            )
        try:
            _common.validate(password)
        except ValidationError:
            raise ValidationError(
                _("This password is too common. Choose one that is hard to guess."),
                code="password_too_common",
            ) from None
        context = _context_words(user)
        for word in context:
            if word in password.lower():
                raise ValidationError(
                    _(
                        "Your password must not contain your email address or the "
                        "organisation's name."
                    ),
                    code="password_contains_context",
                )
        # Offline, no outside service: zxcvbn's word lists come from breached password
        # corpora, and it sees l33t spellings, years, keyboard walks and repeats that the
        # common-password list misses (Welcome12345!, P@ssw0rd2024!).
        strength = zxcvbn(
            password[:STRENGTH_CHECKED_LENGTH],
            user_inputs=[*sorted(context), getattr(user, "email", "") or ""],
        )
        if strength["score"] < settings.PASSWORD_MIN_STRENGTH:
            raise ValidationError(
                _(
                    "This password is too easy to guess: it looks like passwords found in "
                    "breaches, or is made of common words, names, dates or patterns. A few "
                    "unrelated words make a strong one."
                ),
                code="password_too_guessable",
            )

    def get_help_text(self) -> str:
        return _("At least %(min)d characters; no common passwords.") % {
            "min": self.min_length or _current_policy_min_length()
        }


def _context_words(user) -> set[str]:
    words: set[str] = set()
    email = getattr(user, "email", "") or ""
    local = email.split("@")[0].lower()
    if len(local) >= 4:
        words.add(local)
    names = [getattr(user, "tenant_name", ""), getattr(user, "slug", "")]
    tenant = getattr(connection, "tenant", None)
    names += [getattr(tenant, "name", ""), getattr(tenant, "slug", "")]
    for name in names:
        for part in re.split(r"[^a-z0-9]+", (name or "").lower()):
            if len(part) >= 4:
                words.add(part)
    return words
