"""The sign-in page's labels a tenant may change (Entra's "Forgot password" text and user-flow
language strings): the "Forgot your password?" link, the sign-up link and the sign-in button,
plain text, per language, our translated labels when unset."""

from __future__ import annotations

import html
import json

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation
from django_tenants.utils import tenant_context

from branding import exports, services
from branding.languages import branding_texts_set
from branding.models import Branding
from tests.branding.helpers import DRAFT
from tests.helpers import make_user, tenant_client
from tests.i18n.helpers import own_tenant

LABELS = {
    "forgot_password_label": "Lost your Acme key?",
    "sign_up_label": "Join Acme rewards",
    "sign_in_button_label": "Enter Acme",
}


def login_page(world, language: str) -> str:
    response = tenant_client(world).get("/accounts/login/", HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    return response.content.decode()


def ours(language: str) -> dict[str, str]:
    """Our own labels in `language`, as the catalogues translate them."""
    with translation.override(language):
        return {
            "forgot": html.escape(translation.gettext("Forgot your password?")),
            "sign_up": html.escape(translation.gettext("Create one")),
            "button": html.escape(translation.gettext("Sign in")),
        }


def assert_labels(page: str, forgot: str, sign_up: str, button: str) -> None:
    assert f'<a href="/accounts/password/reset/">{forgot}</a>' in page
    assert f'<a href="/accounts/signup/">{sign_up}</a>' in page
    assert f'<button class="btn btn-primary" type="submit">{button}</button>' in page


def test_a_tenant_s_labels_show_in_each_language_and_ours_where_it_wrote_none(acme):
    world = own_tenant()
    admin = world.client(world.admin)
    assert admin.post("/console/branding/", {**DRAFT, **LABELS}).status_code == 302
    response = admin.post(
        "/console/branding/languages/?language=fr",
        {
            "forgot_password_label": "Clé Acme perdue ?",
            "sign_up_label": "Rejoindre Acme",
            "sign_in_button_label": "",
        },
    )
    assert response.status_code == 302
    # Not before the draft is published: our labels, translated.
    french = ours("fr")
    assert_labels(login_page(world, "fr"), french["forgot"], french["sign_up"], french["button"])
    with tenant_context(world.tenant):
        services.branding_publish(actor=world.admin)

    assert_labels(login_page(world, "en"), "Lost your Acme key?", "Join Acme rewards", "Enter Acme")
    # French: its own texts, and the draft's label where French has none.
    assert_labels(login_page(world, "fr"), "Clé Acme perdue ?", "Rejoindre Acme", "Enter Acme")
    # German has no texts: the draft's labels.
    assert_labels(login_page(world, "de"), "Lost your Acme key?", "Join Acme rewards", "Enter Acme")

    # The email code page's button is the sign-in button too.
    user = make_user(world)
    client = tenant_client(world)
    sent = client.post("/accounts/login/code/", {"email": user.email}, HTTP_ACCEPT_LANGUAGE="fr")
    assert sent.status_code == 302
    code_page = client.get(sent["Location"], HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert '<button class="btn btn-primary" type="submit">Enter Acme</button>' in code_page

    # The labels blanked: ours again, in each language.
    with tenant_context(world.tenant):
        services.branding_draft_update(
            actor=world.admin, forgot_password_label="", sign_up_label="", sign_in_button_label=""
        )
        branding_texts_set(actor=world.admin, language="fr", texts={})
        services.branding_publish(actor=world.admin)
    for language in ("en", "fr", "ja"):
        labels = ours(language)
        assert_labels(
            login_page(world, language), labels["forgot"], labels["sign_up"], labels["button"]
        )


def test_labels_are_plain_text_refused_with_markup_and_escaped_anyway(acme):
    world = own_tenant()
    admin = world.client(world.admin)
    markup = {
        "forgot_password_label": '<a href="https://evil.example">Reset</a>',
        "sign_up_label": "Sign up <b>now</b>",
        "sign_in_button_label": "x" * 31,
    }
    response = admin.post("/console/branding/", {**DRAFT, **markup})
    assert response.status_code == 400
    body = response.content.decode()
    assert body.count("Plain text only: no HTML, no &lt; or &gt;.") == 2
    assert "Ensure this value has at most 30 characters" in body
    response = admin.post(
        "/console/branding/languages/?language=de", {"sign_up_label": "<script>x</script>"}
    )
    assert response.status_code == 400
    assert "Plain text only" in response.content.decode()
    with tenant_context(world.tenant):
        assert not Branding.objects.filter(state=Branding.State.DRAFT).exists()

    # A label that got in some other way (an older row, a bug) is still shown as text.
    with tenant_context(world.tenant):
        draft = services.branding_draft_update(actor=world.admin)
        Branding.objects.filter(pk=draft.pk).update(
            forgot_password_label="<img src=x onerror=alert(1)>",
            sign_in_button_label="<b>Go</b>",
        )
        services.branding_publish(actor=world.admin)
    page = login_page(world, "en")
    assert "<img src=x" not in page and "<b>Go</b>" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;</a>" in page
    assert "&lt;b&gt;Go&lt;/b&gt;</button>" in page


def test_labels_travel_with_an_export_and_are_checked_on_import(acme):
    world = own_tenant()
    with tenant_context(world.tenant):
        services.branding_draft_update(actor=world.admin, **LABELS)
        branding_texts_set(actor=world.admin, language="es", texts={"sign_up_label": "Únete"})
        document = exports.branding_export()
    assert document["branding"]["sign_up_label"] == "Join Acme rewards"
    assert document["text_overrides"] == {"es": {"sign_up_label": "Únete"}}

    document["text_overrides"]["es"]["sign_in_button_label"] = "<i>Entrar</i>"
    with tenant_context(world.tenant), pytest.raises(ValidationError) as refused:
        exports.branding_import(actor=world.admin, data=json.dumps(document).encode())
    assert "sign_in_button_label (es): Plain text only" in " ".join(refused.value.messages)
