from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request) -> bool:
        # Only tenants have end users; the platform host has no sign-up.
        return getattr(request, "tenant", None) is not None
