"""Redeeming an invitation with one's own identity (an identity provider of the tenant)
instead of an emailed code: the IdP vouches for the invited address."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import email_normalize
from guests.models import Invitation
from guests.services.invitations import invitation_accept


def identity_redemption_problem(
    *, invitation: Invitation, provider, email: str, email_trusted: bool
) -> str | None:
    """Why the identity that signed in at `provider` with `email` may not redeem
    `invitation`, in plain words, or None.

    The IdP's email must be the invited address, and the IdP must be believed about it:
    either the tenant trusts its verified emails and it said this one is verified, or the
    tenant mapped the invited address's domain to this IdP (home-realm discovery: the IdP
    answers for everyone at that domain)."""
    from federation.selectors import email_domain

    invited = email_normalize(invitation.email).lower()
    if not email or email_normalize(email).lower() != invited:
        return _(
            "You signed in at %(provider)s as %(email)s, but this invitation is for "
            "%(invited)s. Sign in there as %(invited)s, or have a code emailed to it."
        ) % {"provider": provider.name, "email": email or _("someone without an email"),
             "invited": invitation.email}  # fmt: skip
    if email_trusted or email_domain(invited) in provider.email_domains:
        return None
    return _(
        "%(provider)s did not confirm that %(invited)s is yours. Have a code emailed to it instead."
    ) % {"provider": provider.name, "invited": invitation.email}


@transaction.atomic
def invitation_accept_with_identity(*, invitation: Invitation, sociallogin, request=None):
    """The partner consented after signing in at an IdP that vouched for the invited
    address: create the guest and link the upstream identity to it. Returns the user."""
    from federation.services import identity_link_new_user

    user = invitation_accept(invitation=invitation, user=None, address_proven=True, request=request)
    identity_link_new_user(request=request, user=user, sociallogin=sociallogin)
    return user
