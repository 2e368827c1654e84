"""Console > Branding (Branding administrators): edit the draft with its live preview,
images, custom CSS, per-app branding, export and import, publish, reset."""

from __future__ import annotations

import json

from django.conf import settings
from django.contrib import messages
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import connection
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import translation
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.roles import AdminRole
from branding import exports, selectors, services
from branding.custom_css import css_clean, css_scoped
from branding.forms import AppBrandingForm, BrandingForm, ImageForm, ImportForm
from branding.images import LARGEST_BYTES, SLOTS
from branding.models import AppBranding, Branding
from branding.theme import css_hash, theme_css
from branding.views import css_response
from ciam.forms import add_service_errors
from ciam.locale import language_supported
from console.decorators import console_role

BRANDING_ADMINS = (AdminRole.BRANDING_ADMINISTRATOR,)
PREVIEW_SCOPE = ".branding-preview"
PREVIEW_CSS_SECONDS = 3600


def _image_forms(bound: ImageForm | None = None) -> list[ImageForm]:
    return [
        bound if bound is not None and bound.slot.name == slot else ImageForm(slot=slot)
        for slot in SLOTS
    ]


def _page(request, form, *, image_form=None, import_form=None, status=200):
    draft = selectors.branding_draft_get()
    # The colours as typed when they are valid, so the warnings follow the form.
    shown = form.instance if form.is_bound and form.is_valid() else draft
    form.warn_contrast(selectors.branding_contrast_failures(shown))
    images = [
        {
            "form": image_form,
            "url": selectors.logo_url(getattr(draft, f"{image_form.slot.field}_name")),
        }
        for image_form in _image_forms(image_form)
    ]
    from oidc.models import Application

    applications = list(Application.objects.order_by("name").only("name", "public_id"))
    overridden = set(AppBranding.objects.values_list("application_id", flat=True))
    return render(
        request,
        "branding/console/branding.html",
        {
            "form": form,
            "images": images,
            "import_form": import_form or ImportForm(),
            "draft": draft,
            "draft_logo_url": selectors.logo_url(draft.logo_name),
            "published": selectors.branding_get("published"),
            "applications": [(app, app.pk in overridden) for app in applications],
            "app_brandings": len(overridden),
            **_preview_context(shown, preview_languages_chosen(request.GET, shown)),
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
    return _page(request, form, status=400 if form.errors else 200)


@require_POST
@console_role(*BRANDING_ADMINS)
def image_upload(request, slot: str):
    if slot not in SLOTS:
        raise Http404
    image_form = ImageForm(request.POST, request.FILES, slot=slot)
    if image_form.is_valid():
        data = image_form.cleaned_data["image"].read(LARGEST_BYTES + 1)
        try:
            services.branding_image_upload(
                actor=request.user, slot=slot, data=data, request=request
            )
        except ValidationError as error:
            image_form.add_error("image", error.messages)
        else:
            messages.success(
                request, _("%(image)s added to the draft.") % {"image": image_form.slot.label}
            )
            return redirect("console:branding:edit")
    form = BrandingForm(instance=selectors.branding_draft_get())
    return _page(request, form, image_form=image_form, status=400)


@require_POST
@console_role(*BRANDING_ADMINS)
def image_remove(request, slot: str):
    if slot not in SLOTS:
        raise Http404
    services.branding_image_remove(actor=request.user, slot=slot, request=request)
    messages.success(request, _("%(image)s removed from the draft.") % {"image": SLOTS[slot].label})
    return redirect("console:branding:edit")


@require_POST
@console_role(*BRANDING_ADMINS)
def logo_upload(request):
    """The first version's address for the banner logo (field `logo`)."""
    request.FILES["logo-image"] = request.FILES.get("logo") or request.FILES.get("logo-image")
    return image_upload(request, "logo")


@require_POST
@console_role(*BRANDING_ADMINS)
def logo_remove(request):
    return image_remove(request, "logo")


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
        return _page(request, form, status=400)
    messages.success(request, _("Published. Every hosted page shows it now."))
    return redirect("console:branding:edit")


@require_POST
@console_role(*BRANDING_ADMINS)
def reset(request):
    include_apps = request.POST.get("include_apps") == "on"
    services.branding_reset(actor=request.user, request=request, include_apps=include_apps)
    messages.success(request, _("Branding reset: the hosted pages have the default look."))
    kept = AppBranding.objects.count()
    if kept:
        messages.info(
            request,
            ngettext(
                "%(count)s app keeps its own branding (Per-app branding).",
                "%(count)s apps keep their own branding (Per-app branding).",
                kept,
            )
            % {"count": kept},
        )
    return redirect("console:branding:edit")


@require_GET
@console_role(*BRANDING_ADMINS)
def export(request):
    response = HttpResponse(
        json.dumps(exports.branding_export(), indent=2), content_type="application/json"
    )
    response["Content-Disposition"] = 'attachment; filename="branding.json"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_POST
@console_role(*BRANDING_ADMINS)
def import_(request):
    import_form = ImportForm(request.POST, request.FILES)
    if import_form.is_valid():
        data = import_form.cleaned_data["file"].read(exports.EXPORT_MAX_BYTES + 1)
        try:
            result = exports.branding_import(
                actor=request.user,
                data=data,
                request=request,
                apps=import_form.cleaned_data["include_apps"],
            )
        except ValidationError as error:
            add_service_errors(import_form, error)
        else:
            messages.success(request, _("Imported into the draft. Preview it, then publish it."))
            if result.apps:
                messages.success(
                    request,
                    _("Apps' branding imported, in use now: %(apps)s.")
                    % {"apps": ", ".join(result.apps)},
                )
            if result.unknown_apps:
                messages.warning(
                    request,
                    _(
                        "Not imported: no app here has the client ID of %(apps)s. Register it "
                        "with that client ID, or set its branding under Per-app branding."
                    )
                    % {"apps": ", ".join(result.unknown_apps)},
                )
            return redirect("console:branding:edit")
    form = BrandingForm(instance=selectors.branding_draft_get())
    return _page(request, form, import_form=import_form, status=400)


# Per-app branding


@require_http_methods(["GET", "POST"])
@console_role(*BRANDING_ADMINS)
def app_branding(request, public_id):
    from oidc.models import Application

    application = get_object_or_404(Application, public_id=public_id)
    instance = AppBranding.objects.filter(application=application).first() or AppBranding(
        application=application
    )
    form = AppBrandingForm(request.POST or None, request.FILES or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data.get("logo")
        try:
            services.app_branding_update(
                actor=request.user,
                application=application,
                request=request,
                logo=upload.read(LARGEST_BYTES + 1) if upload else None,
                remove_logo=form.cleaned_data.get("remove_logo", False),
                **{name: form.cleaned_data[name] for name in services.APP_COLOUR_FIELDS},
            )
        except ValidationError as error:
            if hasattr(error, "error_dict"):
                add_service_errors(form, error)
            else:
                form.add_error("logo", error.messages)
        else:
            messages.success(
                request,
                _("Saved: the sign-in pages of %(app)s use it now.") % {"app": application.name},
            )
            return redirect("console:branding:app", public_id=application.public_id)
    return render(
        request,
        "branding/console/app_branding.html",
        {
            "application": application,
            "form": form,
            "app_branding": instance if instance.pk else None,
            "logo_url": selectors.logo_url(instance.logo_name),
        },
        status=400 if form.errors else 200,
    )


@require_POST
@console_role(*BRANDING_ADMINS)
def app_branding_remove(request, public_id):
    from oidc.models import Application

    application = get_object_or_404(Application, public_id=public_id)
    services.app_branding_remove(actor=request.user, application=application, request=request)
    messages.success(
        request,
        _("%(app)s has the tenant's branding again.") % {"app": application.name},
    )
    return redirect("console:branding:edit")


# Preview


def configured_languages(branding: Branding) -> list[str]:
    """The languages a tenant works in: its default language and those it wrote texts for
    (Console > Branding > Languages), in the order of settings.LANGUAGES."""
    wanted = {connection.tenant.default_language or settings.LANGUAGE_CODE}
    wanted.update(branding.text_overrides or {})
    return [code for code, _name in settings.LANGUAGES if code in wanted]


def preview_languages_chosen(data, branding: Branding) -> list[str]:
    """The languages the previews are shown in: those ticked (`preview_language`), else the
    tenant's configured ones."""
    chosen = {code for code in data.getlist("preview_language") if language_supported(code) == code}
    if not chosen:
        return configured_languages(branding)
    return [code for code, _name in settings.LANGUAGES if code in chosen]


def _preview_context(branding: Branding, languages: list[str] | None = None) -> dict:
    """What the preview fragments need: the branding as a view in each of `languages` (with
    the texts the tenant wrote for it, branding/languages.py; the page's own language when
    none is given), and a stylesheet of its own under the preview's scope (by hash, kept a
    while in the shared cache: the console's CSP allows no inline style)."""
    css = css_scoped(theme_css(branding), PREVIEW_SCOPE)
    digest = css_hash(css)
    cache.set(_preview_key(digest), css, PREVIEW_CSS_SECONDS)
    view = selectors.branding_view(branding, is_preview=True)
    languages = languages or [translation.get_language()]
    names = dict(settings.LANGUAGES)
    return {
        "previews": [
            {
                "code": code,
                "name": names.get(code, code),
                "direction": "rtl" if translation.get_language_info(code)["bidi"] else "ltr",
                "view": view.for_language(code),
            }
            for code in languages
        ],
        "preview_language_choices": [
            (code, name, code in languages) for code, name in settings.LANGUAGES
        ],
        "console_language": translation.get_language(),
        "console_direction": "rtl" if translation.get_language_bidi() else "ltr",
        "preview_css_url": f"{_preview_theme_url(digest)}",
        "preview_widths": (("phone", _("Phone")), ("desktop", _("Desktop"))),
        # Captions in the console's language; the pages in the language of their row.
        "preview_pages": (
            ("sign_in", _("Sign-in")),
            ("sign_up", _("Sign-up")),
            ("email_code", _("Email code")),
            ("consent", _("Consent")),
            ("invitation", _("Invitation page")),
            ("invitation_email", _("Invitation email")),
        ),
    }


def _preview_key(digest: str) -> str:
    return f"branding:preview-css:{connection.schema_name}:{digest}"


def _preview_theme_url(digest: str) -> str:
    from django.urls import reverse

    return reverse("console:branding:preview-theme", args=[digest])


@require_POST
@console_role(*BRANDING_ADMINS)
def preview_fragments(request):
    """The previews as the fields stand (htmx, as the admin types): the draft with every
    field that is valid so far; nothing is saved."""
    draft = selectors.branding_draft_get()
    form = BrandingForm(request.POST, instance=draft)
    form.is_valid()
    shown = selectors.branding_draft_get()
    for name in services.DRAFT_FIELDS:
        if name in form.cleaned_data and name not in form.errors:
            setattr(shown, name, form.cleaned_data[name])
    # Custom CSS: the rules that would be kept.
    shown.custom_css = css_clean(request.POST.get("custom_css", "") or "").css
    # ?language=: the previews in that language only; else in each language ticked.
    if language := language_supported(request.GET.get("language")):
        languages = [language]
    else:
        languages = preview_languages_chosen(request.POST, shown)
    return render(
        request,
        "branding/console/preview.html",
        {
            **_preview_context(shown, languages),
            "contrast_failures": selectors.branding_contrast_failures(shown),
        },
    )


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
    form = LoginForm(request=request)
    form.fields["password"].help_text = format_html(
        '<a href="#">{}</a>', draft_view.forgot_password_label or _("Forgot your password?")
    )
    if draft_view.username_hint:
        form.fields["login"].help_text = draft_view.username_hint
    return render(
        request,
        "account/login.html",
        {
            "branding": draft_view,
            "form": form,
            "signup_url": "#",
            "request_login_code_url": "#",
            "redirect_field": "",
            "redirect_field_value": "",
        },
    )


@require_GET
@console_role(*BRANDING_ADMINS)
def preview_theme(request, digest: str):
    """The draft's stylesheet (the full-page preview), or a scoped one the live preview made."""
    css = cache.get(_preview_key(digest))
    if css is None:
        draft_view = selectors.branding_view(selectors.branding_draft_get(), is_preview=True)
        if draft_view.css_hash != digest:
            raise Http404
        css = draft_view.css
    response = css_response(css)
    response["Cache-Control"] = "private, max-age=3600"
    return response
