from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class TenantCreateForm(forms.Form):
    name = forms.CharField(label=_("Organisation name"), max_length=100)
    slug = forms.CharField(
        label=_("Tenant address"),
        max_length=40,
        help_text=_("Lowercase letters, digits and hyphens; 3 to 40 characters."),
    )
    admin_email = forms.EmailField(label=_("Your email (first administrator)"), max_length=254)
    admin_password = forms.CharField(
        label=_("Password"),
        strip=False,
        max_length=1024,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("At least 12 characters. A few unrelated words make a strong one."),
    )


class TenantDeleteForm(forms.Form):
    confirm_slug = forms.CharField(label=_("Type the tenant's slug to confirm"), max_length=40)
