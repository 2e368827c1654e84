"""Which language a page speaks, and the hosted pages' language switcher.

The first that names a language we ship (settings.LANGUAGES) wins:

1. `ui_locales` of the request (an app's authorization request asks for it; it is kept in the
   session for the rest of the sign-in), or the switcher's choice made after it;
2. the switcher's choice in this browser (a cookie);
3. the signed-in user's saved language (My account > Language);
4. the browser's `Accept-Language`;
5. the tenant's default language (Console > Branding > Languages), else settings.LANGUAGE_CODE.

Reads only what the request already holds: the session, the signed-in user and the tenant the
routing cache returned. No query of its own.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpResponseRedirect
from django.middleware.locale import LocaleMiddleware
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods

# The language `ui_locales` asked for, kept for the rest of the sign-in.
SESSION_KEY = "ui_language"


def language_supported(tag: str | None) -> str | None:
    """The language we ship for a BCP 47 tag (`fr-CA` -> `fr`, `pt` -> `pt-br`), else None."""
    tag = (tag or "").strip().replace("_", "-").lower()
    if not tag or len(tag) > 35:
        return None
    try:
        return translation.get_supported_language_variant(tag)
    except LookupError:
        return None


def language_first_supported(tags: str) -> str | None:
    """The first language of a space-separated list (`ui_locales`) that we ship."""
    for tag in tags.split()[:10]:
        if language := language_supported(tag):
            return language
    return None


def language_from_accept_header(header: str) -> str | None:
    """The browser's most preferred language that we ship, by its quality values."""
    ranked = []
    for position, item in enumerate(header.split(",")[:20]):
        tag, _, params = item.strip().partition(";")
        quality = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                quality = float(params[2:])
            except ValueError:
                continue
        if tag and tag != "*" and quality > 0:
            ranked.append((-quality, position, tag))
    for _quality, _position, tag in sorted(ranked):
        if language := language_supported(tag):
            return language
    return None


def tenant_default_language(tenant) -> str:
    return language_supported(getattr(tenant, "default_language", "")) or settings.LANGUAGE_CODE


def language_for_request(request) -> str:
    session = getattr(request, "session", None)
    if request.method == "GET" and "ui_locales" in request.GET:
        chosen = language_first_supported(request.GET["ui_locales"])
        if chosen:
            if session is not None and session.get(SESSION_KEY) != chosen:
                session[SESSION_KEY] = chosen
            return chosen
    if session is not None and (chosen := language_supported(session.get(SESSION_KEY))):
        return chosen
    if chosen := language_supported(request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)):
        return chosen
    user = getattr(request, "user", None)
    if (
        user is not None
        and user.is_authenticated
        and (chosen := language_supported(getattr(user, "language", "")))
    ):
        return chosen
    if chosen := language_from_accept_header(request.headers.get("Accept-Language", "")):
        return chosen
    return tenant_default_language(getattr(request, "tenant", None))


class LanguageMiddleware(LocaleMiddleware):
    """Django's LocaleMiddleware (its response headers: Content-Language, Vary) with our order
    of preference."""

    def process_request(self, request):
        translation.activate(language_for_request(request))
        request.LANGUAGE_CODE = translation.get_language()


def language_remember(request, response, language: str) -> None:
    """This browser's choice: the cookie, and the sign-in's `ui_locales` forgotten."""
    session = getattr(request, "session", None)
    if session is not None and SESSION_KEY in session:
        del session[SESSION_KEY]
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )


def forget_language_choice(request, response) -> None:
    """Back to the saved language or the browser's: the switcher's and `ui_locales`' choices
    forgotten."""
    session = getattr(request, "session", None)
    if session is not None and SESSION_KEY in session:
        del session[SESSION_KEY]
    response.delete_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )


def return_path(data, request, default: str = "/") -> str:
    """Where the switcher goes back to: `return_to` when given, else the page it was on (the
    Referer: full on same-origin requests under our Referrer-Policy), when it stays on this
    host; else `default`."""
    target = data.get("return_to") or request.headers.get("Referer", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


@require_http_methods(["GET", "POST"])
def language_switch(request):
    """The switcher of every hosted page, back to the page it was on (its query string, the
    sign-in's `next` included). Its form is a GET carrying only the language: choosing one
    changes nothing but the words, which any link can already do with `ui_locales`; the pages
    hold no per-response CSRF token (the answers for known and unknown addresses stay
    byte-identical) and no copy of their own address (an invitation or reset link's secret
    never lands in a query string). A POST is accepted too, CSRF-checked as every POST."""
    data = request.POST if request.method == "POST" else request.GET
    response = HttpResponseRedirect(return_path(data, request), status=303)
    language = language_supported(data.get("language"))
    if language:
        language_remember(request, response, language)
    return response
