from django import template
from django.urls import resolve, reverse

from accounts.roles import has_admin_role
from accounts.selectors import has_verified_address
from console.navigation import areas_for

register = template.Library()


@register.simple_tag(takes_context=True)
def console_areas(context):
    request = context["request"]
    return areas_for(request.user, request.path)


@register.simple_tag(takes_context=True)
def query_with(context, **changes):
    """The current query string with some parameters changed (pagination keeps filters)."""
    query = context["request"].GET.copy()
    for key, value in changes.items():
        if value in (None, ""):
            query.pop(key, None)
        else:
            query[key] = value
    encoded = query.urlencode()
    return f"?{encoded}" if encoded else "?"


@register.simple_tag(takes_context=True)
def may_open(context, url_name, *args):
    """Whether the signed-in admin holds a role the console view at `url_name` requires, so
    that a page shows a button or link only to those it will not answer with a 403."""
    view = resolve(reverse(url_name, args=args)).func
    roles = getattr(view, "console_roles", ())
    return any(has_admin_role(context["request"].user, role) for role in roles)


@register.simple_tag(takes_context=True)
def address_unverified(context) -> bool:
    """Whether the signed-in admin has not proven their address yet (a tenant's creator)."""
    return not has_verified_address(context["request"].user)
