from __future__ import annotations

from dataclasses import dataclass

from django.db import connection
from django.db.models import Count, Max, Q, QuerySet
from django.utils import timezone

from accounts.models import SignUpAttribute, User, UserFlow, email_normalize
from audit.models import SignInEvent
from ciam.process_cache import ProcessCache

# The user flow as the hosted pages see it, per tenant schema, kept by each process until a
# flow or one of its attributes changes (accounts.apps wires the invalidation to saves).
_hosted_flows = ProcessCache("accounts:user-flow-generation", keep_in_transactions=False)


def password_allowed(user) -> bool:
    """Whether `user` may have a password of this directory. Guests sign in with a code sent
    to their address or with their own organization's identity provider, as in Entra: a
    password here would be a second way in that their organization does not control."""
    return user.user_type != User.UserType.GUEST


def user_flow_get() -> UserFlow:
    """The current tenant's user flow, read from the database (the public schema, and a
    tenant without a row, get the defaults). The console edits this one."""
    if connection.schema_name == "public":
        return UserFlow()
    return UserFlow.objects.first() or UserFlow()


def user_flow_for(request) -> UserFlow:
    """The user flow the hosted pages follow: kept by the process (no query per page), read
    once per request. Treat it as read-only: other requests share it."""
    flow = getattr(request, "_user_flow", None)
    if flow is None:
        schema = connection.schema_name
        flow = _hosted_flows.get(schema)
        if flow is None:
            flow = user_flow_get()
            _hosted_flows.set(schema, flow)
        request._user_flow = flow
    return flow


def user_flow_cache_invalidate() -> None:
    """A user flow or one of its attributes changed: hosted pages follow it at once here, and
    in the other processes within a second of the commit."""
    _hosted_flows.invalidate()


def sign_up_attributes(flow: UserFlow) -> list[SignUpAttribute]:
    if not flow.pk:
        return []
    attributes = getattr(flow, "_sign_up_attributes", None)
    if attributes is None:
        attributes = list(flow.attributes.all())
        flow._sign_up_attributes = attributes
    return attributes


def sign_up_attribute_get(public_id) -> SignUpAttribute | None:
    return SignUpAttribute.objects.filter(public_id=public_id).first()


@dataclass(frozen=True)
class MyAccountLists:
    email_verified: bool
    sessions: list[dict]  # alive ones, newest first: session_key, created_at, ip, user_agent
    apps: list[dict]  # signed in to, most recent first: app_id, app_name, last_at
    recent_sign_ins: list[dict]  # the last five attempts: occurred_at, result_label, ip_address
    owns_groups: bool  # owns a security group (the line to My groups)


