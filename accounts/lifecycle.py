"""A user's life in the directory as admins (console, directory API) run it: creation with an
email to set a password, profile edits, soft deletion, restore and purge, password reset
emails, ending every session. Admin roles are in accounts.services (user_admin_roles_set).

Who may act on whom (README, Admin roles): a User administrator manages users who hold no
admin role; administrators are managed by Global administrators only. The tenant always
keeps an enabled Global administrator: the last one cannot be disabled, deleted or lose the
role."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import connection, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User, email_normalize
from accounts.roles import AdminRole, has_admin_role
from audit.services import audit_record

logger = logging.getLogger(__name__)

# How long a deleted user can be restored; the beat task purges them after (README).
DELETED_KEEP_DAYS = 30
PROFILE_FIELDS = ("first_name", "last_name", "display_name")


# Who may act on whom ---------------------------------------------------------------------


def may_manage(*, actor, user: User) -> bool:
    """Whether `actor` may edit, delete, restore, reset or sign out `user`: Global
    administrators anyone, User administrators users holding no admin role."""
    if has_admin_role(actor, AdminRole.GLOBAL_ADMINISTRATOR):
        return True
    return has_admin_role(actor, AdminRole.USER_ADMINISTRATOR) and not user.admin_roles


def _manage_check(*, actor, user: User) -> None:
    if not may_manage(actor=actor, user=user):
        raise ValidationError(
            _("Only a Global administrator can change an administrator."), code="forbidden"
        )


def is_last_global_administrator(user: User) -> bool:
    """Whether `user` is the one enabled Global administrator left. Locks the holders' rows,
    so two admins removing each other at the same time wait for one another."""
    if AdminRole.GLOBAL_ADMINISTRATOR not in (user.admin_roles or ()) or not user.is_active:
        return False
    others = (
        User.objects.select_for_update()
        .filter(admin_roles__contains=[AdminRole.GLOBAL_ADMINISTRATOR], is_active=True)
        .exclude(pk=user.pk)
        .values_list("pk", flat=True)
    )
    return not list(others)


def last_global_administrator_check(user: User) -> None:
    if is_last_global_administrator(user):
        raise ValidationError(
            _(
                "%(email)s is the tenant's last Global administrator: assign the role to "
                "someone else first."
            )
            % {"email": user.email},
            code="last_global_administrator",
        )


# Creation and profile -----------------------------------------------------------------------


def _email_problem(email: str) -> str | None:
    try:
        validate_email(email)
    except ValidationError:
        return _("Enter a valid email address.")
    if len(email) > User._meta.get_field("email").max_length:
        return _("Enter a valid email address.")
    existing = User.objects.with_email(email).first()
    if existing is None:
        return None
    if existing.is_deleted:
        return _(
            "A deleted user has this address: restore them from the list of deleted users, "
            "or wait until they are purged."
        )
    return _("A user with this address already exists.")


def _profile_apply(*, user: User, first_name=None, last_name=None, display_name=None,
                   attributes: dict | None = None) -> None:  # fmt: skip
    """Names and attributes onto `user`, as the user's own profile page stores them: the
    built-in givenName, surname and displayName fill the user's fields and attributes."""
    from accounts.services import BUILTIN_ATTRIBUTES, user_attributes_apply

    values = dict(attributes or {})
    for key, value in (
        ("givenName", first_name), ("surname", last_name), ("displayName", display_name),
    ):  # fmt: skip
        if value is not None:
            values[key] = value.strip()[: BUILTIN_ATTRIBUTES[key][1]]
    user_attributes_apply(user=user, attributes=values)


def _snapshot(user: User) -> dict:
    return {
        **{name: getattr(user, name) for name in PROFILE_FIELDS},
        "attributes": dict(user.attributes or {}),
    }


