from __future__ import annotations

from functools import wraps

from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.views import redirect_to_login
from django.urls import reverse

from operators.selectors import operator_has_second_factor


def operator_required(view):
    """A signed-in operator (a staff user of the public schema) who also proved a second factor
    (authenticator app, passkey or recovery code) in this session; one who has none yet sets
    one up first."""

    @wraps(view)
    @staff_member_required(login_url="platform:login")
    def wrapper(request, *args, **kwargs):
        if not request.user.is_verified():
            step = (
                "platform:operator-mfa"
                if operator_has_second_factor(request.user)
                else "platform:operator-mfa-setup"
            )
            return redirect_to_login(request.get_full_path(), reverse(step))
        return view(request, *args, **kwargs)

    return wrapper
