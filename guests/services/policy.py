"""The tenant's guest settings and the invitation rules they set."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.roles import AdminRole, has_admin_role
from audit.services import audit_record
from guests.models import (
    MAX_EXPIRY_DAYS,
    GuestSettings,
    Invitation,
)


def guest_settings_get() -> GuestSettings:
    guest_settings, _created = GuestSettings.objects.get_or_create(pk=1)
    return guest_settings


def spare_guest_settings_create() -> None:
    """TENANT_SPARE_DEFAULTS hook: a new tenant starts with the default guest settings, made
    while its schema waits."""
    guest_settings_get()


SETTINGS_FIELDS = (
    "invite_policy",
    "domain_mode",
    "domains",
    "default_expiry_days",
    "max_expiry_days",
    "terms_required",
    "terms_text",
    "terms_url",
    "access_days",
)


@transaction.atomic
def guest_settings_update(*, actor, request=None, **changes) -> GuestSettings:
    guest_settings = GuestSettings.objects.select_for_update().get(pk=guest_settings_get().pk)
    before = {name: getattr(guest_settings, name) for name in SETTINGS_FIELDS}
    for name, value in changes.items():
        if name not in SETTINGS_FIELDS:
            raise ValueError(name)
        setattr(guest_settings, name, value)
    guest_settings.domains = sorted({domain.strip().lower() for domain in guest_settings.domains})
    errors = {}
    if guest_settings.default_expiry_days > guest_settings.max_expiry_days:
        errors["default_expiry_days"] = [_("The default cannot exceed the maximum expiry.")]
    if guest_settings.terms_required and not (
        guest_settings.terms_text.strip() or guest_settings.terms_url
    ):
        errors["terms_text"] = [_("Give the terms of use text or a link to them.")]
    if guest_settings.domain_mode != GuestSettings.DomainMode.ANY and not guest_settings.domains:
        errors["domains"] = [_("List at least one domain, or allow any domain.")]
    if errors:
        raise ValidationError(errors)
    guest_settings.full_clean()
    guest_settings.save()
    after = {name: getattr(guest_settings, name) for name in SETTINGS_FIELDS}
    audit_record(
        actor=actor,
        action="guest_settings.update",
        target=guest_settings,
        before={k: v for k, v in before.items() if after[k] != v},
        after={k: v for k, v in after.items() if before[k] != v},
        request=request,
    )
    return guest_settings


def can_invite(user, guest_settings: GuestSettings | None = None) -> bool:
    """Whether `user` may invite under the tenant's "who can invite" setting."""
    guest_settings = guest_settings or guest_settings_get()
    policy = guest_settings.invite_policy
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    is_inviter_admin = any(
        has_admin_role(user, role)
        for role in (AdminRole.GUEST_INVITER, AdminRole.USER_ADMINISTRATOR)
    )
    if policy == GuestSettings.InvitePolicy.EVERYONE:
        return True
    if policy == GuestSettings.InvitePolicy.MEMBERS:
        return user.user_type == get_user_model().UserType.MEMBER or is_inviter_admin
    if policy == GuestSettings.InvitePolicy.GUEST_INVITERS:
        return is_inviter_admin
    return False


def domain_problem(email: str, guest_settings: GuestSettings) -> str | None:
    domain = email.rsplit("@", 1)[-1].lower()
    listed = any(domain == item or domain.endswith("." + item) for item in guest_settings.domains)
    if guest_settings.domain_mode == GuestSettings.DomainMode.ALLOW and not listed:
        return _("Invitations to %(domain)s are not allowed.") % {"domain": domain}
    if guest_settings.domain_mode == GuestSettings.DomainMode.DENY and listed:
        return _("Invitations to %(domain)s are blocked.") % {"domain": domain}
    return None


def email_problem(email: str, guest_settings: GuestSettings) -> tuple[str, str] | None:
    """(kind, message) when `email` cannot be invited, where kind names the report column."""
    try:
        validate_email(email)
    except ValidationError:
        return "bad_email", _("Enter a valid email address.")
    problem = domain_problem(email, guest_settings)
    if problem:
        return "denied_domain", problem
    if get_user_model().objects.with_email(email).exists():
        return "already_member", _("This address already belongs to a user of this directory.")
    if Invitation.objects.filter(email__iexact=email, status=Invitation.Status.PENDING).exists():
        return "duplicate", _("A pending invitation exists for this address: resend it instead.")
    return None


# Admins who invite send guests anywhere; anyone else only to the tenant's own places.
REDIRECT_ANYWHERE_ROLES = (AdminRole.GUEST_INVITER, AdminRole.USER_ADMINISTRATOR)


def redirect_problem(redirect_url: str, *, inviter) -> str | None:
    """Why a guest cannot be sent to `redirect_url` after accepting, or None. Admins who
    invite (Guest inviter, User administrator, Global administrator) choose any http(s) URL;
    anyone else a home page or redirect URI of one of the tenant's registered apps, or the
    tenant's My account, so an invitation cannot lend the tenant's name to a stranger's site."""
    try:
        URLValidator(schemes=["https", "http"])(redirect_url)
    except ValidationError:
        return _("Enter an http or https URL.")
    if any(has_admin_role(inviter, role) for role in REDIRECT_ANYWHERE_ROLES):
        return None
    from oidc.selectors import is_tenant_destination

    if not is_tenant_destination(redirect_url):
        return _(
            "Choose the address of one of this directory's apps (its home page or a "
            "registered redirect URI) or of My account."
        )
    return None


def invitation_expiry(
    guest_settings: GuestSettings, expiry_days: int | None, now: datetime
) -> datetime:
    days = guest_settings.default_expiry_days if expiry_days is None else expiry_days
    if not 1 <= days <= min(guest_settings.max_expiry_days, MAX_EXPIRY_DAYS):
        raise ValidationError(
            {
                "expiry_days": [
                    _("Choose between 1 and %(max)d days.")
                    % {"max": guest_settings.max_expiry_days}
                ]
            }
        )
    return now + timedelta(days=days)
