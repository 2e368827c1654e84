"""Console > Branding (Branding administrators): edit the draft, preview it, publish, reset."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.roles import AdminRole
from branding import selectors, services
from branding.forms import BrandingForm, LogoForm
from branding.images import MAX_BYTES
from branding.views import css_response
from ciam.forms import add_service_errors
from ciam.locale import language_supported
from console.decorators import console_role

BRANDING_ADMINS = (AdminRole.BRANDING_ADMINISTRATOR,)


def _page(request, form, logo_form, *, status=200):
    draft = selectors.branding_draft_get()
    # The colours as typed when they are valid, so the warnings follow the form.
    shown = form.instance if form.is_bound and form.is_valid() else draft
    form.warn_contrast(selectors.branding_contrast_failures(shown))
    return render(
        request,
        "branding/console/branding.html",
        {
            "form": form,
            "logo_form": logo_form,
            "draft": draft,
            "draft_logo_url": selectors.logo_url(draft.logo_name),
            "published": selectors.branding_get("published"),
        },
        status=status,
    )


@require_http_methods(["GET", "POST"])
@console_role(*BRANDING_ADMINS)
def branding_edit(request):
    draft = selectors.branding_draft_get()
    form = BrandingForm(request.POST or None, instance=draft)
    if request.method == "POST" and form.is_valid():
        try:
            services.branding_draft_update(actor=request.user, request=request, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Draft saved. Preview it, then publish it."))
            return redirect("console:branding:edit")
    return _page(request, form, LogoForm(), status=400 if form.errors else 200)


@require_POST
@console_role(*BRANDING_ADMINS)
def logo_upload(request):
    logo_form = LogoForm(request.POST, request.FILES)
    if logo_form.is_valid():
        upload = logo_form.cleaned_data["logo"]
        data = upload.read(MAX_BYTES + 1)
        try:
            services.branding_logo_upload(actor=request.user, data=data, request=request)
        except ValidationError as error:
            add_service_errors(logo_form, ValidationError({"logo": error.messages}))
        else:
            messages.success(request, _("Logo added to the draft."))
            return redirect("console:branding:edit")
    form = BrandingForm(instance=selectors.branding_draft_get())
    return _page(request, form, logo_form, status=400)


@require_POST
@console_role(*BRANDING_ADMINS)
def logo_remove(request):
    services.branding_logo_remove(actor=request.user, request=request)
    messages.success(request, _("Logo removed from the draft."))
    return redirect("console:branding:edit")


@require_POST
@console_role(*BRANDING_ADMINS)
def publish(request):
    try:
        services.branding_publish(actor=request.user, request=request)
    except ValidationError:
        # The page shows each failing pair next to its colour (BrandingForm.warn_contrast).
        messages.error(
            request, _("Not published: some colours are too hard to read. See the warnings.")
        )
        form = BrandingForm(instance=selectors.branding_draft_get())
        return _page(request, form, LogoForm(), status=400)
    messages.success(request, _("Published. Every hosted page shows it now."))
    return redirect("console:branding:edit")


@require_POST
@console_role(*BRANDING_ADMINS)
def reset(request):
    services.branding_reset(actor=request.user, request=request)
    messages.success(request, _("Branding reset: the hosted pages have the default look."))
    return redirect("console:branding:edit")


@require_GET
@console_role(*BRANDING_ADMINS)
def preview(request):
    """The hosted sign-in page as it will look with the draft, rendered by its own template."""
    from allauth.account.forms import LoginForm

    draft_view = selectors.branding_view(selectors.branding_draft_get(), is_preview=True)
    # In the language asked for (Console > Branding > Languages links here with ?language=).
    if language := language_supported(request.GET.get("language")):
        translation.activate(language)
    draft_view = draft_view.for_language(translation.get_language())
    return render(
        request,
        "account/login.html",
        {
            "branding": draft_view,
            "form": LoginForm(request=request),
            "signup_url": "#",
            "request_login_code_url": "#",
            "redirect_field": "",
            "redirect_field_value": "",
        },
    )


@require_GET
@console_role(*BRANDING_ADMINS)
def preview_theme(request, digest: str):
    draft_view = selectors.branding_view(selectors.branding_draft_get(), is_preview=True)
    if draft_view.css_hash != digest:
        raise Http404
    response = css_response(draft_view.css)
    response["Cache-Control"] = "private, max-age=3600"
    return response
