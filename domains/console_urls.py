"""Console > Custom domains (console:domains), Global administrator."""

from django.urls import path

from domains import console_views as views

app_name = "domains"

urlpatterns = [
    path("", views.domain_list, name="list"),
    path("add/", views.domain_add, name="add"),
    path("primary/<str:host>/", views.domain_make_primary, name="make-primary"),
    path("<uuid:public_id>/", views.domain_detail, name="detail"),
    path("<uuid:public_id>/check/", views.domain_check, name="check"),
    path("<uuid:public_id>/remove/", views.domain_remove, name="remove"),
]
