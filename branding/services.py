from __future__ import annotations

import hashlib
import logging
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.forms.models import model_to_dict
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import audit_record
from branding.custom_css import css_clean
from branding.images import SLOTS, Slot, image_clean
from branding.models import AppBranding, Branding
from branding.selectors import (
    branding_contrast_failures,
    branding_draft_get,
    published_branding_invalidate,
)
from branding.theme import css_hash, theme_css

logger = logging.getLogger(__name__)

# What a console admin edits on the draft; the images have their own services.
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
    "forgot_password_label",
    "sign_up_label",
    "sign_in_button_label",
    "layout",
    "show_sign_up",
    "custom_css",
)
IMAGE_FIELDS = tuple(f"{slot.field}_name" for slot in SLOTS.values())
# text_overrides: the draft's texts per language (branding/languages.py).
_SNAPSHOT_FIELDS = (*DRAFT_FIELDS, *IMAGE_FIELDS, "text_overrides")
_COPIED_ON_PUBLISH = (*_SNAPSHOT_FIELDS, "logo_width", "logo_height")
APP_COLOUR_FIELDS = (
    "background_color",
    "header_color",
    "primary_color",
    "accent_color",
    "text_color",
)
_APP_SNAPSHOT_FIELDS = (*APP_COLOUR_FIELDS, "logo_name")

# How long a replaced theme stylesheet is still served (a page loaded before the publish,
# a cached page of a proxy), and how many of them at most.
RETIRED_THEME_DAYS = 7
RETIRED_THEME_COUNT = 5


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


def _contrast_error(failures) -> ValidationError:
    """Every failing pair, next to the field to change."""
    errors: dict[str, list[str]] = {}
    for failure in failures:
        errors.setdefault(failure.field, []).append(
            _("%(pair)s: contrast %(ratio)s:1, needs %(required)s:1.")
            % {"pair": failure.pair, "ratio": failure.ratio, "required": failure.required}
        )
    return ValidationError(errors)


def _locked_draft() -> Branding:
    draft = Branding.objects.select_for_update().filter(state=Branding.State.DRAFT).first()
    return draft or branding_draft_get()


def _css_or_errors(source: str) -> str:
    result = css_clean(source)
    if result.refusals:
        raise ValidationError({"custom_css": [str(refusal) for refusal in result.refusals]})
    return result.css


@transaction.atomic
def branding_draft_update(*, actor, request=None, **changes) -> Branding:
    """Change the draft. Hosted pages do not see it until it is published. Custom CSS is
    stored as branding.custom_css re-serialised it, and refused whole while any rule is."""
    draft = _locked_draft()
    before = _snapshot(draft) if draft.pk else {}
    for name, value in changes.items():
        if name not in DRAFT_FIELDS:
            raise ValueError(name)
        if name == "custom_css":
            value = _css_or_errors(value or "")
        setattr(draft, name, value)
    draft.full_clean()
    draft.save()
    _audit(actor, "branding.draft_update", before, _snapshot(draft), request)
    return draft


def image_store(data: bytes, slot: Slot) -> tuple[str, int, int]:
    """Check and clean an image for `slot`, store it under a name made of its content hash
    (so its URL can be cached for ever) in this tenant's folder. Returns name, width,
    height."""
    clean = image_clean(data, slot)
    digest = hashlib.sha256(clean.content).hexdigest()[:32]
    name = f"branding/{connection.schema_name}/{slot.name}-{digest}.{clean.extension}"
    if not default_storage.exists(name):
        saved = default_storage.save(name, ContentFile(clean.content))
        if saved != name:  # another request stored the same bytes meanwhile
            default_storage.delete(saved)
    return name, clean.width, clean.height


@transaction.atomic
def branding_image_upload(*, actor, slot: str, data: bytes, request=None) -> Branding:
    """Put an image (branding.images.SLOTS) on the draft."""
    image_slot = SLOTS[slot]
    name, width, height = image_store(data, image_slot)
    draft = _locked_draft()
    before = _snapshot(draft) if draft.pk else {}
    setattr(draft, f"{image_slot.field}_name", name)
    if image_slot.field == "logo":
        draft.logo_width, draft.logo_height = width, height
    draft.save()
    _audit(actor, f"branding.{image_slot.field}_upload", before, _snapshot(draft), request)
    forget_files_unused(before.values())
    return draft


@transaction.atomic
def branding_image_remove(*, actor, slot: str, request=None) -> Branding:
    image_slot = SLOTS[slot]
    draft = _locked_draft()
    before = _snapshot(draft) if draft.pk else {}
    setattr(draft, f"{image_slot.field}_name", "")
    if image_slot.field == "logo":
        draft.logo_width, draft.logo_height = None, None
    draft.save()
    _audit(actor, f"branding.{image_slot.field}_remove", before, _snapshot(draft), request)
    forget_files_unused(before.values())
    return draft


def branding_logo_upload(*, actor, data: bytes, request=None) -> Branding:
    """The banner logo: checked by its bytes, re-encoded without metadata."""
    return branding_image_upload(actor=actor, slot="logo", data=data, request=request)


def branding_logo_remove(*, actor, request=None) -> Branding:
    return branding_image_remove(actor=actor, slot="logo", request=request)


