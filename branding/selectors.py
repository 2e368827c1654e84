from __future__ import annotations

from dataclasses import dataclass, field, replace

from django.db import connection
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from branding.contrast import ContrastFailure, contrast_failures
from branding.models import Branding
from branding.theme import css_hash, theme_css
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
    if not logo_name:
        return ""
    return reverse("branding:logo", args=[logo_name.rsplit("/", 1)[-1]])


def branding_view(branding: Branding, *, is_preview: bool = False) -> BrandingView:
    css = theme_css(branding)
    digest = css_hash(css)
    if is_preview:
        css_url = reverse("console:branding:preview-theme", args=[digest])
    else:
        css_url = reverse("branding:theme", args=[digest])
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
