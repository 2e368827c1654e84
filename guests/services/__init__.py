"""Invitations, redemption and the guest lifecycle.

One module per concern; the names callers use are gathered here.
"""

from guests.services.api_keys import (
    api_key_authenticate,
    api_key_create,
    api_key_hash,
    api_key_revoke,
)
from guests.services.bulk import (
    BULK_REASONS,
    bulk_invitation_enqueue,
    bulk_invitation_process_chunk,
    bulk_invitation_relay,
    bulk_invitation_start,
)
from guests.services.federated import (
    identity_redemption_problem,
    invitation_accept_with_identity,
)
from guests.services.governance import governance_run, guest_access_renew
from guests.services.invitations import (
    CODE_LIFETIME,
    CODE_MAX_ATTEMPTS,
    CodeVerdict,
    invitation_accept,
    invitation_create,
    invitation_for_token,
    invitation_resend,
    invitation_revoke,
    redeem_url,
    redemption_code_check,
    redemption_code_send,
    redemption_code_verify,
    redemption_lock,
    token_hash,
)
from guests.services.limits import email_limit_take, rate_take
from guests.services.policy import (
    SETTINGS_FIELDS,
    can_invite,
    domain_problem,
    guest_settings_get,
    guest_settings_update,
)

__all__ = [
    "BULK_REASONS",
    "CODE_LIFETIME",
    "CODE_MAX_ATTEMPTS",
    "SETTINGS_FIELDS",
    "CodeVerdict",
    "api_key_authenticate",
    "api_key_create",
    "api_key_hash",
    "api_key_revoke",
    "bulk_invitation_enqueue",
    "bulk_invitation_process_chunk",
    "bulk_invitation_relay",
    "bulk_invitation_start",
    "can_invite",
    "identity_redemption_problem",
    "invitation_accept_with_identity",
    "domain_problem",
    "email_limit_take",
    "governance_run",
    "guest_access_renew",
    "guest_settings_get",
    "guest_settings_update",
    "invitation_accept",
    "invitation_create",
    "invitation_for_token",
    "invitation_resend",
    "invitation_revoke",
    "rate_take",
    "redeem_url",
    "redemption_code_check",
    "redemption_code_send",
    "redemption_code_verify",
    "redemption_lock",
    "token_hash",
]
