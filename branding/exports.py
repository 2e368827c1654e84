"""Export and import of a tenant's branding as JSON (Console > Branding): the draft, its texts
per language, its images inline as data: URLs, and the apps' own brandings matched by client
ID. An import is checked as the editor and the uploads check, and changes nothing unless all
of it passes."""

from __future__ import annotations

import base64
import binascii
import json
import logging
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils.translation import gettext as _

from audit.services import audit_record
from branding.images import CONTENT_TYPES, SLOTS
from branding.models import AppBranding, Branding
from branding.selectors import branding_draft_get
from branding.services import (
    APP_COLOUR_FIELDS,
    DRAFT_FIELDS,
    _changes,
    _css_or_errors,
    _locked_draft,
    _snapshot,
    app_branding_update,
    forget_files_unused,
    image_store,
)

logger = logging.getLogger(__name__)

EXPORT_FORMAT = "ciam-branding"
# The tenant's images take at most 0.8 MB as base64, an app's logo 0.14 MB.
EXPORT_MAX_BYTES = 10 * 1024 * 1024


@dataclass(frozen=True)
class BrandingImport:
    draft: Branding
    # The apps of the file whose branding was imported, by name.
    apps: list[str] = field(default_factory=list)
    # Those no app of this tenant has the client ID of: "name (client ID)".
    unknown_apps: list[str] = field(default_factory=list)


def _data_url(name: str, what: str) -> str | None:
    """A stored image as a data: URL; None when it is gone from the storage."""
    try:
        with default_storage.open(name) as stored:
            content = stored.read()
    except OSError:
        logger.warning("branding.export.image_missing image=%s", what)
        return None
    content_type = CONTENT_TYPES[name.rsplit(".", 1)[-1]]
    return f"data:{content_type};base64,{base64.b64encode(content).decode()}"


def _apps_export() -> list[dict]:
    """Each app's own branding, named by the app's client ID (what stays the same when an
    app is registered again with the same ID) and its name (for people)."""
    apps = []
    for app_branding in AppBranding.objects.select_related("application").order_by(
        "application__name", "pk"
    ):
        entry = {
            "client_id": app_branding.application.client_id,
            "name": app_branding.application.name,
            **{name: getattr(app_branding, name) for name in APP_COLOUR_FIELDS},
        }
        if app_branding.logo_name:
            logo = _data_url(app_branding.logo_name, "app logo")
            if logo is not None:
                entry["logo"] = logo
        apps.append(entry)
    return apps


def branding_export() -> dict:
    """The draft as JSON: its fields and its images inline as data: URLs, and the apps'
    brandings with their logos inline."""
    draft = branding_draft_get()
    images = {}
    for slot in SLOTS.values():
        name = getattr(draft, f"{slot.field}_name")
        if name and (url := _data_url(name, slot.name)) is not None:
            images[slot.name] = url
    return {
        "format": EXPORT_FORMAT,
        "version": 1,
        "branding": {name: getattr(draft, name) for name in DRAFT_FIELDS},
        # The texts per language (Console > Branding > Languages), {language: {field: text}}.
        "text_overrides": draft.text_overrides or {},
        "images": images,
        # The apps' own brandings (Console > Branding > Per-app branding).
        "apps": _apps_export(),
    }


def _text_overrides_clean(value) -> dict:
    """An export's texts per language, checked as Console > Branding > Languages does."""
    from branding.languages import TEXT_FIELDS, texts_check
    from ciam.locale import language_supported

    if not isinstance(value, dict):
        raise _import_error(_("The texts per language have a wrong type."))
    cleaned = {}
    for language, texts in value.items():
        if not isinstance(language, str) or language_supported(language) != language:
            raise _import_error(_("Unknown language: %(language)s.") % {"language": language})
        if not isinstance(texts, dict) or not all(isinstance(t, str) for t in texts.values()):
            raise _import_error(_("The texts per language have a wrong type."))
        unknown = sorted(set(texts) - set(TEXT_FIELDS))
        if unknown:
            raise _import_error(_("Unknown fields: %(names)s.") % {"names": ", ".join(unknown)})
        kept = {name: text.strip() for name, text in texts.items() if text.strip()}
        for name, messages in texts_check(kept).items():
            raise _import_error(
                _("%(name)s (%(language)s): %(errors)s")
                % {"name": name, "language": language, "errors": " ".join(messages)}
            )
        if kept:
            cleaned[language] = kept
    return cleaned


def _import_error(message: str) -> ValidationError:
    return ValidationError({"file": [message]})


def _data_url_bytes(value) -> bytes:
    if not isinstance(value, str) or not value.startswith("data:") or ";base64," not in value:
        raise ValueError("not a data URL")
    return base64.b64decode(value.split(";base64,", 1)[1], validate=True)


def _apps_clean(value) -> list[dict]:
    """The apps of an export, their shape checked (their colours and logos are checked as the
    per-app editor checks them, on import)."""
    if not isinstance(value, list) or not all(isinstance(entry, dict) for entry in value):
        raise _import_error(_("The apps' brandings have a wrong type."))
    allowed = {"client_id", "name", "logo", *APP_COLOUR_FIELDS}
    seen = set()
    for entry in value:
        unknown = sorted(set(entry) - allowed)
        if unknown:
            raise _import_error(_("Unknown fields: %(names)s.") % {"names": ", ".join(unknown)})
        if not all(isinstance(entry.get(name, ""), str) for name in allowed) or not entry.get(
            "client_id"
        ):
            raise _import_error(_("The apps' brandings have a wrong type."))
        if entry["client_id"] in seen:
            raise _import_error(
                _("The app %(client_id)s is in the file twice.") % {"client_id": entry["client_id"]}
            )
        seen.add(entry["client_id"])
    return value