@transaction.atomic
def branding_publish(*, actor, request=None) -> Branding:
    """The draft becomes what every hosted page shows. Refused while a pair of its colours
    is below WCAG AA contrast: a sign-in page people cannot read is not published. The
    stylesheet it replaces stays served for RETIRED_THEME_DAYS."""
    draft = _locked_draft()
    failures = branding_contrast_failures(draft)
    if failures:
        raise _contrast_error(failures)
    if not draft.pk:
        draft.save()
    published = Branding.objects.select_for_update().filter(state=Branding.State.PUBLISHED).first()
    before = _snapshot(published)
    now = timezone.now()
    retired = []
    if published is None:
        published = Branding(state=Branding.State.PUBLISHED)
    else:
        old_css = theme_css(published)
        retired = [
            theme
            for theme in published.retired_themes
            if theme.get("until", "") > now.isoformat() and theme.get("hash") != css_hash(old_css)
        ]
        retired.insert(
            0,
            {
                "hash": css_hash(old_css),
                "css": old_css,
                "until": (now + timedelta(days=RETIRED_THEME_DAYS)).isoformat(),
            },
        )
    for name in _COPIED_ON_PUBLISH:
        setattr(published, name, getattr(draft, name))
    new_hash = css_hash(theme_css(published))
    published.retired_themes = [theme for theme in retired if theme["hash"] != new_hash][
        :RETIRED_THEME_COUNT
    ]
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
    forget_files_unused(before.values())
    return published


@transaction.atomic
def branding_reset(*, actor, request=None, include_apps: bool = False) -> None:
    """Back to the product's look: the draft and the published branding are removed, and
    the images no app branding uses any more. With `include_apps`, every app's own branding
    too (each removal audited as in the per-app editor); else the apps keep theirs, over
    the product's look."""
    apps_removed = []
    if include_apps:
        for app_branding in AppBranding.objects.select_related("application").order_by("pk"):
            app_branding_remove(actor=actor, application=app_branding.application, request=request)
            apps_removed.append(app_branding.application.name)
    rows = list(Branding.objects.select_for_update())
    if not rows and not apps_removed:
        return
    before = {row.state: _snapshot(row) for row in rows}
    if apps_removed:
        before["apps"] = apps_removed
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
    forget_files_unused(
        name for row in before.values() if isinstance(row, dict) for name in row.values()
    )


# Per-app branding


@transaction.atomic
def app_branding_update(
    *, actor, application, request=None, logo: bytes | None = None, remove_logo=False, **colours
) -> AppBranding:
    """An app's own colours and logo over the tenant's branding. Takes effect at once on
    the pages of that app's sign-ins; refused while its colours with the tenant's fail WCAG
    AA contrast."""
    from branding.selectors import app_branding_merged

    app_branding = AppBranding.objects.select_for_update().filter(
        application=application
    ).first() or AppBranding(application=application)
    before = model_to_dict(app_branding, fields=_APP_SNAPSHOT_FIELDS) if app_branding.pk else {}
    for name, value in colours.items():
        if name not in APP_COLOUR_FIELDS:
            raise ValueError(name)
        setattr(app_branding, name, value or "")
    if logo is not None:
        name, width, height = image_store(logo, SLOTS["logo"])
        app_branding.logo_name, app_branding.logo_width, app_branding.logo_height = (
            name,
            width,
            height,
        )
    elif remove_logo:
        app_branding.logo_name, app_branding.logo_width, app_branding.logo_height = "", None, None
    app_branding.full_clean(exclude=["application"])
    failures = branding_contrast_failures(app_branding_merged(app_branding))
    if failures:
        raise _contrast_error(failures)
    app_branding.save()
    after = model_to_dict(app_branding, fields=_APP_SNAPSHOT_FIELDS)
    if before != after:
        audit_record(
            actor=actor,
            action="branding.app_update",
            target=application,
            target_label=f"branding of {application.name}"[:254],
            before={key: value for key, value in before.items() if after.get(key) != value},
            after={key: value for key, value in after.items() if before.get(key) != value},
            request=request,
        )
    published_branding_invalidate()
    forget_files_unused([before.get("logo_name", "")])
    return app_branding


@transaction.atomic
def app_branding_remove(*, actor, application, request=None) -> None:
    app_branding = AppBranding.objects.select_for_update().filter(application=application).first()
    if app_branding is None:
        return
    before = model_to_dict(app_branding, fields=_APP_SNAPSHOT_FIELDS)
    app_branding.delete()
    audit_record(
        actor=actor,
        action="branding.app_remove",
        target=application,
        target_label=f"branding of {application.name}"[:254],
        before=before,
        after=None,
        request=request,
    )
    published_branding_invalidate()
    forget_files_unused([before["logo_name"]])


# Files


def _files_in_use() -> set[str]:
    names = set()
    for row in Branding.objects.values_list(*IMAGE_FIELDS):
        names.update(row)
    names.update(AppBranding.objects.values_list("logo_name", flat=True))
    return {name for name in names if name}


def forget_files_unused(candidates) -> None:
    """Delete, once the change commits, the stored images among `candidates` that no
    branding (draft, published, an app's) names any more."""
    prefix = f"branding/{connection.schema_name}/"
    names = {name for name in candidates if isinstance(name, str) and name.startswith(prefix)}
    if not names:
        return
    schema = connection.schema_name

    def delete():
        from django_tenants.utils import schema_context

        with schema_context(schema):
            unused = names - _files_in_use()
        for name in unused:
            try:
                default_storage.delete(name)
            except OSError as error:
                logger.warning("branding.file_delete_failed error=%s", type(error).__name__)

    transaction.on_commit(delete)


def branding_files_delete_for_schema(schema_name: str) -> int:
    """Every stored image of a tenant whose schema is gone (tenant deletion)."""
    folder = f"branding/{schema_name}"
    try:
        _folders, files = default_storage.listdir(folder)
    except (FileNotFoundError, NotImplementedError, OSError):
        return 0
    for filename in files:
        default_storage.delete(f"{folder}/{filename}")
    return len(files)


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