@transaction.atomic
def user_create(
    *,
    actor,
    email: str,
    first_name: str = "",
    last_name: str = "",
    display_name: str = "",
    attributes: dict | None = None,
    enabled: bool = True,
    request=None,
    notify: bool = True,
) -> User:
    """Create a member. They get no password from the admin: the email we send them links to
    a page where they choose one (a reset link), and tells them they may sign in with a code
    sent to their address when the user flow allows it."""
    from allauth.account.models import EmailAddress

    if not has_admin_role(actor, AdminRole.USER_ADMINISTRATOR):
        raise ValidationError(_("Only a User administrator can create users."))
    email = email_normalize(email)
    problem = _email_problem(email)
    if problem:
        code = "invalid" if problem == _("Enter a valid email address.") else "address_taken"
        raise ValidationError({"email": [ValidationError(problem, code=code)]})
    user = User(email=email, is_active=enabled)
    user.set_unusable_password()
    _profile_apply(
        user=user, first_name=first_name, last_name=last_name, display_name=display_name,
        attributes=attributes,
    )  # fmt: skip
    user.save()
    EmailAddress.objects.create(user=user, email=email, verified=False, primary=True)
    audit_record(
        actor=actor, action="user.create", target=user, after=_snapshot(user), request=request
    )
    if notify:
        welcome_email_send(user=user)
    return user


@transaction.atomic
def user_update(
    *,
    actor,
    user: User,
    first_name: str | None = None,
    last_name: str | None = None,
    display_name: str | None = None,
    attributes: dict | None = None,
    request=None,
) -> User:
    """Change a user's names and attributes (values already validated by the form or API)."""
    _manage_check(actor=actor, user=user)
    if user.is_deleted:
        raise ValidationError(_("Restore the user before changing them."))
    before = _snapshot(user)
    _profile_apply(
        user=user, first_name=first_name, last_name=last_name, display_name=display_name,
        attributes=attributes,
    )  # fmt: skip
    after = _snapshot(user)
    if before == after:
        return user
    user.save(update_fields=[*PROFILE_FIELDS, "attributes"])
    changed = [key for key in after if before[key] != after[key]]
    audit_record(
        actor=actor, action="user.update", target=user,
        before={key: before[key] for key in changed},
        after={key: after[key] for key in changed}, request=request,
    )  # fmt: skip
    return user


# Sessions and tokens ------------------------------------------------------------------------


def sessions_end_and_tokens_revoke(user: User) -> tuple[int, int]:
    """End every browser session of `user` and revoke the refresh tokens their apps hold:
    (sessions ended, refresh tokens revoked)."""
    from allauth.usersessions.models import UserSession

    from oidc.services import user_tokens_revoke

    ended = 0
    for session in UserSession.objects.filter(user=user):
        session.end()
        ended += 1
    return ended, user_tokens_revoke(user=user)


@transaction.atomic
def user_sessions_revoke(*, actor, user: User, request=None) -> tuple[int, int]:
    """ "Revoke sessions": the user signs in again everywhere; apps lose access at their next
    refresh (access tokens already issued run out on their own)."""
    _manage_check(actor=actor, user=user)
    ended, revoked = sessions_end_and_tokens_revoke(user)
    audit_record(
        actor=actor, action="user.sessions_revoke", target=user,
        after={"sessions_ended": ended, "refresh_tokens_revoked": revoked}, request=request,
    )  # fmt: skip
    return ended, revoked


# Deletion, restore, purge -------------------------------------------------------------------


def restorable_until(user: User) -> datetime | None:
    return user.deleted_at + timedelta(days=DELETED_KEEP_DAYS) if user.deleted_at else None


@transaction.atomic
def user_delete(*, actor, user: User, request=None, now: datetime | None = None) -> User:
    """Soft delete: the user is disabled and hidden at once (sessions ended, refresh tokens
    revoked), restorable for DELETED_KEEP_DAYS, then purged (deleted_users_purge)."""
    if user.is_deleted:
        return user
    if getattr(actor, "pk", None) == user.pk:
        raise ValidationError(_("You cannot delete your own account."), code="forbidden")
    _manage_check(actor=actor, user=user)
    last_global_administrator_check(user)
    user.enabled_before_deletion = user.is_active
    user.is_active = False
    user.deleted_at = now or timezone.now()
    user.save(update_fields=["enabled_before_deletion", "is_active", "deleted_at"])
    _purge_due(restorable_until(user))
    ended, revoked = sessions_end_and_tokens_revoke(user)
    audit_record(
        actor=actor, action="user.delete", target=user,
        before={"enabled": user.enabled_before_deletion},
        after={
            "deleted": True, "restorable_until": restorable_until(user).isoformat(),
            "sessions_ended": ended, "refresh_tokens_revoked": revoked,
        },
        request=request,
    )  # fmt: skip
    return user


