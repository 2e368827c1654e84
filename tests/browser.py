"""What browser tests share: Debian's headless Chromium through Playwright, a scenario run in a
thread of its own, axe-core's findings, and the running server's URLs. The fixtures
(`browser`, `page`, `running_server`) are in tests/conftest.py: one Playwright per test
process (the sync API allows one per thread)."""

from __future__ import annotations

import threading
from pathlib import Path

AXE = Path(__file__).parent / "e2e" / "vendor" / "axe.min.js"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def in_own_thread(scenario) -> None:
    """Run `scenario(page)` with its own Playwright in a fresh thread: the sync API allows
    one Playwright per thread, and the session's `browser` fixture may hold this thread's."""
    from playwright.sync_api import sync_playwright

    failures: list[BaseException] = []

    def run() -> None:
        try:
            with sync_playwright() as playwright:
                chromium = playwright.chromium.launch(
                    executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS
                )
                context = chromium.new_context()
                scenario(context.new_page())
                chromium.close()
        except BaseException as failure:  # re-raised in the test's thread below
            failures.append(failure)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=180)
    assert not thread.is_alive(), "the browser scenario did not finish"
    if failures:
        raise failures[0]


class RunningServer:
    def __init__(self, port: int):
        self.port = port

    def url(self, host: str = "localhost", path: str = "/") -> str:
        return f"http://{host}:{self.port}{path}"


def axe_violations(page, minimum_impact: tuple[str, ...] = ("serious", "critical")) -> list:
    """Accessibility problems axe-core finds on the page, at or above the given impact.

    axe-core is evaluated through the DevTools protocol, which the page's Content Security
    Policy does not govern: the page itself keeps the policy the server sent.
    """
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text())
    result = page.evaluate("async () => await axe.run(document)")
    return [
        (violation["id"], violation["help"], [node["target"] for node in violation["nodes"]])
        for violation in result["violations"]
        if violation["impact"] in minimum_impact
    ]


def with_virtual_authenticator(context, page) -> tuple:
    """A passkey provider on the device, as a phone or laptop has: it answers every request
    itself (the person's fingerprint, in effect)."""
    session = context.new_cdp_session(page)
    session.send("WebAuthn.enable")
    answer = session.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
            }
        },
    )
    return session, answer["authenticatorId"]
