"""`{% language_switcher %}`: the hosted pages' language switcher
(templates/includes/language_switcher.html), rendered once per language by each process.

It is the same for every person and every page of a language (a GET form to the switch view,
the languages in their own names: nothing of the request, no token), and rendering it cost
a tenth of a sign-in page."""

from __future__ import annotations

from django import template
from django.template.loader import render_to_string
from django.urls import get_script_prefix, get_urlconf
from django.utils import translation
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

_switchers: dict[tuple, SafeString] = {}


@register.simple_tag
def language_switcher() -> SafeString:
    # The form's action is reversed on the request's URLconf (tenant or platform host).
    key = (translation.get_language(), get_urlconf(), get_script_prefix())
    html = _switchers.get(key)
    if html is None:
        html = mark_safe(render_to_string("includes/language_switcher.html"))
        _switchers[key] = html
    return html
