from __future__ import annotations

import re
from concurrent.futures import Future, ThreadPoolExecutor

import psycopg
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, OperationalError, connection, transaction
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django_tenants.utils import schema_context, tenant_context

from audit.services import audit_record
from ciam import metrics
from ciam.ratelimit import hit, ip_source
from tenants.models import DeletedTenant, Domain, Tenant
from tenants.provisioning import migration_fingerprint_cached, schema_create_from_template
from tenants.routing import routing_invalidate
from tenants.selectors import deleted_tenants_in_quarantine

SLUG_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$")
RESERVED_SLUGS = frozenset(
    {
        "www", "admin", "api", "login", "logout", "signin", "signup", "auth", "oauth", "oidc",
        "account", "accounts", "console", "mail", "smtp", "static", "media", "status", "help",
        "support", "docs", "app", "apps", "public", "platform", "operator", "root", "system",
        "tenant", "tenants", "template", "security", "billing", "dashboard", "localhost",
    }
)  # fmt: skip


def slug_problem(slug: str) -> str | None:
    """Why `slug` cannot name a new tenant, or None when it can."""
    if len(slug) < 3 or len(slug) > 40:
        return _("Use 3 to 40 characters.")
    if not SLUG_PATTERN.match(slug):
        return _(
            "Use lowercase letters, digits and hyphens only, starting and ending with a letter "
            "or digit."
        )
    if "--" in slug:
        return _("Two hyphens in a row are not allowed.")
    if slug in RESERVED_SLUGS:
        return _("“%(slug)s” is reserved. Choose another name.") % {"slug": slug}
    # One statement: a tenant's slug, a host, or a deleted tenant's slug in quarantine (said
    # like a taken name: whether a tenant was deleted is nobody else's business).
    taken = (
        Tenant.objects.filter(slug=slug)
        .values("pk")
        .union(
            Domain.objects.filter(domain=f"{slug}.{settings.BASE_DOMAIN}").values("pk"),
            deleted_tenants_in_quarantine().filter(slug=slug).values("pk"),
            all=True,
        )
    )
    if taken.exists():
        return _("“%(slug)s” is already taken.") % {"slug": slug}
    return None


@transaction.atomic
def deleted_tenant_release(*, record: DeletedTenant, actor) -> DeletedTenant:
    """Let the slug of a deleted tenant be taken again before its quarantine ends."""
    if record.released_at is not None:
        return record
    record.released_at = timezone.now()
    record.released_by = getattr(actor, "email", str(actor))[:254]
    record.save(update_fields=["released_at", "released_by"])
    audit_record(
        actor=actor,
        action="tenant.slug_release",
        target_type="deleted_tenant",
        target_label=record.slug,
        before={"reserved": True},
        after={"reserved": False},
    )
    return record


def schema_name_for(slug: str) -> str:
    # Slugs never contain underscores, so this mapping cannot make two slugs collide.
    return "t_" + slug.replace("-", "_")


@transaction.atomic
def tenant_create(
    *,
    name: str,
    slug: str,
    admin_email: str,
    admin_password: str,
    created_by=None,
    ip: str | None = None,
) -> Tenant:
    """Create a tenant with its schema, primary domain, first Global administrator and the
    defaults every feature registers in TENANT_DEFAULTS. With `ip`, the call counts toward
    that address's attempts (TENANT_CREATE_ATTEMPTS_PER_IP) and the creation toward its
    creations (TENANT_CREATE_LIMIT_PER_IP); past either it is refused."""
    name = name.strip()
    slug = slug.strip().lower()
    admin_email = admin_email.strip()
    if ip is not None:
        _tenant_create_attempt_take(ip=ip)

    # The administrator's password is hashed on another thread from here on, while the values
    # are checked and everything else is written: the hash (argon2id, 20 to 40 ms by
    # machine) releases the GIL, so a creation waits for the longer of the two rather than
    # their sum. A refused creation wastes its hash, which is why attempts are counted first.
    # The administrator is saved with an unusable password and given the hash by one UPDATE
    # before the transaction commits, so no other connection ever sees the row without it.
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tenant-admin-password")
    try:
        admin_password_hash = pool.submit(make_password, admin_password)
        errors = tenant_create_problems(
            name=name, slug=slug, admin_email=admin_email, admin_password=admin_password
        )
        if errors:
            raise ValidationError(errors)
        if ip is not None:
            _tenant_create_rate_take(ip=ip)
        tenant = _tenant_create_checked(
            name=name,
            slug=slug,
            admin_email=admin_email,
            admin_password_hash=admin_password_hash,
            created_by=created_by,
        )
    finally:
        pool.shutdown(wait=False)  # a refused creation does not wait for its hash
    routing_invalidate()
    return tenant


