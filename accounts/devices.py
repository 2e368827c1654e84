"""What a person recognises of a User-Agent: "Firefox on Windows", not the header."""

from __future__ import annotations

import ua_parser
from django.utils.translation import gettext

# ua-parser's family names where people know a shorter one (a phone's Safari is Safari).
_NAMES = {
    "Mobile Safari": "Safari",
    "Chrome Mobile": "Chrome",
    "Chrome Mobile iOS": "Chrome",
    "Firefox Mobile": "Firefox",
    "Firefox iOS": "Firefox",
    "Edge Mobile": "Edge",
    "HeadlessChrome": "Headless Chrome",
    "Mac OS X": "macOS",
    "Chrome OS": "ChromeOS",
}


def _name(part) -> str:
    # None when ua-parser knows no rule for the header.
    return _NAMES.get(part.family, part.family) if part is not None else ""


def device_summary(user_agent: str) -> str:
    """ "Browser on system", either part alone when the other is unknown, or "Unknown
    device"."""
    # ua-parser caches its last 2000 answers: one sessions page parses each header once.
    result = ua_parser.parse(user_agent or "")
    browser, system = _name(result.user_agent), _name(result.os)
    if browser and system:
        return gettext("%(browser)s on %(system)s") % {"browser": browser, "system": system}
    return browser or system or gettext("Unknown device")
