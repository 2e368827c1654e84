"""`{% translate "text" %}` of a literal kept per language once rendered: the `translate`
and `trans` tags of Django's own `i18n` library are ours from start-up (CiamConfig.ready), so
every `{% load i18n %}`, ours, allauth's and Django's templates, uses them.

Django looks each literal up again at every render: the active language through asgiref's
Local, the catalog with its fallbacks, then escaping, localisation and lazy-string checks. A
hosted page holds 10 to 40 of them, every hosted request pays for them (bench/README.md,
"Cheaper hosted pages"). The text of a literal in a language does not change while the process
runs (Django only reloads catalogs when the development server sees a .mo file change, and
then these are forgotten too), so each node keeps what it rendered per language and
autoescape setting. Everything else (variables, filters, `context`, blocktranslate) is
Django's own code.
"""

from __future__ import annotations

import itertools

from django import template
from django.template.base import render_value_in_context
from django.templatetags import i18n as django_i18n
from django.utils import translation
from django.utils.autoreload import file_changed
from django.utils.safestring import SafeData, mark_safe

# Bumped when the development server reloads translation catalogs: every node's kept texts
# are then stale.
_catalog_generation = itertools.count()
_current_generation = next(_catalog_generation)


def _catalogs_changed(sender, file_path, **kwargs) -> None:
    global _current_generation
    if file_path.suffix == ".mo":
        _current_generation = next(_catalog_generation)


file_changed.connect(_catalogs_changed, dispatch_uid="ciam_i18n_cached_catalogs_changed")


class KeptTranslateNode(django_i18n.TranslateNode):
    """`{% translate "literal" %}` (with `noop` or `as var` too): rendered once per language."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        expression = self.filter_expression
        self.keepable = (
            self.message_context is None
            and not expression.filters
            and isinstance(expression.var, template.Variable)
            and expression.var.literal is not None
        )
        self.kept: dict = {}

    def render(self, context):
        if not self.keepable:
            return super().render(context)
        key = (_current_generation, translation.get_language(), context.autoescape)
        value = self.kept.get(key)
        if value is None:
            value = self._render_value(context)
            if len(self.kept) > 32:  # languages x autoescape: a handful; never unbounded
                self.kept.clear()
            self.kept[key] = value
        if self.asvar:
            context[self.asvar] = value
            return ""
        return value

    def _render_value(self, context):
        # TranslateNode.render without `as var` (nodes are shared by threads: no state).
        self.filter_expression.var.translate = not self.noop
        value = render_value_in_context(self.filter_expression.resolve(context), context)
        is_safe = isinstance(value, SafeData)
        value = value.replace("%%", "%")
        return mark_safe(value) if is_safe else value


def do_translate(parser, token):
    """Django's `{% translate %}` compiled by Django, kept as a KeptTranslateNode."""
    node = django_i18n.do_translate(parser, token)
    return KeptTranslateNode(node.filter_expression, node.noop, node.asvar, node.message_context)


def kept_translate_install() -> None:
    """Make `translate` and `trans` of Django's `i18n` library ours. Run before any template
    is compiled (a compiled template keeps the nodes it was built with). Replacing the tags in
    Django's library rather than registering a library of our own named `i18n` keeps Django's
    check of duplicate library names (templates.W003) meaningful."""
    django_i18n.register.tag("translate", do_translate)
    django_i18n.register.tag("trans", do_translate)
