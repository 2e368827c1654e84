"""A tenant's custom CSS: parsed with tinycss2, kept only for an allow-list of selectors and
properties, re-serialised from the parsed rules (docs/security.md, Branding).

What it refuses and why: `@import` and `url()` to another host (the stylesheet would load, or
leak visits to, someone else's server), attribute selectors (`input[value^=a]` reads what a
person types into a background request), `expression()`, `behavior` and `-moz-binding` (old
ways to run script from CSS), and anything that could end the stylesheet early (`<`,
backslash escapes). The result goes into the tenant's theme stylesheet, a file of its own,
never into a `<style>` element.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import tinycss2
from django.utils.translation import gettext as _

MAX_BYTES = 25 * 1024

# The hosted pages' own classes (templates/hosted/base.html, static/css/hosted.css) and the
# Bootstrap classes their forms use.
ALLOWED_CLASSES = {
    "hosted",
    "btn",
    "btn-primary",
    "btn-outline-secondary",
    "btn-link",
    "form-control",
    "form-label",
    "form-text",
    "form-check",
    "form-check-label",
    "form-check-input",
    "invalid-feedback",
    "or",
    "text-center",
}
ALLOWED_CLASS_PREFIXES = ("hosted-",)
ALLOWED_ELEMENTS = {
    "body",
    "header",
    "main",
    "footer",
    "nav",
    "section",
    "form",
    "fieldset",
    "legend",
    "h1",
    "h2",
    "h3",
    "p",
    "a",
    "ul",
    "li",
    "dl",
    "dt",
    "dd",
    "label",
    "input",
    "button",
    "img",
    "strong",
    "em",
}
ALLOWED_PSEUDO_CLASSES = {
    "hover",
    "focus",
    "focus-visible",
    "focus-within",
    "active",
    "visited",
    "first-child",
    "last-child",
    "disabled",
}
ALLOWED_PROPERTIES = {
    "color",
    "background",
    "background-color",
    "background-image",
    "background-position",
    "background-size",
    "background-repeat",
    "border",
    "border-color",
    "border-width",
    "border-style",
    "border-radius",
    "border-top",
    "border-bottom",
    "border-left",
    "border-right",
    "box-shadow",
    "outline",
    "outline-color",
    "outline-width",
    "outline-style",
    "outline-offset",
    "font-family",
    "font-size",
    "font-weight",
    "font-style",
    "letter-spacing",
    "line-height",
    "text-align",
    "text-decoration",
    "text-transform",
    "margin",
    "margin-top",
    "margin-bottom",
    "margin-left",
    "margin-right",
    "padding",
    "padding-top",
    "padding-bottom",
    "padding-left",
    "padding-right",
    "max-width",
    "min-height",
    "opacity",
    "gap",
    "--ciam-radius",
}
ALLOWED_FUNCTIONS = {"rgb", "rgba", "hsl", "hsla", "var", "calc", "min", "max", "clamp"}
ALLOWED_AT_RULES = {"media"}
# Images of this tenant's own branding, by the names their content gave them.
OWN_IMAGE = re.compile(
    r"^/branding/logo/(logo|square|square-dark|favicon|background)-[0-9a-f]{32}"
    r"\.(png|jpg|webp|svg)$"
)
_DANGEROUS_WORDS = ("expression", "behavior", "-moz-binding", "javascript:")


@dataclass(frozen=True)
class Refusal:
    line: int
    message: str

    def __str__(self) -> str:
        return _("Line %(line)s: %(message)s") % {"line": self.line, "message": self.message}


@dataclass(frozen=True)
class CleanCss:
    css: str
    refusals: list[Refusal]


def css_clean(source: str) -> CleanCss:
    """The allowed rules of `source`, re-serialised, and each refused rule or declaration
    with its line."""
    if len(source.encode()) > MAX_BYTES:
        return CleanCss("", [Refusal(1, _("Custom CSS may be at most 25 KB."))])
    refusals: list[Refusal] = []
    try:
        rules = tinycss2.parse_stylesheet(source, skip_comments=True, skip_whitespace=True)
        out = _rules(rules, refusals, nested=False)
    except RecursionError:
        # Brackets nested thousands deep: the parser's recursion gives up before we do.
        return CleanCss("", [Refusal(1, _("brackets are nested too deeply."))])
    return CleanCss("\n".join(out) + ("\n" if out else ""), refusals)


def _rules(rules, refusals: list[Refusal], *, nested: bool) -> list[str]:
    out = []
    for rule in rules:
        if rule.type == "error":
            refusals.append(Refusal(rule.source_line, _("this could not be read as CSS.")))
        elif rule.type == "at-rule":
            if rule.lower_at_keyword not in ALLOWED_AT_RULES or nested:
                refusals.append(
                    Refusal(
                        rule.source_line,
                        _("@%(name)s is not allowed.") % {"name": rule.at_keyword},
                    )
                )
                continue
            condition = _media_condition(rule.prelude)
            if condition is None or rule.content is None:
                refusals.append(Refusal(rule.source_line, _("this media query is not allowed.")))
                continue
            inner = tinycss2.parse_rule_list(rule.content, skip_comments=True, skip_whitespace=True)
            body = _rules(inner, refusals, nested=True)
            if body:
                out.append(f"@media {condition} {{\n" + "\n".join(body) + "\n}")
        elif rule.type == "qualified-rule":
            selector, problem = _selector(rule.prelude)
            if selector is None:
                refusals.append(Refusal(rule.source_line, problem))
                continue
            declarations = _declarations(rule.content, refusals)
            if declarations:
                out.append(f"{selector} {{ " + " ".join(declarations) + " }")
    return out


def _selector(tokens) -> tuple[str | None, str]:
    """The selector list re-serialised, or None and why it is refused."""
    previous = None
    for token in tokens:
        kind = token.type
        if kind == "whitespace":
            previous = None
            continue
        if kind == "literal" and token.value in (".", ":", ",", ">", "+", "~"):
            if token.value == ":" and previous == ":":
                return None, _("pseudo-elements are not allowed in selectors.")
            previous = token.value
            continue
        if kind == "ident":
            name = token.lower_value
            if previous == ".":
                if name not in ALLOWED_CLASSES and not name.startswith(ALLOWED_CLASS_PREFIXES):
                    return None, _("the class .%(name)s is not one of the hosted pages'.") % {
                        "name": token.value
                    }
            elif previous == ":":
                if name not in ALLOWED_PSEUDO_CLASSES:
                    return None, _(":%(name)s is not allowed in selectors.") % {"name": token.value}
            elif name not in ALLOWED_ELEMENTS:
                return None, _("the element %(name)s is not allowed in selectors.") % {
                    "name": token.value
                }
            previous = "ident"
            continue
        if kind == "[] block":
            return None, _("attribute selectors are not allowed (they can read what is typed).")
        if kind == "hash":
            return None, _("id selectors are not allowed: use the hosted pages' classes.")
        return None, _("this selector is not allowed.")
    selector = " ".join(tinycss2.serialize(tokens).split())
    if not selector or "\\" in selector or "<" in selector:
        return None, _("this selector is not allowed.")
    return selector, ""


def _declarations(content, refusals: list[Refusal]) -> list[str]:
    out = []
    for item in tinycss2.parse_blocks_contents(content, skip_comments=True, skip_whitespace=True):
        if item.type == "error":
            refusals.append(Refusal(item.source_line, _("this could not be read as CSS.")))
            continue
        if item.type != "declaration":
            refusals.append(Refusal(item.source_line, _("nested rules are not allowed.")))
            continue
        name = item.lower_name
        if name in ("behavior", "-moz-binding"):
            refusals.append(
                Refusal(item.source_line, _("%(name)s is not allowed.") % {"name": item.name})
            )
            continue
        if name not in ALLOWED_PROPERTIES:
            refusals.append(
                Refusal(
                    item.source_line,
                    _("the property %(name)s is not allowed.") % {"name": item.name},
                )
            )
            continue
        problem = _value_problem(item.value)
        value = " ".join(tinycss2.serialize(item.value).split())
        if problem is None and (not value or "<" in value or "\\" in value):
            problem = _("this value is not allowed.")
        if problem is not None:
            refusals.append(Refusal(item.source_line, f"{item.name}: {problem}"))
            continue
        out.append(f"{name}: {value}{' !important' if item.important else ''};")
    return out


def _value_problem(tokens) -> str | None:
    for token in tokens:
        kind = token.type
        if kind in ("whitespace", "hash", "number", "percentage", "dimension"):
            continue
        if kind == "ident":
            if any(word in token.lower_value for word in _DANGEROUS_WORDS):
                return _("%(word)s is not allowed.") % {"word": token.value}
            continue
        if kind == "literal" and token.value in (",", "/", "+", "-", "*"):
            continue
        if kind == "string":
            lowered = token.value.lower()
            if any(word in lowered for word in _DANGEROUS_WORDS) or "<" in lowered:
                return _("this text is not allowed.")
            continue
        if kind == "url":
            if not OWN_IMAGE.match(token.value):
                return _("url() may only name this tenant's branding images.")
            continue
        if kind == "function":
            name = token.lower_name
            if name == "url":
                arguments = [part for part in token.arguments if part.type != "whitespace"]
                if (
                    len(arguments) == 1
                    and arguments[0].type == "string"
                    and OWN_IMAGE.match(arguments[0].value)
                ):
                    continue
                return _("url() may only name this tenant's branding images.")
            if name == "expression":
                return _("expression() is not allowed.")
            if name not in ALLOWED_FUNCTIONS:
                return _("%(name)s() is not allowed.") % {"name": token.name}
            problem = _value_problem(token.arguments)
            if problem is not None:
                return problem
            continue
        if kind == "() block":
            problem = _value_problem(token.content)
            if problem is not None:
                return problem
            continue
        return _("this value is not allowed.")
    return None


def _media_condition(tokens) -> str | None:
    def allowed(parts) -> bool:
        for token in parts:
            if token.type in ("whitespace", "ident", "number", "dimension", "percentage"):
                continue
            if token.type == "literal" and token.value in (":", ",", "/"):
                continue
            if token.type == "() block" and allowed(token.content):
                continue
            return False
        return True

    if not allowed(tokens):
        return None
    condition = " ".join(tinycss2.serialize(tokens).split())
    if not condition or "\\" in condition or "<" in condition:
        return None
    return condition


def css_scoped(css: str, scope: str) -> str:
    """The cleaned rules (or a theme stylesheet) under `scope`, for the console's previews:
    `:root` and `body` become the scope itself, every other selector is prefixed by it."""
    out = []

    def scoped_rules(rules) -> list[str]:
        result = []
        for rule in rules:
            if rule.type == "at-rule" and rule.content is not None:
                inner = tinycss2.parse_rule_list(
                    rule.content, skip_comments=True, skip_whitespace=True
                )
                prelude = " ".join(tinycss2.serialize(rule.prelude).split())
                result.append(f"@media {prelude} {{\n" + "\n".join(scoped_rules(inner)) + "\n}")
            elif rule.type == "qualified-rule":
                selectors = []
                for selector in tinycss2.serialize(rule.prelude).split(","):
                    selector = " ".join(selector.split())
                    if selector == ":root":
                        selectors.append(scope)
                    elif selector == "body" or selector.startswith(("body.", "body:", "body ")):
                        selectors.append(scope + selector[4:])
                    else:
                        selectors.append(f"{scope} {selector}")
                result.append(", ".join(selectors) + " {" + tinycss2.serialize(rule.content) + "}")
        return result

    out = scoped_rules(tinycss2.parse_stylesheet(css, skip_comments=True, skip_whitespace=True))
    return "\n".join(out) + ("\n" if out else "")
