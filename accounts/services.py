from __future__ import annotations

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import SignUpAttribute, User, UserFlow, email_normalize
from accounts.roles import AdminRole, assignable_roles, has_admin_role, manages_roles_of
from accounts.sign_in.lockout import lockout_clear
from audit.services import audit_record
from ciam.http import client_ip


def user_session_record(*, request, user: User) -> None:
    """At sign-in: start the session's absolute and idle timeouts (the tenant's user flow),
    stamp the user's last sign-in, remember the session (for "My account" and for ending
    sessions) and forget the user's expired sessions, in one statement.

    Replaces Django's last-login save and allauth's sign-in handler, which walks every session
    of the user (a query or three each) and then does a get-or-create in a transaction. The
    current session is kept although its row is only written as the response leaves
    (ciam.sessions)."""
    from allauth.usersessions.models import UserSession
    from django.contrib.sessions.models import Session

    session_key = request.session.session_key
    if not session_key:
        request.session.save()
        session_key = request.session.session_key
    from accounts.selectors import user_flow_for
    from ciam.sessions import sign_in_timeouts_start

    flow = user_flow_for(request)
    sign_in_timeouts_start(
        request.session,
        lifetime_seconds=flow.session_lifetime_hours * 3600,
        idle_seconds=flow.session_idle_minutes * 60,
    )
    user_agent_length = UserSession._meta.get_field("user_agent").max_length
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH signed_in AS (
                UPDATE {User._meta.db_table} SET last_login = %(now)s WHERE id = %(user)s
            ), expired AS (
                DELETE FROM {UserSession._meta.db_table} AS tracked
                WHERE tracked.user_id = %(user)s AND tracked.session_key <> %(key)s
                  AND NOT EXISTS (
                      SELECT 1 FROM {Session._meta.db_table} AS alive
                      WHERE alive.session_key = tracked.session_key
                        AND alive.expire_date > %(now)s
                  )
            )
            INSERT INTO {UserSession._meta.db_table}
                (user_id, created_at, ip, last_seen_at, session_key, user_agent, data)
            VALUES (%(user)s, %(now)s, %(ip)s, %(now)s, %(key)s, %(agent)s, '{{}}')
            ON CONFLICT (session_key) DO UPDATE SET
                user_id = EXCLUDED.user_id, ip = EXCLUDED.ip,
                user_agent = EXCLUDED.user_agent, last_seen_at = EXCLUDED.last_seen_at
            """,
            {
                "user": user.pk,
                "key": session_key,
                "now": now,
                "ip": client_ip(request) or "0.0.0.0",
                "agent": request.META.get("HTTP_USER_AGENT", "")[:user_agent_length],
            },
        )
    user.last_login = now


# The session key that says which account's password this browser session chose (sign-up,
# change, reset): a proof of the address made later in the same session keeps that password.
PASSWORD_CHOSEN_HERE = "accounts.password_chosen_for"


def password_chosen_here(*, request, user: User) -> None:
    """Remember that this browser session chose `user`'s password."""
    session = getattr(request, "session", None)
    if session is not None and user.pk is not None:
        session[PASSWORD_CHOSEN_HERE] = user.pk


# Where a sign-in was going (`next`: an app's authorization request, a page of My account)
# when the person chose "Forgot your password?": kept in this browser's session while the
# password is reset, and the sign-in that follows goes on there.
PASSWORD_RESET_NEXT = "accounts.password_reset_next"


def password_reset_next_remember(*, request, url: str | None) -> None:
    """Remember `url` (already checked as safe) for after the reset; None forgets."""
    if url:
        request.session[PASSWORD_RESET_NEXT] = url
    else:
        request.session.pop(PASSWORD_RESET_NEXT, None)


def password_reset_next(*, request, forget: bool = False) -> str | None:
    """Where the sign-in after the reset goes on; `forget` once the reset is done."""
    if forget:
        return request.session.pop(PASSWORD_RESET_NEXT, None)
    return request.session.get(PASSWORD_RESET_NEXT)


