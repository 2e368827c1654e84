from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class CustomDomainAddForm(forms.Form):
    host = forms.CharField(
        label=_("Domain"),
        max_length=300,
        help_text=_(
            "A host name under a domain your organisation owns, such as login.contoso.com. "
            "Your users will see it in the address bar of the sign-in pages."
        ),
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "none"}
        ),
    )


class PrimaryConfirmForm(forms.Form):
    confirm_host = forms.CharField(
        label=_("Type the domain to confirm"),
        max_length=300,
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "none"}
        ),
    )
