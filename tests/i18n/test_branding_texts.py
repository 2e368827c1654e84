"""The branding's texts in each language (Console > Branding > Languages): saved in the draft,
published with it, shown on hosted pages in that language."""

from __future__ import annotations

from django_tenants.utils import tenant_context

from audit.models import AuditEvent
from branding import services
from branding.models import Branding
from tests.helpers import tenant_client
from tests.i18n.helpers import own_tenant


def test_a_page_in_a_language_shows_that_languages_branding_texts(acme):
    world = own_tenant()
    with tenant_context(world.tenant):
        services.branding_draft_update(
            actor=world.admin,
            sign_in_text="Welcome to Polyglot",
            username_hint="Use your work email",
            privacy_url="https://polyglot.example/privacy",
            help_url="https://polyglot.example/help",
        )
    admin = world.client(world.admin)
    page = admin.get("/console/branding/languages/?language=fr").content.decode()
    assert "Texts in Français" in page and "Blank: “Welcome to Polyglot”." in page
    response = admin.post(
        "/console/branding/languages/?language=fr",
        {
            "sign_in_text": "Bienvenue chez Polyglot",
            "username_hint": "",
            "privacy_label": "Confidentialité des données",
            "terms_label": "",
            "help_label": "",
        },
    )
    assert response.status_code == 302
    with tenant_context(world.tenant):
        draft = Branding.objects.get(state=Branding.State.DRAFT)
        assert draft.text_overrides == {
            "fr": {
                "sign_in_text": "Bienvenue chez Polyglot",
                "privacy_label": "Confidentialité des données",
            }
        }
        assert AuditEvent.objects.filter(action="branding.texts_update").count() == 1
        # Not on the hosted pages before it is published.
        assert (
            "Bienvenue"
            not in tenant_client(world)
            .get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="fr")
            .content.decode()
        )
        services.branding_publish(actor=world.admin)

    french = tenant_client(world).get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="fr")
    page = french.content.decode()
    assert "Bienvenue chez Polyglot" in page and "Welcome to Polyglot" not in page
    # What French did not override: the draft's own hint, the default label in French.
    assert "Use your work email" in page
    assert ">Confidentialité des données</a>" in page and ">Aide</a>" in page

    german = tenant_client(world).get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="de")
    page = german.content.decode()
    assert "Welcome to Polyglot" in page and "Bienvenue" not in page
    assert ">Datenschutz</a>" in page and ">Hilfe</a>" in page

    # The console's preview of the draft in a language.
    preview = admin.get("/console/branding/preview/?language=fr").content.decode()
    assert "Bienvenue chez Polyglot" in preview and 'lang="fr"' in preview


def test_texts_in_a_language_are_plain_text_within_the_limits(acme):
    world = own_tenant()
    admin = world.client(world.admin)
    response = admin.post(
        "/console/branding/languages/?language=ar",
        {"sign_in_text": "<script>alert(1)</script>", "username_hint": "x" * 101},
    )
    assert response.status_code == 400
    assert "Ensure this value has at most 100 characters" in response.content.decode()
    admin.post(
        "/console/branding/languages/?language=ar",
        {"sign_in_text": "<script>alert(1)</script>"},
    )
    with tenant_context(world.tenant):
        services.branding_publish(actor=world.admin)
    page = tenant_client(world).get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="ar")
    body = page.content.decode()
    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body


def test_only_branding_administrators_edit_texts_per_language(acme):
    member = acme.client(acme.member)
    assert member.get("/console/branding/languages/").status_code in (302, 403)
    response = member.post("/console/branding/languages/?language=fr", {"sign_in_text": "Piraté"})
    assert response.status_code in (302, 403)
    with tenant_context(acme.tenant):
        draft = Branding.objects.filter(state=Branding.State.DRAFT).first()
        assert draft is None or "fr" not in (draft.text_overrides or {})
