"""Console > Identity providers: list, add (generic OpenID Connect, Google, Microsoft,
GitHub), edit, enable or disable, test the connection, read a SAML IdP's metadata again,
delete (Security administrator)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts.roles import AdminRole
from ciam.forms import add_service_errors
from console.decorators import console_role
from console.lists import list_page
from federation import selectors, services
from federation.filtersets import IdentityProviderFilterSet
from federation.forms import AppIdentityProvidersForm, IdentityProviderForm, form_initial
from federation.models import AppIdentityProviders, IdentityProvider
from federation.tables import IdentityProviderTable

SECURITY_ADMIN = AdminRole.SECURITY_ADMINISTRATOR


def _see_other(view_name: str, *args):
    response = redirect(view_name, *args)
    response.status_code = 303
    return response


def _provider_or_404(public_id) -> IdentityProvider:
    provider = selectors.identity_provider_get(public_id)
    if provider is None:
        raise Http404
    return provider


def _detail_context(provider: IdentityProvider) -> dict:
    context = {"provider": provider, "redirect_uri": services.redirect_uri(provider)}
    if provider.is_saml:
        from federation import saml

        context["saml"] = {
            "sp_metadata_url": saml.sp_entity_id(provider),
            "idp_certificates": [
                summary
                for summary in map(saml.certificate_summary, provider.saml_certificates)
                if summary is not None
            ],
            "sp_certificate_until": saml.certificate_not_after(provider.sp_certificate),
        }
    return context


def _admin_domains_confirmed(form, provider) -> bool:
    """Whether the form may be saved as far as administrators' domains go: none of the newly
    mapped domains is an administrator's, or the admin ticked the confirmation."""
    data = form.cleaned_data
    confirmed = data.pop("confirm_admin_domains", False)
    addresses = services.administrators_at_domains(data.get("email_domains"), provider)
    if not addresses or confirmed:
        return True
    form.warn_admin_domains(services.admin_domains_warning(addresses))
    return False


@console_role(SECURITY_ADMIN)
def provider_list(request):
    return list_page(
        request,
        "federation/console/provider_list.html",
        table_class=IdentityProviderTable,
        filterset_class=IdentityProviderFilterSet,
        queryset=selectors.identity_provider_list(),
        kinds=IdentityProvider.Kind.choices,
    )


@console_role(SECURITY_ADMIN)
@require_http_methods(["GET", "POST"])
def provider_create(request, kind):
    if kind not in IdentityProvider.Kind.values:
        raise Http404
    form = IdentityProviderForm(request.POST or None, request.FILES or None, kind=kind)
    if request.method == "POST" and form.is_valid() and _admin_domains_confirmed(form, None):
        try:
            provider = services.identity_provider_create(
                actor=request.user, kind=kind, request=request, **form.cleaned_data
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request,
                _("%(name)s is added. Register the redirect URI below at the provider.")
                % {"name": provider.name},
            )
            return _see_other("console:identity-providers:detail", provider.public_id)
    return render(
        request,
        "federation/console/provider_form.html",
        {"form": form, "kind_label": IdentityProvider.Kind(kind).label, "creating": True},
        status=400 if form.errors else 200,
    )


@console_role(SECURITY_ADMIN)
def provider_detail(request, public_id):
    provider = _provider_or_404(public_id)
    return render(
        request,
        "federation/console/provider_detail.html",
        _detail_context(provider),
    )


@console_role(SECURITY_ADMIN)
@require_http_methods(["GET", "POST"])
def provider_edit(request, public_id):
    provider = _provider_or_404(public_id)
    form = IdentityProviderForm(
        request.POST or None,
        request.FILES or None,
        kind=provider.kind,
        editing=True,
        initial=form_initial(provider),
    )
    if request.method == "POST" and form.is_valid() and _admin_domains_confirmed(form, provider):
        try:
            services.identity_provider_update(
                actor=request.user, provider=provider, request=request, **form.cleaned_data
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("%(name)s is saved.") % {"name": provider.name})
            return _see_other("console:identity-providers:detail", provider.public_id)
    return render(
        request,
        "federation/console/provider_form.html",
        {"form": form, "provider": provider, "kind_label": provider.get_kind_display()},
        status=400 if form.errors else 200,
    )


