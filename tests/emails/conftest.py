"""Delivery is tested through the emails people get: invitations (guests) and account
emails (accounts), with the guests fixtures."""

from tests.guests.conftest import _fresh_guest_rate_limits, acme_committed  # noqa: F401
