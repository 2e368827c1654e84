"""Console > Users > a user: the MFA section (included by accounts' user page)."""

from __future__ import annotations

from django import template

register = template.Library()


@register.inclusion_tag("mfa/console/user_mfa_section.html", takes_context=True)
def user_mfa_section(context, subject):
    from mfa.selectors import security_info
    from mfa.services import may_reset_mfa

    request = context["request"]
    info = security_info(subject)
    return {
        "subject": subject,
        "info": info,
        "may_reset": info.has_second_factor and may_reset_mfa(actor=request.user, user=subject),
    }
