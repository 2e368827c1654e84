"""`{% form_errors form %}`: the errors that belong to no field, above the form (fields are
laid out by the form renderer: ciam.forms, templates/forms/field.html)."""

from __future__ import annotations

from django import template
from django.utils.html import format_html, format_html_join

register = template.Library()


@register.simple_tag
def form_errors(form):
    errors = form.non_field_errors()
    if not errors:
        return ""
    return format_html(
        '<div class="alert alert-danger" role="alert">{}</div>',
        format_html_join("", '<p class="mb-0">{}</p>', ((error,) for error in errors)),
    )
