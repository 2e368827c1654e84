"""Console: App registrations (Application administrator) and the tenant's signing keys."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts.roles import AdminRole
from ciam.forms import add_service_errors
from console.decorators import console_role
from console.lists import list_page
from oidc import keys, selectors, services, tokens
from oidc.filtersets import ApplicationFilterSet
from oidc.forms import (
    TYPE_DESCRIPTIONS,
    ApplicationForm,
    RoleAssignForm,
    RoleForm,
    SecretForm,
    days,
    hours,
)
from oidc.models import Application, AppRole, ClientSecret, SigningKey
from oidc.tables import ApplicationTable

APP_ADMIN = AdminRole.APPLICATION_ADMINISTRATOR
# A new client secret waits here for the one page that shows it (Post/Redirect/Get).
NEW_SECRET_SESSION_KEY = "oidc:new-secret"


def _see_other(view_name: str, **kwargs):
    """After a successful POST: 303, so reloading the page that follows repeats nothing."""
    response = redirect(view_name, **kwargs)
    response.status_code = 303
    return response


def _secret_keep(request, application, secret: str) -> None:
    request.session[NEW_SECRET_SESSION_KEY] = {
        "app": str(application.public_id),
        "secret": secret,
    }


def _secret_take(request, application) -> str | None:
    """The app's new secret, once: the next display no longer has it."""
    kept = request.session.get(NEW_SECRET_SESSION_KEY)
    if not kept or kept.get("app") != str(application.public_id):
        return None
    del request.session[NEW_SECRET_SESSION_KEY]
    return kept["secret"]


@console_role(APP_ADMIN)
def app_list(request):
    return list_page(
        request,
        "oidc/app_list.html",
        table_class=ApplicationTable,
        filterset_class=ApplicationFilterSet,
        queryset=selectors.application_list(),
    )


