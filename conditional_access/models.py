"""Conditional access, as Entra's: named locations and policies. Who and which apps a policy
is for (assignments), when it applies (conditions), what it then asks (grant) and how long a
sign-in lasts (session). conditional_access.evaluation decides; these rows only hold it."""

from __future__ import annotations

import ipaddress
import uuid

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.roles import AdminRole


def cidr_problems(ranges: list[str]) -> list[str]:
    """What is wrong with each range ("203.0.113.0/24", "2001:db8::/32", or one address)."""
    problems = []
    for text in ranges:
        try:
            ipaddress.ip_network(text, strict=False)
        except ValueError:
            problems.append(
                _("“%(range)s” is not an IP address or range like 203.0.113.0/24.")
                % {"range": text}
            )
    return problems


class NamedLocation(models.Model):
    """IP ranges with a name, marked trusted (an office, a VPN) or blocked (known bad)."""

    class Kind(models.TextChoices):
        TRUSTED = "trusted", _("Trusted")
        BLOCKED = "blocked", _("Blocked")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(_("name"), max_length=128, unique=True)
    ip_ranges = ArrayField(models.CharField(max_length=64), verbose_name=_("IP ranges"))
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.TRUSTED)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if not self.ip_ranges:
            raise ValidationError({"ip_ranges": _("Give at least one IP address or range.")})
        problems = cidr_problems(self.ip_ranges)
        if problems:
            raise ValidationError({"ip_ranges": problems})


class ConditionalAccessPolicy(models.Model):
    class State(models.TextChoices):
        OFF = "off", _("Off")
        REPORT_ONLY = "report_only", _("Report-only")
        ON = "on", _("On")

    class Users(models.TextChoices):
        ALL = "all", _("All users")
        SELECTED = "selected", _("Selected users")

    class Apps(models.TextChoices):
        ALL = "all", _("All apps, the console and My account included")
        SELECTED = "selected", _("Selected apps")

    class Locations(models.TextChoices):
        ANY = "any", _("Any location")
        SELECTED = "selected", _("Selected named locations")
        BLOCKED = "blocked", _("Every location marked blocked")

    class Method(models.TextChoices):
        PASSWORD = "password", _("Password")
        EMAIL_CODE = "email_code", _("Email code")
        PASSKEY = "passkey", _("Passkey")

    class Grant(models.TextChoices):
        BLOCK = "block", _("Block access")
        GRANT = "grant", _("Grant access, requiring the controls below")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(_("name"), max_length=128, unique=True)
    state = models.CharField(
        _("state"), max_length=16, choices=State.choices, default=State.REPORT_ONLY
    )

    # Assignments. Exclusions always win over inclusions.
    users = models.CharField(_("users"), max_length=16, choices=Users.choices, default=Users.ALL)
    include_members = models.BooleanField(_("all members"), default=False)
    include_guests = models.BooleanField(_("all guests"), default=False)
    include_roles = ArrayField(
        models.CharField(max_length=40, choices=AdminRole.choices),
        default=list,
        blank=True,
        verbose_name=_("administrators with these roles"),
    )
    include_users = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="+", verbose_name=_("these users")
    )
    include_groups = models.ManyToManyField(
        "groups.Group", blank=True, related_name="+", verbose_name=_("members of these groups")
    )
    exclude_roles = ArrayField(
        models.CharField(max_length=40, choices=AdminRole.choices),
        default=list,
        blank=True,
        verbose_name=_("except administrators with these roles"),
    )
    exclude_users = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="+", verbose_name=_("except these users")
    )
    exclude_groups = models.ManyToManyField(
        "groups.Group",
        blank=True,
        related_name="+",
        verbose_name=_("except members of these groups"),
    )
    apps = models.CharField(_("apps"), max_length=16, choices=Apps.choices, default=Apps.ALL)
    include_apps = models.ManyToManyField(
        settings.OAUTH2_PROVIDER_APPLICATION_MODEL,
        blank=True,
        related_name="+",
        verbose_name=_("these apps"),
    )

    # Conditions: every one set must hold for the policy to apply.
    locations = models.CharField(
        _("locations"), max_length=16, choices=Locations.choices, default=Locations.ANY
    )
    include_locations = models.ManyToManyField(
        NamedLocation, blank=True, related_name="+", verbose_name=_("these locations")
    )
    exclude_locations = models.ManyToManyField(
        NamedLocation, blank=True, related_name="+", verbose_name=_("except these locations")
    )
    exclude_trusted = models.BooleanField(_("except from any trusted location"), default=False)
    methods = ArrayField(
        models.CharField(max_length=16, choices=Method.choices),
        default=list,
        blank=True,
        verbose_name=_("sign-in methods"),
    )
    new_browser = models.BooleanField(
        _("only the first sign-in to the account from a browser"), default=False
    )
    recent_failures = models.PositiveSmallIntegerField(
        _("only after this many failed sign-ins to the account in the last hour"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(1000)],
    )

    # Grant and session controls.
    grant = models.CharField(_("access"), max_length=16, choices=Grant.choices, default=Grant.GRANT)
    require_mfa = models.BooleanField(_("require multifactor authentication"), default=False)
    require_passkey = models.BooleanField(_("require a passkey"), default=False)
    require_password_change = models.BooleanField(_("require a password change"), default=False)
    sign_in_frequency_hours = models.PositiveSmallIntegerField(
        _("sign-in frequency (hours)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(8760)],
    )

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "conditional access policies"

    def __str__(self) -> str:
        return self.name

    @property
    def requirements(self) -> list[str]:
        """What a granting policy asks for, in conditional_access.evaluation's words."""
        wanted = [
            ("mfa", self.require_mfa),
            ("passkey", self.require_passkey),
            ("password_change", self.require_password_change),
        ]
        return [name for name, on in wanted if on]
