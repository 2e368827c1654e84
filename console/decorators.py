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
from django.shortcuts import render

from accounts.roles import AdminRole, has_admin_role


def console_role(*roles: str):
    """A console view for administrators holding one of `roles` (Global administrators hold
    all). Anonymous visitors go to the tenant's sign-in page; anyone else gets a 403 page."""

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
            return view(request, *args, **kwargs)

        wrapper.console_roles = roles
        return wrapper

    return decorator


ANY_ADMIN = tuple(AdminRole.values)
