"""Accessible form fields: a label, the input tied to its help and errors by
aria-describedby, errors next to the field, and what the person typed kept."""

from __future__ import annotations

from django import forms, template
from django.template.loader import render_to_string

register = template.Library()

_CHECKS = (forms.CheckboxInput,)
_SELECTS = (forms.Select, forms.SelectMultiple)
_CHOICE_LISTS = (forms.RadioSelect, forms.CheckboxSelectMultiple)


@register.simple_tag
def form_field(bound_field, **attrs):
    attrs = {name.replace("_", "-"): value for name, value in attrs.items()}
    widget = bound_field.field.widget
    if isinstance(widget, _CHOICE_LISTS):
        css = "form-check-input"
        kind = "choices"
    elif isinstance(widget, _CHECKS):
        css = "form-check-input"
        kind = "check"
    elif isinstance(widget, _SELECTS):
        css = "form-select"
        kind = "input"
    else:
        css = "form-control"
        kind = "input"
    described_by = []
    if bound_field.help_text:
        described_by.append(f"{bound_field.auto_id}_help")
    if bound_field.errors:
        described_by.append(f"{bound_field.auto_id}_error")
        css += " is-invalid"
        attrs["aria-invalid"] = "true"
    if described_by:
        attrs["aria-describedby"] = " ".join(described_by)
    attrs["class"] = f"{css} {attrs.get('class', '')}".strip()
    return render_to_string(
        "forms/field.html",
        {"field": bound_field, "widget_html": bound_field.as_widget(attrs=attrs), "kind": kind},
    )


@register.simple_tag
def form_errors(form):
    return render_to_string("forms/non_field_errors.html", {"form": form})
