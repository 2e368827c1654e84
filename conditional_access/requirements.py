"""What conditional access decided for a sign-in, for the login stages after its own
(conditional_access.stages describes the interface). Importable while apps load: no allauth
stage machinery here."""

from __future__ import annotations

STATE_KEY = "conditional_access"

# The requirements some stage of sign-in enforces. This stage enforces the password change;
# the MFA app registers "mfa" and "passkey" from its AppConfig.ready() with
# requirement_enforcer_register(). Until then the console says those are not enforced.
_enforced: set[str] = {"password_change"}


def requirement_enforcer_register(*requirements: str) -> None:
    """A login stage after this one enforces these requirements ("mfa", "passkey")."""
    _enforced.update(requirements)


def requirements_not_enforced(requirements) -> list[str]:
    """Those of `requirements` no stage of sign-in enforces yet (the console warns)."""
    return sorted(set(requirements) - _enforced)


def requirements_for(login) -> set[str]:
    """What the policies that apply to this sign-in require: {"mfa", "passkey",
    "password_change"} or a part of it (empty when nothing is required)."""
    return set((login.state.get(STATE_KEY) or {}).get("requirements", ()))


def sign_in_policies_restore(request, login) -> None:
    """In a later request of the same sign-in: its sign-in log rows carry the policies, and
    its session the sign-in frequency."""
    kept = login.state.get(STATE_KEY) or {}
    request.sign_in_policies = kept.get("policies", [])
    request.sign_in_frequency = kept.get("sign_in_frequency")
