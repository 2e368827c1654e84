"""The console's access rule, one decorator on every console view.

Decorator order, the same everywhere: the route's own decorators (`require_POST`,
`require_http_methods`) outermost, then `console_role`, then the view:

    @require_POST
    @console_role(AdminRole.USER_ADMINISTRATOR)
    def user_roles_set(request, public_id): ...

so a request with the wrong method is refused before anything else, and the roles stay
readable on the view (`view.console_roles`, which `functools.wraps` carries outwards) for
the `may_open` template tag."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import render

from accounts.roles import AdminRole, has_admin_role


def console_role(*roles: str):
    """A console view for administrators holding one of `roles` (Global administrators hold
    all). Anonymous visitors go to the tenant's sign-in page; anyone else gets a 403 page.
    When the tenant's MFA policy requires a second factor of them, a session that has not
    proved one proves it (or sets one up) first (mfa.step_up)."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            user = request.user
            if not user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not any(has_admin_role(user, role) for role in roles):
                return render(
                    request,
                    "console/forbidden.html",
                    {"required_roles": [AdminRole(role).label for role in roles]},
                    status=403,
                )
            if _needs_mfa(request):
                from mfa.step_up import step_up_url

                url = step_up_url(request.get_full_path())
                if request.headers.get("HX-Request"):
                    # An htmx request: the whole page goes there, not a fragment.
                    response = HttpResponse(status=204)
                    response["HX-Redirect"] = url
                    return response
                return HttpResponseRedirect(url)
            return view(request, *args, **kwargs)

        wrapper.console_roles = roles
        return wrapper

    return decorator


def _needs_mfa(request) -> bool:
    """The tenant's MFA policy requires a second factor of this administrator and the
    session has not proved one (django-otp's verified session): the console asks first."""
    from mfa.selectors import tenant_mfa

    policy = tenant_mfa().policy
    if policy.is_off or not policy.is_required_for(request.user):
        return False
    is_verified = getattr(request.user, "is_verified", None)
    return not (is_verified is not None and is_verified())


ANY_ADMIN = tuple(AdminRole.values)
