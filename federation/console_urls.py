"""Console > Identity providers (Security administrator), included by the console at
identity-providers/ (console:identity-providers:...)."""

from django.urls import path

from federation import console_views as views

app_name = "identity-providers"

urlpatterns = [
    path("", views.provider_list, name="list"),
    path("new/<str:kind>/", views.provider_create, name="create"),
    path("apps/", views.app_list, name="apps"),
    path("apps/<str:client_id>/", views.app_edit, name="app-edit"),
    path("<uuid:public_id>/", views.provider_detail, name="detail"),
    path("<uuid:public_id>/edit/", views.provider_edit, name="edit"),
    path("<uuid:public_id>/enabled/", views.provider_enabled, name="enabled"),
    path("<uuid:public_id>/test/", views.provider_test, name="test"),
    path(
        "<uuid:public_id>/metadata/refresh/",
        views.provider_metadata_refresh,
        name="metadata-refresh",
    ),
    path("<uuid:public_id>/delete/", views.provider_delete, name="delete"),
]