def _app_label(entry: dict) -> str:
    name = entry.get("name") or _("unnamed app")
    return f"{name} ({entry['client_id']})"[:300]


def _apps_import(entries: list[dict], *, actor, request) -> tuple[list[str], list[str]]:
    """Set the branding of each app of the file found here by its client ID, as the per-app
    editor does (audited there); the apps the file does not name keep theirs."""
    from oidc.models import Application

    imported, unknown = [], []
    applications = Application.objects.in_bulk(
        [entry["client_id"] for entry in entries], field_name="client_id"
    )
    for entry in entries:
        application = applications.get(entry["client_id"])
        if application is None:
            unknown.append(_app_label(entry))
            continue
        logo = None
        if entry.get("logo"):
            try:
                logo = _data_url_bytes(entry["logo"])
            except (ValueError, binascii.Error) as error:
                raise _import_error(
                    _("%(app)s: the logo is not a base64 data: URL.") % {"app": _app_label(entry)}
                ) from error
        try:
            app_branding_update(
                actor=actor,
                application=application,
                request=request,
                logo=logo,
                remove_logo=logo is None,
                **{name: entry.get(name, "") for name in APP_COLOUR_FIELDS},
            )
        except ValidationError as error:
            raise _import_error(
                _("%(app)s: %(errors)s")
                % {"app": _app_label(entry), "errors": " ".join(error.messages)}
            ) from error
        imported.append(application.name)
    return imported, unknown


@transaction.atomic
def branding_import(*, actor, data: bytes, request=None, apps: bool = True) -> BrandingImport:
    """Replace the draft by an export: every field checked as in the editor, every image as
    on upload (by its bytes, re-encoded or sanitised). With `apps`, the apps' brandings of
    the file too, matched by client ID: they apply at once, as in the per-app editor; the
    apps no app here matches are reported. Nothing changes unless all of it passes."""
    if len(data) > EXPORT_MAX_BYTES:
        raise _import_error(
            _("The file may be at most %(size)s MB.") % {"size": EXPORT_MAX_BYTES // 1024**2}
        )
    try:
        document = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        raise _import_error(_("This is not a branding export (JSON).")) from error
    if (
        not isinstance(document, dict)
        or document.get("format") != EXPORT_FORMAT
        or document.get("version") != 1
        or not isinstance(document.get("branding"), dict)
        or not isinstance(document.get("images", {}), dict)
    ):
        raise _import_error(_("This is not a branding export of this product."))
    fields = document["branding"]
    unknown = sorted(set(fields) - set(DRAFT_FIELDS))
    if unknown:
        raise _import_error(_("Unknown fields: %(names)s.") % {"names": ", ".join(unknown)})
    draft = _locked_draft()
    before = _snapshot(draft) if draft.pk else {}
    for name in DRAFT_FIELDS:
        if name not in fields:
            continue
        value = fields[name]
        expected = bool if name == "show_sign_up" else str
        if not isinstance(value, expected):
            raise _import_error(_("The field %(name)s has a wrong type.") % {"name": name})
        if name == "custom_css":
            try:
                value = _css_or_errors(value)
            except ValidationError as error:
                raise _import_error(
                    _("Custom CSS: %(errors)s") % {"errors": " ".join(error.messages)}
                ) from error
        setattr(draft, name, value)
    draft.text_overrides = _text_overrides_clean(document.get("text_overrides", {}))
    app_entries = _apps_clean(document.get("apps", []))
    try:
        draft.full_clean()
    except ValidationError as error:
        raise _import_error(
            " ".join(
                f"{name}: {' '.join(messages)}" for name, messages in error.message_dict.items()
            )
        ) from error
    images = document.get("images", {})
    unknown = sorted(set(images) - set(SLOTS))
    if unknown:
        raise _import_error(_("Unknown images: %(names)s.") % {"names": ", ".join(unknown)})
    for slot in SLOTS.values():
        if slot.name not in images:
            setattr(draft, f"{slot.field}_name", "")
            if slot.field == "logo":
                draft.logo_width, draft.logo_height = None, None
            continue
        try:
            content = _data_url_bytes(images[slot.name])
        except (ValueError, binascii.Error) as error:
            raise _import_error(
                _("%(image)s: not a base64 data: URL.") % {"image": slot.label}
            ) from error
        try:
            name, width, height = image_store(content, slot)
        except ValidationError as error:
            raise _import_error(f"{slot.label}: {' '.join(error.messages)}") from error
        setattr(draft, f"{slot.field}_name", name)
        if slot.field == "logo":
            draft.logo_width, draft.logo_height = width, height
    draft.save()
    imported, unknown = (
        _apps_import(app_entries, actor=actor, request=request) if apps else ([], [])
    )
    changed_before, changed_after = _changes(before, _snapshot(draft))
    if imported or unknown:
        changed_after = {**changed_after, "apps": imported, "apps_unknown": unknown}
    audit_record(
        actor=actor,
        action="branding.import",
        target_type="branding.branding",
        target_label="branding (draft)",
        before=changed_before,
        after=changed_after,
        request=request,
    )
    forget_files_unused(before.values())
    return BrandingImport(draft=draft, apps=imported, unknown_apps=unknown)
