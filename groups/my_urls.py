"""My account > Groups you own (account/groups/, groups_owned:...)."""

from django.urls import path

from groups import my_views

app_name = "groups_owned"

urlpatterns = [
    path("", my_views.groups_owned, name="list"),
    path("<uuid:public_id>/", my_views.group_owned, name="detail"),
    path("<uuid:public_id>/members/add/", my_views.members_add, name="member-add"),
    path(
        "<uuid:public_id>/members/<uuid:user_id>/remove/",
        my_views.member_remove,
        name="member-remove",
    ),
]
