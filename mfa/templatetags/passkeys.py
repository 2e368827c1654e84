from __future__ import annotations

from django import template
from django.db import connection
from django_tenants.utils import get_public_schema_name

register = template.Library()


@register.simple_tag
def passkey_sign_in_offered() -> bool:
    """Whether the sign-in page offers "Sign in with a passkey" (the tenant's MFA policy)."""
    from mfa.passkeys import passkeys_allowed

    return connection.schema_name != get_public_schema_name() and passkeys_allowed()
