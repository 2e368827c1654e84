"""How every form renders (settings.FORM_RENDERER): Django's form renderer on the project's
template engine, with one field template (templates/forms/field.html) for the console, the
hosted pages and the platform pages: a label, the input with Bootstrap's class, its help and
errors next to it and tied to it by aria-describedby, aria-invalid on an error, and what the
person typed kept. `{{ form }}` renders forms/form.html, `{{ form.email.as_field_group }}` one
field. Attributes of an input (autocomplete, inputmode, htmx) belong to the form's widget."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.forms.renderers import TemplatesSetting
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

_CHOICE_LISTS = (forms.RadioSelect, forms.CheckboxSelectMultiple)
_CHECKS = (forms.CheckboxInput,)
_SELECTS = (forms.Select, forms.SelectMultiple)


class BoundField(forms.BoundField):
    """Every form's fields (FormRenderer.bound_field_class)."""

    @property
    def kind(self) -> str:
        """What forms/field.html lays out: "choices" (a fieldset of radios or checkboxes),
        "check" (one checkbox) or "input" (label above the input)."""
        widget = self.field.widget
        if isinstance(widget, _CHOICE_LISTS):
            return "choices"
        if isinstance(widget, _CHECKS):
            return "check"
        return "input"

    @property
    def aria_describedby(self):
        # The ids forms/field.html gives the help text and the errors; one set on the widget
        # (a form's own order, e.g. the slug's live check) wins, as in Django.
        if self.field.widget.attrs.get("aria-describedby"):
            return None
        described_by = []
        if self.auto_id and not self.is_hidden:
            if self.help_text:
                described_by.append(f"{self.auto_id}_help")
            if self.errors:
                described_by.append(f"{self.auto_id}_error")
        return " ".join(described_by)

    def build_widget_attrs(self, attrs, widget=None):
        widget = widget or self.field.widget
        attrs = super().build_widget_attrs(attrs, widget)
        if widget.is_hidden:
            return attrs
        if isinstance(widget, _CHOICE_LISTS + _CHECKS):
            css = "form-check-input"
        elif isinstance(widget, _SELECTS):
            css = "form-select"
        else:
            css = "form-control"
        if self.errors:
            css += " is-invalid"
        extra = attrs.get("class") or widget.attrs.get("class") or ""
        attrs["class"] = f"{css} {extra}".strip()
        return attrs

    def as_field_group(self):
        # A plain input in forms/field.html's markup, written here: rendering the template
        # costs more than the rest of the field (a context, a with, a dozen lookups), twice
        # on every sign-in page. Any other field, or another field template, renders it.
        if (
            self.field.template_name is None
            and type(self.renderer) is FormRenderer
            and self.kind == "input"
            and _is_plain_input(self.field.widget)
        ):
            return self._input_group_html()
        return super().as_field_group()

    def _input_group_html(self) -> SafeString:
        """What forms/field.html writes for an input ("input" kind), byte for byte."""
        auto_id = conditional_escape(self.auto_id)
        html = [
            '<div class="mb-3"><label class="form-label" for="',
            conditional_escape(self.id_for_label),
            '">',
            conditional_escape(self.label),
        ]
        if self.field.required:
            html += ['<span class="visually-hidden"> (', conditional_escape(gettext("required"))]
            html.append(")</span>")
        html += ["</label>", self.as_widget()]
        if self.help_text:
            html += ['<div class="form-text" id="', auto_id, '_help">']
            html += [conditional_escape(self.help_text), "</div>"]
        errors = self.errors
        if errors:
            html += ['<div class="invalid-feedback d-block" id="', auto_id, '_error">']
            html += [" ".join(conditional_escape(error) for error in errors), "</div>"]
        html.append("</div>")
        return mark_safe("".join(html))

    def as_widget(self, widget=None, attrs=None, only_initial=False):
        widget = widget or self.field.widget
        if not only_initial and _is_plain_input(widget):
            return self._input_html(widget, attrs or {})
        return super().as_widget(widget, attrs, only_initial)

    def _input_html(self, widget, attrs: dict) -> SafeString:
        """What Django's input templates write, without rendering three templates per input
        (they cost more than the rest of a sign-in page)."""
        if self.field.localize:
            widget.is_localized = True
        attrs = self.build_widget_attrs(attrs, widget)
        if self.auto_id and "id" not in widget.attrs:
            attrs.setdefault("id", self.auto_id)
        context = widget.get_context(self.html_name, self.value(), attrs)["widget"]
        html = [format_html('<input type="{}" name="{}"', context["type"], context["name"])]
        if context["value"] is not None:
            html.append(format_html(' value="{}"', context["value"]))
        for name, value in context["attrs"].items():
            if value is True:
                html.append(format_html(" {}", name))
            elif value is not False and value is not None:
                html.append(format_html(' {}="{}"', name, value))
        html.append(">")
        return mark_safe("".join(html))


def _is_plain_input(widget) -> bool:
    """Widgets whose template is Django's bare <input> (text, email, password, number...)."""
    return (
        isinstance(widget, forms.widgets.Input)
        and not isinstance(widget, forms.FileInput)
        and widget.template_name.startswith("django/forms/widgets/")
        and widget.input_type != "hidden"
    )


class FormRenderer(TemplatesSetting):
    """Django's renderer on settings.TEMPLATES (our overrides first), with our form and field
    templates and our BoundField."""

    form_template_name = "forms/form.html"
    field_template_name = "forms/field.html"
    bound_field_class = BoundField


def add_service_errors(form, error: ValidationError) -> None:
    """Show a service's ValidationError on the form: field errors next to their fields, the
    rest above the form."""
    if hasattr(error, "error_dict"):
        for field, messages in error.message_dict.items():
            form.add_error(field if field in form.fields else None, messages)
    else:
        form.add_error(None, error.messages)
