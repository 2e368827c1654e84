"""Helpers for the guest tests."""

from django_tenants.utils import tenant_context

from guests import services
from guests.models import Invitation
from tests.helpers import unique_email


def invite(world, email=None, **extra) -> Invitation:
    with tenant_context(world.tenant):
        return services.invitation_create(
            invited_by=world.admin,
            email=email or unique_email(),
            redirect_url="https://app.example/",
            **extra,
        )
