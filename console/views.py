from __future__ import annotations

from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts.roles import LOG_READERS, AdminRole, has_admin_role
from accounts.services import email_verification_send
from audit.selectors import recent_audit_events
from console.decorators import ANY_ADMIN, console_role
from domains.selectors import primary_host
from insights.console_views import INSIGHTS_READERS
from insights.selectors import directory_counts, getting_started, insights_report
from oidc.selectors import application_count

# The overview's cards and the roles that may read each: what a role cannot open elsewhere
# in the console, the overview does not show it either.
DIRECTORY_READERS = (AdminRole.USER_ADMINISTRATOR, *LOG_READERS)
APP_READERS = (AdminRole.APPLICATION_ADMINISTRATOR,)


def _holds_any(user, roles) -> bool:
    return any(has_admin_role(user, role) for role in roles)


@console_role(*ANY_ADMIN)
def overview(request):
    user = request.user
    summary, summary_day = (
        directory_counts() if _holds_any(user, DIRECTORY_READERS) else (None, None)
    )
    context = {
        "summary": summary,
        "summary_day": summary_day,
        "app_count": application_count() if _holds_any(user, APP_READERS) else None,
        "events": recent_audit_events() if _holds_any(user, LOG_READERS) else None,
        # The last 7 days: the roll-ups of the finished days and today's live part.
        "report": insights_report("7d") if _holds_any(user, INSIGHTS_READERS) else None,
        "checklist": getting_started(),
        # A custom domain may be the primary one (domains/): the slug's host is then an alias.
        "primary_host": primary_host(request.tenant),
    }
    return render(request, "console/overview.html", context)


@require_POST
@console_role(*ANY_ADMIN)
def email_verify(request):
    """The banner's button: email the signed-in admin a link proving their address. allauth
    adds the "sent" message, or one saying the limit holds the email back."""
    email_verification_send(request=request, user=request.user)
    return redirect("console:overview")
