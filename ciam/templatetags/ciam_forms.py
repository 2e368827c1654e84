"""`{% form_field form.email autocomplete="email" %}`: the field as the form renderer lays it
out (ciam.forms, templates/forms/field.html) with extra attributes on its input, for what
only the page knows (an allauth form's autocomplete hint); `{% form_errors form %}`: the
errors that belong to no field, above the form."""

from __future__ import annotations

from django import template
from django.utils.html import format_html, format_html_join

register = template.Library()


@register.simple_tag
def form_field(bound_field, **attrs):
    if attrs:
        # The form's own copy of the widget: other instances of the form are unaffected.
        widget = bound_field.field.widget
        widget.attrs = {
            **widget.attrs,
            **{name.replace("_", "-"): value for name, value in attrs.items()},
        }
    return bound_field.as_field_group()


@register.simple_tag
def form_errors(form):
    errors = form.non_field_errors()
    if not errors:
        return ""
    return format_html(
        '<div class="alert alert-danger" role="alert">{}</div>',
        format_html_join("", '<p class="mb-0">{}</p>', ((error,) for error in errors)),
    )
