"""`{% user_groups_section subject %}`: the groups a user is a member of, on Console > Users >
a user (groups/user_groups_section.html is the one line that page includes)."""

from __future__ import annotations

from django import template

from groups.selectors import user_groups

register = template.Library()

SHOWN = 50


@register.inclusion_tag("groups/user_groups.html")
def user_groups_section(subject):
    groups = list(user_groups(subject)[: SHOWN + 1])
    total = len(groups) if len(groups) <= SHOWN else user_groups(subject).count()
    return {"subject": subject, "groups": groups[:SHOWN], "more": total > SHOWN, "total": total}