def address_proven(*, user: User, email: str, request=None) -> None:
    """An address of `user` was proven outside allauth's flows (an invitation redeemed with
    its emailed code): the address is marked verified and, if it is the account's first
    proven address, account_first_proof ends what came before the proof."""
    from allauth.account.models import EmailAddress

    addresses = EmailAddress.objects.filter(user=user)
    proven_before = addresses.filter(verified=True).exists()
    email = email_normalize(email)
    address = addresses.filter(email=email).first()
    if address is None:
        EmailAddress.objects.create(
            user=user, email=email, verified=True, primary=not addresses.exists()
        )
    elif not address.verified:
        address.verified = True
        address.save(update_fields=["verified"])
    if not proven_before:
        account_first_proof(user=user, request=request)


def email_verification_send(*, request, user: User) -> bool:
    """Send `user` a link proving their unverified primary address (allauth's email, with its
    rate limit and its "sent" message). False when there is nothing to verify or the limit
    holds the email back."""
    from allauth.account.internal.flows.email_verification import (
        send_verification_email_to_address,
    )
    from allauth.account.models import EmailAddress

    address = EmailAddress.objects.filter(user=user, email=user.email).first()
    if address is None or address.verified:
        return False
    return send_verification_email_to_address(request, address)


def email_address_confirmed(*, email_address, request=None) -> None:
    """allauth marked an address verified (an emailed code or link): the account's first
    proven address ends what came before the proof."""
    from allauth.account.models import EmailAddress

    others = EmailAddress.objects.filter(user_id=email_address.user_id, verified=True).exclude(
        pk=email_address.pk
    )
    if not others.exists():
        account_first_proof(user=email_address.user, request=request)


def _signed_in_with_password(request, user: User) -> bool:
    """Whether this browser session signed in as `user` with the password: whoever proves the
    address from it knows the password too (a tenant's creator, who chose it on the platform
    site, verifying from the console), so the password is no stranger's."""
    from allauth.account.authentication import get_authentication_records

    if getattr(request, "session", None) is None:
        return False
    records = get_authentication_records(request, user)
    return any(record.get("method") == "password" for record in records)


@transaction.atomic
def account_first_proof(*, user: User, request=None) -> None:
    """Someone proved an address of `user` for the first time. Anything done with the account
    before may have been a stranger's (pre-hijacking: sign up with someone else's email and
    wait for its owner to use the account): a password set before the proof stops working,
    unless this same browser session chose it or signed in with it, and every other session
    of the account ends."""
    from allauth.usersessions.models import UserSession
    from django.contrib import messages

    session = getattr(request, "session", None)
    chosen_here = session is not None and session.get(PASSWORD_CHOSEN_HERE) == user.pk
    password_removed = (
        user.has_usable_password()
        and not chosen_here
        and not _signed_in_with_password(request, user)
    )
    if password_removed:
        user.set_unusable_password()
        user.save(update_fields=["password"])
        if request is not None:
            # The sign-in that follows in this request must carry the new password hash in
            # its session, or the session would end at the next request (accounts.sign_in.adapter).
            request.accounts_password_after_proof = (user.pk, user.password)
            messages.warning(
                request,
                _(
                    "Your email address is now confirmed. A password set on this account "
                    "before the address was confirmed no longer works: set a new one on My "
                    "account if you want one."
                ),
            )
    current_key = getattr(session, "session_key", None) or ""
    sessions_ended = 0
    for tracked in UserSession.objects.filter(user=user).exclude(session_key=current_key):
        tracked.end()
        sessions_ended += 1
    if password_removed or sessions_ended:
        audit_record(
            actor=user,
            action="user.address_first_proof",
            target=user,
            after={"password_removed": password_removed, "sessions_ended": sessions_ended},
            request=request,
        )


