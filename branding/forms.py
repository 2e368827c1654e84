from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from branding.custom_css import css_clean
from branding.images import SLOTS
from branding.models import AppBranding, Branding
from branding.services import APP_COLOUR_FIELDS, DRAFT_FIELDS


class ColourInput(forms.TextInput):
    input_type = "color"


class BrandingForm(forms.ModelForm):
    class Meta:
        model = Branding
        fields = list(DRAFT_FIELDS)  # what services.branding_draft_update saves
        widgets = {
            "background_color": ColourInput,
            "header_color": ColourInput,
            "primary_color": ColourInput,
            "accent_color": ColourInput,
            "text_color": ColourInput,
            "layout": forms.RadioSelect,
            "sign_in_text": forms.Textarea(attrs={"rows": 3}),
            "custom_css": forms.Textarea(attrs={"rows": 8, "spellcheck": "false"}),
        }
        help_texts = {
            "sign_in_text": _("Plain text shown above the sign-in form."),
            "username_hint": _("Shown under the email field, e.g. “Use your work email”."),
            "privacy_url": _("An https:// link."),
            "terms_url": _("An https:// link."),
            "help_url": _("An https:// link."),
            "custom_css": _(
                "At most 25 KB. Only the hosted pages' classes (.hosted-card, .hosted-header, "
                ".btn-primary...) and elements, and common properties (colours, borders, "
                "fonts, spacing); no @import, no url() except your branding images. Saved "
                "as it was read, comments removed."
            ),
        }

    def clean_custom_css(self):
        source = self.cleaned_data.get("custom_css") or ""
        result = css_clean(source)
        if result.refusals:
            # Each refused rule with its line, next to the field; nothing is saved.
            raise forms.ValidationError([str(refusal) for refusal in result.refusals])
        return source

    def warn_contrast(self, failures) -> None:
        """Each failing pair's warning stands in the help text of its field, which the input
        names in aria-describedby."""
        for failure in failures:
            field = self.fields[failure.field]
            warning = _(
                "Contrast too low: %(pair)s is %(ratio)s:1, needs %(required)s:1. "
                "The draft cannot be published like this."
            ) % {"pair": failure.pair, "ratio": failure.ratio, "required": failure.required}
            field.help_text = f"{field.help_text} {warning}".strip()


def _image_help(slot) -> str:
    kinds = _("PNG, JPEG, WebP or SVG") if slot.svg else _("PNG, JPEG or WebP")
    return _("%(kinds)s, at most %(size)s KB and %(width)s × %(height)s pixels.") % {
        "kinds": kinds,
        "size": slot.max_bytes // 1024,
        "width": slot.max_width,
        "height": slot.max_height,
    }


class ImageForm(forms.Form):
    """One image of the draft (branding.images.SLOTS); its field is named after the slot so
    that several forms on one page keep distinct ids."""

    def __init__(self, *args, slot: str, **kwargs):
        super().__init__(*args, prefix=slot, **kwargs)
        self.slot = SLOTS[slot]
        accept = "image/png,image/jpeg,image/webp" + (",image/svg+xml" if self.slot.svg else "")
        self.fields["image"] = forms.FileField(
            label=self.slot.label,
            help_text=_image_help(self.slot),
            widget=forms.FileInput(attrs={"accept": accept}),
        )


class LogoForm(ImageForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, slot="logo", **kwargs)


class ImportForm(forms.Form):
    file = forms.FileField(
        label=_("Branding export (JSON)"),
        help_text=_(
            "Replaces the draft; every image is checked as on upload. Publish it afterwards."
        ),
        widget=forms.FileInput(attrs={"accept": "application/json,.json"}),
    )
    include_apps = forms.BooleanField(
        label=_("Also import the apps' own branding"),
        required=False,
        initial=True,
        help_text=_(
            "Apps are found by client ID and their branding applies at once; apps the file "
            "does not name keep theirs. Apps not registered here are listed, not imported."
        ),
    )


class AppBrandingForm(forms.ModelForm):
    logo = forms.FileField(
        label=_("App logo"),
        required=False,
        help_text=_image_help(SLOTS["logo"]),
        widget=forms.FileInput(attrs={"accept": "image/png,image/jpeg,image/webp,image/svg+xml"}),
    )
    remove_logo = forms.BooleanField(label=_("Remove the app's logo"), required=False)

    class Meta:
        model = AppBranding
        fields = list(APP_COLOUR_FIELDS)
        help_texts = {name: _("#rrggbb, or empty for the tenant's.") for name in APP_COLOUR_FIELDS}
