from __future__ import annotations

import copy
from dataclasses import dataclass, field, replace
from urllib.parse import urlsplit

from django.db import connection
from django.http import QueryDict
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from branding.contrast import ContrastFailure, contrast_failures, relative_luminance
from branding.images import CONTENT_TYPES
from branding.models import AppBranding, Branding
from branding.theme import css_hash, image_url, theme_css
from ciam.process_cache import ProcessCache

# The published branding as the hosted pages see it, per tenant schema, kept by each process
# until a branding is published or reset (branding.services invalidates it).
_published = ProcessCache("branding:published-generation", keep_in_transactions=False)


@dataclass(frozen=True)
class FooterLink:
    label: str
    url: str
    # privacy, terms or help: which label a language's texts override (branding/languages.py)
    kind: str = ""


@dataclass(frozen=True)
class BrandingView:
    """What a hosted page needs of a branding. Shared between requests: read-only."""

    css: str
    css_hash: str
    css_url: str
    logo_url: str
    logo_width: int | None
    logo_height: int | None
    sign_in_text: str
    username_hint: str
    footer_links: tuple[FooterLink, ...]
    show_sign_up: bool
    is_preview: bool = False
    # The tenant's labels; blank: the page's own, translated (account/login.html).
    forgot_password_label: str = ""
    sign_up_label: str = ""
    sign_in_button_label: str = ""
    # The square logo the card shows: the dark-theme one where it sits on a dark surface
    # (the full-page layout on a dark background), else the light one.
    square_logo_url: str = ""
    # The console's header is light: its logo is the light square one.
    console_logo_url: str = ""
    favicon_url: str = ""
    favicon_type: str = ""
    # Stylesheets of earlier publications still served: ((hash, css), ...).
    retired_css: tuple[tuple[str, str], ...] = ()
    # What an email shows (branding.templatetags.branding_email).
    primary_color: str = "#1f4fd1"
    primary_contrast: str = "#ffffff"
    accent_color: str = "#1f4fd1"
    text_color: str = "#1b1f24"
    background_color: str = "#f3f5f9"
    header_color: str = "#ffffff"
    email_logo_url: str = ""
    # {language: {field: text}}, and each language's view once built (for_language).
    text_overrides: dict = field(default_factory=dict, compare=False)
    _by_language: dict = field(default_factory=dict, compare=False, repr=False)

    def for_language(self, language: str) -> BrandingView:
        """This branding with the texts of `language` where the tenant wrote some."""
        texts = self.text_overrides.get(language)
        if not texts:
            return self
        view = self._by_language.get(language)
        if view is None:
            view = replace(
                self,
                sign_in_text=texts.get("sign_in_text") or self.sign_in_text,
                username_hint=texts.get("username_hint") or self.username_hint,
                footer_links=tuple(
                    replace(link, label=texts.get(f"{link.kind}_label") or link.label)
                    for link in self.footer_links
                ),
                forgot_password_label=texts.get("forgot_password_label")
                or self.forgot_password_label,
                sign_up_label=texts.get("sign_up_label") or self.sign_up_label,
                sign_in_button_label=texts.get("sign_in_button_label") or self.sign_in_button_label,
                text_overrides={},
                _by_language={},
            )
            self._by_language[language] = view
        return view


def branding_get(state: str) -> Branding | None:
    if connection.schema_name == "public":
        return None
    return Branding.objects.filter(state=state).first()


def branding_draft_get() -> Branding:
    """The draft the console edits: the saved one, else a copy of the published branding,
    else the product's look."""
    draft = branding_get(Branding.State.DRAFT)
    if draft is not None:
        return draft
    published = branding_get(Branding.State.PUBLISHED)
    if published is not None:
        published.pk = None
        published.state = Branding.State.DRAFT
        return published
    return Branding(state=Branding.State.DRAFT)


def branding_contrast_failures(branding: Branding) -> list[ContrastFailure]:
    return contrast_failures(
        background_color=branding.background_color,
        header_color=branding.header_color,
        primary_color=branding.primary_color,
        accent_color=branding.accent_color,
        text_color=branding.text_color,
        layout=branding.layout,
    )


def logo_url(logo_name: str) -> str:
    return image_url(logo_name)


def _is_dark(colour: str) -> bool:
    return relative_luminance(colour) < 0.18


def square_logo_name(branding: Branding) -> str:
    dark_surface = branding.layout == Branding.Layout.FULL_PAGE and _is_dark(
        branding.background_color
    )
    if dark_surface and branding.square_logo_dark_name:
        return branding.square_logo_dark_name
    return branding.square_logo_name


