from __future__ import annotations

from allauth.account import forms as allauth_forms
from allauth.account.stages import LoginByCodeStage, LoginStageController
from allauth.account.utils import get_next_redirect_url
from allauth.core import context as allauth_context
from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.validators import MaxLengthValidator
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import SignUpAttribute, User, UserFlow
from accounts.selectors import password_allowed, sign_up_attributes, user_flow_for
from accounts.services import BUILTIN_ATTRIBUTES, USER_FLOW_FIELDS
from accounts.sign_in import lockout
from accounts.sign_in.adapter import lock_message
from accounts.sign_in.familiar import lockout_subject
from audit.models import SignInEvent
from audit.services import sign_in_record
from ciam.http import client_ip, url_with_next

ATTRIBUTE_PREFIX = "attr_"


def attribute_field(attribute: SignUpAttribute, *, required: bool | None = None) -> forms.Field:
    """The form field that asks for one user-flow attribute."""
    required = attribute.required if required is None else required
    label = attribute.label
    if attribute.data_type == SignUpAttribute.DataType.BOOLEAN:
        return forms.BooleanField(label=label, required=required)
    if attribute.data_type == SignUpAttribute.DataType.INTEGER:
        return forms.IntegerField(
            label=label, required=required, min_value=-(2**53), max_value=2**53
        )
    if attribute.data_type == SignUpAttribute.DataType.CHOICE:
        choices = [("", _("Choose…"))] + [(choice, choice) for choice in attribute.choices]
        return forms.ChoiceField(label=label, required=required, choices=choices)
    widget = forms.Textarea(attrs={"rows": 2}) if attribute.max_length > 256 else None
    return forms.CharField(
        label=label, required=required, max_length=attribute.max_length, widget=widget
    )


def _autocomplete(key: str) -> str | None:
    return {
        "givenName": "given-name",
        "surname": "family-name",
        "displayName": "name",
        "country": "country-name",
        "city": "address-level2",
        "state": "address-level1",
        "postalCode": "postal-code",
        "streetAddress": "street-address",
        "jobTitle": "organization-title",
    }.get(key)


def add_attribute_fields(form: forms.Form, attributes: list[SignUpAttribute]) -> None:
    for attribute in attributes:
        field = attribute_field(attribute)
        autocomplete = _autocomplete(attribute.key)
        if autocomplete:
            field.widget.attrs["autocomplete"] = autocomplete
        form.fields[ATTRIBUTE_PREFIX + attribute.key] = field


def attribute_values(form: forms.Form) -> dict:
    return {
        name[len(ATTRIBUTE_PREFIX) :]: value
        for name, value in form.cleaned_data.items()
        if name.startswith(ATTRIBUTE_PREFIX)
    }


def _terms_label(flow: UserFlow):
    """The terms checkbox's label, with links to the flow's terms and privacy statement."""
    link = '<a href="{}" rel="noopener" target="_blank">{}</a>'
    label = format_html("{} " + link, _("I accept the"), flow.terms_url, _("terms of use"))
    if flow.privacy_url:
        label = format_html(
            "{} {} " + link, label, _("and the"), flow.privacy_url, _("privacy statement")
        )
    return label


