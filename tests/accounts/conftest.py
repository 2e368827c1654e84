"""Fixtures for the sign-up and sign-in tests (their helpers are in tests/helpers.py)."""

from __future__ import annotations

import pytest


@pytest.fixture
def run_on_commit(django_capture_on_commit_callbacks):
    """Run on-commit callbacks (such as queueing an email task) inside a rolled-back test."""
    return lambda: django_capture_on_commit_callbacks(execute=True)
