"""`{% groups_owned_entry owns_groups %}`: My account's line leading to the groups the person
owns (nothing for someone who owns none). Whether they own one comes with the page's other
lists (accounts.selectors.my_account_lists), in the same round trip."""

from __future__ import annotations

from django import template

register = template.Library()


@register.inclusion_tag("groups/my_groups_entry.html")
def groups_owned_entry(owns_groups: bool):
    return {"owns_groups": owns_groups}
