"""Tenant API keys for /api/v1/invitations."""

from __future__ import annotations

import secrets

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import audit_record
from ciam.crypto import keyed_hash
from guests.models import (
    ApiKey,
)


def api_key_hash(key: str) -> str:
    return keyed_hash(key, purpose=None)


@transaction.atomic
def api_key_create(*, actor, name: str, request=None) -> tuple[ApiKey, str]:
    """A new API key; the key itself is returned once and never stored."""
    name = name.strip()
    if not name:
        raise ValidationError({"name": [_("Name the key after the system that uses it.")]})
    key = "ciam_" + secrets.token_urlsafe(32)
    api_key = ApiKey.objects.create(
        name=name[:100], prefix=key[:12], key_hash=api_key_hash(key), created_by=actor
    )
    audit_record(actor=actor, action="api_key.create", target=api_key, request=request)
    return api_key, key


@transaction.atomic
def api_key_revoke(*, api_key: ApiKey, actor, request=None) -> ApiKey:
    api_key.revoked_at = timezone.now()
    api_key.save(update_fields=["revoked_at"])
    audit_record(actor=actor, action="api_key.revoke", target=api_key, request=request)
    return api_key


def api_key_authenticate(key: str) -> ApiKey | None:
    if not key.startswith("ciam_") or len(key) > 100:
        return None
    api_key = ApiKey.objects.filter(key_hash=api_key_hash(key), revoked_at__isnull=True).first()
    if api_key is not None:
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=timezone.now())
    return api_key
