from __future__ import annotations

from django import template

from accounts.selectors import user_flow_for

register = template.Library()


@register.simple_tag(takes_context=True)
def user_flow(context):
    """The tenant's user flow, for hosted pages that show or hide sign-in methods."""
    return user_flow_for(context["request"])
