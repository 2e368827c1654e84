from __future__ import annotations

import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditEvent(models.Model):
    """An append-only record of one admin change: who, what, on what, before and after.

    Lives in the tenant schema for tenant admin changes and in the public schema
    for platform operator actions. Actor and target are stored as text too, so the
    row still reads right after the user or object is gone.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    occurred_at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor_id = models.UUIDField(null=True, blank=True)
    actor_label = models.CharField(max_length=254, blank=True)
    action = models.CharField(max_length=80, db_index=True)
    target_type = models.CharField(max_length=80, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    target_label = models.CharField(max_length=254, blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    request_id = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]

    def __str__(self) -> str:
        return f"{self.action} {self.target_label}"

    @property
    def changes(self) -> list[tuple[str, str | None, str | None]]:
        """Each recorded field with its value before and after, as text for people (None
        where the event has no value: a creation has no before)."""
        before = self.before if isinstance(self.before, dict) else {}
        after = self.after if isinstance(self.after, dict) else {}
        if not isinstance(self.before, dict | None) or not isinstance(self.after, dict | None):
            return [("", _as_text(self.before), _as_text(self.after))]
        fields = dict.fromkeys([*before, *after])
        return [
            (
                field,
                _as_text(before[field]) if field in before else None,
                _as_text(after[field]) if field in after else None,
            )
            for field in fields
        ]


class SignInEvent(models.Model):
    """One row per authentication attempt, good or bad: the tenant's sign-in log. Written with
    a plain INSERT (audit.services.sign_in_record), read by the console's Logs area."""

    class Result(models.TextChoices):
        SUCCESS = "success", _("Success")
        FAILURE = "failure", _("Failure")
        LOCKED_OUT = "locked_out", _("Locked out")
        BLOCKED = "blocked", _("Blocked")
        INTERRUPTED = "interrupted", _("Interrupted")  # e.g. waiting for MFA or consent

    class Method(models.TextChoices):
        PASSWORD = "password", _("Password")
        EMAIL_CODE = "email_code", _("Email code")
        PASSWORD_RESET = "password_reset", _("Password reset")
        PASSKEY = "passkey", _("Passkey")
        SIGNUP = "signup", _("Sign-up")
        INVITATION = "invitation", _("Invitation")
        TOKEN = "token", _("Token endpoint")
        SESSION = "session", _("Existing session")  # an app's sign-in with single sign-on
        FEDERATED = "federated", _("Identity provider")  # an upstream IdP (federation)

    class FailureReason(models.TextChoices):
        """The codes the sign-in flows, the invitation redemption and the token endpoint (its
        OAuth error codes) write; the row keeps the code, people read the label."""

        WRONG_PASSWORD = "wrong_password", _("Wrong password")
        REPEATED_WRONG_PASSWORD = (
            "repeated_wrong_password",
            _("Wrong password again (the same one, not counted toward lockout)"),
        )
        UNKNOWN_ACCOUNT = "unknown_account", _("No account with this email address")
        LOCKED_OUT = "locked_out", _("Account locked")
        ACCOUNT_DISABLED = "account_disabled", _("Account disabled")
        WRONG_CODE = "wrong_code", _("Wrong code")
        EMAIL_NOT_VERIFIED = "email_not_verified", _("Email address not verified yet")
        METHOD_DISABLED = "method_disabled", _("Sign-in method turned off")
        CODE_EXPIRED = "code_expired", _("Code expired or tried too often")
        WRONG_ACCOUNT = "wrong_account", _("Signed in with another address than the one invited")
        INVALID_GRANT = "invalid_grant", _("Code or refresh token not valid")
        INVALID_CLIENT = "invalid_client", _("App authentication failed")
        INVALID_REQUEST = "invalid_request", _("Incomplete token request")
        INVALID_SCOPE = "invalid_scope", _("Scope not allowed for this app")
        UNAUTHORIZED_CLIENT = "unauthorized_client", _("App not allowed to use this grant")
        UNSUPPORTED_GRANT_TYPE = "unsupported_grant_type", _("Unsupported grant type")
        MFA_FAILED = "mfa_failed", _("Wrong second-factor code")
        MFA_SETUP_FAILED = "mfa_setup_failed", _("Wrong code while adding an authenticator app")
        BLOCKED_BY_POLICY = "blocked_by_policy", _("Blocked by a conditional access policy")
        NOT_ASSIGNED = "not_assigned", _("Not assigned to the app (assignment required)")
        PASSKEY_REFUSED = "passkey_refused", _("Passkey not accepted")
        IDP_ERROR = "idp_error", _("The identity provider's answer was refused or an error")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    occurred_at = models.DateTimeField(auto_now_add=True, db_index=True)
    user = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Who it was, kept when the account is deleted (the foreign key is then emptied).
    user_public_id = models.UUIDField(null=True, blank=True)
    user_email = models.CharField(max_length=254, blank=True)
    user_name = models.CharField(max_length=256, blank=True)
    email_typed = models.CharField(max_length=254, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=512, blank=True)
    method = models.CharField(max_length=40, choices=Method.choices)
    result = models.CharField(max_length=16, choices=Result.choices)
    failure_reason = models.CharField(max_length=120, blank=True, choices=FailureReason.choices)
    app_id = models.CharField(max_length=100, blank=True)  # OAuth client id, when an app asked
    app_name = models.CharField(max_length=255, blank=True)
    grant = models.CharField(max_length=40, blank=True)
    mfa_used = models.BooleanField(default=False)
    # The second factor used or tried (mfa.models.Method: totp, email_code, recovery_code,
    # passkey).
    mfa_method = models.CharField(max_length=20, blank=True)
    # The conditional access policies evaluated, each with its result: on and report-only
    # alike (conditional_access.evaluation.PolicyResult.log_entry).
    policies = models.JSONField(default=list, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    # Federated sign-ins: the identity provider (its id in federation) and the upstream
    # subject, and the upstream's error code when it answered with one.
    idp = models.CharField(max_length=200, blank=True)
    idp_subject = models.CharField(max_length=255, blank=True)
    upstream_error = models.CharField(max_length=200, blank=True)

    class Meta:
        # Created by the accounts app; the table kept its name when the model moved here.
        db_table = "accounts_signinevent"
        ordering = ["-occurred_at", "-id"]

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%d %H:%M} {self.email_typed} {self.result}"

    @property
    def failure_reason_text(self) -> str:
        """The failure reason for people; the row keeps the code (exports, filters)."""
        return self.get_failure_reason_display()


