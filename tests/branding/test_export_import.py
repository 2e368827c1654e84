"""Export and import of a branding as JSON, images inline, checked on import as on upload."""

from __future__ import annotations

import base64
import io
import json

import pytest
from django_tenants.utils import tenant_context

from audit.models import AuditEvent
from branding.models import Branding
from tests.branding.helpers import image_bytes, save_draft, upload_image


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)


def export(world) -> dict:
    response = world.client(world.admin).get("/console/branding/export/")
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="branding.json"'
    return json.loads(response.content)


def import_(world, document, user=None):
    data = document if isinstance(document, bytes) else json.dumps(document).encode()
    file = io.BytesIO(data)
    file.name = "branding.json"
    return world.client(user or world.admin).post("/console/branding/import/", {"file": file})


def test_an_export_imported_by_another_tenant_gives_the_same_draft(acme, globex):
    save_draft(acme, custom_css=".hosted-card { border-radius: 0 }", sign_in_text="Hello")
    upload_image(acme, "logo", image_bytes(size=(240, 40)))
    svg = (
        b'<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100">'
        b'<rect width="9" height="9"/></svg>'
    )
    upload_image(acme, "square", svg, name="square.svg")
    document = export(acme)
    assert document["format"] == "ciam-branding" and document["branding"]["sign_in_text"] == "Hello"
    assert document["images"]["logo"].startswith("data:image/png;base64,")
    assert document["images"]["square"].startswith("data:image/svg+xml;base64,")

    assert import_(globex, document).status_code == 302
    with tenant_context(globex.tenant):
        draft = Branding.objects.get(state="draft")
        assert draft.sign_in_text == "Hello"
        assert draft.custom_css == ".hosted-card { border-radius: 0; }\n"
        assert draft.logo_name.startswith(f"branding/{globex.tenant.schema_name}/logo-")
        assert draft.square_logo_name.endswith(".svg")
        event = AuditEvent.objects.filter(action="branding.import").latest("pk")
        assert event.after["sign_in_text"] == "Hello"
        assert not Branding.objects.filter(state="published").exists()  # a draft, to publish
    assert export(globex)["images"] == document["images"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {
                "images": {
                    "logo": "data:image/png;base64,"
                    + base64.b64encode(b"<html><script>alert(1)</script>").decode()
                }
            },
            "Upload a PNG, JPEG, WebP or SVG image.",
        ),
        (
            {
                "images": {
                    "square": "data:image/svg+xml;base64,"
                    + base64.b64encode(
                        b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "b">]><svg/>'
                    ).decode()
                }
            },
            "DOCTYPE",
        ),
        ({"images": {"logo": "https://evil.example/logo.png"}}, "data: URL"),
        ({"branding": {"custom_css": "@import url(https://evil.example/x.css);"}}, "@import"),
        ({"branding": {"primary_color": "red;}"}}, "#rrggbb"),
        ({"branding": {"privacy_url": "javascript:alert(1)"}}, "https://"),
        ({"branding": {"logo_name": "../../etc/passwd"}}, "Unknown fields: logo_name"),
        ({"format": "something-else"}, "not a branding export"),
    ],
)
def test_an_import_is_checked_as_an_upload_and_changes_nothing_when_refused(acme, change, message):
    save_draft(acme, sign_in_text="Before the import")
    document = export(acme)
    for key, value in change.items():
        if isinstance(value, dict):
            document[key] = {**document.get(key, {}), **value}
        else:
            document[key] = value
    response = import_(acme, document)
    assert response.status_code == 400
    assert message in response.content.decode()
    with tenant_context(acme.tenant):
        assert Branding.objects.get(state="draft").sign_in_text == "Before the import"
        assert not AuditEvent.objects.filter(action="branding.import").exists()


def test_a_file_that_is_not_json_is_refused(acme):
    response = import_(acme, b"\x89PNG\r\n\x1a\nnot json")
    assert response.status_code == 400
    assert "This is not a branding export (JSON)." in response.content.decode()


def test_export_and_import_are_for_branding_administrators(acme):
    document = export(acme)
    assert acme.client(acme.member).get("/console/branding/export/").status_code == 403
    assert import_(acme, document, user=acme.member).status_code == 403


def test_the_texts_per_language_travel_with_an_export(acme, globex):
    from branding.languages import branding_texts_set

    save_draft(acme, sign_in_text="Welcome")
    with tenant_context(acme.tenant):
        branding_texts_set(
            actor=acme.admin, language="fr", texts={"sign_in_text": "Bienvenue", "help_label": ""}
        )
    document = export(acme)
    assert document["text_overrides"] == {"fr": {"sign_in_text": "Bienvenue"}}

    assert import_(globex, document).status_code == 302
    with tenant_context(globex.tenant):
        draft = Branding.objects.get(state="draft")
        assert draft.text_overrides == {"fr": {"sign_in_text": "Bienvenue"}}
        event = AuditEvent.objects.filter(action="branding.import").latest("pk")
        assert event.after["text_overrides"] == {"fr": {"sign_in_text": "Bienvenue"}}


@pytest.mark.parametrize(
    ("text_overrides", "message"),
    [
        ({"xx": {"sign_in_text": "Hi"}}, "Unknown language: xx."),
        ({"fr": {"custom_css": "body{}"}}, "Unknown fields: custom_css."),
        ({"fr": {"sign_in_text": 5}}, "The texts per language have a wrong type."),
        ({"fr": {"username_hint": "x" * 5000}}, "username_hint (fr): At most 100 characters."),
    ],
)
def test_texts_per_language_are_checked_on_import(acme, text_overrides, message):
    save_draft(acme, sign_in_text="Before the import")
    document = export(acme)
    document["text_overrides"] = text_overrides
    response = import_(acme, document)
    assert response.status_code == 400
    assert message in response.content.decode()
    with tenant_context(acme.tenant):
        draft = Branding.objects.get(state="draft")
        assert draft.sign_in_text == "Before the import" and draft.text_overrides == {}
