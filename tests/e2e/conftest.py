"""Browser tests: the real server (gunicorn) and Debian's headless Chromium via Playwright.
Their fixtures are in tests/conftest.py and their helpers in tests/browser.py."""