class SignInLogExport(models.Model):
    """A CSV of the sign-in log, written by a Celery task; the console shows its progress and
    offers the file when done. Kept EXPORT_KEEP_DAYS (audit.services.sign_in_exports_forget)."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    # At most this many rows (the newest): the file stays in the database and must open in a
    # spreadsheet. Narrower filters reach older rows.
    MAX_ROWS = 200_000

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    filters = models.JSONField(default=dict)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    rows_total = models.PositiveIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)
    content = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "accounts_signinlogexport"  # created by the accounts app
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"sign-in log export {self.public_id}"

    @property
    def is_capped(self) -> bool:
        return self.rows_total >= self.MAX_ROWS

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        return int(100 * self.rows_done / self.rows_total) if self.rows_total else 0


def _as_text(value) -> str | None:
    if value is None:
        return None
    if value is True or value is False:
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(str(_as_text(item)) for item in value) or "—"
    if isinstance(value, dict):
        return ", ".join(f"{key} = {_as_text(item)}" for key, item in value.items()) or "—"
    text = str(value)
    return ", ".join(line.strip() for line in text.splitlines() if line.strip()) if text else "—"


class LogRetention(models.Model):
    """How many days the tenant keeps its sign-in and audit logs (one row; audit.selectors.
    log_retention_get gives the defaults while none is saved). Older rows are deleted every
    night (audit.services.logs_prune); the daily insights roll-ups stay."""

    SIGN_IN_DEFAULT_DAYS = 30
    AUDIT_DEFAULT_DAYS = 180
    # The insights count monthly active users from the last 30 days of the sign-in log.
    SIGN_IN_MIN_DAYS = 30
    AUDIT_MIN_DAYS = 30
    MAX_DAYS = 730

    id = models.PositiveSmallIntegerField(primary_key=True, default=1, editable=False)
    sign_in_days = models.PositiveSmallIntegerField(
        _("Keep the sign-in log for (days)"),
        default=SIGN_IN_DEFAULT_DAYS,
        validators=[MinValueValidator(SIGN_IN_MIN_DAYS), MaxValueValidator(MAX_DAYS)],
        help_text=_("From 30 to 730 days. Insights count monthly active users from it."),
    )
    audit_days = models.PositiveSmallIntegerField(
        _("Keep the audit log for (days)"),
        default=AUDIT_DEFAULT_DAYS,
        validators=[MinValueValidator(AUDIT_MIN_DAYS), MaxValueValidator(MAX_DAYS)],
        help_text=_("From 30 to 730 days."),
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(id=1), name="audit_log_retention_single_row")
        ]

    def __str__(self) -> str:
        return "log retention"
