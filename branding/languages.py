"""Console > Branding > Languages: the tenant's default language, and the branding's texts in
each language (Entra's per-language `organizationalBrandingLocalization`).

The texts live on the draft in `Branding.text_overrides` ({language: {field: text}}) and are
published with the rest of the draft; a hosted page in a language shows that language's texts
where the tenant wrote some, the draft's own texts elsewhere (BrandingView.for_language).
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from branding import selectors
from branding.console_views import BRANDING_ADMINS
from branding.models import Branding, plain_label
from branding.services import _audit, _locked_draft, _snapshot
from ciam.forms import add_service_errors
from ciam.locale import language_supported
from console.decorators import console_role

# The branding texts a tenant may write per language.
TEXT_FIELDS = (
    "sign_in_text",
    "username_hint",
    "privacy_label",
    "terms_label",
    "help_label",
    "forgot_password_label",
    "sign_up_label",
    "sign_in_button_label",
)

# What the hosted pages show where neither the language's texts nor the draft have a label.
LABEL_DEFAULTS = {
    "forgot_password_label": gettext_lazy("Forgot your password?"),
    "sign_up_label": gettext_lazy("Create one"),
    "sign_in_button_label": gettext_lazy("Sign in"),
}


def texts_check(texts: dict) -> dict[str, list[str]]:
    """What is wrong with texts in one language, field by field: the limits and validators of
    the draft's own texts (length, plain text for the labels)."""
    errors: dict[str, list[str]] = {}
    for name, text in texts.items():
        field = Branding._meta.get_field(name)
        try:
            if field.max_length and len(text) > field.max_length:
                raise ValidationError(
                    _("At most %(limit)s characters.") % {"limit": field.max_length}
                )
            field.run_validators(text)
        except ValidationError as error:
            errors[name] = error.messages
    return errors


@transaction.atomic
def branding_texts_set(*, actor, language: str, texts: dict, request=None) -> Branding:
    """The draft's texts in `language`; blank ones fall back to the draft's own text."""
    if language_supported(language) != language:
        raise ValidationError(_("Choose one of the languages listed."))
    unknown = set(texts) - set(TEXT_FIELDS)
    if unknown:
        raise ValueError(sorted(unknown))
    draft = _locked_draft()
    before = _snapshot(draft) if draft.pk else {}
    kept = {name: text.strip() for name, text in texts.items() if text and text.strip()}
    overrides = {key: value for key, value in (draft.text_overrides or {}).items()}
    if kept:
        overrides[language] = kept
    else:
        overrides.pop(language, None)
    draft.text_overrides = overrides
    errors = texts_check(kept)
    if errors:
        raise ValidationError(errors)
    draft.save()
    _audit(actor, "branding.texts_update", before, _snapshot(draft), request)
    return draft


class DefaultLanguageForm(forms.Form):
    default_language = forms.ChoiceField(
        label=gettext_lazy("Default language"),
        help_text=gettext_lazy(
            "Pages and emails use it when neither the app, the person nor their browser asks "
            "for a language we offer."
        ),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["default_language"].choices = settings.LANGUAGES


class LanguageTextsForm(forms.Form):
    """The draft's texts in one language; each field shows the draft's own text as its hint."""

    sign_in_text = forms.CharField(
        label=gettext_lazy("Sign-in page text"),
        required=False,
        max_length=1024,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    username_hint = forms.CharField(
        label=gettext_lazy("Username hint"), required=False, max_length=100
    )
    privacy_label = forms.CharField(
        label=gettext_lazy("Privacy link text"), required=False, max_length=50
    )
    terms_label = forms.CharField(
        label=gettext_lazy("Terms of use link text"), required=False, max_length=50
    )
    help_label = forms.CharField(
        label=gettext_lazy("Help link text"), required=False, max_length=50
    )
    forgot_password_label = forms.CharField(
        label=gettext_lazy("“Forgot your password?” link text"),
        required=False,
        max_length=50,
        validators=[plain_label],
    )
    sign_up_label = forms.CharField(
        label=gettext_lazy("“Create one” (sign-up) link text"),
        required=False,
        max_length=50,
        validators=[plain_label],
    )
    sign_in_button_label = forms.CharField(
        label=gettext_lazy("Sign-in button label"),
        required=False,
        max_length=30,
        validators=[plain_label],
    )

    def __init__(self, *args, draft: Branding, language: str, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for name in TEXT_FIELDS:
            own = getattr(draft, name)
            if not own and name in LABEL_DEFAULTS:
                # Ours, in the language these texts are for.
                with translation.override(language):
                    own = str(LABEL_DEFAULTS[name])
            self.fields[name].help_text = (
                _("Blank: “%(text)s”.") % {"text": own} if own else _("Blank: nothing shown.")
            )


def _language_from(request) -> str:
    chosen = language_supported(request.GET.get("language") or request.POST.get("language"))
    return chosen or connection.tenant.default_language or settings.LANGUAGE_CODE


def _page(request, *, language, default_form, texts_form, status=200):
    return render(
        request,
        "branding/console/languages.html",
        {
            "language": language,
            "language_name": dict(settings.LANGUAGES)[language],
            "languages": [
                (code, name, code in (selectors.branding_draft_get().text_overrides or {}))
                for code, name in settings.LANGUAGES
            ],
            "default_form": default_form,
            "texts_form": texts_form,
            "preview_url": f"{reverse('console:branding:preview')}?language={language}",
        },
        status=status,
    )


@require_http_methods(["GET", "POST"])
@console_role(*BRANDING_ADMINS)
def languages(request):
    """The default language, and the draft's texts in the language chosen (`?language=`)."""
    language = _language_from(request)
    draft = selectors.branding_draft_get()
    initial = (draft.text_overrides or {}).get(language, {})
    texts_form = LanguageTextsForm(
        request.POST or None, initial=initial, draft=draft, language=language
    )
    default_form = DefaultLanguageForm(
        initial={"default_language": connection.tenant.default_language}
    )
    if request.method == "POST" and texts_form.is_valid():
        try:
            branding_texts_set(
                actor=request.user,
                language=language,
                texts={name: texts_form.cleaned_data[name] for name in TEXT_FIELDS},
                request=request,
            )
        except ValidationError as error:
            add_service_errors(texts_form, error)
        else:
            messages.success(
                request,
                _("Texts in %(language)s saved in the draft. Publish the draft to show them.")
                % {"language": dict(settings.LANGUAGES)[language]},
            )
            return redirect(f"{reverse('console:branding:languages')}?language={language}")
    status = 400 if texts_form.errors else 200
    return _page(
        request,
        language=language,
        default_form=default_form,
        texts_form=texts_form,
        status=status,
    )


@require_POST
@console_role(*BRANDING_ADMINS)
def default_language(request):
    from tenants.services import tenant_default_language_set

    form = DefaultLanguageForm(request.POST)
    if form.is_valid():
        try:
            tenant_default_language_set(
                tenant=connection.tenant,
                language=form.cleaned_data["default_language"],
                actor=request.user,
                request=request,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Default language saved."))
            return redirect("console:branding:languages")
    language = _language_from(request)
    draft = selectors.branding_draft_get()
    texts_form = LanguageTextsForm(
        initial=(draft.text_overrides or {}).get(language, {}), draft=draft, language=language
    )
    return _page(request, language=language, default_form=form, texts_form=texts_form, status=400)