@require_POST
@console_role(SECURITY_ADMIN)
def provider_enabled(request, public_id):
    provider = _provider_or_404(public_id)
    enabled = request.POST.get("enabled") == "on"
    services.identity_provider_enabled_set(
        actor=request.user, provider=provider, enabled=enabled, request=request
    )
    if enabled:
        messages.success(request, _("%(name)s is enabled.") % {"name": provider.name})
    else:
        messages.success(
            request,
            _(
                "%(name)s is disabled: its button is gone and its sign-ins stop; linked "
                "accounts stay."
            )
            % {"name": provider.name},
        )
    return _see_other("console:identity-providers:detail", provider.public_id)


@require_POST
@console_role(SECURITY_ADMIN)
def provider_test(request, public_id):
    provider = _provider_or_404(public_id)
    ok, lines = services.connection_test(provider)
    return render(
        request,
        "federation/console/provider_detail.html",
        {**_detail_context(provider), "test": {"ok": ok, "lines": lines}},
    )


@require_POST
@console_role(SECURITY_ADMIN)
def provider_metadata_refresh(request, public_id):
    """A SAML IdP configured by metadata URL: its metadata read again (a key rollover)."""
    provider = _provider_or_404(public_id)
    if not provider.is_saml or not provider.saml_metadata_url:
        raise Http404
    try:
        changes = services.identity_provider_metadata_refresh(
            actor=request.user, provider=provider, request=request
        )
    except ValidationError as error:
        messages.error(
            request,
            " ".join(
                [_("The metadata could not be read again; nothing changed."), *error.messages]
            ),
        )
    else:
        if changes:
            messages.success(request, " ".join([_("The metadata was read again."), *changes]))
        else:
            messages.info(request, _("The metadata was read again: nothing changed."))
    return _see_other("console:identity-providers:detail", provider.public_id)


@console_role(SECURITY_ADMIN)
@require_http_methods(["GET", "POST"])
def provider_delete(request, public_id):
    provider = _provider_or_404(public_id)
    if request.method == "POST":
        services.identity_provider_delete(actor=request.user, provider=provider, request=request)
        messages.success(request, _("%(name)s is deleted.") % {"name": provider.name})
        return _see_other("console:identity-providers:list")
    return render(
        request,
        "console/confirm.html",
        {
            "title": _("Delete %(name)s?") % {"name": provider.name},
            "consequence": _(
                "People linked to it can no longer sign in with it; their accounts stay. "
                "To stop sign-ins but keep the links, disable it instead."
            ),
            "confirm_label": _("Delete"),
            "cancel_url": reverse("console:identity-providers:detail", args=[provider.public_id]),
            "fields": {},
        },
    )


# Per-app choice ----------------------------------------------------------------------------


@console_role(SECURITY_ADMIN)
def app_list(request):
    """Each app with the identity providers it allows."""
    from oidc.models import Application

    apps = list(Application.objects.order_by("name"))
    choices = {
        choice.application_id: sorted(p.name for p in choice.identity_providers.all())
        for choice in AppIdentityProviders.objects.prefetch_related("identity_providers")
    }
    rows = [{"app": app, "allowed": choices.get(app.pk)} for app in apps]
    return render(request, "federation/console/app_list.html", {"rows": rows})


@console_role(SECURITY_ADMIN)
@require_http_methods(["GET", "POST"])
def app_edit(request, client_id):
    from oidc.models import Application

    application = Application.objects.filter(client_id=client_id).first()
    if application is None:
        raise Http404
    choice = AppIdentityProviders.objects.filter(application=application).first()
    initial = {"restrict": "", "identity_providers": []}
    if choice is not None:
        initial = {"restrict": "on", "identity_providers": list(choice.identity_providers.all())}
    form = AppIdentityProvidersForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        restrict = form.cleaned_data["restrict"] == "on"
        services.app_identity_providers_set(
            actor=request.user, application=application, request=request,
            providers=form.cleaned_data["identity_providers"] if restrict else None,
        )  # fmt: skip
        messages.success(request, _("%(app)s is saved.") % {"app": application.name})
        return _see_other("console:identity-providers:apps")
    return render(
        request,
        "federation/console/app_form.html",
        {"form": form, "application": application},
        status=400 if form.errors else 200,
    )
