"""The one per-process cache (ciam.process_cache): bounded, and with an age limit for values
that other processes change without telling (signing key lists, issuers)."""

from __future__ import annotations

import time
import uuid

from django.core.cache import cache

from ciam.process_cache import ProcessCache


def test_values_older_than_their_age_limit_are_read_again():
    kept = ProcessCache(None, max_age=0.2)
    kept.set("acme", "https://acme.example/o")
    assert kept.get("acme") == "https://acme.example/o"
    time.sleep(0.25)
    assert kept.get("acme") is None


def test_a_cache_without_generation_key_is_this_process_alone(
    db, django_capture_on_commit_callbacks
):
    local = ProcessCache(None)
    local.set("acme", 1)
    local.set("globex", 2)
    local.forget("acme")
    assert (local.get("acme"), local.get("globex")) == (None, 2)
    with django_capture_on_commit_callbacks(execute=True):
        local.invalidate()
    assert len(local) == 0


def test_an_invalidation_reaches_other_processes_through_the_shared_generation(
    db, django_capture_on_commit_callbacks
):
    key = f"test:{uuid.uuid4().hex}"
    here, elsewhere = ProcessCache(key, check_seconds=0), ProcessCache(key, check_seconds=0)
    elsewhere.set("acme", 1)
    assert elsewhere.get("acme") == 1
    with django_capture_on_commit_callbacks(execute=True):
        here.invalidate()
    assert cache.get(key) is not None
    assert elsewhere.get("acme") is None
