"""`{% email_look as look %}`: the tenant's published colours and logo for an email
(emails/base.html, emails/button.html). Email clients drop stylesheets, so these go into
inline styles; every colour is a validated #rrggbb, never text a tenant typed."""

from __future__ import annotations

import logging

from django import template
from django.db import DatabaseError, connection

register = template.Library()
logger = logging.getLogger(__name__)

DEFAULT_LOOK = {
    "background": "#f3f5f9",
    "header": "#ffffff",
    "text": "#1b1f24",
    "primary": "#1f4fd1",
    "primary_contrast": "#ffffff",
    "accent": "#1f4fd1",
    "logo_url": "",
}


@register.simple_tag(takes_context=True)
def email_look(context) -> dict:
    cached = context.get("_email_look")
    if cached is not None:
        return cached
    look = dict(DEFAULT_LOOK)
    tenant = getattr(connection, "tenant", None)
    if tenant is not None and connection.schema_name != "public":
        from branding.selectors import published_branding

        try:
            branding = published_branding()
        except DatabaseError as error:
            logger.warning("branding.email_unavailable error=%s", type(error).__name__)
            branding = None
        if branding is not None:
            look.update(
                background=branding.background_color,
                header=branding.header_color,
                text=branding.text_color,
                primary=branding.primary_color,
                primary_contrast=branding.primary_contrast,
                accent=branding.accent_color,
            )
            if branding.email_logo_url:
                from tenants.selectors import tenant_url

                # The tenant's primary domain, never a request's Host (docs/security.md).
                look["logo_url"] = tenant_url(tenant, branding.email_logo_url)
    context["_email_look"] = look
    return look
