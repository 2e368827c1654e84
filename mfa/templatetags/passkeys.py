from __future__ import annotations

from django import template
from django.db import connection
from django_tenants.utils import get_public_schema_name

register = template.Library()


@register.simple_tag
def passkey_sign_in_offered() -> bool:
    """Whether the sign-in page offers "Sign in with a passkey" (the tenant's MFA policy, as
    the sign-in reads it: kept per process, mfa.selectors.tenant_mfa, so the sign-in page
    pays no query for it). The ceremonies themselves check the policy again."""
    if connection.schema_name == get_public_schema_name():
        return False
    from mfa.selectors import tenant_mfa

    policy = tenant_mfa().policy
    return policy.passkey_allowed and not policy.is_off
