from __future__ import annotations

import hashlib

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.forms.models import model_to_dict
from django.utils.translation import gettext as _

from audit.services import audit_record
from branding.images import logo_clean
from branding.models import Branding
from branding.selectors import (
    branding_contrast_failures,
    branding_draft_get,
    published_branding_invalidate,
)

# What a console admin edits on the draft; the logo has its own service.
DRAFT_FIELDS = (
    "background_color",
    "header_color",
    "primary_color",
    "accent_color",
    "text_color",
    "sign_in_text",
    "username_hint",
    "privacy_url",
    "privacy_label",
    "terms_url",
    "terms_label",
    "help_url",
    "help_label",
    "layout",
    "show_sign_up",
)
_SNAPSHOT_FIELDS = (*DRAFT_FIELDS, "logo_name", "text_overrides")


def _snapshot(branding: Branding | None) -> dict:
    if branding is None:
        return {}
    return model_to_dict(branding, fields=_SNAPSHOT_FIELDS)


def _changes(before: dict, after: dict) -> tuple[dict, dict]:
    names = [name for name in _SNAPSHOT_FIELDS if before.get(name) != after.get(name)]
    return (
        {name: before[name] for name in names if name in before},
        {name: after[name] for name in names if name in after},
    )


def _locked_draft() -> Branding:
    draft = Branding.objects.select_for_update().filter(state=Branding.State.DRAFT).first()
    return draft or branding_draft_get()


@transaction.atomic
def branding_draft_update(*, actor, request=None, **changes) -> Branding:
    """Change the draft. Hosted pages do not see it until it is published."""
    draft = _locked_draft()
    before = _snapshot(draft) if draft.pk else {}
    for name, value in changes.items():
        if name not in DRAFT_FIELDS:
            raise ValueError(name)
        setattr(draft, name, value)
    draft.full_clean()
    draft.save()
    _audit(actor, "branding.draft_update", before, _snapshot(draft), request)
    return draft


@transaction.atomic
def branding_logo_upload(*, actor, data: bytes, request=None) -> Branding:
    """Put a banner logo on the draft: checked by its bytes, re-encoded without metadata,
    stored under a name made of its content hash (so its URL can be cached for ever)."""
    content, extension, width, height = logo_clean(data)
    digest = hashlib.sha256(content).hexdigest()[:32]
    name = f"branding/{connection.schema_name}/logo-{digest}.{extension}"
    if not default_storage.exists(name):
        saved = default_storage.save(name, ContentFile(content))
        if saved != name:  # another request stored the same bytes meanwhile
            default_storage.delete(saved)
    draft = _locked_draft()
    before = _snapshot(draft) if draft.pk else {}
    draft.logo_name, draft.logo_width, draft.logo_height = name, width, height
    draft.save()
    _audit(actor, "branding.logo_upload", before, _snapshot(draft), request)
    return draft


@transaction.atomic
def branding_logo_remove(*, actor, request=None) -> Branding:
    draft = _locked_draft()
    before = _snapshot(draft) if draft.pk else {}
    draft.logo_name, draft.logo_width, draft.logo_height = "", None, None
    draft.save()
    _audit(actor, "branding.logo_remove", before, _snapshot(draft), request)
    return draft


@transaction.atomic
def branding_publish(*, actor, request=None) -> Branding:
    """The draft becomes what every hosted page shows. Refused while a pair of its colours
    is below WCAG AA contrast: a sign-in page people cannot read is not published."""
    draft = _locked_draft()
    failures = branding_contrast_failures(draft)
    if failures:
        raise ValidationError(
            {
                failure.field: _("%(pair)s: contrast %(ratio)s:1, needs %(required)s:1.")
                % {"pair": failure.pair, "ratio": failure.ratio, "required": failure.required}
                for failure in failures
            }
        )
    if not draft.pk:
        draft.save()
    published = Branding.objects.select_for_update().filter(state=Branding.State.PUBLISHED).first()
    before = _snapshot(published)
    if published is None:
        published = Branding(state=Branding.State.PUBLISHED)
    for name in (*_SNAPSHOT_FIELDS, "logo_width", "logo_height"):
        setattr(published, name, getattr(draft, name))
    published.save()
    audit_record(
        actor=actor,
        action="branding.publish",
        target=published,
        target_label="branding",
        before=before or None,
        after=_snapshot(published),
        request=request,
    )
    published_branding_invalidate()
    return published


@transaction.atomic
def branding_reset(*, actor, request=None) -> None:
    """Back to the product's look: the draft and the published branding are removed."""
    rows = list(Branding.objects.select_for_update())
    if not rows:
        return
    before = {row.state: _snapshot(row) for row in rows}
    Branding.objects.all().delete()
    audit_record(
        actor=actor,
        action="branding.reset",
        target_type="branding.branding",
        target_label="branding",
        before=before,
        after=None,
        request=request,
    )
    published_branding_invalidate()


def _audit(actor, action: str, before: dict, after: dict, request) -> None:
    changed_before, changed_after = _changes(before, after)
    if not changed_after and not changed_before:
        return
    audit_record(
        actor=actor,
        action=action,
        target_type="branding.branding",
        target_label="branding (draft)",
        before=changed_before,
        after=changed_after,
        request=request,
    )
