from __future__ import annotations

import os
import secrets
import subprocess
import sys

import pytest

from tests.server import ROOT


def production_env(**changes) -> dict[str, str]:
    environment = {
        key: value
        for key, value in os.environ.items()
        if key
        not in {
            "DEBUG",
            "CIAM_TESTING",
            "SECRET_KEY",
            "PYTEST_XDIST_WORKER",
            "DJANGO_ALLOW_ASYNC_UNSAFE",
        }
    }
    environment.update(
        BASE_DOMAIN="id.example.com",
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/ciam",
        REDIS_URL="redis://127.0.0.1:6379/0",
        EMAIL_URL="smtp://127.0.0.1:25",
    )
    environment.update(changes)
    return {name: value for name, value in environment.items() if value is not None}


def manage(*args: str, environment: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
    )


def test_production_refuses_to_start_without_a_secret_key():
    result = manage("check", environment=production_env())
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off." in result.stderr


@pytest.mark.parametrize("name", ["DATABASE_URL", "REDIS_URL", "EMAIL_URL"])
def test_production_refuses_to_start_without_its_services(name):
    secret = secrets.token_urlsafe(50)
    for missing in (None, ""):
        result = manage("check", environment=production_env(SECRET_KEY=secret, **{name: missing}))
        assert result.returncode != 0
        assert f"{name} must be set when DEBUG is off." in result.stderr


def test_development_still_starts_without_any_service_url():
    environment = production_env(DEBUG="true", DATABASE_URL=None, REDIS_URL=None, EMAIL_URL=None)
    result = manage("check", environment=environment)
    assert result.returncode == 0, result.stderr


def test_debug_page_masks_the_settings_and_environment_that_hold_credentials(settings, rf):
    """Django's technical 500 page (what `make run` shows on an error) lists the settings and
    the request's environment, which runserver fills from the process's."""
    settings.DEBUG = True
    settings.REDIS_URL = "redis://:redis-password-1@cache.internal:6379/0"
    settings.CELERY_BROKER_URL = "redis://:broker-password-2@cache.internal:6379/1"
    settings.EMAIL_HOST_USER = "smtp-user-3"
    settings.EMAIL_CONFIG = {"EMAIL_HOST_USER": "smtp-user-3", "EMAIL_HOST": "mail.internal"}
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "redis://:cache-password-4@cache.internal:6379/0",
        }
    }
    request = rf.get(
        "/",
        DATABASE_URL="postgres://ciam:database-password-5@db.internal/ciam",
        EMAIL_URL="smtp://mailer:smtp-password-6@mail.internal:587",
    )
    body = _debug_page(request)
    assert "boom" in body and "REDIS_URL" in body  # the page itself is still there
    for credential in (
        "redis-password-1", "broker-password-2", "smtp-user-3", "cache-password-4",
        "database-password-5", "smtp-password-6",
    ):  # fmt: skip
        assert credential not in body, credential


def _debug_page(request) -> str:
    """The page for an error raised here (its source lines, shown on the page, hold no
    credential)."""
    from django.views.debug import technical_500_response

    try:
        raise RuntimeError("boom")
    except RuntimeError:
        return technical_500_response(request, *sys.exc_info()).content.decode()


def test_deploy_check_is_clean_with_production_settings():
    result = manage(
        "check", "--deploy", "--fail-level", "WARNING",
        environment=production_env(SECRET_KEY=secrets.token_urlsafe(50)),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_machine_endpoints_take_the_api_middleware_stack():
    from ciam.handlers import uses_api_stack

    for path in ("/o/token/", "/o/.well-known/jwks.json", "/o/userinfo/", "/api/v1/invitations"):
        assert uses_api_stack(path), path
    for path in ("/o/authorize/", "/o/logout/", "/accounts/login/", "/account/", "/console/"):
        assert not uses_api_stack(path), path