def my_account_lists(user, *, current_session_key: str | None) -> MyAccountLists:
    """What "My account" lists about the user, in one round trip of five plain statements
    (through the ORM they cost more CPU than the rest of the page)."""
    from allauth.account.models import EmailAddress
    from allauth.usersessions.models import UserSession
    from django.contrib.sessions.models import Session

    from groups.models import Group

    parameters = {"user": user.pk, "email": user.email, "now": timezone.now()}
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT EXISTS (
                SELECT 1 FROM {EmailAddress._meta.db_table}
                WHERE user_id = %(user)s AND verified AND email = %(email)s
            );
            SELECT tracked.session_key, tracked.created_at, tracked.ip, tracked.user_agent
            FROM {UserSession._meta.db_table} AS tracked
            JOIN {Session._meta.db_table} AS alive ON alive.session_key = tracked.session_key
            WHERE tracked.user_id = %(user)s AND alive.expire_date > %(now)s
            ORDER BY tracked.created_at DESC;
            SELECT app_id, MAX(app_name), MAX(occurred_at) AS last_at
            FROM {SignInEvent._meta.db_table}
            WHERE user_id = %(user)s AND result = 'success' AND app_id <> ''
            GROUP BY app_id ORDER BY last_at DESC;
            SELECT occurred_at, result, ip_address FROM {SignInEvent._meta.db_table}
            WHERE user_id = %(user)s ORDER BY occurred_at DESC, id DESC LIMIT 5;
            SELECT EXISTS (
                SELECT 1 FROM {Group.owners.through._meta.db_table} WHERE user_id = %(user)s
            );
            """,
            parameters,
        )
        email_verified = cursor.fetchone()[0]
        cursor.nextset()
        sessions = [
            {
                "session_key": key,
                "created_at": created_at,
                "ip": ip,
                "user_agent": user_agent,
                "is_current": key == current_session_key,
            }
            for key, created_at, ip, user_agent in cursor.fetchall()
        ]
        cursor.nextset()
        apps = [
            {"app_id": app_id, "app_name": app_name, "last_at": last_at}
            for app_id, app_name, last_at in cursor.fetchall()
        ]
        cursor.nextset()
        labels = dict(SignInEvent.Result.choices)
        recent = [
            {
                "occurred_at": occurred_at,
                "result_label": labels.get(result, result),
                "ip_address": ip,
            }
            for occurred_at, result, ip in cursor.fetchall()
        ]
        cursor.nextset()
        owns_groups = cursor.fetchone()[0]
    return MyAccountLists(
        email_verified=email_verified,
        sessions=sessions,
        apps=apps,
        recent_sign_ins=recent,
        owns_groups=owns_groups,
    )


def directory_users(
    *,
    after: int = 0,
    limit: int = 100,
    mail: str | None = None,
    mail_startswith: str | None = None,
    display_name_startswith: str | None = None,
    user_type: str | None = None,
    enabled: bool | None = None,
) -> list[User]:
    """A page of the directory in creation order, after the user with primary key `after`
    (keyset paging: the same cost on page 1 and page 1,000)."""
    users = (
        User.objects.filter(pk__gt=after, deleted_at__isnull=True)
        .select_related("guest_profile")
        .order_by("pk")
    )
    if mail is not None:
        users = users.filter(email=email_normalize(mail))
    if mail_startswith is not None:
        users = users.filter(email__startswith=email_normalize(mail_startswith))
    if display_name_startswith is not None:
        users = users.filter(display_name__istartswith=display_name_startswith)
    if user_type is not None:
        users = users.filter(user_type=user_type)
    if enabled is not None:
        users = users.filter(is_active=enabled)
    return list(users[:limit])


def directory_user(*, public_id=None, email: str | None = None) -> User | None:
    """One user of the directory by id or email; deleted users are not in it."""
    users = User.objects.filter(deleted_at__isnull=True).select_related("guest_profile")
    if public_id is not None:
        return users.filter(public_id=public_id).first()
    return users.filter(email=email_normalize(email)).first()


def has_verified_address(user: User) -> bool:
    """Whether the address `user` signs in with has been proven (ID tokens say so)."""
    from allauth.account.models import EmailAddress

    return EmailAddress.objects.filter(user=user, email=user.email, verified=True).exists()


def directory_summary() -> dict[str, int]:
    """The counts on the console's overview."""
    return User.objects.filter(deleted_at__isnull=True).aggregate(
        users=Count("id"),
        members=Count("id", filter=Q(user_type=User.UserType.MEMBER)),
        guests=Count("id", filter=Q(user_type=User.UserType.GUEST)),
        admins=Count("id", filter=~Q(admin_roles=[])),
        disabled=Count("id", filter=Q(is_active=False)),
    )


def user_list() -> QuerySet[User]:
    """The console's Users list (deleted users only when the state filter asks for them,
    accounts.filtersets); guests carry their lifecycle (state, sponsor, invited and accepted
    dates) beside the user."""
    return User.objects.select_related("guest_profile__sponsor")


def user_get(public_id) -> User | None:
    """A user of the console's pages, deleted ones included (they can be restored)."""
    return User.objects.filter(public_id=public_id).select_related("guest_profile").first()


def user_audit_trail(user: User, *, limit: int = 20):
    """The latest audit rows about `user` or by them."""
    from audit.models import AuditEvent

    return list(
        AuditEvent.objects.filter(
            Q(target_type=User._meta.label_lower, target_id=str(user.public_id))
            | Q(actor_id=user.public_id)
        ).order_by("-occurred_at", "-id")[:limit]
    )


def user_apps(user: User) -> list[dict]:
    """The apps `user` signed in to (from the sign-in log) and the third-party apps they
    consented to, one line per app: name, client id, last sign-in, consented scopes and
    when, whether the app holds a live refresh token."""
    from oauth2_provider.models import get_refresh_token_model

    from oidc.models import Application, Consent

    apps: dict[str, dict] = {}
    signed_in = (
        SignInEvent.objects.filter(user=user, result=SignInEvent.Result.SUCCESS)
        .exclude(app_id="")
        .values("app_id")
        .annotate(last_at=Max("occurred_at"))
    )
    for row in signed_in:
        apps[row["app_id"]] = {"client_id": row["app_id"], "last_sign_in": row["last_at"]}
    for consent in Consent.objects.filter(user=user).select_related("application"):
        entry = apps.setdefault(
            consent.application.client_id, {"client_id": consent.application.client_id}
        )
        entry["consent"] = consent
    live = set(
        get_refresh_token_model()
        .objects.filter(user=user, revoked=None)
        .values_list("application__client_id", flat=True)
    )
    names = dict(
        Application.objects.filter(client_id__in=list(apps)).values_list("client_id", "name")
    )
    for client_id, entry in apps.items():
        entry["name"] = names.get(client_id) or client_id
        entry["refresh_token"] = client_id in live
    return sorted(apps.values(), key=lambda entry: str(entry["name"]).lower())


def user_identities(user: User) -> list:
    """The upstream identities (federation) linked to `user`."""
    from allauth.socialaccount.models import SocialAccount

    return list(SocialAccount.objects.filter(user=user).order_by("provider", "id"))
