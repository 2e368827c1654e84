from __future__ import annotations

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.urls import reverse_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.sign_in import lockout
from accounts.sign_in.adapter import lock_message_without_reset
from ciam.http import client_ip


class TenantCreateForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("Organisation name"),
        max_length=100,
        widget=forms.TextInput(attrs={"autocomplete": "organization"}),
    )
    slug = forms.CharField(
        label=gettext_lazy("Tenant address"),
        max_length=40,
        help_text=gettext_lazy("Lowercase letters, digits and hyphens; 3 to 40 characters."),
        # The live check (htmx) writes into #slug-availability, where errors show too.
        widget=forms.TextInput(
            attrs={
                "autocapitalize": "none",
                "spellcheck": "false",
                "aria-describedby": "id_slug_help slug-availability",
                "hx-get": reverse_lazy("platform:slug-availability"),
                "hx-trigger": "input changed delay:300ms",
                "hx-target": "#slug-availability",
                "hx-params": "slug",
            }
        ),
    )
    admin_email = forms.EmailField(
        label=gettext_lazy("Your email (first administrator)"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    admin_password = forms.CharField(
        label=gettext_lazy("Password"),
        strip=False,
        max_length=1024,
        # Rendered back after an error elsewhere on the form, so that nobody types it again
        # each round (the page is never cached: landing is never_cache).
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}, render_value=True),
        help_text=gettext_lazy("At least 12 characters. A few unrelated words make a strong one."),
    )


class TenantDeleteForm(forms.Form):
    confirm_slug = forms.CharField(
        label=gettext_lazy("Type the tenant's slug to confirm"),
        max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )


class OperatorLoginForm(AuthenticationForm):
    """Django's sign-in form with the smart lockout of tenant sign-in
    (accounts.sign_in.lockout), its failures counted per email and per IP address in the
    platform's own cache keys."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"].widget.attrs["autocomplete"] = "email"  # operators' usernames

    def clean(self):
        email = self.cleaned_data.get("username") or ""
        password = self.cleaned_data.get("password")
        if not email or password is None:
            return super().clean()
        ip = client_ip(self.request)
        attempt = lockout.lockout_attempt_begin(email=email, ip=ip)
        if attempt.lock is not None:
            raise _locked(attempt.lock)
        if not attempt.reserved:
            # Too many checks of this email already running: refused like a lock, unhashed.
            raise ValidationError(
                _("Too many sign-in attempts at once. Try again in a few seconds."),
                code="locked_out",
            )
        try:
            try:
                return super().clean()
            except ValidationError as error:
                if self.user_cache is None:
                    lockout.lockout_register_failure(email=email, ip=ip, password=password)
                    lock = lockout.lockout_check(email=email, ip=ip)
                    if lock is not None:
                        raise _locked(lock) from error
                raise
        finally:
            lockout.lockout_attempt_finish(email=email, succeeded=self.user_cache is not None)


def _locked(lock: lockout.Lock) -> ValidationError:
    return ValidationError(lock_message_without_reset(lock), code="locked_out")
