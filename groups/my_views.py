"""My account > Groups you own: a group's owners add and remove its members themselves, as in
Entra's My Groups (self-service). Each change is audited as the console's are, with the owner
as actor. An owner sees and manages only the groups they own."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from console.lists import list_table
from groups import selectors, services
from groups.filtersets import MemberFilterSet
from groups.forms import MembersAddForm
from groups.tables import OwnedGroupMemberTable


def _owned(request, public_id):
    group = selectors.group_owned(request.user, public_id)
    if group is None:
        raise Http404
    return group


@login_required
def groups_owned(request):
    return render(
        request, "groups/my_groups.html", {"groups": selectors.groups_owned(request.user)}
    )


def _page(request, group, *, form=None, status=200):
    filterset = MemberFilterSet(
        request.GET, queryset=selectors.group_members(group), request=request
    )
    table = list_table(request, OwnedGroupMemberTable, filterset.qs, group=group, may_edit=True)
    context = {
        "group": group, "table": table, "filter": filterset,
        "members_form": form or MembersAddForm(),
    }  # fmt: skip
    return render(request, "groups/my_group.html", context, status=status)


@login_required
def group_owned(request, public_id):
    return _page(request, _owned(request, public_id))


@require_POST
@login_required
def members_add(request, public_id):
    group = _owned(request, public_id)
    form = MembersAddForm(request.POST)
    if not form.is_valid():
        return _page(request, group, form=form, status=400)
    added = services.group_members_add(
        actor=request.user, group=group, users=form.cleaned_data["emails"], request=request
    )
    messages.success(
        request,
        _("%(count)d member(s) added.") % {"count": len(added)}
        if added
        else _("They were members already."),
    )
    return redirect("groups_owned:detail", public_id=group.public_id)


@require_POST
@login_required
def member_remove(request, public_id, user_id):
    group = _owned(request, public_id)
    user = get_user_model().objects.filter(public_id=user_id, group_memberships__group=group)
    user = user.first()
    if user is None:
        raise Http404
    services.group_member_remove(actor=request.user, group=group, user=user, request=request)
    messages.success(request, _("%(email)s removed from the group.") % {"email": user.email})
    return redirect("groups_owned:detail", public_id=group.public_id)
