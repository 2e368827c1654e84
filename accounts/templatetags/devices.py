from __future__ import annotations

from django import template

from accounts.devices import device_summary

register = template.Library()


@register.filter
def device(user_agent: str) -> str:
    """ "Firefox on Windows" for a User-Agent header."""
    return device_summary(user_agent)
