from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from groups.models import DESCRIPTION_MAX_LENGTH, NAME_MAX_LENGTH

MEMBERS_PER_ADD = 100


class UsersByEmailField(forms.CharField):
    """Users of the directory by their addresses, one a line (or comma-separated)."""

    widget = forms.Textarea(attrs={"rows": 3})

    def __init__(self, *args, limit: int = MEMBERS_PER_ADD, **kwargs):
        self.limit = limit
        super().__init__(*args, **kwargs)

    def clean(self, value):
        text = super().clean(value) or ""
        emails = [part.strip() for part in text.replace(",", "\n").splitlines() if part.strip()]
        if len(emails) > self.limit:
            raise forms.ValidationError(
                _("Give at most %(count)d addresses at once.") % {"count": self.limit}
            )
        users, unknown = [], []
        for email in emails:
            user = get_user_model().objects.with_email(email).first()
            if user is None:
                unknown.append(email)
            elif user not in users:
                users.append(user)
        if unknown:
            raise forms.ValidationError(
                _("No user with the address %(emails)s in this directory.")
                % {"emails": ", ".join(unknown)}
            )
        return users


class GroupForm(forms.Form):
    display_name = forms.CharField(label=gettext_lazy("Name"), max_length=NAME_MAX_LENGTH)
    description = forms.CharField(
        label=gettext_lazy("Description"),
        required=False,
        max_length=DESCRIPTION_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class GroupCreateForm(GroupForm):
    owners = UsersByEmailField(
        label=gettext_lazy("Owners (email addresses, one a line)"),
        required=False,
        limit=20,
        help_text=gettext_lazy("Who answers for the group; they are not made members."),
    )


class MembersAddForm(forms.Form):
    emails = UsersByEmailField(
        label=gettext_lazy("Add members (email addresses, one a line)"),
        help_text=gettext_lazy("Members and guests alike, up to 100 at once."),
    )


class OwnerAddForm(forms.Form):
    email = forms.EmailField(label=gettext_lazy("Owner's email"))

    def clean_email(self):
        email = self.cleaned_data["email"]
        user = get_user_model().objects.with_email(email).first()
        if user is None:
            raise forms.ValidationError(_("No user with this address in this directory."))
        self.user = user
        return email


class RoleAssignForm(forms.Form):
    """An app role to give the group's members: the choices are every role of every app."""

    role = forms.ChoiceField(label=gettext_lazy("App role"))

    def __init__(self, *args, roles=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.roles = {str(role.public_id): role for role in roles}
        self.fields["role"].choices = [
            (str(role.public_id), f"{role.application.name}: {role.display_name} ({role.value})")
            for role in roles
        ]

    def clean_role(self):
        return self.roles[self.cleaned_data["role"]]
