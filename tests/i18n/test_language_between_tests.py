"""A test starts in the default language whatever the test before it left active (the
conftest's `_language_as_configured`): the two tests below run in this order, in one process."""

from __future__ import annotations

from django.utils import translation


def test_a_request_in_french_leaves_french_active_in_this_thread(acme):
    page = acme.client().get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="fr")
    assert 'lang="fr"' in page.content.decode()
    assert translation.get_language() == "fr"


def test_the_next_test_starts_in_english():
    assert translation.get_language() == "en"
    assert translation.gettext("Guest settings") == "Guest settings"
