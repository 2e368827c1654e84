from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from branding.images import MAX_HEIGHT, MAX_WIDTH
from branding.models import Branding
from branding.services import DRAFT_FIELDS


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
        }
        help_texts = {
            "sign_in_text": _("Plain text shown above the sign-in form."),
            "username_hint": _("Shown under the sign-in heading, e.g. “Use your work email”."),
            "privacy_url": _("An https:// link."),
            "terms_url": _("An https:// link."),
            "help_url": _("An https:// link."),
        }

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


class LogoForm(forms.Form):
    logo = forms.FileField(
        label=_("Banner logo"),
        help_text=_("PNG, JPEG or WebP, at most 100 KB and %(width)s × %(height)s pixels.")
        % {"width": MAX_WIDTH, "height": MAX_HEIGHT},
        widget=forms.FileInput(attrs={"accept": "image/png,image/jpeg,image/webp"}),
    )
