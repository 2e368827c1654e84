"""Console pages of accounts: Users (the directory with its filters, export and import, a
user's page: profile, disabling, deletion and restore, password reset, sessions, admin
roles), User flows (sign-up and sign-in) and unlocking an account."""

from __future__ import annotations

import csv

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Value
from django.db.models.functions import Coalesce
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts import imports, lifecycle, selectors, services
from accounts.filtersets import UserFilterSet
from accounts.forms import (
    SignUpAttributeForm,
    UnlockForm,
    UserCreateForm,
    UserFlowForm,
    UserImportForm,
    UserProfileAdminForm,
    attribute_values,
)
from accounts.models import NEVER_SIGNED_IN, User
from accounts.roles import (
    LOG_READERS,
    AdminRole,
    assignable_roles,
    has_admin_role,
    manages_roles_of,
)
from accounts.tables import UserTable
from audit.selectors import recent_sign_ins_of
from ciam.forms import add_service_errors
from console.decorators import console_role
from console.lists import keyset_table, list_render
from oidc.selectors import longest_access_token_lifetime

UNLOCK_ROLES = (AdminRole.SECURITY_ADMINISTRATOR, AdminRole.USER_ADMINISTRATOR)


# The Users list's orders, each read from an index on (value, id) (accounts.models).
USER_LIST_ORDERS = {
    "email": "email",
    "date_joined": "date_joined",
    "last_login": Coalesce("last_login", Value(NEVER_SIGNED_IN)),
}
# A filtered page is first looked for among this many users in the list's order
# (console.lists._window_read): a frequent value (a city, "guests") is met within them.
USER_LIST_WINDOW = 2000
# Sections other apps add to a user's page: templates included with the page's context
# (`subject` is the user), in the order registered (user_page_section_register).
USER_PAGE_SECTIONS: list[str] = []


def user_page_section_register(template: str) -> None:
    """Add a section to Console > Users > a user (call from AppConfig.ready())."""
    if template not in USER_PAGE_SECTIONS:
        USER_PAGE_SECTIONS.append(template)


@console_role(AdminRole.USER_ADMINISTRATOR)
def user_list(request):
    filterset = UserFilterSet(request.GET, queryset=selectors.user_list(), request=request)
    filtered = any(value for key, value in request.GET.items() if key not in ("page", "sort"))
    table = keyset_table(
        request, UserTable, filterset.qs, orders=USER_LIST_ORDERS, default="email",
        window=USER_LIST_WINDOW if filtered else 0,
    )  # fmt: skip
    return list_render(request, "accounts/console/user_list.html", table=table, filterset=filterset)


# The export's columns before the attributes (one column per attribute of the user flow, then
# the others as "key=value; ...").
EXPORT_HEADER = [
    "id", "email", "display name", "given name", "surname", "user type", "state",
    "admin roles", "created (UTC)", "last sign-in (UTC)",
]  # fmt: skip


class _Echo:
    def write(self, value):
        return value


@console_role(AdminRole.USER_ADMINISTRATOR)
def user_export(request):
    """The list as it is filtered, every page of it, as CSV (cells a spreadsheet would run
    as a formula are written as text, ciam.spreadsheets). Streamed: a million rows leave in
    chunks, never held in memory."""
    from ciam.spreadsheets import spreadsheet_safe

    filterset = UserFilterSet(request.GET, queryset=selectors.user_list(), request=request)
    rows = filterset.qs.select_related(None).order_by("pk")
    keys = [attribute.key for attribute in selectors.sign_up_attributes(selectors.user_flow_get())]
    keys = [key for key in keys if key not in services.USER_FIELD_FOR_ATTRIBUTE]
    filters = {
        key[:40]: value[:200] for key, value in request.GET.items() if key not in ("page", "sort")
    }
    from audit.services import audit_record

    audit_record(
        actor=request.user, action="user.export", target_type="accounts.user",
        target_label="users", after={"filters": filters}, request=request,
    )  # fmt: skip
    writer = csv.writer(_Echo())

    def lines():
        yield writer.writerow([*EXPORT_HEADER, *keys, "other attributes"])
        for user in rows.iterator(chunk_size=2000):
            attributes = user.attributes or {}
            state = "deleted" if user.deleted_at else ("enabled" if user.is_active else "disabled")
            others = "; ".join(
                f"{key}={value}" for key, value in attributes.items() if key not in keys
            )
            cells = [
                user.public_id, user.email, user.display_name, user.first_name, user.last_name,
                user.user_type, state, " ".join(user.admin_roles or []),
                user.date_joined.strftime("%Y-%m-%d %H:%M:%S"),
                user.last_login.strftime("%Y-%m-%d %H:%M:%S") if user.last_login else "",
                *[attributes.get(key, "") for key in keys], others,
            ]  # fmt: skip
            yield writer.writerow([spreadsheet_safe(cell) for cell in cells])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="users.csv"'
    return response


