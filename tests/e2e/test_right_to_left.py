"""Arabic pages in Chromium: right to left, under the CSP the server sends."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser import axe_violations

pytestmark = [pytest.mark.server, pytest.mark.browser]

WATCH_CSP = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(event.violatedDirective + " " + event.blockedURI);
});
"""


def test_arabic_sign_in_renders_right_to_left_without_a_csp_violation(
    browser, running_server, worlds
):
    acme = worlds["acme"]
    context = browser.new_context(locale="ar-EG", viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.add_init_script(WATCH_CSP)
    messages = []
    page.on("console", lambda message: messages.append(message.text))
    page.goto(running_server.url(acme.host, "/accounts/login/"))

    assert page.evaluate("document.documentElement.lang") == "ar"
    assert page.evaluate("document.documentElement.dir") == "rtl"
    heading = page.get_by_role("heading", level=1)
    assert heading.evaluate("h => getComputedStyle(h).direction") == "rtl"
    # The email field's label starts on the right of the card.
    label = page.locator("label[for=id_login]")
    card = page.locator(".hosted-card")
    label_box, card_box = label.bounding_box(), card.bounding_box()
    assert label_box["x"] + label_box["width"] > card_box["x"] + card_box["width"] * 0.6
    expect(page.get_by_role("button", name="تسجيل الدخول", exact=True)).to_be_visible()
    assert page.evaluate("window.__cspViolations") == []
    assert not [text for text in messages if "Content Security Policy" in text]
    assert axe_violations(page) == []

    # The switcher (a plain form, no JavaScript) goes back to English on the same page.
    page.get_by_label("اللغة").select_option("en")
    page.get_by_role("button", name="تغيير اللغة").click()
    page.wait_for_selector("html[lang=en]")
    assert page.evaluate("document.documentElement.dir") == "ltr"
    assert page.url.endswith("/accounts/login/")
    expect(page.get_by_role("button", name="Sign in", exact=True)).to_be_visible()
    assert page.evaluate("window.__cspViolations") == []
    context.close()