@transaction.atomic
def user_restore(*, actor, user: User, request=None, now: datetime | None = None) -> User:
    """Bring a deleted user back as they were (enabled or disabled), within the window."""
    if not user.is_deleted:
        return user
    _manage_check(actor=actor, user=user)
    if (now or timezone.now()) >= restorable_until(user):
        raise ValidationError(
            _("%(email)s was deleted more than %(days)d days ago and can no longer be restored.")
            % {"email": user.email, "days": DELETED_KEEP_DAYS}
        )
    deleted_at = user.deleted_at
    user.deleted_at = None
    user.is_active = user.enabled_before_deletion
    user.save(update_fields=["deleted_at", "is_active"])
    audit_record(
        actor=actor, action="user.restore", target=user,
        before={"deleted_at": deleted_at.isoformat()}, after={"enabled": user.is_active},
        request=request,
    )  # fmt: skip
    return user


def purge_due(now: datetime | None = None):
    cutoff = (now or timezone.now()) - timedelta(days=DELETED_KEEP_DAYS)
    return User.objects.filter(deleted_at__isnull=False, deleted_at__lte=cutoff)


def _purge_due(at: datetime) -> None:
    """In user_delete's transaction: the purge visits this tenant at `at` (tenants/work.py)."""
    from tenants.models import TenantWork
    from tenants.work import tenant_work_due

    tenant_work_due(kind=TenantWork.Kind.DELETED_USERS_PURGE, due_at=at)


def deleted_users_purge_next_due() -> datetime | None:
    """When the purge next has a user to delete for good in this tenant; None when no user
    is deleted."""
    from django.db.models import Min

    oldest = User.objects.filter(deleted_at__isnull=False).aggregate(at=Min("deleted_at"))["at"]
    return oldest + timedelta(days=DELETED_KEEP_DAYS) if oldest else None


def deleted_users_purge(*, now: datetime | None = None, batch: int = 200) -> int:
    """Delete for good the users deleted DELETED_KEEP_DAYS ago or more, with their sessions,
    tokens, identities, devices and email addresses (their rows cascade). The sign-in log
    keeps who they were (id, email, name) and the audit log its own labels. One transaction
    per user: a failure leaves the others purged."""
    from audit.models import SignInEvent

    purged = 0
    for user_id in list(purge_due(now).values_list("pk", flat=True)[:batch]):
        with transaction.atomic():
            user = User.objects.select_for_update().filter(pk=user_id).first()
            if user is None or user not in purge_due(now):
                continue
            # Rows written before the log kept names (or by hand) learn who it was now.
            SignInEvent.objects.filter(user=user, user_public_id__isnull=True).update(
                user_public_id=user.public_id, user_email=user.email[:254],
                user_name=(user.display_name or user.get_full_name())[:256],
            )  # fmt: skip
            sessions_end_and_tokens_revoke(user)
            audit_record(
                actor=None, action="user.purge", target=user,
                before={"deleted_at": user.deleted_at.isoformat()},
            )  # fmt: skip
            user.delete()
            purged += 1
    return purged


# Emails ---------------------------------------------------------------------------------------


def _email_payload(*, user: User, template: str, subject: str, context: dict) -> dict:
    """An account email for `user`, rendered now (in the person's language): the outbox
    wipes its text, and the link in it, once sent."""
    from emails.services import header_value

    tenant = connection.tenant
    context = {"tenant_name": tenant.name, "user": user, **context}
    return {
        "subject": header_value(f"{tenant.name}: {subject}"),
        "text": render_to_string(f"{template}.txt", context),
        "html": render_to_string(f"{template}.html", context),
    }


