from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from oidc.models import Application
from oidc.services import DIRECTORY_PERMISSIONS

# What each type of app is asked for: a daemon has no users (no redirects, no ID token, no
# refresh token, no claims) and is the only one holding directory permissions.
DAEMON_FIELDS = ("name", "access_token_hours", "api_permissions", "token_signing_algorithm")
USER_APP_FIELDS = (
    "name",
    "redirect_uris",
    "post_logout_redirect_uris",
    "home_url",
    "is_first_party",
    "always_refresh",
    "require_mfa",
    "assignment_required",
    "groups_claim",
    "access_token_hours",
    "id_token_hours",
    "refresh_token_days",
    "claim_mappings",
    "token_signing_algorithm",
)
TYPE_DESCRIPTIONS = {
    Application.AppType.WEB: _("A server-side app that signs users in and keeps a secret."),
    Application.AppType.SPA: _("Runs in the browser; signs users in with PKCE, no secret."),
    Application.AppType.NATIVE: _("A mobile or desktop app; signs users in with PKCE, no secret."),
    Application.AppType.DAEMON: _("A service without users: reads or invites with its secret."),
}


class ApplicationForm(forms.Form):
    """The fields of one type of app (`app_type`); lifetimes in hours and days."""

    name = forms.CharField(label=_("Name"), max_length=255)
    redirect_uris = forms.CharField(
        label=_("Redirect URIs"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One a line, exact. https, or http://localhost / http://127.0.0.1 (any port)."),
    )
    post_logout_redirect_uris = forms.CharField(
        label=_("Post-logout redirect URIs"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    home_url = forms.CharField(
        label=_("Home page URL"),
        required=False,
        max_length=2000,
        help_text=_("Where the app's users start. Members who invite may send guests here."),
    )
    is_first_party = forms.BooleanField(
        label=_("First-party app (made by us: no consent screen)"), required=False, initial=True
    )
    always_refresh = forms.BooleanField(
        label=_("Always issue refresh tokens (first-party apps only)"),
        required=False,
        help_text=_(
            "Otherwise an app gets a refresh token only when it asks for offline_access "
            "(and, for a third-party app, the user allows it)."
        ),
    )
    require_mfa = forms.BooleanField(
        label=_("Require MFA"),
        required=False,
        help_text=_(
            "Users prove a second factor (an authenticator app or another method your MFA "
            "policy allows) before signing in to this app, whatever the tenant's MFA policy; "
            "someone without one sets up an authenticator app first."
        ),
    )
    assignment_required = forms.BooleanField(
        label=_("Assignment required"),
        required=False,
        help_text=_(
            "Only users holding one of this app's roles, assigned to them or to a group they "
            "are a member of, may sign in to it; others see a page saying they have no access. "
            "Define at least one role below to let anyone in."
        ),
    )
    groups_claim = forms.BooleanField(
        label=_("Send the groups claim"),
        required=False,
        help_text=_(
            "ID and access tokens list the object ids of the user's groups in `groups`. Past "
            "150 groups they carry a link to read them instead (/api/v1/users/{id}/memberOf)."
        ),
    )
    access_token_hours = forms.DecimalField(
        label=_("Access token lifetime (hours)"),
        initial=1,
        min_value=Decimal("0.1"),
        max_value=24,
        decimal_places=2,
        help_text=_("From 0.1 (6 minutes) to 24. Tokens already issued last this long."),
    )
    id_token_hours = forms.DecimalField(
        label=_("ID token lifetime (hours)"),
        initial=1,
        min_value=Decimal("0.1"),
        max_value=24,
        decimal_places=2,
    )
    refresh_token_days = forms.IntegerField(
        label=_("Refresh token absolute lifetime (days)"),
        initial=14,
        min_value=1,
        max_value=365,
        help_text=_("A sign-in can be refreshed for this long, then the user signs in again."),
    )
    claim_mappings = forms.CharField(
        label=_("Claims from user attributes"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_(
            "One a line, claim = attributeKey (e.g. loyalty_level = loyaltyLevel); sent "
            "with the profile scope."
        ),
    )
    api_permissions = forms.MultipleChoiceField(
        label=_("Directory API permissions"),
        choices=list(DIRECTORY_PERMISSIONS.items()),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "You grant only what your roles allow: User.Read.All, User.ReadWrite.All, "
            "Group.Read.All and Group.ReadWrite.All need User administrator, User.Invite.All "
            "Guest inviter or User administrator (Global administrators grant them all). The "
            "app acts with your authority: it invites only while you may invite (the "
            "directory's “who can invite” setting applies), invites members only if you are a "
            "User administrator, and the permission stops working if you lose the role or "
            "leave, until another admin holding it saves the app again."
        ),
    )

    token_signing_algorithm = forms.ChoiceField(
        label=_("Token signing algorithm"),
        choices=Application.SigningAlgorithm.choices,
        required=False,  # RS256 when left out
        initial=Application.SigningAlgorithm.RS256,
        help_text=_(
            "How this app's access and ID tokens are signed. RS256 unless the app's libraries "
            "verify ES256; the JWKS publishes the keys of both."
        ),
    )

    def __init__(self, *args, app_type: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.app_type = app_type
        wanted = DAEMON_FIELDS if app_type == Application.AppType.DAEMON else USER_APP_FIELDS
        for name in [name for name in self.fields if name not in wanted]:
            del self.fields[name]

    def service_values(self) -> dict:
        """The cleaned data as the services take it (lifetimes in seconds)."""
        data = self.cleaned_data
        is_daemon = self.app_type == Application.AppType.DAEMON
        return {
            "name": data["name"],
            "app_type": self.app_type,
            "redirect_uris": data.get("redirect_uris", ""),
            "post_logout_redirect_uris": data.get("post_logout_redirect_uris", ""),
            "home_url": data.get("home_url", ""),
            "is_first_party": True if is_daemon else data.get("is_first_party", False),
            "always_refresh": data.get("always_refresh", False),
            "require_mfa": False if is_daemon else data.get("require_mfa", False),
            "assignment_required": False if is_daemon else data.get("assignment_required", False),
            "groups_claim": False if is_daemon else data.get("groups_claim", False),
            "access_token_lifetime": round(data["access_token_hours"] * 3600),
            "id_token_lifetime": 3600 if is_daemon else round(data["id_token_hours"] * 3600),
            "refresh_token_lifetime": 14 * 86400
            if is_daemon
            else data["refresh_token_days"] * 86400,
            "claim_mappings": data.get("claim_mappings", ""),
            "api_permissions": data.get("api_permissions", []),
            "token_signing_algorithm": data.get("token_signing_algorithm")
            or Application.SigningAlgorithm.RS256,
        }

    @classmethod
    def for_application(cls, application: Application, data=None) -> ApplicationForm:
        initial = {
            "name": application.name,
            "redirect_uris": "\n".join(application.redirect_uris.split()),
            "post_logout_redirect_uris": "\n".join(application.post_logout_redirect_uris.split()),
            "home_url": application.home_url,
            "is_first_party": application.is_first_party,
            "always_refresh": application.always_refresh,
            "require_mfa": application.require_mfa,
            "assignment_required": application.assignment_required,
            "groups_claim": application.groups_claim,
            "access_token_hours": hours(application.access_token_lifetime),
            "id_token_hours": hours(application.id_token_lifetime),
            "refresh_token_days": max(1, round(application.refresh_token_lifetime / 86400)),
            "api_permissions": application.api_permissions,
            "token_signing_algorithm": application.token_signing_algorithm,
            "claim_mappings": "\n".join(
                f"{claim} = {attribute}" for claim, attribute in application.claim_mappings.items()
            ),
        }
        return cls(data=data, initial=initial, app_type=application.app_type)


def hours(seconds: int) -> Decimal | int:
    """A lifetime in hours as an admin reads it: 1, 0.5, 1.25."""
    return _plain(Decimal(seconds) / 3600)


def days(seconds: int) -> Decimal | int:
    return _plain(Decimal(seconds) / 86400)


def _plain(value: Decimal) -> Decimal | int:
    value = value.quantize(Decimal("0.01"))
    return int(value) if value == int(value) else value.normalize()


class SecretForm(forms.Form):
    description = forms.CharField(label=_("Description"), max_length=100, required=False)


class RoleForm(forms.Form):
    value = forms.CharField(label=_("Value (in the roles claim)"), max_length=64)
    display_name = forms.CharField(label=_("Display name"), max_length=100, required=False)
    description = forms.CharField(label=_("Description"), max_length=500, required=False)


class RoleAssignForm(forms.Form):
    email = forms.EmailField(label=_("User's email"))