def _tenant_create_checked(
    *, name: str, slug: str, admin_email: str, admin_password_hash: Future, created_by
) -> Tenant:
    """tenant_create's writes, once its values passed every check (one transaction)."""
    # Cloned from the template (or a spare made from it) of the code's migrations.
    tenant = Tenant(
        name=name,
        slug=slug,
        schema_name=schema_name_for(slug),
        migrations_fingerprint=migration_fingerprint_cached(),
    )
    try:
        tenant.save()
        # bulk_create skips DomainMixin.save's demotion of the tenant's other primary hosts
        # (an UPDATE): a new tenant has none.
        Domain.objects.bulk_create(
            [Domain(domain=tenant.primary_host, tenant=tenant, is_primary=True, is_verified=True)]
        )
        schema_create_from_template(tenant.schema_name)
    except IntegrityError as error:
        # Two creations racing for one slug: the unique indexes let exactly one through
        # (the whole creation is one transaction, rolled back here).
        raise ValidationError(
            {"slug": [_("“%(slug)s” is already taken.") % {"slug": slug}]}
        ) from error
    with tenant_context(tenant):
        from django.contrib.auth import get_user_model

        from accounts.roles import AdminRole

        User = get_user_model()
        admin = User(
            email=User.objects.normalize_email(admin_email),
            password=make_password(None),  # unusable until the hash below replaces it
            admin_roles=[AdminRole.GLOBAL_ADMINISTRATOR],
        )
        admin.save()
        for dotted_path in settings.TENANT_DEFAULTS:
            import_string(dotted_path)(tenant=tenant, admin=admin)
        audit_record(actor=created_by or admin, action="tenant.create", target=tenant)
        admin.password = admin_password_hash.result()
        User.objects.filter(pk=admin.pk).update(password=admin.password)
    return tenant


def tenant_create_problems(
    *, name: str, slug: str, admin_email: str, admin_password: str
) -> dict[str, list[str]]:
    """Every reason, per field, why these values cannot create a tenant (all fields at once,
    so that a form shows them all in one round)."""
    name = name.strip()
    slug = slug.strip().lower()
    admin_email = admin_email.strip()
    errors: dict[str, list[str]] = {}
    if not name:
        errors["name"] = [_("Enter a display name.")]
    elif len(name) > 100:
        errors["name"] = [_("Use at most 100 characters.")]
    problem = slug_problem(slug)
    if problem:
        errors["slug"] = [problem]
    try:
        validate_email(admin_email)
    except ValidationError:
        errors["admin_email"] = [_("Enter a valid email address.")]
    try:
        validate_password(admin_password, user=_PasswordContext(admin_email, name, slug))
    except ValidationError as error:
        errors["admin_password"] = list(error.messages)
    return errors


def _tenant_create_attempt_take(*, ip: str) -> None:
    """Count one attempt from `ip`, valid or not (each costs a password hash and the
    checks), or refuse when the window's attempts already reached the limit."""
    limit = settings.TENANT_CREATE_ATTEMPTS_PER_IP
    window = settings.TENANT_CREATE_LIMIT_WINDOW_SECONDS
    if not hit(f"tenants:create-attempt:{ip_source(ip)}", limit, window).allowed:
        raise ValidationError(
            _("Too many attempts to create a tenant from your network. Try again later."),
            code="rate_limited",
        )


