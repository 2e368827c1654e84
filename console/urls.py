from django.urls import include, path

from console import views

app_name = "console"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("users/", views.user_list, name="users"),
    path("users/<uuid:public_id>/", views.user_detail, name="user-detail"),
    path("logs/", views.audit_log, name="logs"),
    path("guests/", include("guests.console_urls")),
]