class SignupForm(allauth_forms.SignupForm):
    """allauth's sign-up form plus the attributes and terms checkbox of the tenant's flow."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["email"].widget.attrs.pop("placeholder", None)
        # The user model's limit: longer addresses get an error, not a database failure.
        self.fields["email"].max_length = 254
        self.fields["email"].validators.append(MaxLengthValidator(254))
        self.fields["password1"].widget.attrs.pop("placeholder", None)
        self.fields["password1"].help_text = _(
            "At least %(min)d characters. A few unrelated words make a strong password."
        ) % {"min": self.flow.password_min_length}
        add_attribute_fields(self, sign_up_attributes(self.flow))
        if self.flow.terms_required:
            self.fields["accept_terms"] = forms.BooleanField(
                label=_terms_label(self.flow),
                required=True,
                error_messages={"required": _("Accept the terms of use to create an account.")},
            )

    @property
    def flow(self) -> UserFlow:
        return user_flow_for(allauth_context.request)

    def try_save(self, request):
        # Signing up with a registered email creates nothing (its owner gets an email), so
        # spend the one password hash a new account costs: both answers take as long.
        email = self.cleaned_data.get("email") or ""
        if get_user_model().objects.with_email(email).exists():
            make_password(self.cleaned_data.get("password1") or "")
        return super().try_save(request)


class LoginForm(allauth_forms.LoginForm):
    """allauth's sign-in form, with its "Forgot your password?" link written here: allauth
    renders a template for it every time the form is built, posts included."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from branding.selectors import request_branding

        branding = request_branding(self.request) if self.request is not None else None
        # The tenant's text for the link (Branding), escaped: plain text only. The link keeps
        # where the sign-in goes on (`next`) for after the reset (accounts.views).
        next_url = get_next_redirect_url(self.request) if self.request is not None else None
        self.fields["password"].help_text = format_html(
            '<a href="{}">{}</a>',
            url_with_next(reverse("account_reset_password"), next_url),
            (branding and branding.forgot_password_label) or _("Forgot your password?"),
        )
        # "webauthn": the browser may offer the passkeys of this site in the field's autofill
        # (conditional UI, static/js/passkeys.js); "username", as the sign-in identifier.
        self.fields["login"].widget.attrs["autocomplete"] = "username webauthn"
        # The tenant's username hint (Branding) is the field's help text: forms/field.html
        # ties it to the input with aria-describedby.
        if branding is not None and branding.username_hint:
            self.fields["login"].help_text = branding.username_hint


class RequestLoginCodeForm(allauth_forms.RequestLoginCodeForm):
    def clean(self):
        request = allauth_context.request
        if not user_flow_for(request).email_code_enabled:
            raise forms.ValidationError(_("Signing in with an emailed code is turned off."))
        # No code is sent for a locked email or from a locked address: it could not be used.
        email = self.cleaned_data.get("email") or ""
        lock = lockout.lockout_check(email=lockout_subject(request, email), ip=client_ip(request))
        if lock is not None:
            raise forms.ValidationError(lock_message(lock), code="locked_out")
        return super().clean()

    def clean_email(self) -> str:
        try:
            return super().clean_email()
        except forms.ValidationError as error:
            if error.code != "too_many_login_attempts":
                raise
            # allauth's limit of code emails per address and per IP address (settings).
            raise forms.ValidationError(
                _(
                    "Too many codes were asked for this address or from your network. Use the "
                    "last code you received, or wait a few minutes and try again."
                ),
                code="rate_limited",
            ) from None


