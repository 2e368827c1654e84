"""Accessible form fields: a label, the input tied to its help and errors by
aria-describedby, errors next to the field, and what the person typed kept.

Text-like inputs (the fields of every sign-in and sign-up page) are written here in Python:
Django renders a widget through three templates, which cost more than the rest of a sign-in
page. Checkboxes, choice lists and selects go through the templates."""

from __future__ import annotations

from django import forms, template
from django.template.loader import render_to_string
from django.utils.html import conditional_escape, format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

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
        # The template writes each choice from the widget's own attrs (the form's copy).
        widget.attrs = {**widget.attrs, "class": css}
    elif isinstance(widget, _CHECKS):
        css = "form-check-input"
        kind = "check"
    elif isinstance(widget, _SELECTS):
        css = "form-select"
        kind = "input"
    else:
        css = "form-control"
        kind = "input"
    # Read once: allauth's password help text renders a template each time it is read.
    help_text = bound_field.help_text
    errors = bound_field.errors
    described_by = []
    if help_text:
        described_by.append(f"{bound_field.auto_id}_help")
    if errors:
        described_by.append(f"{bound_field.auto_id}_error")
        css += " is-invalid"
        attrs["aria-invalid"] = "true"
    if described_by:
        attrs["aria-describedby"] = " ".join(described_by)
    attrs["class"] = f"{css} {attrs.get('class', '')}".strip()
    if kind == "input" and _is_plain_input(widget):
        return _input_field_html(bound_field, attrs, help_text, errors)
    return render_to_string(
        "forms/field.html",
        {
            "field": bound_field,
            "widget_html": bound_field.as_widget(attrs=attrs),
            "kind": kind,
            "help_text": help_text,
            "errors": errors,
        },
    )


@register.simple_tag
def form_errors(form):
    errors = form.non_field_errors()
    if not errors:
        return ""
    return format_html(
        '<div class="alert alert-danger" role="alert">{}</div>',
        format_html_join("", '<p class="mb-0">{}</p>', ((error,) for error in errors)),
    )


def _is_plain_input(widget) -> bool:
    """Widgets whose template is Django's bare <input> (text, email, password, number...)."""
    return (
        isinstance(widget, forms.widgets.Input)
        and not isinstance(widget, forms.FileInput)
        and widget.template_name.startswith("django/forms/widgets/")
    )


def _input_field_html(bound_field, attrs: dict, help_text, errors) -> SafeString:
    """What forms/field.html renders for a plain input, without the template engine."""
    widget = bound_field.field.widget
    attrs = bound_field.build_widget_attrs(attrs, widget)
    if bound_field.auto_id and "id" not in widget.attrs:
        attrs.setdefault("id", bound_field.auto_id)
    context = widget.get_context(bound_field.html_name, bound_field.value(), attrs)["widget"]
    html = [format_html('<input type="{}" name="{}"', context["type"], context["name"])]
    if context["value"] is not None:
        html.append(format_html(' value="{}"', context["value"]))
    for name, value in context["attrs"].items():
        if value is True:
            html.append(format_html(" {}", name))
        elif value is not False:
            html.append(format_html(' {}="{}"', name, value))
    html.append(mark_safe(">"))
    required = ""
    if bound_field.field.required:
        required = format_html('<span class="visually-hidden"> ({})</span>', gettext("required"))
    return format_html(
        '<div class="mb-3"><label class="form-label" for="{}">{}{}</label>{}{}{}</div>',
        bound_field.id_for_label,
        bound_field.label,
        required,
        mark_safe("".join(html)),
        format_html('<div class="form-text" id="{}_help">{}</div>', bound_field.auto_id, help_text)
        if help_text
        else "",
        format_html(
            '<div class="invalid-feedback d-block" id="{}_error">{}</div>',
            bound_field.auto_id,
            mark_safe(" ".join(conditional_escape(error) for error in errors)),
        )
        if errors
        else "",
    )
