"""Every message catalogue translates every string of the code, and its compiled .mo is the
.po of the repository: a new string without its translations fails here, not in a person's
browser. Needs GNU gettext (xgettext, msgcmp, msgfmt), as Django's makemessages does."""

from __future__ import annotations

import gettext
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.utils.translation import to_locale

ROOT = Path(settings.BASE_DIR)
LOCALES = [to_locale(code) for code, _name in settings.LANGUAGES]
# What makemessages reads: the apps and templates, not the tests, benchmarks or virtualenv.
SKIPPED = shutil.ignore_patterns(
    ".*", "__pycache__", "tests", "bench", "node_modules", "locale", "static", "docs"
)


def catalogue(locale: str) -> Path:
    return ROOT / "locale" / locale / "LC_MESSAGES" / "django.po"


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    """The .pot makemessages writes for the code as it is now."""
    copy = tmp_path_factory.mktemp("messages") / "src"
    shutil.copytree(ROOT, copy, ignore=SKIPPED)
    (copy / "locale").mkdir()
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "--keep-pot", "-l", "en", "--verbosity=0"],
        cwd=copy,
        check=True,
        env={**_environment(), "DEBUG": "true"},
    )
    return copy / "locale" / "django.pot"


def _environment() -> dict:
    import os

    return dict(os.environ)


def test_every_language_of_settings_has_a_catalogue():
    assert sorted(LOCALES) == sorted(
        path.parent.parent.name for path in (ROOT / "locale").glob("*/LC_MESSAGES/django.po")
    )


@pytest.mark.parametrize("locale", LOCALES)
def test_the_catalogue_translates_every_string_of_the_code(template, locale):
    # msgcmp counts untranslated and fuzzy entries as missing.
    result = subprocess.run(
        ["msgcmp", str(catalogue(locale)), str(template)], capture_output=True, text=True
    )
    assert result.returncode == 0, (
        f"{locale}: run `make messages` and translate:\n" + (result.stderr[-3000:])
    )


@pytest.mark.parametrize("locale", LOCALES)
def test_the_catalogue_keeps_every_placeholder_and_compiles(locale, tmp_path):
    compiled = tmp_path / "django.mo"
    result = subprocess.run(
        ["msgfmt", "--check", "--statistics", "-o", str(compiled), str(catalogue(locale))],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert "untranslated" not in result.stderr and "fuzzy" not in result.stderr, result.stderr
    shipped = catalogue(locale).with_suffix(".mo")
    with compiled.open("rb") as fresh, shipped.open("rb") as committed:
        assert gettext.GNUTranslations(fresh)._catalog == (
            gettext.GNUTranslations(committed)._catalog
        ), f"{shipped} is older than its .po: run `make messages`"
