"""The token endpoint's per-process cache of apps keeps only registered apps, and a bounded
number of them: nobody can grow a process by asking about made-up client ids."""

from __future__ import annotations

import uuid

from ciam.process_cache import ProcessCache
from oidc.clients import clients_cached, clients_forget_all
from tests.oidc.helpers import Flow


def test_unknown_client_ids_are_not_kept(acme, acme_web):
    clients_forget_all()
    api = Flow(acme).api
    for _ in range(200):
        response = api.post(
            "/o/token/",
            {"grant_type": "client_credentials", "client_id": uuid.uuid4().hex,
             "client_secret": "guess"},
        )  # fmt: skip
        assert response.status_code == 401
    assert clients_cached() == 0
    status, _body = Flow(acme).token(acme_web, {"grant_type": "client_credentials"})
    assert status == 400  # a registered web app: known, and kept
    assert clients_cached() == 1


def test_the_cache_forgets_its_oldest_values_beyond_its_bound():
    cache = ProcessCache(f"test:{uuid.uuid4().hex}", max_entries=3)
    for number in range(10):
        cache.set(number, str(number))
    assert len(cache) == 3
    assert [cache.get(number) for number in (6, 7, 8, 9)] == [None, "7", "8", "9"]