def _subject(public_id) -> User:
    user = selectors.user_get(public_id)
    if user is None:
        raise Http404
    return user


def _access_token_minutes() -> int:
    return -(-longest_access_token_lifetime() // 60)


@console_role(AdminRole.USER_ADMINISTRATOR)
def user_detail(request, public_id):
    user = _subject(public_id)
    # The sign-in log's roles also see the user's latest sign-ins and audit trail here.
    reads_logs = any(has_admin_role(request.user, role) for role in LOG_READERS)
    manages_roles = manages_roles_of(request.user, user) and not user.is_deleted
    assignable = assignable_roles(request.user) if manages_roles else []
    manages = lifecycle.may_manage(actor=request.user, user=user)
    context = {
        "subject": user,
        "sign_ins": recent_sign_ins_of(user) if reads_logs else None,
        "audit_trail": selectors.user_audit_trail(user) if reads_logs else None,
        "apps": selectors.user_apps(user),
        "identities": selectors.user_identities(user),
        "may_manage": manages,
        "may_set_enabled": services.may_set_enabled(actor=request.user, user=user)
        and not user.is_deleted,
        "may_reset_password": manages and user.is_active and selectors.password_allowed(user),
        "restorable_until": lifecycle.restorable_until(user),
        "access_token_minutes": _access_token_minutes(),
        "manages_roles": manages_roles,
        "role_choices": [
            {"value": role, "label": AdminRole(role).label, "held": role in user.admin_roles}
            for role in assignable
        ],
        "extra_sections": USER_PAGE_SECTIONS,
    }
    return render(request, "accounts/console/user_detail.html", context)


def _attribute_form_values(form) -> dict:
    values = attribute_values(form)
    return {
        "first_name": values.pop("givenName", None),
        "last_name": values.pop("surname", None),
        "display_name": values.pop("displayName", None),
        "attributes": values,
    }


@require_http_methods(["GET", "POST"])
@console_role(AdminRole.USER_ADMINISTRATOR)
def user_create(request):
    attributes = selectors.sign_up_attributes(selectors.user_flow_get())
    form = UserCreateForm(request.POST or None, attributes=attributes)
    if request.method == "POST" and form.is_valid():
        try:
            user = lifecycle.user_create(
                actor=request.user, email=form.cleaned_data["email"], request=request,
                **_attribute_form_values(form),
            )  # fmt: skip
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request,
                _("%(email)s was created and emailed a link to choose their password.")
                % {"email": user.email},
            )
            return redirect("console:users:detail", public_id=user.public_id)
    return render(
        request, "accounts/console/user_form.html", {"form": form, "subject": None},
        status=400 if form.errors else 200,
    )  # fmt: skip


