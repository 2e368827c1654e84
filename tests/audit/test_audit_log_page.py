"""The console's audit log reads as changes a person can follow: each field, what it was and
what it became."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django_tenants.utils import tenant_context

from accounts.services import user_set_enabled
from audit.services import audit_record


def test_audit_log_shows_each_changed_field_before_and_after(acme):
    with tenant_context(acme.tenant):
        user = get_user_model().objects.create_user(email="audited@acme.test", password=None)
        user_set_enabled(user=user, enabled=False, actor=acme.admin, reason="left the company")
        audit_record(
            actor=acme.admin, action="app.update", target_label="Portal <b>",
            before={"redirect_uris": "https://a.example/cb\nhttps://b.example/cb", "roles": []},
            after={"redirect_uris": "https://a.example/cb", "is_first_party": False},
        )  # fmt: skip
    client = acme.client(acme.admin)
    disabled = client.get("/console/logs/audit/", {"action": "user.disable"}).content.decode()
    assert '<del><span class="visually-hidden">was </span>yes</del>' in disabled
    assert "no</li>" in disabled and "left the company" in disabled
    assert "{&#x27;enabled&#x27;" not in disabled  # no Python dict on the page

    updated = client.get("/console/logs/audit/", {"action": "app.update"}).content.decode()
    # Several URIs read as a list; a field gone and a field new say so.
    assert "https://a.example/cb, https://b.example/cb</del>" in updated
    assert 'roles</span>: <del><span class="visually-hidden">was </span>—</del>' in updated
    assert "(removed)" in updated
    assert 'is_first_party</span>: <span class="visually-hidden">now </span>no' in updated
    assert "Portal &lt;b&gt;" in updated  # escaped