class ConfirmLoginCodeForm(allauth_forms.ConfirmLoginCodeForm):
    """A wrong code counts toward the smart lockout of the email and the IP address like a
    wrong password (allauth's own limit of attempts per code only ends that code, and a new
    one could be asked for forever); while either is locked no code is checked."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["code"].widget.attrs["inputmode"] = "numeric"

    def clean_code(self) -> str:
        request = allauth_context.request
        # The sign-in waiting at the code stage, as allauth's own views enter it.
        stage = LoginStageController.enter(request, LoginByCodeStage.key)
        email = (stage.state.get("email") if stage else "") or ""
        subject = lockout_subject(request, email)
        ip = client_ip(request)
        attempt = lockout.lockout_attempt_begin(email=subject, ip=ip)
        lock = lockout.lockout_attempt_refusal(attempt, email=subject)
        user = getattr(getattr(stage, "login", None), "user", None)
        if lock is not None:
            self._record(
                email, user, SignInEvent.Result.LOCKED_OUT, SignInEvent.FailureReason.LOCKED_OUT
            )
            raise forms.ValidationError(lock_message(lock), code="locked_out")
        succeeded = False
        try:
            code = super().clean_code()
            succeeded = True
            return code
        except forms.ValidationError:
            # Keyed with the expected code: the same guess at a new code counts again.
            typed = f"code\0{self.expected_code}\0{self.cleaned_data.get('code', '')}"
            lockout.lockout_register_failure(email=subject, ip=ip, password=typed)
            # The code itself never goes into the log.
            self._record(
                email, user, SignInEvent.Result.FAILURE, SignInEvent.FailureReason.WRONG_CODE
            )
            lock = lockout.lockout_check(email=subject, ip=ip)
            if lock is not None:
                raise forms.ValidationError(lock_message(lock), code="locked_out") from None
            raise
        finally:
            lockout.lockout_attempt_finish(email=subject, succeeded=succeeded)

    def _record(self, email: str, user, result: str, reason: str) -> None:
        # The address the code was asked for, and its account if there is one.
        sign_in_record(
            request=allauth_context.request,
            user=user,
            email=email,
            method=SignInEvent.Method.EMAIL_CODE,
            result=result,
            failure_reason=reason,
        )


class UserFlowForm(forms.ModelForm):
    class Meta:
        model = UserFlow
        fields = list(USER_FLOW_FIELDS)  # what services.user_flow_update saves
        widgets = {"email_verification": forms.RadioSelect}
        help_texts = {
            "password_min_length": gettext_lazy(
                "NIST: 15 or more when the password is the only factor, 8 or more with MFA."
            ),
            "session_lifetime_hours": gettext_lazy(
                "After this time people sign in again, however active they are; signing in "
                "again to confirm a change does not extend it. Applies to sign-ins from now on."
            ),
            "session_idle_minutes": gettext_lazy(
                "People who do nothing for this long are signed out. Applies to sign-ins from "
                "now on."
            ),
        }


class SignUpAttributeForm(forms.Form):
    key = forms.CharField(
        label=gettext_lazy("Attribute"),
        max_length=64,
        help_text=gettext_lazy(
            "A built-in attribute (givenName, surname, displayName, country, city, state, "
            "postalCode, streetAddress, jobTitle) or a new custom name such as loyaltyNumber."
        ),
        widget=forms.TextInput(attrs={"list": "builtin-attributes"}),
    )
    label = forms.CharField(
        label=gettext_lazy("Label on the sign-up page"), max_length=128, required=False
    )
    data_type = forms.ChoiceField(
        label=gettext_lazy("Type"), choices=SignUpAttribute.DataType.choices
    )
    choices = forms.CharField(
        label=gettext_lazy("Choices (single choice only), one a line"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=4000,
    )
    required = forms.BooleanField(label=gettext_lazy("Required"), required=False)
    position = forms.IntegerField(label=gettext_lazy("Order"), min_value=0, max_value=999)

    def clean_choices(self) -> list[str]:
        return [line.strip()[:128] for line in self.cleaned_data["choices"].splitlines()]


class UnlockForm(forms.Form):
    email = forms.EmailField(label=gettext_lazy("Email address"))


class LanguageForm(forms.Form):
    language = forms.ChoiceField(
        label=gettext_lazy("Language"),
        required=False,
        help_text=gettext_lazy("Pages and emails to you use it. Blank: your browser's language."),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["language"].choices = [("", _("Your browser's language")), *settings.LANGUAGES]


class ProfileForm(forms.Form):
    """The signed-in user's own attributes: those the user flow collects."""

    def __init__(self, *args, user, attributes: list[SignUpAttribute], **kwargs) -> None:
        initial = {ATTRIBUTE_PREFIX + key: value for key, value in user.attributes.items()}
        initial[ATTRIBUTE_PREFIX + "givenName"] = user.first_name
        initial[ATTRIBUTE_PREFIX + "surname"] = user.last_name
        initial[ATTRIBUTE_PREFIX + "displayName"] = user.display_name
        super().__init__(*args, initial=initial, **kwargs)
        add_attribute_fields(self, attributes)
        if not any(attribute.key == "displayName" for attribute in attributes):
            label, max_length = BUILTIN_ATTRIBUTES["displayName"]
            self.fields[ATTRIBUTE_PREFIX + "displayName"] = forms.CharField(
                label=label, max_length=max_length, required=False
            )


