from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator, URLValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

hex_colour = RegexValidator(
    r"^#[0-9a-fA-F]{6}$", _("Give a colour as #rrggbb."), code="not_hex_colour"
)
# Its own code: a URLField shows its generic message for any error coded "invalid".
https_url = URLValidator(schemes=["https"], message=_("Give an https:// link."), code="not_https")


def plain_label(value: str) -> None:
    """A link or button label: one line of plain text. Templates escape it anyway; markup is
    refused so that nobody expects it to work."""
    if "<" in value or ">" in value:
        raise ValidationError(
            _("Plain text only: no HTML, no < or >."), code="markup", params={"value": value}
        )
    if any(character in value for character in "\r\n\t"):
        raise ValidationError(_("One line of text."), code="not_one_line")


# The hosted pages' own look (static/css/hosted.css): a new draft starts from it.
DEFAULT_COLOURS = {
    "background_color": "#f3f5f9",
    "header_color": "#ffffff",
    "primary_color": "#1f4fd1",
    "accent_color": "#1f4fd1",
    "text_color": "#1b1f24",
}


class Branding(models.Model):
    """A tenant's look of the hosted pages. At most two rows a schema: the draft the console
    edits and the published copy the hosted pages show (branding.services.branding_publish).
    No published row: the hosted pages keep the product's look."""

    class State(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", _("Published")

    class Layout(models.TextChoices):
        CARD = "card", _("Centred card")
        FULL_PAGE = "full_page", _("Full page")

    state = models.CharField(max_length=16, choices=State.choices, unique=True)
    background_color = models.CharField(
        _("page background"), max_length=7, validators=[hex_colour], default="#f3f5f9"
    )
    header_color = models.CharField(
        _("header background"), max_length=7, validators=[hex_colour], default="#ffffff"
    )
    primary_color = models.CharField(
        _("buttons"), max_length=7, validators=[hex_colour], default="#1f4fd1"
    )
    accent_color = models.CharField(
        _("links and focus"), max_length=7, validators=[hex_colour], default="#1f4fd1"
    )
    text_color = models.CharField(
        _("text"), max_length=7, validators=[hex_colour], default="#1b1f24"
    )
    sign_in_text = models.TextField(_("sign-in page text"), max_length=1024, blank=True)
    username_hint = models.CharField(_("username hint"), max_length=100, blank=True)
    privacy_url = models.URLField(_("privacy link"), blank=True, validators=[https_url])
    privacy_label = models.CharField(_("privacy link text"), max_length=50, blank=True)
    terms_url = models.URLField(_("terms of use link"), blank=True, validators=[https_url])
    terms_label = models.CharField(_("terms of use link text"), max_length=50, blank=True)
    help_url = models.URLField(_("help link"), blank=True, validators=[https_url])
    help_label = models.CharField(_("help link text"), max_length=50, blank=True)
    # Labels Entra lets a tenant change on the sign-in page (company branding's
    # customForgotMyPasswordText, the user flow's language strings); blank: ours, translated.
    forgot_password_label = models.CharField(
        _("“Forgot your password?” link text"),
        max_length=50,
        blank=True,
        validators=[plain_label],
    )
    sign_up_label = models.CharField(
        _("“Create one” (sign-up) link text"), max_length=50, blank=True, validators=[plain_label]
    )
    sign_in_button_label = models.CharField(
        _("sign-in button label"), max_length=30, blank=True, validators=[plain_label]
    )
    layout = models.CharField(
        _("layout"), max_length=16, choices=Layout.choices, default=Layout.CARD
    )
    show_sign_up = models.BooleanField(_("show the “Sign up” link"), default=True)
    # The texts above in other languages, {"fr": {"sign_in_text": "..."}}: a page in that
    # language shows them instead (branding/languages.py, Console > Branding > Languages).
    text_overrides = models.JSONField(_("texts per language"), default=dict, blank=True)
    # A name in the default storage (branding.services.branding_logo_upload made it).
    logo_name = models.CharField(max_length=200, blank=True)
    logo_width = models.PositiveIntegerField(null=True, blank=True)
    logo_height = models.PositiveIntegerField(null=True, blank=True)
    # The other images (branding.images.SLOTS), names in the default storage like the logo's.
    square_logo_name = models.CharField(max_length=200, blank=True)
    square_logo_dark_name = models.CharField(max_length=200, blank=True)
    favicon_name = models.CharField(max_length=200, blank=True)
    background_image_name = models.CharField(max_length=200, blank=True)
    # The tenant's own rules, as branding.custom_css re-serialised them from the allowed
    # selectors and properties; never the text as typed.
    custom_css = models.TextField(_("custom CSS"), blank=True)
    # Published row only: stylesheets of earlier publications, [{"hash", "css", "until"}],
    # served a while longer so a page loaded before a publish keeps its look.
    retired_themes = models.JSONField(default=list, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"branding ({self.state})"


class AppBranding(models.Model):
    """An app's own look over the tenant's published branding (Entra's per-app user flows):
    the hosted pages reached with that app's authorization request use it. An empty colour
    keeps the tenant's; no logo keeps the tenant's logo."""

    application = models.OneToOneField(
        "oidc.Application", on_delete=models.CASCADE, related_name="branding"
    )
    background_color = models.CharField(
        _("page background"), max_length=7, validators=[hex_colour], blank=True
    )
    header_color = models.CharField(
        _("header background"), max_length=7, validators=[hex_colour], blank=True
    )
    primary_color = models.CharField(
        _("buttons"), max_length=7, validators=[hex_colour], blank=True
    )
    accent_color = models.CharField(
        _("links and focus"), max_length=7, validators=[hex_colour], blank=True
    )
    text_color = models.CharField(_("text"), max_length=7, validators=[hex_colour], blank=True)
    logo_name = models.CharField(max_length=200, blank=True)
    logo_width = models.PositiveIntegerField(null=True, blank=True)
    logo_height = models.PositiveIntegerField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"branding of {self.application}"
