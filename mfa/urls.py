"""Hosted MFA pages: the sign-in steps (under /accounts/, beside allauth's) and My account >
Security (under /account/)."""

from django.urls import path

from mfa import views

app_name = "mfa"

urlpatterns = [
    path("accounts/mfa/", views.authenticate, name="authenticate"),
    path("accounts/mfa/setup/", views.enrol, name="enrol"),
    path("account/security/", views.security, name="security"),
    path("account/security/authenticator/", views.totp_add, name="totp-add"),
    path("account/security/authenticator/remove/", views.totp_remove, name="totp-remove"),
    path(
        "account/security/recovery-codes/",
        views.recovery_codes_regenerate,
        name="recovery-codes",
    ),
]
