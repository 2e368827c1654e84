from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from oidc.models import Application
from oidc.services import DIRECTORY_PERMISSIONS


class ApplicationForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=255)
    app_type = forms.ChoiceField(
        label=_("App type"),
        choices=Application.AppType.choices,
        help_text=_("Web and daemon apps keep a secret; single-page and native apps cannot."),
    )
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
    access_token_lifetime = forms.IntegerField(
        label=_("Access token lifetime (seconds)"), initial=3600, min_value=1
    )
    id_token_lifetime = forms.IntegerField(
        label=_("ID token lifetime (seconds)"), initial=3600, min_value=1
    )
    refresh_token_lifetime = forms.IntegerField(
        label=_("Refresh token absolute lifetime (seconds)"), initial=14 * 24 * 3600, min_value=1
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
        label=_("Directory API permissions (daemon apps)"),
        choices=list(DIRECTORY_PERMISSIONS.items()),
        required=False,
        help_text=_(
            "You grant only what your roles allow: User.Read.All needs User administrator, "
            "User.Invite.All Guest inviter or User administrator (Global administrators "
            "grant both). The app acts with your authority: it invites only while you may "
            "invite (the directory's “who can invite” setting applies), invites members "
            "only if you are a User administrator, and the permission stops working if you "
            "lose the role or leave, until another admin holding it saves the app again."
        ),
        widget=forms.CheckboxSelectMultiple,
    )

    @classmethod
    def for_application(cls, application: Application, data=None) -> ApplicationForm:
        initial = {
            "name": application.name,
            "app_type": application.app_type,
            "redirect_uris": "\n".join(application.redirect_uris.split()),
            "post_logout_redirect_uris": "\n".join(application.post_logout_redirect_uris.split()),
            "home_url": application.home_url,
            "is_first_party": application.is_first_party,
            "access_token_lifetime": application.access_token_lifetime,
            "id_token_lifetime": application.id_token_lifetime,
            "refresh_token_lifetime": application.refresh_token_lifetime,
            "api_permissions": application.api_permissions,
            "claim_mappings": "\n".join(
                f"{claim} = {attribute}" for claim, attribute in application.claim_mappings.items()
            ),
        }
        form = cls(data=data, initial=initial)
        form.fields["app_type"].disabled = True
        return form


class SecretForm(forms.Form):
    description = forms.CharField(label=_("Description"), max_length=100, required=False)


class RoleForm(forms.Form):
    value = forms.CharField(label=_("Value (in the roles claim)"), max_length=64)
    display_name = forms.CharField(label=_("Display name"), max_length=100, required=False)


class RoleAssignForm(forms.Form):
    email = forms.EmailField(label=_("User's email"))
