"""Every kind of outbox email has a builder, registered by the app that owns it."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from emails.registry import builder_register, kinds_without_builder


def test_every_outbox_kind_has_a_builder_once_the_apps_are_ready():
    assert kinds_without_builder() == []


def test_a_builder_for_a_kind_the_outbox_does_not_know_is_refused():
    with pytest.raises(ImproperlyConfigured):
        builder_register("fax", lambda outbox, *, base_url: None)
