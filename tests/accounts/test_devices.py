"""People recognise their sessions by browser and system, not by User-Agent header."""

from __future__ import annotations

import pytest

from accounts.devices import device_summary
from tests.helpers import PASSWORD, make_user, sign_in, tenant_client

FIREFOX_WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"
SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1"
)


@pytest.mark.parametrize(
    ("user_agent", "summary"),
    [
        (FIREFOX_WINDOWS, "Firefox on Windows"),
        (SAFARI_IPHONE, "Safari on iOS"),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
            "Edge on Windows",
        ),
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like "
            "Gecko) Chrome/131.0.0.0 Safari/537.36",
            "Chrome on macOS",
        ),
        (
            "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/131.0.0.0 Mobile Safari/537.36",
            "Chrome on Android",
        ),
        (
            # Browsers a hand-written table misses (it said "Chrome"): ua-parser's rules know them.
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/131.0.0.0 Safari/537.36 Vivaldi/7.0.3495.18",
            "Vivaldi on Windows",
        ),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 "
            "(KHTML, like Gecko) CriOS/131.0.6778.73 Mobile/15E148 Safari/604.1",
            "Chrome on iOS",
        ),
        ("curl/8.5.0", "curl"),
        ("", "Unknown device"),
        ("<script>alert(1)</script>", "Unknown device"),
    ],
)
def test_device_summary(user_agent, summary):
    assert device_summary(user_agent) == summary


def test_my_account_names_each_session_by_browser_and_system(acme):
    user = make_user(acme)
    laptop, phone = tenant_client(acme), tenant_client(acme)
    laptop.defaults["HTTP_USER_AGENT"] = FIREFOX_WINDOWS
    phone.defaults["HTTP_USER_AGENT"] = SAFARI_IPHONE
    assert sign_in(laptop, user.email, PASSWORD).status_code == 302
    assert sign_in(phone, user.email, PASSWORD).status_code == 302
    body = phone.get("/account/").content.decode()
    assert "Firefox on Windows" in body and "Safari on iOS" in body
    assert f'title="{FIREFOX_WINDOWS}"' in body  # the whole header on hover