def _email_send(*, user: User, template: str, subject: str, context: dict) -> None:
    from emails.models import OutboxEmail
    from emails.services import outbox_add

    payload = _email_payload(user=user, template=template, subject=subject, context=context)
    outbox_add(kind=OutboxEmail.Kind.ACCOUNT, to=user.email, payload=payload)


def password_set_url(user: User) -> str:
    """A link on the tenant's primary domain where `user` chooses a password (allauth's
    password reset key: single use, it stops working once the password changes, and after
    PASSWORD_RESET_TIMEOUT)."""
    from allauth.account.forms import default_token_generator
    from allauth.account.utils import user_pk_to_url_str

    from tenants.selectors import tenant_url

    key = default_token_generator.make_token(user)
    path = reverse(
        "account_reset_password_from_key",
        kwargs={"uidb36": user_pk_to_url_str(user), "key": key},
    )
    return tenant_url(connection.tenant, path)


def _link_days() -> int:
    return max(1, settings.PASSWORD_RESET_TIMEOUT // 86400)


def welcome_payload(*, user: User, flow=None) -> dict:
    """What a new user is told: their account exists, a link to choose a password (when the
    user flow has passwords), and the code sign-in (when it has it)."""
    from accounts.selectors import user_flow_get
    from tenants.selectors import tenant_url

    flow = flow or user_flow_get()
    return _email_payload(
        user=user,
        template="accounts/email/user_created",
        subject=_("Your account is ready"),
        context={
            "password_url": password_set_url(user) if flow.password_enabled else "",
            "code_sign_in": flow.email_code_enabled,
            "sign_in_url": tenant_url(connection.tenant, reverse("account_login")),
            "link_days": _link_days(),
        },
    )


def welcome_email_send(*, user: User) -> None:
    from emails.models import OutboxEmail
    from emails.services import outbox_add

    outbox_add(kind=OutboxEmail.Kind.ACCOUNT, to=user.email, payload=welcome_payload(user=user))


def user_password_reset_send(*, actor, user: User, request=None) -> None:
    """Send `user` a link to choose a new password (their current one keeps working until
    they do). Limited per person and per admin (USER_ADMIN_RATE_LIMITS)."""
    from accounts.selectors import password_allowed
    from ciam.ratelimit import rates_take

    _manage_check(actor=actor, user=user)
    if user.is_deleted or not user.is_active:
        raise ValidationError(_("Enable the user before sending them a password reset."))
    if not password_allowed(user):
        raise ValidationError(
            _("Guests have no password here: they sign in with a code or their own account.")
        )
    allowed = rates_take(
        "accounts:admin_password_reset",
        settings.USER_ADMIN_RATE_LIMITS["password_reset"],
        request=request,
        key=user.email,
        user=actor,
    )
    if not allowed:
        raise ValidationError(
            _(
                "Too many password reset emails were sent to this person or by you recently. "
                "Nothing was sent: wait a while and try again."
            ),
            code="rate_limited",
        )
    with transaction.atomic():
        _email_send(
            user=user,
            template="accounts/email/password_reset_by_admin",
            subject=_("Choose a new password"),
            context={"password_url": password_set_url(user), "link_days": _link_days()},
        )
        audit_record(actor=actor, action="user.password_reset_send", target=user, request=request)


def admin_roles_notice_send(*, user: User, before: list[str], after: list[str], actor) -> None:
    """Tell the person their admin roles changed (someone may have given them power, or
    taken it)."""

    def labels(roles):
        return [str(AdminRole(role).label) for role in roles if role in AdminRole.values]

    _email_send(
        user=user,
        template="accounts/email/admin_roles_changed",
        subject=_("Your admin roles changed"),
        context={
            "added": labels([role for role in after if role not in before]),
            "removed": labels([role for role in before if role not in after]),
            "now_held": labels(after),
            "by": getattr(actor, "email", None) or str(actor or _("the system")),
            "when": timezone.now(),
        },
    )
