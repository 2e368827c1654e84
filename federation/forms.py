from __future__ import annotations

import re

from django import forms
from django.utils.translation import gettext_lazy as _

from federation.models import IdentityProvider

Kind = IdentityProvider.Kind

# The fields each kind of provider asks for.
KIND_FIELDS = {
    Kind.OPENID_CONNECT: [
        "name", "discovery_url", "client_id", "client_secret", "scopes", "claim_email",
        "claim_given_name", "claim_family_name", "trust_verified_email", "email_domains",
        "enabled",
    ],
    Kind.GOOGLE: [
        "name", "client_id", "client_secret", "scopes", "trust_verified_email", "email_domains",
        "enabled",
    ],
    Kind.MICROSOFT: [
        "name", "entra_tenant", "client_id", "client_secret", "scopes", "trust_verified_email",
        "email_domains", "enabled",
    ],
    Kind.GITHUB: [
        "name", "client_id", "client_secret", "scopes", "trust_verified_email", "email_domains",
        "enabled",
    ],
}  # fmt: skip
DEFAULT_NAMES = {
    Kind.OPENID_CONNECT: "",
    Kind.GOOGLE: "Google",
    Kind.MICROSOFT: "Microsoft",
    Kind.GITHUB: "GitHub",
}


class IdentityProviderForm(forms.Form):
    """The shape of an IdP's settings; federation.services checks the rest."""

    name = forms.CharField(
        label=_("Name"), max_length=40, help_text=_("Shown on the sign-in button.")
    )
    discovery_url = forms.CharField(
        label=_("Discovery URL"),
        max_length=500,
        help_text=_("The provider's issuer, or its /.well-known/openid-configuration URL (https)."),
    )
    entra_tenant = forms.CharField(
        label=_("Entra tenant id"),
        max_length=64,
        required=False,
        help_text=_(
            "Only accounts of this organisation (a tenant id or domain). Empty: any work, "
            "school or personal Microsoft account."
        ),
    )
    client_id = forms.CharField(label=_("Client ID"), max_length=191)
    client_secret = forms.CharField(
        label=_("Client secret"),
        max_length=2000,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
    )
    scopes = forms.CharField(
        label=_("Scopes"),
        max_length=500,
        required=False,
        help_text=_("Separated by spaces. Empty: what a sign-in with name and email needs."),
    )
    claim_email = forms.CharField(label=_("Email claim"), max_length=100, initial="email")
    claim_given_name = forms.CharField(
        label=_("Given name claim"), max_length=100, initial="given_name"
    )
    claim_family_name = forms.CharField(
        label=_("Family name claim"), max_length=100, initial="family_name"
    )
    trust_verified_email = forms.BooleanField(
        label=_("Trust this provider's verified emails for linking"),
        required=False,
        help_text=_(
            "When the provider says an email is verified and it belongs to an existing "
            "account, offer to link them; the account's owner must still sign in and "
            "confirm. Leave off unless the provider checks that people own their email."
        ),
    )
    email_domains = forms.CharField(
        label=_("Email domains"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3, "autocomplete": "off"}),
        help_text=_(
            "One a line (or separated by commas), like partner.example. Someone who types an "
            "address at one of them on the sign-in page goes straight to this provider."
        ),
    )
    enabled = forms.BooleanField(
        label=_("Enabled"),
        required=False,
        initial=True,
        help_text=_(
            "Show its button on the sign-in page. Off: linked accounts stay, sign-ins stop."
        ),
    )

    def __init__(self, *args, kind: str, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        for name in list(self.fields):
            if name not in KIND_FIELDS[Kind(kind)]:
                del self.fields[name]
        if editing:
            self.fields["client_secret"].required = False
            self.fields["client_secret"].help_text = _(
                "Stored encrypted and never shown. Leave empty to keep it; type a new one to "
                "replace it."
            )
        if "name" in self.fields and not self.initial.get("name"):
            self.initial.setdefault("name", DEFAULT_NAMES[Kind(kind)])

    def clean_email_domains(self) -> list[str]:
        return [part for part in re.split(r"[\s,;]+", self.cleaned_data["email_domains"]) if part]


def form_initial(provider: IdentityProvider) -> dict:
    names = [name for name in KIND_FIELDS[Kind(provider.kind)] if name != "client_secret"]
    initial = {name: getattr(provider, name) for name in names}
    initial["email_domains"] = "\n".join(provider.email_domains)
    return initial
