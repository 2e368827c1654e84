"""Console > Groups (User administrator): groups, their members and owners; the app roles a
group gives its members (Application administrator, on the same page)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts.roles import AdminRole, has_admin_role
from ciam.forms import add_service_errors
from console.decorators import console_role
from console.lists import list_page, list_render, list_table
from groups import selectors, services
from groups.filtersets import GroupFilterSet, MemberFilterSet
from groups.forms import GroupCreateForm, GroupForm, MembersAddForm, OwnerAddForm, RoleAssignForm
from groups.tables import GroupTable, MemberTable
from oidc.models import Application, AppRole

USER_ADMIN = AdminRole.USER_ADMINISTRATOR
APP_ADMIN = AdminRole.APPLICATION_ADMINISTRATOR


def _see_other(view_name: str, **kwargs):
    response = redirect(view_name, **kwargs)
    response.status_code = 303
    return response


def _group(public_id):
    group = selectors.group_get(public_id)
    if group is None:
        raise Http404
    return group


def _user_of(group, user_id):
    user = get_user_model().objects.filter(public_id=user_id).first()
    if user is None:
        raise Http404
    return user


@console_role(USER_ADMIN, APP_ADMIN)
def group_list(request):
    return list_page(
        request,
        "groups/group_list.html",
        table_class=GroupTable,
        filterset_class=GroupFilterSet,
        queryset=selectors.group_list(),
        may_edit=has_admin_role(request.user, USER_ADMIN),
    )


@require_http_methods(["GET", "POST"])
@console_role(USER_ADMIN)
def group_create(request):
    form = GroupCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            group = services.group_create(actor=request.user, request=request, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Group %(name)s created.") % {"name": group.display_name})
            return _see_other("console:groups:detail", public_id=group.public_id)
    return render(request, "groups/group_form.html", {"form": form, "creating": True})


def _detail(request, group, *, status=200, **forms):
    may_edit = has_admin_role(request.user, USER_ADMIN)
    manages_roles = has_admin_role(request.user, APP_ADMIN)
    filterset = MemberFilterSet(
        request.GET, queryset=selectors.group_members(group), request=request
    )
    table = list_table(request, MemberTable, filterset.qs, group=group, may_edit=may_edit)
    roles = []
    if manages_roles:
        roles = list(
            AppRole.objects.exclude(application__app_type=Application.AppType.DAEMON)
            .exclude(group_assignments__group=group)
            .select_related("application")
            .order_by("application__name", "value")
        )
    context = {
        "group": group,
        "may_edit": may_edit,
        "manages_roles": manages_roles,
        "owners": group.owners.order_by("email"),
        "role_assignments": selectors.group_role_assignments(group),
        "members_form": forms.get("members_form") or MembersAddForm(),
        "owner_form": forms.get("owner_form") or OwnerAddForm(),
        "role_form": forms.get("role_form") or RoleAssignForm(roles=roles),
    }
    if request.htmx and status == 200:
        return list_render(
            request, "groups/group_detail.html", table=table, filterset=filterset, **context
        )
    return render(
        request,
        "groups/group_detail.html",
        {"table": table, "filter": filterset, **context},
        status=status,
    )


@console_role(USER_ADMIN, APP_ADMIN)
def group_detail(request, public_id):
    return _detail(request, _group(public_id))


@require_http_methods(["GET", "POST"])
@console_role(USER_ADMIN)
def group_edit(request, public_id):
    group = _group(public_id)
    initial = {"display_name": group.display_name, "description": group.description}
    form = GroupForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.group_update(
                actor=request.user, group=group, request=request, **form.cleaned_data
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Saved."))
            return _see_other("console:groups:detail", public_id=group.public_id)
    return render(request, "groups/group_form.html", {"form": form, "group": group})


@require_http_methods(["GET", "POST"])
@console_role(USER_ADMIN)
def group_delete(request, public_id):
    group = _group(public_id)
    if request.method == "GET":
        return render(
            request,
            "console/confirm.html",
            {
                "title": _("Delete the group %(name)s?") % {"name": group.display_name},
                "consequence": _(
                    "Its members lose the app roles it gives them at their apps' next token, "
                    "apps that require assignment stop letting in those who were assigned only "
                    "through it, and conditional access policies no longer include or exclude "
                    "it. The users themselves stay."
                ),
                "confirm_label": _("Delete group"),
                "cancel_url": reverse("console:groups:detail", args=[group.public_id]),
            },
        )
    services.group_delete(actor=request.user, group=group, request=request)
    messages.success(request, _("Group %(name)s deleted.") % {"name": group.display_name})
    return _see_other("console:groups:list")


@require_POST
@console_role(USER_ADMIN)
def members_add(request, public_id):
    group = _group(public_id)
    form = MembersAddForm(request.POST)
    if not form.is_valid():
        return _detail(request, group, status=400, members_form=form)
    added = services.group_members_add(
        actor=request.user, group=group, users=form.cleaned_data["emails"], request=request
    )
    messages.success(
        request,
        _("%(count)d member(s) added.") % {"count": len(added)}
        if added
        else _("They were members already."),
    )
    return _see_other("console:groups:detail", public_id=group.public_id)


@require_POST
@console_role(USER_ADMIN)
def member_remove(request, public_id, user_id):
    group = _group(public_id)
    user = _user_of(group, user_id)
    services.group_member_remove(actor=request.user, group=group, user=user, request=request)
    messages.success(request, _("%(email)s removed from the group.") % {"email": user.email})
    return _see_other("console:groups:detail", public_id=group.public_id)


@require_POST
@console_role(USER_ADMIN)
def owner_add(request, public_id):
    group = _group(public_id)
    form = OwnerAddForm(request.POST)
    if not form.is_valid():
        return _detail(request, group, status=400, owner_form=form)
    services.group_owner_add(actor=request.user, group=group, user=form.user, request=request)
    return _see_other("console:groups:detail", public_id=group.public_id)


@require_POST
@console_role(USER_ADMIN)
def owner_remove(request, public_id, user_id):
    group = _group(public_id)
    user = _user_of(group, user_id)
    services.group_owner_remove(actor=request.user, group=group, user=user, request=request)
    return _see_other("console:groups:detail", public_id=group.public_id)


@require_POST
@console_role(APP_ADMIN)
def role_assign(request, public_id):
    group = _group(public_id)
    roles = AppRole.objects.exclude(application__app_type=Application.AppType.DAEMON)
    form = RoleAssignForm(request.POST, roles=list(roles.select_related("application")))
    if not form.is_valid():
        return _detail(request, group, status=400, role_form=form)
    role = form.cleaned_data["role"]
    services.group_app_role_assign(actor=request.user, group=group, role=role, request=request)
    messages.success(
        request,
        _("Members of %(group)s now hold %(role)s in %(app)s.")
        % {"group": group.display_name, "role": role.value, "app": role.application.name},
    )
    return _see_other("console:groups:detail", public_id=group.public_id)


@require_POST
@console_role(APP_ADMIN)
def role_unassign(request, public_id, role_id):
    group = _group(public_id)
    role = AppRole.objects.filter(public_id=role_id).select_related("application").first()
    if role is None:
        raise Http404
    services.group_app_role_unassign(actor=request.user, group=group, role=role, request=request)
    return _see_other("console:groups:detail", public_id=group.public_id)
