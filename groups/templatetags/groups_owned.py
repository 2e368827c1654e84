"""`{% groups_owned_entry user %}`: My account's line leading to the groups the person owns
(nothing for someone who owns none)."""

from __future__ import annotations

from django import template

from groups.models import Group

register = template.Library()


@register.inclusion_tag("groups/my_groups_entry.html")
def groups_owned_entry(user):
    return {"owns_groups": Group.objects.filter(owners=user).exists()}
