"""Branding's browser tests: the real server and Debian's headless Chromium, under the policy
the server sends (the browser enforces it, as a person's does)."""

from __future__ import annotations

import pytest

from tests.server import free_port, start_gunicorn, stop


@pytest.fixture
def chromium(browser):
    """The process's Chromium (tests/conftest.py): one Playwright per process."""
    return browser


@pytest.fixture(scope="module")
def branding_server(subprocess_env, smtp_sink):
    """The real server on a spare port, sharing the test database. Returns its port."""
    port = free_port()
    process = start_gunicorn({**subprocess_env, "EMAIL_URL": smtp_sink.url}, port)
    yield port
    stop(process)


@pytest.fixture(autouse=True)
def _default_language():
    """Each test starts in the default language: a test client's request leaves the language
    of its page active in the thread (the locale middleware does not reset it), and messages
    built outside a request (branding.custom_css) would come out in that language."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)
