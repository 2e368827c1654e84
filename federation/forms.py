from __future__ import annotations

import re

from allauth.socialaccount.forms import SignupForm as SocialAccountSignupForm
from django import forms
from django.utils.translation import gettext_lazy as _

from federation.models import IdentityProvider

Kind = IdentityProvider.Kind

# The fields each kind of provider asks for.
KIND_FIELDS = {
    Kind.OPENID_CONNECT: [
        "name", "discovery_url", "client_id", "client_secret", "scopes", "claim_email",
        "claim_given_name", "claim_family_name", "trust_verified_email", "email_domains",
        "show_on_sign_in", "enabled",
    ],
    Kind.GOOGLE: [
        "name", "client_id", "client_secret", "scopes", "trust_verified_email", "email_domains",
        "show_on_sign_in", "enabled",
    ],
    Kind.MICROSOFT: [
        "name", "entra_tenant", "client_id", "client_secret", "scopes", "trust_verified_email",
        "email_domains", "show_on_sign_in", "enabled",
    ],
    Kind.GITHUB: [
        "name", "client_id", "client_secret", "scopes", "trust_verified_email", "email_domains",
        "show_on_sign_in", "enabled",
    ],
    Kind.APPLE: [
        "name", "client_id", "apple_team_id", "apple_key_id", "client_secret", "scopes",
        "trust_verified_email", "email_domains", "show_on_sign_in", "enabled",
    ],
    # Facebook says nothing of whether an email is verified: no linking by email.
    Kind.FACEBOOK: [
        "name", "client_id", "client_secret", "scopes", "email_domains", "show_on_sign_in",
        "enabled",
    ],
    Kind.LINKEDIN: [
        "name", "client_id", "client_secret", "scopes", "trust_verified_email", "email_domains",
        "show_on_sign_in", "enabled",
    ],
    Kind.SAML: [
        "name", "saml_metadata_url", "saml_metadata_file", "saml_entity_id", "claim_email",
        "claim_given_name", "claim_family_name", "trust_verified_email", "email_domains",
        "show_on_sign_in", "enabled",
    ],
}  # fmt: skip
# Fields of the kinds whose ID tokens carry `amr`/`acr` (OpenID Connect).
MFA_TRUST_KINDS = {Kind.OPENID_CONNECT, Kind.GOOGLE, Kind.MICROSOFT, Kind.SAML}
# SAML: the authentication contexts offered when the admin first trusts an IdP's MFA (REFEDS
# MFA, Entra ID's and ADFS's multi-factor context); the admin edits the list.
SAML_MFA_CONTEXTS_DEFAULT = (
    "https://refeds.org/profile/mfa",
    "http://schemas.microsoft.com/claims/multipleauthn",
)
DEFAULT_NAMES = {
    Kind.OPENID_CONNECT: "",
    Kind.GOOGLE: "Google",
    Kind.MICROSOFT: "Microsoft",
    Kind.GITHUB: "GitHub",
    Kind.APPLE: "Apple",
    Kind.FACEBOOK: "Facebook",
    Kind.LINKEDIN: "LinkedIn",
    Kind.SAML: "",
}
METADATA_MAX_BYTES = 1024 * 1024


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
    apple_team_id = forms.CharField(
        label=_("Team ID"),
        max_length=10,
        help_text=_("Your Apple developer team's ID (10 characters, top right in Apple's portal)."),
    )
    apple_key_id = forms.CharField(
        label=_("Key ID"),
        max_length=10,
        help_text=_(
            "The ID of the Sign in with Apple key (Certificates, Identifiers & Profiles > Keys)."
        ),
    )
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
    saml_metadata_url = forms.CharField(
        label=_("Metadata URL"),
        max_length=500,
        required=False,
        help_text=_(
            "The IdP's SAML metadata URL (https). Or leave it empty and upload the metadata file."
        ),
    )
    saml_metadata_file = forms.FileField(
        label=_("Metadata file"),
        required=False,
        help_text=_("The IdP's metadata XML, if it has no URL (replaces what was read before)."),
    )
    saml_entity_id = forms.CharField(
        label=_("IdP entity id"),
        max_length=500,
        required=False,
        help_text=_("Only needed when the metadata describes several identity providers."),
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
    saml_mfa_contexts = forms.CharField(
        label=_("Authentication contexts that mean MFA"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3, "autocomplete": "off"}),
        help_text=_(
            "One a line: the AuthnContextClassRef values this IdP's assertions carry after a "
            "multi-factor sign-in (ask its administrator)."
        ),
    )
    confirm_admin_domains = forms.BooleanField(
        label=_("Yes, send these administrators to this provider"),
        required=False,
        help_text=_(
            "They will no longer be able to sign in with their password here while the "
            "provider is enabled."
        ),
    )
    trust_idp_mfa = forms.BooleanField(
        label=_("Trust this provider's MFA"),
        required=False,
        help_text=_(
            "When its ID token says the person used multi-factor authentication (amr "
            '"mfa", or a multi-factor acr), they are not asked for a second factor here.'
        ),
    )
    show_on_sign_in = forms.BooleanField(
        label=_("Show its button on the sign-in page"),
        required=False,
        initial=True,
        help_text=_(
            "Off: people reach it only through its email domains, an app's hint or an "
            "invitation. Each app may also allow only some providers (Identity providers > "
            "Apps)."
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
        wanted = list(KIND_FIELDS[Kind(kind)])
        if Kind(kind) in MFA_TRUST_KINDS:
            wanted.insert(wanted.index("enabled"), "trust_idp_mfa")
        if Kind(kind) == Kind.SAML:
            wanted.insert(wanted.index("enabled"), "saml_mfa_contexts")
            if not editing:
                self.initial.setdefault("saml_mfa_contexts", "\n".join(SAML_MFA_CONTEXTS_DEFAULT))
        # Shown (and required) only when the email domains would send administrators away
        # from their password (federation.services.email_domains_admin_warning).
        self.admin_domain_warning = ""
        wanted.insert(wanted.index("email_domains") + 1, "confirm_admin_domains")
        for name in list(self.fields):
            if name not in wanted:
                del self.fields[name]
        self.order_fields(wanted)
        if Kind(kind) == Kind.SAML:
            from federation.saml import DEFAULT_ATTRIBUTES

            labels = {
                "claim_email": _("Email attribute"),
                "claim_given_name": _("Given name attribute"),
                "claim_family_name": _("Family name attribute"),
            }
            for name, default in DEFAULT_ATTRIBUTES.items():
                self.fields[name].label = labels[name]
                self.fields[name].required = False
                self.fields[name].help_text = _("The SAML attribute's name. Empty: %(name)s.") % {
                    "name": default
                }
                if not editing:
                    self.initial.setdefault(name, default)
            self.fields["trust_verified_email"].label = _(
                "Trust this provider's emails for linking"
            )
            self.fields["trust_verified_email"].help_text = _(
                "SAML says nothing of whether an email is verified: when on, the email the IdP "
                "asserts may be offered for linking to an existing account (its owner still "
                "signs in and confirms). Turn on only for an IdP that vouches for its emails."
            )
        if Kind(kind) == Kind.APPLE:
            self.fields["client_id"].label = _("Services ID")
            self.fields["client_id"].help_text = _(
                "The identifier of the Services ID set up for Sign in with Apple, like "
                "com.example.signin."
            )
            self.fields["client_secret"] = forms.CharField(
                label=_("Private key"),
                max_length=2000,
                widget=forms.Textarea(
                    attrs={"rows": 5, "autocomplete": "off", "spellcheck": "false"}
                ),
                help_text=_(
                    "The contents of the .p8 file of the key. Stored encrypted and never shown "
                    "again."
                ),
            )
        if Kind(kind) == Kind.FACEBOOK:
            self.fields["client_id"].label = _("App ID")
            self.fields["client_secret"].label = _("App secret")
        if editing and "client_secret" in self.fields:  # (SAML has none)
            self.fields["client_secret"].required = False
            self.fields["client_secret"].help_text = _(
                "Stored encrypted and never shown. Leave empty to keep it; type a new one to "
                "replace it."
            )
        if "name" in self.fields and not self.initial.get("name"):
            self.initial.setdefault("name", DEFAULT_NAMES[Kind(kind)])

    def clean_saml_metadata_file(self) -> str:
        upload = self.cleaned_data.get("saml_metadata_file")
        if not upload:
            return ""
        if upload.size > METADATA_MAX_BYTES:
            raise forms.ValidationError(
                _("This file is too large for SAML metadata (1 MB at most).")
            )
        try:
            return upload.read().decode("utf-8")
        except UnicodeDecodeError as error:
            raise forms.ValidationError(_("This file is not XML text (UTF-8).")) from error

    def clean_email_domains(self) -> list[str]:
        return [part for part in re.split(r"[\s,;]+", self.cleaned_data["email_domains"]) if part]

    def clean_saml_mfa_contexts(self) -> list[str]:
        return [
            line.strip()
            for line in self.cleaned_data["saml_mfa_contexts"].splitlines()
            if line.strip()
        ]

    def warn_admin_domains(self, message: str) -> None:
        """The email domains include an administrator's: say so next to the field and ask
        for the confirmation box."""
        self.admin_domain_warning = message
        self.add_error("email_domains", message)


def form_initial(provider: IdentityProvider) -> dict:
    skip = {"client_secret", "saml_metadata_file"}
    names = [name for name in KIND_FIELDS[Kind(provider.kind)] if name not in skip]
    initial = {name: getattr(provider, name) for name in names}
    initial["trust_idp_mfa"] = provider.trust_idp_mfa
    initial["show_on_sign_in"] = provider.show_on_sign_in
    initial["email_domains"] = "\n".join(provider.email_domains)
    initial["saml_mfa_contexts"] = "\n".join(provider.saml_mfa_contexts)
    return initial


class AppIdentityProvidersForm(forms.Form):
    """Which identity providers an app allows."""

    restrict = forms.TypedChoiceField(
        label=_("Identity providers this app allows"),
        choices=[("", _("All enabled identity providers")), ("on", _("Only those chosen below"))],
        required=False,
        widget=forms.RadioSelect,
    )
    identity_providers = forms.ModelMultipleChoiceField(
        label=_("Allowed identity providers"),
        queryset=IdentityProvider.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "None chosen: the app's sign-in offers the tenant's own methods only (password, "
            "emailed code)."
        ),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["identity_providers"].queryset = IdentityProvider.objects.order_by("name")


# The sign-up page of a first sign-in through an IdP ------------------------------------------


def attributes_supplied(sociallogin) -> set[str]:
    """The user-flow attribute keys the IdP's claims filled (names, through populate_user)."""
    from accounts.services import USER_FIELD_FOR_ATTRIBUTE

    user = sociallogin.user
    return {
        key
        for key, field in USER_FIELD_FOR_ATTRIBUTE.items()
        if user is not None and getattr(user, field, "")
    }


def attributes_missing(request, sociallogin, *, required_only: bool) -> list:
    """The user flow's sign-up attributes the IdP did not supply."""
    from accounts.selectors import sign_up_attributes, user_flow_for

    supplied = attributes_supplied(sociallogin)
    return [
        attribute
        for attribute in sign_up_attributes(user_flow_for(request))
        if attribute.key not in supplied and (attribute.required or not required_only)
    ]


class SocialSignupForm(SocialAccountSignupForm):
    """allauth's sign-up form of a first sign-in through an IdP (settings.SOCIALACCOUNT_FORMS),
    asking on one page only what the IdP did not supply: the email when it sent none, the
    user flow's other attributes, and the terms of use when the flow asks for them."""

    def __init__(self, *args, **kwargs) -> None:
        from allauth.core import context as allauth_context

        from accounts.forms import _terms_label, add_attribute_fields
        from accounts.selectors import user_flow_for

        super().__init__(*args, **kwargs)
        request = allauth_context.request
        self.fields["email"].max_length = 254
        self.fields["email"].widget.attrs.pop("placeholder", None)
        if self.initial.get("email"):
            self.fields["email"].help_text = _(
                "From your identity provider. Change it only if you want another address; a "
                "new one must be confirmed by email."
            )
        add_attribute_fields(
            self, attributes_missing(request, self.sociallogin, required_only=False)
        )
        flow = user_flow_for(request)
        if flow.terms_required:
            self.fields["accept_terms"] = forms.BooleanField(
                label=_terms_label(flow),
                required=True,
                error_messages={"required": _("Accept the terms of use to create an account.")},
            )