# Built-in attributes a user flow may collect (PRODUCT.md), with their maximum lengths.
BUILTIN_ATTRIBUTES = {
    "givenName": (gettext_lazy("Given name"), 64),
    "surname": (gettext_lazy("Surname"), 64),
    "displayName": (gettext_lazy("Display name"), 256),
    "country": (gettext_lazy("Country or region"), 128),
    "city": (gettext_lazy("City"), 128),
    "state": (gettext_lazy("State or province"), 128),
    "postalCode": (gettext_lazy("Postal code"), 40),
    "streetAddress": (gettext_lazy("Street address"), 1024),
    "jobTitle": (gettext_lazy("Job title"), 128),
}
# Built-in attributes that also fill a field of the user model.
USER_FIELD_FOR_ATTRIBUTE = {
    "givenName": "first_name",
    "surname": "last_name",
    "displayName": "display_name",
}
CUSTOM_KEY_PATTERN = re.compile(r"^[a-zA-Z][a-zA-Z0-9_]{0,63}$")
USER_FLOW_FIELDS = (
    "signup_enabled",
    "password_enabled",
    "email_code_enabled",
    "email_verification",
    "password_min_length",
    "terms_required",
    "terms_url",
    "privacy_url",
    "session_lifetime_hours",
    "session_idle_minutes",
)


def user_flow_default_create() -> UserFlow:
    """The default user flow (email + password and email code, open sign-up, optional
    verification) with its built-in sign-up attributes, labelled in the platform's default
    language (a new tenant's default language)."""
    flow = UserFlow.objects.create()
    with translation.override(settings.LANGUAGE_CODE):
        for position, key in enumerate(("givenName", "surname")):
            label, max_length = BUILTIN_ATTRIBUTES[key]
            SignUpAttribute.objects.create(
                flow=flow,
                key=key,
                label=str(label),
                is_builtin=True,
                max_length=max_length,
                position=position,
            )
    return flow


def spare_user_flow_create() -> None:
    """TENANT_SPARE_DEFAULTS hook: the default user flow, made while the schema waits."""
    user_flow_default_create()


def tenant_admin_email_address_create(*, tenant, admin) -> None:
    """TENANT_DEFAULTS hook: the first admin's address, unverified: nothing proved it yet,
    so ID tokens say `email_verified: false` until the admin opens the link the console
    offers to send (or the one a mandatory-verification sign-in sends). The default user
    flow is already there (TENANT_SPARE_DEFAULTS)."""
    from allauth.account.models import EmailAddress

    EmailAddress.objects.create(user=admin, email=admin.email, verified=False, primary=True)


def _flow_snapshot(flow: UserFlow) -> dict:
    return {name: getattr(flow, name) for name in USER_FLOW_FIELDS}


@transaction.atomic
def user_flow_update(*, actor, request=None, **changes) -> UserFlow:
    flow = UserFlow.objects.select_for_update().first() or UserFlow.objects.create()
    before = _flow_snapshot(flow)
    for name, value in changes.items():
        if name not in USER_FLOW_FIELDS:
            raise ValueError(name)
        setattr(flow, name, value)
    if not flow.password_enabled and not flow.email_code_enabled:
        raise ValidationError(_("Keep at least one way of signing in."))
    if flow.terms_required and not flow.terms_url:
        raise ValidationError({"terms_url": [_("Give the link to your terms of use.")]})
    flow.full_clean()
    flow.save()
    after = _flow_snapshot(flow)
    if before != after:
        audit_record(
            actor=actor,
            action="user_flow.update",
            target=flow,
            target_label="user flow",
            before={k: v for k, v in before.items() if after[k] != v},
            after={k: v for k, v in after.items() if before[k] != v},
            request=request,
        )
    return flow


