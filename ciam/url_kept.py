"""`{% url "name" %}` of a literal name without arguments, kept per URLconf once reversed: the
`url` tag of Django's built-in tags is ours from start-up (CiamConfig.ready), so every
template, ours, allauth's and Django's, uses it.

Django reverses each `{% url %}` again at every render (a walk of the URLconf's namespaces and
patterns); My account holds a dozen of them and every hosted page a few. A name without
arguments gives the same address for as long as the URLconf, the script prefix, the current
application namespace and the language are the same, so each node keeps what it reversed per
these. A URLconf reloaded (tests' override_settings, clear_url_caches) is a new resolver
object and so a new key. Anything else (arguments, a variable name, `as var` of a name that
does not reverse) is Django's own code.
"""

from __future__ import annotations

from django.template import defaulttags as django_tags
from django.urls import NoReverseMatch, get_resolver, get_script_prefix, get_urlconf, reverse
from django.utils import translation
from django.utils.html import conditional_escape


class KeptURLNode(django_tags.URLNode):
    """`{% url "literal" %}` (with `as var` too): reversed once per URLconf and language."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        expression = self.view_name
        # A quoted name compiles to its string (FilterExpression resolves constants at once).
        self.keepable = (
            not self.args
            and not self.kwargs
            and not expression.filters
            and isinstance(expression.var, str)
        )
        self.kept: dict = {}

    def render(self, context):
        if not self.keepable:
            return super().render(context)
        key = (
            get_resolver(get_urlconf()),
            get_script_prefix(),
            _current_app(context),
            translation.get_language(),
        )
        url = self.kept.get(key)
        if url is None:
            try:
                url = reverse(self.view_name.var, current_app=key[2])
            except NoReverseMatch:
                if self.asvar is None:
                    raise
                url = ""
            else:
                if len(self.kept) > 32:  # URLconfs x prefixes x languages: a handful
                    self.kept.clear()
                self.kept[key] = url
        if self.asvar:
            context[self.asvar] = url
            return ""
        return conditional_escape(url) if context.autoescape else url


def _current_app(context):
    # As URLNode.render: the request's current_app, else the namespace it resolved in.
    try:
        return context.request.current_app
    except AttributeError:
        try:
            return context.request.resolver_match.namespace
        except AttributeError:
            return None


def url(parser, token):
    """Django's `{% url %}` compiled by Django, kept as a KeptURLNode."""
    node = django_tags.url(parser, token)
    return KeptURLNode(node.view_name, node.args, node.kwargs, node.asvar)


def kept_url_install() -> None:
    """Make `url` of Django's built-in tags ours. Run before any template is compiled (a
    compiled template keeps the nodes it was built with)."""
    django_tags.register.tag("url", url)