@require_http_methods(["GET", "POST"])
@console_role(AdminRole.USER_ADMINISTRATOR)
def user_edit(request, public_id):
    user = _subject(public_id)
    if not lifecycle.may_manage(actor=request.user, user=user) or user.is_deleted:
        return _refused(request, user, _("You cannot change this user."))
    attributes = selectors.sign_up_attributes(selectors.user_flow_get())
    form = UserProfileAdminForm(request.POST or None, user=user, attributes=attributes)
    if request.method == "POST" and form.is_valid():
        try:
            lifecycle.user_update(
                actor=request.user, user=user, request=request, **_attribute_form_values(form)
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Profile of %(email)s saved.") % {"email": user.email})
            return redirect("console:users:detail", public_id=user.public_id)
    return render(
        request, "accounts/console/user_form.html", {"form": form, "subject": user},
        status=400 if form.errors else 200,
    )  # fmt: skip


def _refused(request, user, message):
    messages.error(request, message)
    return redirect("console:users:detail", public_id=user.public_id)


def _confirm(request, user, *, title, consequence, label):
    return render(
        request,
        "console/confirm.html",
        {
            "title": title,
            "consequence": consequence,
            "confirm_label": label,
            "fields": {},
            "cancel_url": reverse("console:users:detail", args=[user.public_id]),
        },
    )


@require_http_methods(["GET", "POST"])
@console_role(AdminRole.USER_ADMINISTRATOR)
def user_delete(request, public_id):
    user = _subject(public_id)
    if request.method == "GET":
        return _confirm(
            request, user,
            title=_("Delete %(email)s?") % {"email": user.email},
            consequence=_(
                "They are disabled and hidden from the directory at once: their sessions end "
                "and their apps' refresh tokens are revoked. You can restore them for "
                "%(days)d days; then they, their sessions, tokens, linked identities and MFA "
                "methods are deleted for good (the logs keep their name)."
            ) % {"days": lifecycle.DELETED_KEEP_DAYS},
            label=_("Delete user"),
        )  # fmt: skip
    try:
        lifecycle.user_delete(actor=request.user, user=user, request=request)
    except ValidationError as error:
        return _refused(request, user, " ".join(error.messages))
    messages.success(
        request,
        _("%(email)s is deleted. You can restore them until %(date)s.")
        % {"email": user.email, "date": f"{lifecycle.restorable_until(user):%Y-%m-%d %H:%M} UTC"},
    )
    return redirect("console:users:list")


@require_POST
@console_role(AdminRole.USER_ADMINISTRATOR)
def user_restore(request, public_id):
    user = _subject(public_id)
    try:
        lifecycle.user_restore(actor=request.user, user=user, request=request)
    except ValidationError as error:
        return _refused(request, user, " ".join(error.messages))
    messages.success(request, _("%(email)s is restored.") % {"email": user.email})
    return redirect("console:users:detail", public_id=user.public_id)


@require_POST
@console_role(AdminRole.USER_ADMINISTRATOR)
def user_password_reset(request, public_id):
    user = _subject(public_id)
    try:
        lifecycle.user_password_reset_send(actor=request.user, user=user, request=request)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        if any(item.code == "rate_limited" for item in error.error_list):
            # Nothing was sent: the page says why, with the status a client can act on.
            response = user_detail(request, public_id)
            response.status_code = 429
            return response
        return redirect("console:users:detail", public_id=user.public_id)
    messages.success(
        request, _("A link to choose a new password was sent to %(email)s.") % {"email": user.email}
    )
    return redirect("console:users:detail", public_id=user.public_id)


@require_http_methods(["GET", "POST"])
@console_role(AdminRole.USER_ADMINISTRATOR)
def user_sessions_revoke(request, public_id):
    user = _subject(public_id)
    if request.method == "GET":
        return _confirm(
            request, user,
            title=_("Sign %(email)s out everywhere?") % {"email": user.email},
            consequence=_(
                "Their browser sessions end and the refresh tokens their apps hold are revoked "
                "now. Access tokens already issued keep working until they expire, at most "
                "%(minutes)s minutes."
            ) % {"minutes": _access_token_minutes()},
            label=_("Revoke sessions"),
        )  # fmt: skip
    try:
        ended, revoked = lifecycle.user_sessions_revoke(
            actor=request.user, user=user, request=request
        )
    except ValidationError as error:
        return _refused(request, user, " ".join(error.messages))
    messages.success(
        request,
        _("%(sessions)d sessions ended and %(tokens)d refresh tokens revoked.")
        % {"sessions": ended, "tokens": revoked},
    )
    return redirect("console:users:detail", public_id=user.public_id)


@require_http_methods(["GET", "POST"])
@console_role(AdminRole.USER_ADMINISTRATOR)
def user_import_create(request):
    form = UserImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            job = imports.user_import_start(
                actor=request.user, data=upload.read(), file_name=upload.name, request=request
            )
        except PermissionDenied as error:
            messages.error(request, str(error))
            return redirect("console:users:list")
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return redirect("console:users:import-detail", public_id=job.public_id)
    return render(
        request, "accounts/console/user_import_form.html", {"form": form},
        status=400 if form.errors else 200,
    )  # fmt: skip


@console_role(AdminRole.USER_ADMINISTRATOR)
def user_import_detail(request, public_id):
    from accounts.models import UserImport

    job = UserImport.objects.filter(public_id=public_id).first()
    if job is None:
        raise Http404
    context = {"job": job, "reasons": imports.IMPORT_REASONS}
    template = "accounts/console/user_import_detail.html"
    return render(request, f"{template}#progress" if request.htmx else template, context)


@require_POST
@console_role(AdminRole.USER_ADMINISTRATOR)
def user_roles_set(request, public_id):
    user = _subject(public_id)
    # The roles the admin may not change are kept as they are; a request that changes them
    # anyway (a forged form) is refused by the service.
    kept = set(user.admin_roles) - set(assignable_roles(request.user))
    roles = kept | set(request.POST.getlist("roles"))
    try:
        services.user_admin_roles_set(
            actor=request.user, user=user, roles=list(roles), request=request
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Admin roles of %(email)s saved.") % {"email": user.email})
    return redirect("console:users:detail", public_id=user.public_id)


@require_http_methods(["GET", "POST"])
@console_role(AdminRole.USER_ADMINISTRATOR)
def user_enabled_set(request, public_id):
    user = _subject(public_id)
    if request.method == "GET":
        # The confirmation only for a change the submit would make (the user's page shows
        # no button otherwise, but the URL may be typed): else the reason, on the user's page.
        problem = services.set_enabled_problem(actor=request.user, user=user)
        if problem:
            messages.error(request, problem)
            return redirect("console:users:detail", public_id=user.public_id)
        return render(
            request,
            "console/confirm.html",
            {
                "title": _("Disable %(email)s?") % {"email": user.email},
                "consequence": _(
                    "Their sessions end and the refresh tokens their apps hold are revoked "
                    "now. Access tokens already issued keep working until they expire, at most "
                    "%(minutes)s minutes: apps check these signed tokens without asking us."
                )
                % {"minutes": _access_token_minutes()},
                "confirm_label": _("Disable user"),
                "fields": {"enabled": "false"},
                "cancel_url": reverse("console:users:detail", args=[user.public_id]),
            },
        )
    enabled = request.POST.get("enabled") == "true"
    try:
        services.user_set_enabled(user=user, enabled=enabled, actor=request.user, request=request)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        if enabled:
            messages.success(request, _("%(email)s can sign in again.") % {"email": user.email})
        else:
            messages.success(
                request,
                _(
                    "%(email)s is disabled: their sessions ended and their apps' refresh "
                    "tokens were revoked. Access tokens already issued keep working until they "
                    "expire, at most %(minutes)s minutes."
                )
                % {"email": user.email, "minutes": _access_token_minutes()},
            )
    return redirect("console:users:detail", public_id=user.public_id)


@require_http_methods(["GET", "POST"])
@console_role(AdminRole.USER_ADMINISTRATOR)
def user_flow(request):
    flow = selectors.user_flow_get()
    form = UserFlowForm(request.POST or None, instance=flow)
    if request.method == "POST" and form.is_valid():
        try:
            services.user_flow_update(actor=request.user, request=request, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("User flow saved. The hosted pages use it now."))
            return redirect("console:user-flows:edit")
    return render(
        request,
        "accounts/console/user_flow.html",
        {
            "form": form,
            "attributes": selectors.sign_up_attributes(flow),
            "attribute_form": SignUpAttributeForm(
                initial={"position": len(selectors.sign_up_attributes(flow))}
            ),
            "builtin_attributes": services.BUILTIN_ATTRIBUTES,
        },
        status=400 if form.errors else 200,
    )


@require_http_methods(["GET", "POST"])
@console_role(AdminRole.USER_ADMINISTRATOR)
def sign_up_attribute_edit(request, public_id=None):
    attribute = None
    if public_id is not None:
        attribute = selectors.sign_up_attribute_get(public_id)
        if attribute is None:
            raise Http404
    initial = {}
    if attribute is not None:
        initial = {
            "key": attribute.key,
            "label": attribute.label,
            "data_type": attribute.data_type,
            "choices": "\n".join(attribute.choices),
            "required": attribute.required,
            "position": attribute.position,
        }
    form = SignUpAttributeForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.sign_up_attribute_save(
                actor=request.user, attribute=attribute, request=request, **form.cleaned_data
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Sign-up attribute saved."))
            return redirect("console:user-flows:edit")
    return render(
        request,
        "accounts/console/sign_up_attribute_form.html",
        {"form": form, "attribute": attribute},
        status=400 if form.errors else 200,
    )


@require_POST
@console_role(AdminRole.USER_ADMINISTRATOR)
def sign_up_attribute_delete(request, public_id):
    attribute = selectors.sign_up_attribute_get(public_id)
    if attribute is None:
        raise Http404
    services.sign_up_attribute_delete(actor=request.user, attribute=attribute, request=request)
    messages.success(
        request, _("The sign-up page no longer asks for “%(key)s”.") % {"key": attribute.key}
    )
    return redirect("console:user-flows:edit")


@require_POST
@console_role(*UNLOCK_ROLES)
def account_unlock(request):
    form = UnlockForm(request.POST)
    if form.is_valid():
        services.account_unlock(
            actor=request.user, email=form.cleaned_data["email"], request=request
        )
        messages.success(
            request,
            _("%(email)s can sign in again.") % {"email": form.cleaned_data["email"]},
        )
    else:
        messages.error(request, _("Enter a valid email address to unlock."))
    return redirect("console:logs:sign-ins")