@transaction.atomic
def sign_up_attribute_save(
    *,
    actor,
    key: str,
    label: str,
    data_type: str,
    required: bool,
    position: int,
    choices: list[str] | None = None,
    attribute: SignUpAttribute | None = None,
    request=None,
) -> SignUpAttribute:
    """Add an attribute to the sign-up page, or change one (`attribute`)."""
    flow = UserFlow.objects.select_for_update().first() or UserFlow.objects.create()
    key = key.strip()
    choices = [choice.strip() for choice in (choices or []) if choice.strip()]
    is_builtin = key in BUILTIN_ATTRIBUTES
    errors: dict[str, list[str]] = {}
    if not is_builtin and not CUSTOM_KEY_PATTERN.match(key):
        errors["key"] = [
            _("Start with a letter; use letters, digits and underscores (at most 64).")
        ]
    elif (
        SignUpAttribute.objects.filter(flow=flow, key=key)
        .exclude(pk=getattr(attribute, "pk", None))
        .exists()
    ):
        errors["key"] = [_("The sign-up page already asks for “%(key)s”.") % {"key": key}]
    if is_builtin and data_type != SignUpAttribute.DataType.STRING:
        errors["data_type"] = [_("Built-in attributes are text.")]
    if data_type == SignUpAttribute.DataType.CHOICE and len(choices) < 2:
        errors["choices"] = [_("Give at least two choices, one a line.")]
    if errors:
        raise ValidationError(errors)
    before = None
    if attribute is None:
        attribute = SignUpAttribute(flow=flow)
    else:
        before = {"key": attribute.key, "label": attribute.label, "required": attribute.required}
    attribute.key = key
    attribute.label = label.strip() or str(BUILTIN_ATTRIBUTES.get(key, (key,))[0])
    attribute.data_type = data_type
    attribute.is_builtin = is_builtin
    attribute.max_length = BUILTIN_ATTRIBUTES[key][1] if is_builtin else 256
    attribute.choices = choices if data_type == SignUpAttribute.DataType.CHOICE else []
    attribute.required = required
    attribute.position = position
    attribute.full_clean(exclude=["flow"])
    attribute.save()
    audit_record(
        actor=actor,
        action="user_flow.attribute_save",
        target=attribute,
        target_label=f"sign-up attribute {attribute.key}",
        before=before,
        after={"key": attribute.key, "label": attribute.label, "required": attribute.required},
        request=request,
    )
    return attribute


@transaction.atomic
def sign_up_attribute_delete(*, actor, attribute: SignUpAttribute, request=None) -> None:
    audit_record(
        actor=actor,
        action="user_flow.attribute_delete",
        target=attribute,
        target_label=f"sign-up attribute {attribute.key}",
        before={"key": attribute.key, "label": attribute.label},
        request=request,
    )
    attribute.delete()


def account_unlock(*, actor, email: str, request=None) -> None:
    """An admin lifts the smart-lockout of an email at this tenant."""
    lockout_clear(email=email)
    audit_record(
        actor=actor,
        action="user.unlock",
        target_type="accounts.user",
        target_label=email.strip().lower()[:254],
        request=request,
    )


def user_attributes_apply(*, user: User, attributes: dict) -> None:
    """Put validated attribute values on an unsaved user: givenName, surname and displayName
    also fill the matching user fields; empty values are removed."""
    for key, value in attributes.items():
        field = USER_FIELD_FOR_ATTRIBUTE.get(key)
        if field:
            setattr(user, field, value or "")
        if value in (None, ""):
            user.attributes.pop(key, None)
        else:
            user.attributes[key] = value


@transaction.atomic
def profile_update(*, user: User, attributes: dict, request=None) -> User:
    """The signed-in user edits their own attributes (already validated by the form)."""
    user_attributes_apply(user=user, attributes=attributes)
    user.save(update_fields=["first_name", "last_name", "display_name", "attributes"])
    audit_record(actor=user, action="user.profile_update", target=user, request=request)
    return user


@transaction.atomic
def user_language_set(*, user: User, language: str, request=None) -> User:
    """The language of the person's pages and emails ("" for their browser's)."""
    from ciam.locale import language_supported

    if language and language_supported(language) != language:
        raise ValidationError({"language": _("Choose one of the languages listed.")})
    before = user.language
    if before == language:
        return user
    user.language = language
    user.save(update_fields=["language"])
    audit_record(
        actor=user,
        action="user.language_set",
        target=user,
        before={"language": before},
        after={"language": language},
        request=request,
    )
    return user


@transaction.atomic
def account_delete_self(*, user: User, request=None) -> None:
    """A user deletes their own account; the audit row keeps who it was."""
    audit_record(actor=user, action="user.delete_self", target=user, request=request)
    user.delete()


