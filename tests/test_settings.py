from __future__ import annotations

import os
import secrets
import subprocess
import sys

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
    environment.update(BASE_DOMAIN="id.example.com", **changes)
    return environment


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
