"""Rules for the migrations of the project's own tenant apps, which run once per tenant schema
(docs/scale-out.md, "PostgreSQL at 10,000 tenants", Migrations)."""

from __future__ import annotations

from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.db import migrations
from django.db.migrations.loader import MigrationLoader

# Added before the rule: applied in every schema already.
ADDED_WITH_A_DEFAULT_BEFORE_THE_RULE = {
    ("accounts", "0008_userflow_session_timeouts", "session_idle_minutes"),
    ("accounts", "0008_userflow_session_timeouts", "session_lifetime_hours"),
    ("accounts", "0011_user_lifecycle", "enabled_before_deletion"),
    ("accounts", "0012_user_language", "language"),
    ("audit", "0004_sign_in_event_policies", "policies"),
    ("branding", "0002_images_custom_css_app_branding", "retired_themes"),
    ("branding", "0003_branding_text_overrides", "text_overrides"),
    ("federation", "0002_identity_provider_email_domains", "email_domains"),
    ("federation", "0003_saml_and_mfa_trust", "trust_idp_mfa"),
    ("federation", "0004_app_identity_providers", "show_on_sign_in"),
    ("federation", "0005_builtin_social_and_saml_mfa", "saml_mfa_contexts"),
    ("mfa", "0002_passkeys", "passkey_allowed"),
    ("mfa", "0003_policy_remember_browser_days", "remember_browser_days"),
    ("oidc", "0002_application_claim_mappings", "claim_mappings"),
    ("oidc", "0004_refresh_tokens_offline_access", "always_refresh"),
    ("oidc", "0005_application_require_mfa", "require_mfa"),
    ("oidc", "0006_application_assignment_required_and_more", "assignment_required"),
    ("oidc", "0006_application_assignment_required_and_more", "groups_claim"),
    ("oidc", "0007_token_signing_algorithm", "token_signing_algorithm"),
    ("oidc", "0007_token_signing_algorithm", "algorithm"),
}


def _own_tenant_app_labels() -> set[str]:
    root = Path(settings.BASE_DIR).resolve()
    labels = set()
    for config in apps.get_app_configs():
        path = Path(config.path).resolve()
        own = root in path.parents and ".venv" not in path.parts
        if own and any(config.name == app or config.name.startswith(f"{app}.") for app in
                       settings.TENANT_APPS):  # fmt: skip
            labels.add(config.label)
    return labels


def test_own_tenant_migrations_add_no_column_with_its_default_in_one_step():
    # PostgreSQL's ADD COLUMN ... DEFAULT reads through pg_class and pg_index: about half a
    # second a schema on a 10,000-tenant catalog, an hour and more for the platform, against
    # 10 ms for a column added NULL, filled, then made NOT NULL (AlterField).
    labels = _own_tenant_app_labels()
    assert {"accounts", "federation", "oidc"} <= labels
    loader = MigrationLoader(None, ignore_no_migrations=True)
    added_with_default = {
        (label, name, operation.name)
        for (label, name), migration in loader.disk_migrations.items()
        if label in labels
        for operation in migration.operations
        if isinstance(operation, migrations.AddField)
        and not operation.field.null
        and (operation.field.has_default() or not operation.preserve_default)
    }
    new = added_with_default - ADDED_WITH_A_DEFAULT_BEFORE_THE_RULE
    assert not new, (
        f"{sorted(new)}: add the column with null=True and no default, fill it (RunSQL), "
        "then AlterField to the final field (federation/migrations/0006_saml_certificates.py)"
    )
