"""The second-factor challenge page, one for the sign-in's MFA step (mfa.views.authenticate)
and for step-up of a signed-in session (mfa.step_up.step_up): the person chooses one of the
methods offered, has an email code sent, answers with a passkey or types a code; a refused
answer is counted (mfa.services.mfa_verify) and written to the sign-in log.

What differs between the two callers stays with them: where the attempt and "email sent" are
kept (the login stage's state, or the session), the URLs, and what follows a success.
"""

from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import ValidationError

from audit.models import SignInEvent
from audit.services import sign_in_record
from mfa import passkeys, services
from mfa.forms import CodeForm, RecoveryCodeForm
from mfa.models import Method

METHOD_LABELS = dict(Method.choices)


class SecondFactorChallenge:
    """One request to the challenge page. `run()` handles a POST and returns the method that
    served (services.Verified) or None; `context()` is what mfa/challenge.html shows then.

    `primary_method` is how the session's sign-in began (an emailed code after an emailed code
    proves nothing more: services.mfa_verify and mfa.stages.user_methods read it); `log_method`
    is the sign-in log's method of the rows this page writes (the primary method at sign-in,
    "existing session" for a step-up)."""

    def __init__(
        self,
        request,
        *,
        user,
        methods: list[str],
        primary_method: str,
        attempt: str,
        email_sent: bool = False,
        log_method: str = "",
    ):
        self.request = request
        self.user = user
        self.methods = methods
        self.primary_method = primary_method
        self.log_method = log_method or primary_method
        self.attempt = attempt
        self.email_sent = email_sent
        method = request.POST.get("method") or request.GET.get("method") or methods[0]
        self.method = method if method in methods else methods[0]
        # The code form: bound to a POSTed code by run(), else made blank when the page is
        # shown (context()), not both.
        self.form = None
        self.status = 200
        self.send_error = ""

    def _form_class(self):
        return RecoveryCodeForm if self.method == Method.RECOVERY_CODE else CodeForm

    def run(self) -> services.Verified | None:
        request = self.request
        if request.method != "POST":
            return None
        if request.POST.get("action") == "send":
            if self.method == Method.EMAIL_CODE:
                try:
                    services.email_code_send(user=self.user, attempt=self.attempt, request=request)
                    self.email_sent = True
                except ValidationError as error:
                    self.send_error = error.messages[0]
                    self.status = 429
            return None
        if self.method == Method.PASSKEY:
            try:
                return self._passkey_verify()
            except ValidationError as error:
                self.send_error = error.messages[0]
                self.status = 400
                return None
        self.form = self._form_class()(request.POST)
        self.status = 400
        if self.form.is_valid():
            try:
                return services.mfa_verify(
                    request=request,
                    user=self.user,
                    method=self.method,
                    code=self.form.cleaned_data["code"],
                    primary_method=self.log_method,  # the sign-in log's method
                    attempt=self.attempt,
                )
            except services.CodeRefused as error:
                self.form.add_error("code", error)
        return None

    def _passkey_verify(self) -> services.Verified:
        try:
            device, _user_verified = passkeys.passkey_authenticate_complete(
                request=self.request,
                purpose=passkeys.Purpose.SECOND_FACTOR,
                credential=self.request.POST.get("credential", ""),
                user=self.user,
            )
        except ValidationError:
            sign_in_record(
                request=self.request, user=self.user, method=self.log_method,
                result=SignInEvent.Result.FAILURE,
                failure_reason=SignInEvent.FailureReason.PASSKEY_REFUSED,
                mfa_method=Method.PASSKEY,
            )  # fmt: skip
            raise
        return services.Verified(method=Method.PASSKEY, device=device)

    def context(self, *, method_url: Callable[[str], str]) -> dict:
        """mfa/challenge.html's context; `method_url(method)` is the link to another method."""
        if self.form is None:
            self.form = self._form_class()()
        return {
            "form": self.form,
            "method": self.method,
            "method_label": METHOD_LABELS[self.method],
            "needs_send": self.method == Method.EMAIL_CODE and not self.email_sent,
            "send_error": self.send_error,
            "email": self.user.email,
            "others": [
                (other, METHOD_LABELS[other], method_url(other))
                for other in self.methods
                if other != self.method
            ],
        }
