from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from mfa.models import MfaPolicy


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code"),
        max_length=32,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "spellcheck": "false"}
        ),
    )


class RecoveryCodeForm(CodeForm):
    """A recovery code has letters: no numeric keyboard, no one-time-code autofill."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["code"].widget.attrs.update(
            {"autocomplete": "off", "autocapitalize": "none", "inputmode": "text"}
        )


class MfaPolicyForm(forms.ModelForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Left out of a post: kept as it is.
        self.fields["remember_browser_days"].required = False

    requirement = forms.ChoiceField(
        label=_("Who must use a second factor"),
        choices=MfaPolicy.Requirement.choices,
        widget=forms.RadioSelect,
    )

    class Meta:
        model = MfaPolicy
        fields = [
            "requirement",
            "totp_allowed",
            "email_code_allowed",
            "recovery_codes_allowed",
            "passkey_allowed",
            "remember_browser_days",
        ]
        help_texts = {
            "totp_allowed": _("Codes from an app such as Microsoft Authenticator or Aegis."),
            "email_code_allowed": _(
                "A code emailed to the account's address (not after a sign-in by email code)."
            ),
            "recovery_codes_allowed": _("Ten single-use codes that back up the authenticator app."),
            "passkey_allowed": _(
                "Fingerprint, face, screen lock or security key: signs in without a password "
                "and counts as a second factor."
            ),
        }
