"""Console pages of groups (console:groups)."""

from django.urls import path

from groups import console_views as views

app_name = "groups"

urlpatterns = [
    path("", views.group_list, name="list"),
    path("new/", views.group_create, name="create"),
    path("<uuid:public_id>/", views.group_detail, name="detail"),
    path("<uuid:public_id>/edit/", views.group_edit, name="edit"),
    path("<uuid:public_id>/delete/", views.group_delete, name="delete"),
    path("<uuid:public_id>/members/", views.members_add, name="members-add"),
    path(
        "<uuid:public_id>/members/<uuid:user_id>/remove/",
        views.member_remove,
        name="member-remove",
    ),
    path("<uuid:public_id>/owners/", views.owner_add, name="owner-add"),
    path("<uuid:public_id>/owners/<uuid:user_id>/remove/", views.owner_remove, name="owner-remove"),
    path("<uuid:public_id>/app-roles/", views.role_assign, name="role-assign"),
    path(
        "<uuid:public_id>/app-roles/<uuid:role_id>/remove/",
        views.role_unassign,
        name="role-unassign",
    ),
]
