"""Which pg_dump renders the tenant template: the PG_DUMP setting, else the one on PATH; the
pgserver package's bundled binary (a development dependency) only in development."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured

from tenants.provisioning import SCHEMA_PLACEHOLDER, template_render
from tests.server import ROOT


def test_the_template_is_rendered_by_the_pg_dump_the_setting_names(db, settings, tmp_path):
    calls = tmp_path / "calls"
    wrapper = tmp_path / "pg_dump"
    wrapper.write_text(f'#!/bin/sh\necho "$@" >> {calls}\nexec {settings.PG_DUMP} "$@"\n')
    wrapper.chmod(0o755)
    settings.PG_DUMP = str(wrapper)

    script = template_render()

    assert f"--schema {settings.TENANT_TEMPLATE_SCHEMA}" in calls.read_text()
    assert f"CREATE TABLE {SCHEMA_PLACEHOLDER}.accounts_user" in script


def test_without_a_pg_dump_rendering_says_how_to_get_one(db, settings):
    settings.PG_DUMP = ""

    with pytest.raises(ImproperlyConfigured, match="set PG_DUMP"):
        template_render()


def _pg_dump_setting(tmp_path, **environment: str) -> str:
    """settings.PG_DUMP as a process started with this environment and a PATH without
    pg_dump computes it."""
    empty = tmp_path / "bin"
    empty.mkdir(exist_ok=True)
    base = {
        name: value
        for name, value in os.environ.items()
        if name not in {"PG_DUMP", "CIAM_TESTING", "DEBUG"}
    }
    finished = subprocess.run(
        [sys.executable, "-c", "from ciam import settings; print(settings.PG_DUMP)"],
        cwd=ROOT,
        env={
            **base,
            "PATH": str(empty),
            "SECRET_KEY": "a production secret",
            "DATABASE_URL": "postgres://nobody@127.0.0.1:1/none",
            "REDIS_URL": "redis://127.0.0.1:1/0",
            "EMAIL_URL": "smtp://127.0.0.1:1",
            **environment,
        },
        capture_output=True,
        text=True,
        check=True,
    )
    return finished.stdout.strip()


def test_production_never_falls_back_to_the_bundled_pg_dump(tmp_path):
    assert _pg_dump_setting(tmp_path, DEBUG="false") == ""
    assert _pg_dump_setting(tmp_path, DEBUG="false", PG_DUMP="/opt/pg/bin/pg_dump") == (
        "/opt/pg/bin/pg_dump"
    )
    assert _pg_dump_setting(tmp_path, DEBUG="true").endswith("pgserver/pginstall/bin/pg_dump")
