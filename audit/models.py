from __future__ import annotations

import uuid

from django.db import models


class AuditEvent(models.Model):
    """An append-only record of one admin change: who, what, on what, before and after.

    Lives in the tenant schema for tenant admin changes and in the public schema
    for platform operator actions. Actor and target are stored as text too, so the
    row still reads right after the user or object is gone.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    occurred_at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor_id = models.UUIDField(null=True, blank=True)
    actor_label = models.CharField(max_length=254, blank=True)
    action = models.CharField(max_length=80, db_index=True)
    target_type = models.CharField(max_length=80, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    target_label = models.CharField(max_length=254, blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    request_id = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]

    def __str__(self) -> str:
        return f"{self.action} {self.target_label}"

    @property
    def changes(self) -> list[tuple[str, str | None, str | None]]:
        """Each recorded field with its value before and after, as text for people (None
        where the event has no value: a creation has no before)."""
        before = self.before if isinstance(self.before, dict) else {}
        after = self.after if isinstance(self.after, dict) else {}
        if not isinstance(self.before, dict | None) or not isinstance(self.after, dict | None):
            return [("", _as_text(self.before), _as_text(self.after))]
        fields = dict.fromkeys([*before, *after])
        return [
            (
                field,
                _as_text(before[field]) if field in before else None,
                _as_text(after[field]) if field in after else None,
            )
            for field in fields
        ]


def _as_text(value) -> str | None:
    if value is None:
        return None
    if value is True or value is False:
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(str(_as_text(item)) for item in value) or "—"
    if isinstance(value, dict):
        return ", ".join(f"{key} = {_as_text(item)}" for key, item in value.items()) or "—"
    text = str(value)
    return ", ".join(line.strip() for line in text.splitlines() if line.strip()) if text else "—"
