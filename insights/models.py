"""The tenant's daily roll-ups: what Console > Overview and Insights read instead of the logs.

One `DailyFigure` per day, measure and dimension (the app, method, IdP or failure reason a
figure is broken down by; empty for a total), written by the nightly roll-up
(insights.services.day_roll_up) from the sign-in log, the directory and the invitations.
They outlive the raw rows, which the log retention prunes (audit.services.logs_prune)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Measure(models.TextChoices):
    SIGN_UPS = "sign_ups", _("Sign-ups")
    # Interactive sign-ins (the hosted pages, not the token endpoint), by result.
    SIGN_INS = "sign_ins", _("Sign-ins")
    SIGN_IN_FAILURES = "sign_in_failures", _("Failed sign-ins by reason")
    SIGN_INS_WITH_MFA = "sign_ins_with_mfa", _("Sign-ins with a second factor")
    SIGN_INS_BY_METHOD = "sign_ins_by_method", _("Sign-ins by method")
    SIGN_INS_BY_IDP = "sign_ins_by_idp", _("Sign-ins by identity provider")
    # Code exchanges at an app's token endpoint: each is a sign-in to that app.
    SIGN_INS_BY_APP = "sign_ins_by_app", _("Sign-ins by app")
    DAILY_ACTIVE_USERS = "daily_active_users", _("Daily active users")
    # Distinct users with a successful sign-in in the 30 days ending that day.
    MONTHLY_ACTIVE_USERS = "monthly_active_users", _("Monthly active users")
    # Snapshots taken when the day is rolled up.
    ENABLED_USERS = "enabled_users", _("Enabled users")
    USERS_WITH_MFA = "users_with_mfa", _("Users with a second factor")
    # The directory's counts (dimension: users, members, guests, admins, disabled): what the
    # overview shows of a tenant too large to count on every visit.
    DIRECTORY = "directory", _("Directory")
    INVITATIONS_SENT = "invitations_sent", _("Invitations sent")
    INVITATIONS_ACCEPTED = "invitations_accepted", _("Invitations accepted")
    INVITATIONS_EXPIRED = "invitations_expired", _("Invitations expired")


class DailyFigure(models.Model):
    day = models.DateField()
    measure = models.CharField(max_length=40, choices=Measure.choices)
    dimension = models.CharField(max_length=255, blank=True)
    # What people read for the dimension (an app's name on that day).
    label = models.CharField(max_length=255, blank=True)
    value = models.BigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["day", "measure", "dimension"], name="insights_one_figure_a_day"
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.measure} {self.dimension} = {self.value}"


class RolledDay(models.Model):
    """A day whose figures are written. `user_high_water` is the highest user id then: the
    nightly task finds new users above it through the primary key, without a scan."""

    day = models.DateField(unique=True)
    rolled_at = models.DateTimeField()
    user_high_water = models.BigIntegerField(default=0)

    class Meta:
        ordering = ["-day"]

    def __str__(self) -> str:
        return f"rolled {self.day}"
