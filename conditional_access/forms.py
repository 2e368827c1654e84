from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.roles import AdminRole
from conditional_access.models import ConditionalAccessPolicy, NamedLocation, cidr_problems
from groups.models import Group
from oidc.models import Application

Policy = ConditionalAccessPolicy


def _emails(text: str) -> list[str]:
    return [part.strip() for part in text.replace(",", "\n").splitlines() if part.strip()]


class UsersByEmailField(forms.CharField):
    """Users chosen by their addresses, one a line: each must be in the directory."""

    widget = forms.Textarea(attrs={"rows": 2})

    def clean(self, value):
        users, unknown = [], []
        for email in _emails(super().clean(value) or ""):
            user = get_user_model().objects.filter(email__iexact=email).first()
            if user is None:
                unknown.append(email)
            elif user not in users:
                users.append(user)
        if unknown:
            raise forms.ValidationError(
                _("No user with the address %(emails)s.") % {"emails": ", ".join(unknown)}
            )
        return users


def users_as_text(users) -> str:
    return "\n".join(sorted(user.email for user in users))


class PolicyForm(forms.ModelForm):
    include_roles = forms.MultipleChoiceField(
        label=gettext_lazy("Administrators with these roles"),
        choices=AdminRole.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    include_users_text = UsersByEmailField(
        label=gettext_lazy("These users (email addresses, one a line)"), required=False
    )
    exclude_roles = forms.MultipleChoiceField(
        label=gettext_lazy("Except administrators with these roles"),
        choices=AdminRole.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    exclude_users_text = UsersByEmailField(
        label=gettext_lazy("Except these users (email addresses, one a line)"),
        required=False,
        help_text=gettext_lazy(
            "Exclusions always win. Exclude an emergency access account from blocking policies."
        ),
    )
    include_groups = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Members of these groups"),
        queryset=Group.objects.order_by("display_name"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    exclude_groups = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Except members of these groups"),
        queryset=Group.objects.order_by("display_name"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("Exclusions always win, a group's as a user's."),
    )
    include_apps = forms.ModelMultipleChoiceField(
        label=gettext_lazy("These apps"),
        queryset=Application.objects.exclude(app_type=Application.AppType.DAEMON),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    include_locations = forms.ModelMultipleChoiceField(
        label=gettext_lazy("These locations"),
        queryset=NamedLocation.objects.all(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    exclude_locations = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Except these locations"),
        queryset=NamedLocation.objects.all(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    methods = forms.MultipleChoiceField(
        label=gettext_lazy("Sign-in methods (none chosen: any)"),
        choices=Policy.Method.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = Policy
        fields = [
            "name", "state", "users", "include_members", "include_guests", "include_roles",
            "exclude_roles", "apps", "locations", "exclude_trusted", "methods", "new_browser",
            "recent_failures", "grant", "require_mfa", "require_passkey",
            "require_password_change", "sign_in_frequency_hours",
        ]  # fmt: skip
        widgets = {
            "state": forms.RadioSelect,
            "users": forms.RadioSelect,
            "apps": forms.RadioSelect,
            "locations": forms.RadioSelect,
            "grant": forms.RadioSelect,
        }
        help_texts = {
            "require_mfa": gettext_lazy(
                "Enforced by the MFA step of sign-in; at the token endpoint the sign-in that "
                "began the session was checked."
            ),
            "sign_in_frequency_hours": gettext_lazy(
                "Apps must send the user to sign in again after this long: their refresh "
                "tokens stop working."
            ),
            "new_browser": gettext_lazy(
                "A browser that never signed in to this account before (a risk signal)."
            ),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["include_users_text"].initial = users_as_text(
                self.instance.include_users.all()
            )
            self.fields["exclude_users_text"].initial = users_as_text(
                self.instance.exclude_users.all()
            )
            for name in (
                "include_apps", "include_locations", "exclude_locations", "include_groups",
                "exclude_groups",
            ):  # fmt: skip
                self.fields[name].initial = list(getattr(self.instance, name).all())

    def relations(self) -> dict:
        data = self.cleaned_data
        return {
            "include_users": data["include_users_text"],
            "exclude_users": data["exclude_users_text"],
            "include_apps": list(data["include_apps"]),
            "include_locations": list(data["include_locations"]),
            "exclude_locations": list(data["exclude_locations"]),
            "include_groups": list(data["include_groups"]),
            "exclude_groups": list(data["exclude_groups"]),
        }


class NamedLocationForm(forms.ModelForm):
    ip_ranges = forms.CharField(
        label=gettext_lazy("IP ranges (one a line, like 203.0.113.0/24 or 2001:db8::/32)"),
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    class Meta:
        model = NamedLocation
        fields = ["name", "kind", "ip_ranges"]
        widgets = {"kind": forms.RadioSelect}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["ip_ranges"] = "\n".join(self.instance.ip_ranges)

    def clean_ip_ranges(self) -> list[str]:
        ranges = _emails(self.cleaned_data["ip_ranges"])
        problems = cidr_problems(ranges)
        if problems:
            raise forms.ValidationError(problems)
        if not ranges:
            raise forms.ValidationError(_("Give at least one IP address or range."))
        return ranges


class WhatIfForm(forms.Form):
    email = forms.EmailField(label=gettext_lazy("User (email address)"))
    app = forms.ModelChoiceField(
        label=gettext_lazy("App"),
        queryset=Application.objects.exclude(app_type=Application.AppType.DAEMON),
        required=False,
        empty_label=gettext_lazy("None: the console or My account"),
    )
    ip = forms.GenericIPAddressField(label=gettext_lazy("IP address"))
    method = forms.ChoiceField(
        label=gettext_lazy("Sign-in method"),
        choices=[*Policy.Method.choices, ("", gettext_lazy("None: a token issue (refresh)"))],
        required=False,
    )
    new_browser = forms.BooleanField(
        label=gettext_lazy("First sign-in to this account from this browser"), required=False
    )
    recent_failures = forms.IntegerField(
        label=gettext_lazy("Failed sign-ins to the account in the last hour"),
        min_value=0,
        max_value=1000,
        initial=0,
        required=False,
    )

    def clean_email(self):
        email = self.cleaned_data["email"]
        user = get_user_model().objects.filter(email__iexact=email).first()
        if user is None:
            raise forms.ValidationError(_("No user with this address in the directory."))
        self.user = user
        return email