def branding_view(
    branding: Branding, *, is_preview: bool = False, app_public_id: str = ""
) -> BrandingView:
    from branding.contrast import button_text_colour

    css = theme_css(branding)
    digest = css_hash(css)
    if is_preview:
        css_url = reverse("console:branding:preview-theme", args=[digest])
    elif app_public_id:
        css_url = reverse("branding:app-theme", args=[app_public_id, digest])
    else:
        css_url = reverse("branding:theme", args=[digest])
    favicon = branding.favicon_name
    now = timezone.now().isoformat()
    # Mail clients show PNG and JPEG; few show WebP and almost none SVG.
    email_logo = next(
        (
            name
            for name in (branding.logo_name, branding.square_logo_name)
            if name and name.rsplit(".", 1)[-1] in ("png", "jpg")
        ),
        "",
    )
    links = []
    # Lazy defaults: the view is shared by requests in every language.
    for url, label, default, kind in (
        (branding.privacy_url, branding.privacy_label, _("Privacy"), "privacy"),
        (branding.terms_url, branding.terms_label, _("Terms of use"), "terms"),
        (branding.help_url, branding.help_label, _("Help"), "help"),
    ):
        if url:
            links.append(FooterLink(label or default, url, kind))
    return BrandingView(
        css=css,
        css_hash=digest,
        css_url=css_url,
        logo_url=logo_url(branding.logo_name),
        logo_width=branding.logo_width,
        logo_height=branding.logo_height,
        sign_in_text=branding.sign_in_text,
        username_hint=branding.username_hint,
        footer_links=tuple(links),
        show_sign_up=branding.show_sign_up,
        is_preview=is_preview,
        forgot_password_label=branding.forgot_password_label,
        sign_up_label=branding.sign_up_label,
        sign_in_button_label=branding.sign_in_button_label,
        square_logo_url=logo_url(square_logo_name(branding)),
        console_logo_url=logo_url(branding.square_logo_name),
        favicon_url=logo_url(favicon),
        favicon_type=CONTENT_TYPES.get(favicon.rsplit(".", 1)[-1], "") if favicon else "",
        retired_css=tuple(
            (theme["hash"], theme["css"])
            for theme in (branding.retired_themes or [])
            if isinstance(theme, dict)
            and "hash" in theme
            and "css" in theme
            and theme.get("until", "") > now
        ),
        primary_color=branding.primary_color,
        primary_contrast=button_text_colour(branding.primary_color),
        accent_color=branding.accent_color,
        text_color=branding.text_color,
        background_color=branding.background_color,
        header_color=branding.header_color,
        email_logo_url=logo_url(email_logo),
        text_overrides=branding.text_overrides or {},
    )


def published_branding() -> BrandingView | None:
    """The current tenant's published branding, None for the product's look. Kept by the
    process: no query on a hosted page once read."""
    schema = connection.schema_name
    if schema == "public":
        return None
    entry = _published.get(schema)
    if entry is None:
        branding = branding_get(Branding.State.PUBLISHED)
        entry = (branding_view(branding) if branding is not None else None,)
        _published.set(schema, entry)
    return entry[0]


def published_branding_invalidate() -> None:
    """A branding was published or reset: the hosted pages show it at once here, and in the
    other processes within a second of the commit."""
    _published.invalidate()


def retired_css(branding: BrandingView, digest: str) -> str | None:
    for retired_hash, css in branding.retired_css:
        if retired_hash == digest:
            return css
    return None


# Per-app branding


def app_branding_merged(app_branding: AppBranding) -> Branding:
    """The tenant's published branding (or the product's look) with the app's colours and
    logo over it, as an unsaved Branding."""
    published = branding_get(Branding.State.PUBLISHED)
    merged = copy.copy(published) if published is not None else Branding()
    merged.pk = None
    merged.state = Branding.State.PUBLISHED
    merged.retired_themes = []
    for name in ("background_color", "header_color", "primary_color", "accent_color", "text_color"):
        value = getattr(app_branding, name)
        if value:
            setattr(merged, name, value)
    if app_branding.logo_name:
        merged.logo_name = app_branding.logo_name
        merged.logo_width, merged.logo_height = app_branding.logo_width, app_branding.logo_height
    return merged


def app_branding_view(application) -> BrandingView | None:
    """The look of the hosted pages of `application`'s sign-ins: its own branding over the
    tenant's, or None when it has none (the tenant's published branding applies). Kept by
    the process like the published branding."""
    schema = connection.schema_name
    key = (schema, "app", application.pk)
    entry = _published.get(key)
    if entry is None:
        app_branding = AppBranding.objects.filter(application_id=application.pk).first()
        view = None
        if app_branding is not None:
            view = branding_view(
                app_branding_merged(app_branding), app_public_id=str(application.public_id)
            )
        entry = (view,)
        _published.set(key, entry)
    return entry[0]


def _authorize_client_id(request) -> str:
    """The client_id of the authorization request this page belongs to: the authorization
    endpoint's own (consent), or the one a sign-in page's `next` returns to."""
    authorize_path = reverse("oidc:authorize")
    if request.path == authorize_path:
        return request.GET.get("client_id", "")
    next_url = request.GET.get("next") or (
        request.POST.get("next", "") if request.method == "POST" else ""
    )
    if not next_url:
        return ""
    try:
        parts = urlsplit(next_url)
    except ValueError:
        return ""
    if parts.scheme or parts.netloc or parts.path != authorize_path:
        return ""
    return QueryDict(parts.query).get("client_id", "")


def request_branding(request) -> BrandingView | None:
    """The look of this hosted page: the app's branding when it belongs to the sign-in of
    an app that has one, else the tenant's published branding (None: the product's look),
    with the texts the tenant wrote for the active language (ciam/locale.py) if any. Kept on
    the request; the language is applied on each call (a page may switch it)."""
    from django.utils.translation import get_language

    cached = getattr(request, "_branding_view", None)
    if cached is not None:
        return cached[0].for_language(get_language()) if cached[0] is not None else None
    view = published_branding()
    client_id = _authorize_client_id(request)
    if client_id:
        from oidc.clients import client_get

        application = client_get(client_id)
        if application is not None:
            view = app_branding_view(application) or view
    request._branding_view = (view,)
    return view.for_language(get_language()) if view is not None else None


def app_theme_css(public_id: str, digest: str) -> str | None:
    """The stylesheet of an app's branding by its hash, for branding.views.app_theme."""
    from oidc.models import Application

    application = Application.objects.filter(public_id=public_id).first()
    if application is None:
        return None
    view = app_branding_view(application)
    if view is None:
        return None
    if view.css_hash == digest:
        return view.css
    return retired_css(view, digest)