@console_role(APP_ADMIN)
def app_create(request):
    """First the type (links, so it works without JavaScript), then that type's fields."""
    app_type = request.POST.get("app_type") or request.GET.get("type", "")
    if app_type not in Application.AppType.values:
        app_type = Application.AppType.WEB
    form = ApplicationForm(request.POST or None, app_type=app_type)
    if request.method == "POST" and form.is_valid():
        try:
            application, secret = services.application_create(
                actor=request.user, request=request, **form.service_values()
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            if secret:
                _secret_keep(request, application, secret)
            messages.success(request, _("App registered."))
            return _see_other("console:apps:detail", public_id=application.public_id)
    app_types = [
        (value, label, TYPE_DESCRIPTIONS[value]) for value, label in Application.AppType.choices
    ]
    return render(
        request,
        "oidc/app_form.html",
        {"form": form, "creating": True, "app_type": app_type, "app_types": app_types},
    )


def _detail(request, application, *, new_secret=None, status=200, **extra):
    issuer = tokens.issuer()
    context = {
        "application": application,
        "issuer": issuer,
        "issuer_host": urlsplit(issuer).netloc,
        "api_audience": tokens.api_audience(),
        # The quickstart's redirect URI: the app's first, or a placeholder until it has one.
        "redirect_uri": (
            application.redirect_uris.split() or ["https://your-app.example/callback"]
        )[0],
        "issuer_is_http": issuer.startswith("http://"),
        "lifetimes": {
            "access": hours(application.access_token_lifetime),
            "id": hours(application.id_token_lifetime),
            "refresh": days(application.refresh_token_lifetime),
        },
        "permission_grants": [
            (
                permission,
                selectors.permission_authority(
                    client_id=application.client_id, permission=permission
                ),
            )
            for permission in application.api_permissions
        ],
        "secrets": application.secrets.all(),
        "roles": application.roles.prefetch_related("users", "group_assignments__group"),
        "new_secret": new_secret,
        "secret_form": SecretForm(),
        "role_form": RoleForm(),
        "assign_form": RoleAssignForm(),
        **extra,
    }
    response = render(request, "oidc/app_detail.html", context, status=status)
    if new_secret:
        add_never_cache_headers(response)  # the secret must not come back from a cache
    return response


@console_role(APP_ADMIN)
def app_detail(request, public_id):
    application = get_object_or_404(Application, public_id=public_id)
    return _detail(request, application, new_secret=_secret_take(request, application))


@console_role(APP_ADMIN)
def app_edit(request, public_id):
    application = get_object_or_404(Application, public_id=public_id)
    form = ApplicationForm.for_application(application, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.application_update(
                application=application,
                actor=request.user,
                request=request,
                **form.service_values(),
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Saved."))
            return _see_other("console:apps:detail", public_id=application.public_id)
    return render(request, "oidc/app_form.html", {"form": form, "application": application})


@require_POST
@console_role(APP_ADMIN)
def app_delete(request, public_id):
    application = get_object_or_404(Application, public_id=public_id)
    services.application_delete(application=application, actor=request.user, request=request)
    messages.success(request, _("App deleted; its tokens no longer work."))
    return _see_other("console:apps:list")


@require_POST
@console_role(APP_ADMIN)
def secret_create(request, public_id):
    application = get_object_or_404(Application, public_id=public_id)
    form = SecretForm(request.POST)
    form.is_valid()
    try:
        _record, secret = services.client_secret_create(
            application=application,
            actor=request.user,
            description=form.cleaned_data.get("description", ""),
            request=request,
        )
    except ValidationError as error:
        return _detail(request, application, status=400, secret_error=error.messages)
    _secret_keep(request, application, secret)
    return _see_other("console:apps:detail", public_id=application.public_id)


@require_POST
@console_role(APP_ADMIN)
def secret_revoke(request, public_id, secret_id):
    secret = get_object_or_404(ClientSecret, public_id=secret_id, application__public_id=public_id)
    services.client_secret_revoke(secret=secret, actor=request.user, request=request)
    messages.success(request, _("Secret revoked."))
    return _see_other("console:apps:detail", public_id=public_id)


@require_POST
@console_role(APP_ADMIN)
def role_create(request, public_id):
    application = get_object_or_404(Application, public_id=public_id)
    form = RoleForm(request.POST)
    if form.is_valid():
        try:
            services.app_role_create(application=application, actor=request.user,
                                     request=request, **form.cleaned_data)  # fmt: skip
        except ValidationError as error:
            add_service_errors(form, error)
    if form.errors:
        return _detail(request, application, status=400, role_form=form)
    return _see_other("console:apps:detail", public_id=public_id)


@require_POST
@console_role(APP_ADMIN)
def role_assign(request, public_id, role_id):
    role = get_object_or_404(AppRole, public_id=role_id, application__public_id=public_id)
    form = RoleAssignForm(request.POST)
    user = None
    if form.is_valid():
        user = get_user_model().objects.with_email(form.cleaned_data["email"]).first()
        if user is None:
            form.add_error("email", _("No user with this email in this tenant."))
    if user is None:
        return _detail(request, role.application, status=400, assign_form=form)
    services.app_role_assign(role=role, user=user, actor=request.user, request=request)
    return _see_other("console:apps:detail", public_id=public_id)


@require_POST
@console_role(APP_ADMIN)
def role_unassign(request, public_id, role_id, user_id):
    role = get_object_or_404(AppRole, public_id=role_id, application__public_id=public_id)
    user = get_object_or_404(role.users, public_id=user_id)
    services.app_role_unassign(role=role, user=user, actor=request.user, request=request)
    return _see_other("console:apps:detail", public_id=public_id)


@require_POST
@console_role(APP_ADMIN)
def role_delete(request, public_id, role_id):
    role = get_object_or_404(AppRole, public_id=role_id, application__public_id=public_id)
    services.app_role_delete(role=role, actor=request.user, request=request)
    return _see_other("console:apps:detail", public_id=public_id)


@console_role(APP_ADMIN, AdminRole.SECURITY_ADMINISTRATOR)
def signing_keys(request):
    published = {key.kid for key in keys.key_list()}
    try:
        signing = keys.signing_kid()
    except LookupError:
        signing = None
    return render(
        request,
        "oidc/signing_keys.html",
        {"keys": SigningKey.objects.all(), "published": published, "signing": signing},
    )


@require_http_methods(["GET", "POST"])
@console_role(AdminRole.SECURITY_ADMINISTRATOR)
def signing_key_rotate(request):
    if request.method == "GET":
        return render(
            request,
            "console/confirm.html",
            {
                "title": _("Rotate the signing key?"),
                "consequence": _(
                    "A new key is published at once and signs tokens from an hour from now. "
                    "Apps that pin the current key instead of reading the key set stop "
                    "accepting new tokens then."
                ),
                "confirm_label": _("Rotate key"),
                "cancel_url": reverse("console:apps:signing-keys"),
            },
        )
    key = services.signing_key_rotate(actor=request.user, request=request)
    messages.success(
        request,
        _("New key %(kid)s is published now and signs from %(when)s UTC.")
        % {"kid": key.kid, "when": key.active_from.strftime("%Y-%m-%d %H:%M")},
    )
    return _see_other("console:apps:signing-keys")
