"""Custom CSS: only the allowed selectors and properties, re-serialised, served in the
tenant's theme stylesheet; each refused rule reported with its line next to the field."""

from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context

from branding.custom_css import MAX_BYTES, css_clean
from branding.models import Branding
from tests.branding.helpers import page_of, publish, save_draft, theme_link
from tests.helpers import tenant_client

ATTACKS = """.hosted-card { border-radius: 0; }
@import url(https://evil.example/steal.css);
.hosted-card { background: url(https://evil.example/beacon.png); }
input[value^="a"] { background: url(/branding/logo/logo-0123456789abcdef0123456789abcdef.png); }
a { color: expression(alert(1)); }
body { behavior: url(x.htc); }
p { -moz-binding: url(https://evil.example/x.xml#x); }
h1 { font-family: "</style><script>alert(1)</script>"; }
#secret { color: red; }
.btn-primary { background-color: #7a1f5c !important; }
"""


@pytest.mark.parametrize(
    ("source", "line", "words"),
    [
        ("@import url(https://evil.example/x.css);", 1, "@import"),
        ("\n\na { background: url(https://evil.example/x.png) }", 3, "url()"),
        ("a { background: url('//evil.example/x.png') }", 1, "url()"),
        ("a { color: expression(alert(1)) }", 1, "expression()"),
        ("a { behavior: url(x.htc) }", 1, "behavior"),
        ("a { -moz-binding: url(x.xml) }", 1, "-moz-binding"),
        ('a { font-family: "</style><script>" }', 1, "not allowed"),
        ("a::after { color: red }", 1, "pseudo-elements"),
        ("input[value^=a] { color: red }", 1, "attribute selectors"),
        ("#x { color: red }", 1, "id selectors"),
        (".evil { color: red }", 1, "class .evil"),
        ("a { content: 'x' }", 1, "property content"),
        ("a { background: u\\72l(https://evil.example/x.png) }", 1, "url()"),
        ("@font-face { src: url(https://evil.example/f.woff) }", 1, "@font-face"),
        ("@media (min-width: 1px) { @import url(x); }", 1, "@import"),
    ],
)
def test_each_kind_of_attack_is_refused_with_its_line(source, line, words):
    result = css_clean(source)
    assert result.css == ""
    assert result.refusals and result.refusals[0].line == line
    assert words in str(result.refusals[0]), str(result.refusals[0])


def test_allowed_rules_are_re_serialised_without_comments():
    result = css_clean(
        "/* brand */ .hosted-card   a:hover{color:#7a1f5c}\n"
        "@media (max-width: 480px) { .hosted-card { padding: 1rem !important } }\n"
        "body.hosted { background-image: url('/branding/logo/background-"
        "0123456789abcdef0123456789abcdef.jpg') }"
    )
    assert result.refusals == []
    assert result.css == (
        ".hosted-card a:hover { color: #7a1f5c; }\n"
        "@media (max-width: 480px) {\n.hosted-card { padding: 1rem !important; }\n}\n"
        'body.hosted { background-image: url("/branding/logo/background-'
        '0123456789abcdef0123456789abcdef.jpg"); }\n'
    )


def test_escapes_come_out_as_plain_css():
    assert css_clean("a { color: r\\65 d }").css == "a { color: red; }\n"


def test_more_than_25_kb_is_refused():
    result = css_clean("a { color: red; }\n" * (MAX_BYTES // 10))
    assert result.css == "" and "25 KB" in str(result.refusals[0])


def test_the_editor_lists_every_refused_rule_and_keeps_what_was_typed(acme):
    response = save_draft(acme, custom_css=ATTACKS)
    assert response.status_code == 400
    page = response.content.decode()
    for line in (2, 3, 4, 5, 6, 7, 8, 9):
        assert f"Line {line}:" in page, line
    assert "Line 1:" not in page and "Line 10:" not in page
    # The error stands next to the field, tied to it, and the text as typed stays.
    assert 'aria-describedby="id_custom_css_help id_custom_css_error"' in page
    assert "@import url(https://evil.example/steal.css);" in page  # escaped in the textarea
    assert "<script>alert(1)</script>" not in page
    with tenant_context(acme.tenant):
        assert not Branding.objects.filter(custom_css__contains="evil").exists()


def test_accepted_css_is_served_in_the_theme_stylesheet_of_every_hosted_page(acme):
    source = ".hosted-card{border-radius:0}\n.btn-primary { text-transform: uppercase }"
    assert save_draft(acme, custom_css=source).status_code == 302
    with tenant_context(acme.tenant):
        stored = Branding.objects.get(state="draft").custom_css
    assert stored == (
        ".hosted-card { border-radius: 0; }\n.btn-primary { text-transform: uppercase; }\n"
    )
    publish(acme)
    page = page_of(acme)
    css = tenant_client(acme).get(theme_link(page)).content.decode()
    assert ".btn-primary { text-transform: uppercase; }" in css
    # No inline style: the page only links the stylesheet.
    assert "<style" not in page and "text-transform" not in page
    for path in ("/accounts/signup/", "/accounts/password/reset/"):
        assert theme_link(page_of(acme, path)) == theme_link(page)


def test_brackets_nested_thousands_deep_are_refused_not_a_server_error(acme):
    source = "a { color: " + "rgb(" * 5000 + ")" * 5000 + " }"
    response = save_draft(acme, custom_css=source)
    assert response.status_code == 400
    assert "nested too deeply" in response.content.decode()
