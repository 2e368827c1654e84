"""guests 0005: invitations stored with Graph's "Guest"/"Member" are spelled as users are."""

from __future__ import annotations

from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django_tenants.utils import tenant_context

from guests import services
from tests.helpers import unique_email

BEFORE = ("guests", "0004_outboxemail_moved_to_emails")
AFTER = ("guests", "0005_invitation_user_type_spelled_as_users")


def _stored_user_types(pks) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT user_type FROM guests_invitation WHERE id = ANY(%s) ORDER BY id", [list(pks)]
        )
        return [row[0] for row in cursor.fetchall()]


def test_user_type_spelling_migrates_both_ways(acme):
    with tenant_context(acme.tenant):
        pks = [
            services.invitation_create(
                invited_by=acme.admin,
                email=unique_email(),
                redirect_url="https://a.example/",
                user_type=user_type,
            ).pk
            for user_type in ("guest", "member")
        ]
        assert _stored_user_types(pks) == ["guest", "member"]

        MigrationExecutor(connection).migrate([BEFORE])
        assert _stored_user_types(pks) == ["Guest", "Member"]

        MigrationExecutor(connection).migrate([AFTER])
        assert _stored_user_types(pks) == ["guest", "member"]