class AddEmailForm(allauth_forms.AddEmailForm):
    """Changing email needs a verified current email: allauth treats an unverified address as
    the pending change, and replacing it would leave the account without any address."""

    def clean(self):
        from allauth.account.models import EmailAddress

        cleaned_data = super().clean()
        current = EmailAddress.objects.filter(user=self.user, email=self.user.email)
        if not current.filter(verified=True).exists():
            if not current.exists():
                EmailAddress.objects.create(user=self.user, email=self.user.email, primary=True)
            raise forms.ValidationError(
                _("Verify your current email address first: send yourself the link below.")
            )
        return cleaned_data


class _OwnLabels:
    """allauth's password forms in our words: sentence-case labels, and no placeholder that
    repeats the label."""

    labels: dict = {}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            field.widget.attrs.pop("placeholder", None)
            if name in self.labels:
                field.label = self.labels[name]


_PASSWORD_LABELS = {
    "oldpassword": gettext_lazy("Current password"),
    "password1": gettext_lazy("New password"),
    "password2": gettext_lazy("Confirm new password"),
}


class ChangePasswordForm(_OwnLabels, allauth_forms.ChangePasswordForm):
    """The current password is checked like a sign-in (AccountAdapter.reauthenticate): each
    wrong one counts toward the lockout, and none is checked while the account is locked."""

    labels = _PASSWORD_LABELS

    def clean_oldpassword(self) -> str:
        from allauth.account.adapter import get_adapter

        password = self.cleaned_data.get("oldpassword", "")
        if not get_adapter().reauthenticate(self.user, password):
            raise get_adapter().validation_error("enter_current_password")
        return password


class SetPasswordForm(_OwnLabels, allauth_forms.SetPasswordForm):
    labels = _PASSWORD_LABELS


class ResetPasswordKeyForm(_OwnLabels, allauth_forms.ResetPasswordKeyForm):
    labels = _PASSWORD_LABELS

    def clean(self):
        # A reset link is the other way to a first password: guests have none to set.
        if self.user is not None and not password_allowed(self.user):
            raise forms.ValidationError(
                _(
                    "Guests do not set a password here: sign in with a code sent to your "
                    "email address, or with your organization's account."
                ),
                code="password_not_allowed",
            )
        return super().clean()


class ReauthenticateForm(_OwnLabels, allauth_forms.ReauthenticateForm):
    pass


class UserProfileAdminForm(ProfileForm):
    """An admin edits a user: the attributes the user flow collects, and always the names."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for key in ("givenName", "surname"):
            if ATTRIBUTE_PREFIX + key not in self.fields:
                label, max_length = BUILTIN_ATTRIBUTES[key]
                self.fields[ATTRIBUTE_PREFIX + key] = forms.CharField(
                    label=label, max_length=max_length, required=False
                )
        # An admin may leave out what the person's own sign-up would require.
        for field in self.fields.values():
            field.required = False


class UserCreateForm(UserProfileAdminForm):
    email = forms.EmailField(
        label=gettext_lazy("Email address"),
        max_length=254,
        help_text=gettext_lazy(
            "They get an email with a link to choose their password (or to sign in with a "
            "code, when the user flow allows it). You never choose or see their password."
        ),
    )

    def __init__(self, *args, attributes, **kwargs) -> None:
        super().__init__(*args, user=User(), attributes=attributes, **kwargs)
        self.order_fields(["email"])


class UserImportForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("CSV file"),
        help_text=gettext_lazy(
            "Columns: email, given name, surname, display name, then any attribute of the "
            "user flow by its name in the header row. Up to 2 MB."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > 2 * 1024 * 1024:
            raise forms.ValidationError(gettext_lazy("The file is larger than 2 MB."))
        return upload
