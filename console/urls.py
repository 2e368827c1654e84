"""The console: its overview here, each area's pages from the app that owns them, each in its
own namespace (console:users:list, console:apps:detail, ...)."""

from django.urls import include, path

from accounts import console_urls as account_urls
from console import views

app_name = "console"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("verify-email/", views.email_verify, name="email-verify"),
    path("users/", include(account_urls.users)),
    path("groups/", include("groups.console_urls")),
    path("user-flows/", include(account_urls.user_flows)),
    path("apps/", include("oidc.console_urls")),
    path("identity-providers/", include("federation.console_urls")),
    path("branding/", include("branding.console_urls")),
    path("guests/", include("guests.console_urls")),
    path("domains/", include("domains.console_urls")),
    path("logs/", include("audit.console_urls")),
    path("insights/", include("insights.console_urls")),
    path("policies/", include("mfa.console_urls")),
    path("policies/conditional-access/", include("conditional_access.console_urls")),
]
