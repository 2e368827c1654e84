"""Hosted MFA pages: the sign-in steps (under /accounts/, beside allauth's) and My account >
Security (under /account/)."""

from django.urls import path

from mfa import passkey_views, step_up, views

app_name = "mfa"

urlpatterns = [
    path("accounts/mfa/", views.authenticate, name="authenticate"),
    path("accounts/mfa/setup/", views.enrol, name="enrol"),
    path("accounts/mfa/passkey/", views.passkey_options, name="passkey-options"),
    path("accounts/passkey/", passkey_views.sign_in, name="passkey-sign-in"),
    path(
        "accounts/passkey/options/", passkey_views.sign_in_options, name="passkey-sign-in-options"
    ),
    # A signed-in session proves a second factor (or sets one up), then goes on to `next`.
    path("accounts/mfa/verify/", step_up.step_up, name="step-up"),
    path(
        "accounts/mfa/verify/passkey/",
        step_up.step_up_passkey_options,
        name="step-up-passkey-options",
    ),
    # allauth's re-authentication, followed by the second factor for someone who has one
    # (before allauth's own URL of the same path, account_reauthenticate).
    path("accounts/reauthenticate/", step_up.reauthenticate, name="reauthenticate"),
    # The same with a passkey (allauth's re-authentication methods list it).
    path(
        "accounts/reauthenticate/passkey/",
        step_up.reauthenticate_passkey,
        name="reauthenticate-passkey",
    ),
    # For someone with no password and no usable passkey: sign in again.
    path(
        "accounts/reauthenticate/sign-in/",
        step_up.reauthenticate_sign_in_again,
        name="reauthenticate-sign-in-again",
    ),
    path(
        "accounts/reauthenticate/passkey/options/",
        step_up.reauthenticate_passkey_options,
        name="reauthenticate-passkey-options",
    ),
    # The password change asks the current password itself: a second factor first.
    path("accounts/password/change/", step_up.password_change, name="password-change"),
    path("account/security/", views.security, name="security"),
    path("account/security/authenticator/", views.totp_add, name="totp-add"),
    path("account/security/authenticator/remove/", views.totp_remove, name="totp-remove"),
    path("account/security/passkeys/add/", passkey_views.passkey_add, name="passkey-add"),
    path(
        "account/security/passkeys/add/options/",
        passkey_views.passkey_add_options,
        name="passkey-add-options",
    ),
    path(
        "account/security/passkeys/<uuid:public_id>/",
        passkey_views.passkey_rename,
        name="passkey-rename",
    ),
    path(
        "account/security/passkeys/<uuid:public_id>/remove/",
        passkey_views.passkey_remove,
        name="passkey-remove",
    ),
    path(
        "account/security/recovery-codes/",
        views.recovery_codes_regenerate,
        name="recovery-codes",
    ),
]