def set_enabled_problem(*, actor, user: User, enabled: bool = False) -> str | None:
    """Why user_set_enabled would not let `actor` enable or disable `user`; None if it would.
    Work no admin does (governance, no signed-in actor) may change administrators."""
    if not enabled and getattr(actor, "pk", None) == user.pk:
        return _("You cannot disable your own account.")
    if (
        getattr(actor, "is_authenticated", False)
        and user.admin_roles
        and not has_admin_role(actor, AdminRole.GLOBAL_ADMINISTRATOR)
    ):
        return _("Only a Global administrator can disable or enable an administrator.")
    return None


def may_set_enabled(*, actor, user: User) -> bool:
    """Whether user_set_enabled would let `actor` disable or enable `user` (the console shows
    the button only then)."""
    return set_enabled_problem(actor=actor, user=user) is None


@transaction.atomic
def user_admin_roles_set(*, actor, user: User, roles: list[str], request=None) -> User:
    """Give `user` exactly the admin `roles`. Only a Global administrator assigns or removes
    roles (nobody grants a role they do not hold). The tenant always keeps an enabled Global
    administrator. The person is told by email."""
    unknown = set(roles) - set(AdminRole.values)
    if unknown:
        raise ValidationError(_("Unknown admin role."))
    before = [role for role in AdminRole.values if role in (user.admin_roles or ())]
    after = [role for role in AdminRole.values if role in roles]
    if before == after:
        return user
    if not manages_roles_of(actor, user):
        raise ValidationError(_("Only a Global administrator can change this user's roles."))
    changed = set(before) ^ set(after)
    refused = changed - set(assignable_roles(actor))
    if refused:
        labels = ", ".join(
            str(AdminRole(role).label) for role in AdminRole.values if role in refused
        )
        raise ValidationError(
            _("You cannot assign or remove these roles: %(roles)s.") % {"roles": labels}
        )
    global_role = AdminRole.GLOBAL_ADMINISTRATOR
    if global_role in before and global_role not in after:
        from accounts.lifecycle import is_last_global_administrator

        if is_last_global_administrator(user):
            raise ValidationError(
                _(
                    "The tenant needs at least one Global administrator: assign the role to "
                    "someone else before removing it from %(email)s."
                )
                % {"email": user.email}
            )
    if user.is_deleted:
        raise ValidationError(_("Restore the user before changing their roles."))
    user.admin_roles = after
    user.save(update_fields=["admin_roles"])
    audit_record(
        actor=actor,
        action="user.admin_roles_update",
        target=user,
        before={"admin_roles": before},
        after={"admin_roles": after},
        request=request,
    )
    from accounts.lifecycle import admin_roles_notice_send

    admin_roles_notice_send(user=user, before=before, after=after, actor=actor)
    return user


@transaction.atomic
def user_set_enabled(
    *, user: User, enabled: bool, actor, request=None, reason: str = "", action: str = ""
) -> User:
    """Enable or disable a user. Disabling ends every session of the user and revokes the
    tokens its apps hold; signing in is refused until an admin enables the user again."""
    problem = set_enabled_problem(actor=actor, user=user, enabled=enabled)
    if problem:
        raise ValidationError(problem)
    if user.deleted_at is not None:
        raise ValidationError(_("Restore the user first: a deleted user stays disabled."))
    if user.is_active == enabled:
        return user
    if not enabled:
        from accounts.lifecycle import last_global_administrator_check

        last_global_administrator_check(user)
    user.is_active = enabled
    user.save(update_fields=["is_active"])
    ended = revoked = 0
    if not enabled:
        from accounts.lifecycle import sessions_end_and_tokens_revoke

        ended, revoked = sessions_end_and_tokens_revoke(user)
    audit_record(
        actor=actor,
        action=action or ("user.enable" if enabled else "user.disable"),
        target=user,
        before={"enabled": not enabled},
        after={
            "enabled": enabled,
            **({"sessions_ended": ended, "refresh_tokens_revoked": revoked} if not enabled else {}),
            **({"reason": reason} if reason else {}),
        },
        request=request,
    )
    return user