def _tenant_create_rate_take(*, ip: str) -> None:
    """Count one creation from `ip` in the current window, or refuse when the window's
    creations already reached the limit."""
    limit = settings.TENANT_CREATE_LIMIT_PER_IP
    window = settings.TENANT_CREATE_LIMIT_WINDOW_SECONDS
    # The window starts with the first creation.
    if not hit(f"tenants:create:{ip_source(ip)}", limit, window).allowed:
        minutes = max(1, window // 60)
        raise ValidationError(
            ngettext(
                "At most %(limit)d tenants can be created from one network in %(minutes)d "
                "minute. Try again later.",
                "At most %(limit)d tenants can be created from one network in %(minutes)d "
                "minutes. Try again later.",
                minutes,
            )
            % {"limit": limit, "minutes": minutes},
            code="rate_limited",
        )


class _PasswordContext:
    """What password validators may compare a new admin's password with."""

    def __init__(self, email: str, tenant_name: str, slug: str):
        self.email = email
        self.tenant_name = tenant_name
        self.slug = slug


@transaction.atomic
def tenant_suspend(*, tenant: Tenant, actor) -> Tenant:
    if tenant.is_suspended:
        return tenant
    tenant.status = Tenant.Status.SUSPENDED
    tenant.suspended_at = timezone.now()
    tenant.save(update_fields=["status", "suspended_at"])
    _end_all_sessions(tenant)
    audit_record(
        actor=actor,
        action="tenant.suspend",
        target=tenant,
        before={"status": "active"},
        after={"status": "suspended"},
    )
    routing_invalidate()
    return tenant


@transaction.atomic
def tenant_resume(*, tenant: Tenant, actor) -> Tenant:
    if not tenant.is_suspended:
        return tenant
    tenant.status = Tenant.Status.ACTIVE
    tenant.suspended_at = None
    tenant.save(update_fields=["status", "suspended_at"])
    audit_record(
        actor=actor,
        action="tenant.resume",
        target=tenant,
        before={"status": "suspended"},
        after={"status": "active"},
    )
    routing_invalidate()
    return tenant


@transaction.atomic
def tenant_delete(*, tenant: Tenant, confirm_slug: str, actor) -> DeletedTenant:
    """Drop the tenant's schema; a record of the deletion stays in the public schema."""
    if confirm_slug.strip() != tenant.slug:
        raise ValidationError(
            {"confirm_slug": [_("Type the slug “%(slug)s” to confirm.") % {"slug": tenant.slug}]}
        )
    from tenants.selectors import tenant_user_counts

    record = DeletedTenant.objects.create(
        public_id=tenant.public_id,
        slug=tenant.slug,
        name=tenant.name,
        schema_name=tenant.schema_name,
        created_at=tenant.created_at,
        deleted_by=getattr(actor, "email", str(actor))[:254],
        user_count=tenant_user_counts([tenant]).get(tenant.pk, 0),
    )
    with schema_context("public"), connection.cursor() as cursor:
        # Deferred foreign-key checks still pending in this transaction would block the drop.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        _schema_drop(cursor, tenant.schema_name)
    from domains.services import tenant_domains_reserve

    # Its custom domains stay reserved as its slug does (README, "Custom domains").
    tenant_domains_reserve(tenant=tenant, actor=actor)
    snapshot = {"slug": tenant.slug, "name": tenant.name, "schema": tenant.schema_name}
    audit_record(actor=actor, action="tenant.delete", target=tenant, before=snapshot)
    tenant.delete()
    routing_invalidate()
    schema_name = tenant.schema_name
    transaction.on_commit(lambda: metrics.outbox_tenant_forget(schema_name))
    return record


SCHEMA_DROP_TRIES = 3


def _schema_drop(cursor, schema_name: str) -> None:
    """DROP SCHEMA ... CASCADE locks the schema's tables one after another, so a request
    still running in the tenant, holding one table and then asking for another, can make a
    deadlock that PostgreSQL breaks by failing the drop. Each try is a savepoint: a failed
    one gives its locks back, the request finishes, and the drop is tried again."""
    for attempt in range(1, SCHEMA_DROP_TRIES + 1):
        try:
            with transaction.atomic():
                cursor.execute(f'DROP SCHEMA IF EXISTS "{schema_name}" CASCADE')
            return
        except OperationalError as error:
            if attempt == SCHEMA_DROP_TRIES or not isinstance(
                error.__cause__, psycopg.errors.DeadlockDetected
            ):
                raise


def _end_all_sessions(tenant: Tenant) -> None:
    with tenant_context(tenant):
        from django.contrib.sessions.models import Session

        Session.objects.all().delete()


@transaction.atomic
def tenant_default_language_set(*, tenant: Tenant, language: str, actor, request=None) -> Tenant:
    """The language of the tenant's pages and emails when nothing else names one. Every
    process sees it within a second (the routing cache keeps tenants)."""
    from ciam.locale import language_supported

    supported = language_supported(language)
    if supported is None or supported != language:
        raise ValidationError({"default_language": _("Choose one of the languages listed.")})
    before = tenant.default_language
    if before == language:
        return tenant
    Tenant.objects.filter(pk=tenant.pk).update(default_language=language)
    tenant.default_language = language
    audit_record(
        actor=actor,
        action="tenant.default_language_set",
        target=tenant,
        before={"default_language": before},
        after={"default_language": language},
        request=request,
    )
    routing_invalidate()
    return tenant
