from __future__ import annotations

from django import forms
from django.conf import settings
from django.core.validators import validate_email
from django.db import connection
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from ciam.locale import tenant_default_language
from guests.models import MAX_EXPIRY_DAYS, GuestSettings
from guests.services.policy import SETTINGS_FIELDS

MAX_CSV_BYTES = 2 * 1024 * 1024


def split_addresses(value: str) -> list[str]:
    return [
        part.strip()
        for part in value.replace(";", ",").replace("\n", ",").split(",")
        if part.strip()
    ]


class HostedInvitationForm(forms.Form):
    """What a member fills in to invite a partner from the hosted pages."""

    email = forms.EmailField(
        label=_("Email address"),
        max_length=254,
        # Someone else's address: the browser's own address would be a wrong suggestion.
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
    )
    display_name = forms.CharField(label=_("Display name"), max_length=256, required=False)
    redirect_url = forms.URLField(
        label=_("Redirect URL"),
        max_length=2000,
        help_text=_(
            "Where they land after accepting: the address of one of this directory's apps "
            "(its home page or a page under it) or of My account."
        ),
        assume_scheme="https",
    )
    message = forms.CharField(
        label=_("Personal message"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class InvitationForm(HostedInvitationForm):
    """The console's invitation: the hosted form's fields and the admin's options."""

    cc_recipients = forms.CharField(
        label=_("Copy to"), required=False, help_text=_("Addresses separated by commas.")
    )
    user_type = forms.ChoiceField(
        label=_("User type"),
        # Guest first: the usual invitation.
        choices=[(kind.value, kind.label) for kind in (User.UserType.GUEST, User.UserType.MEMBER)],
        initial=User.UserType.GUEST,
    )
    expiry_days = forms.IntegerField(
        label=_("Link expires after (days)"), min_value=1, max_value=MAX_EXPIRY_DAYS, required=False
    )
    send_email = forms.BooleanField(
        label=_("Send the invitation email"), required=False, initial=True
    )
    # The invitation email's language (Graph's messageLanguage), the tenant's default first.
    language = forms.ChoiceField(label=_("Language"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["language"].choices = settings.LANGUAGES
        self.fields["language"].initial = tenant_default_language(
            getattr(connection, "tenant", None)
        )
        self.fields["redirect_url"].help_text = _(
            "Where the guest lands after accepting, usually your app."
        )

    def clean_cc_recipients(self):
        addresses = split_addresses(self.cleaned_data["cc_recipients"])
        for address in addresses:
            try:
                validate_email(address)
            except forms.ValidationError as error:
                raise forms.ValidationError(
                    _("%(address)s is not a valid address.") % {"address": address}
                ) from error
        return addresses


class BulkInvitationForm(forms.Form):
    file = forms.FileField(
        label=_("CSV file"),
        help_text=_("Columns: email, display name, redirect URL, message. Up to 2 MB."),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )
    default_redirect_url = forms.URLField(
        label=_("Redirect URL for rows without one"), required=False, assume_scheme="https"
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_CSV_BYTES:
            raise forms.ValidationError(_("The file is larger than 2 MB."))
        return upload


class GuestSettingsForm(forms.ModelForm):
    domains = forms.CharField(
        label=_("Domains"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One domain a line; subdomains are included."),
    )

    class Meta:
        model = GuestSettings
        fields = list(SETTINGS_FIELDS)  # what the settings service saves
        widgets = {
            "invite_policy": forms.RadioSelect,
            "domain_mode": forms.RadioSelect,
            "terms_text": forms.Textarea(attrs={"rows": 4}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance and not self.is_bound:
            self.initial["domains"] = "\n".join(self.instance.domains)

    def clean_domains(self):
        domains = [
            line.strip().lower().lstrip("@") for line in self.cleaned_data["domains"].splitlines()
        ]
        domains = [domain for domain in domains if domain]
        for domain in domains:
            if "." not in domain or " " in domain or "/" in domain:
                raise forms.ValidationError(
                    _("%(domain)s is not a domain name.") % {"domain": domain}
                )
        return domains


class ApiKeyForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code"),
        max_length=12,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )
