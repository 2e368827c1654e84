from django.urls import path

from branding import views

app_name = "branding"

urlpatterns = [
    path("theme-<str:digest>.css", views.theme, name="theme"),
    path("logo/<str:filename>", views.logo, name="logo"),
    path("app/<uuid:public_id>/theme-<str:digest>.css", views.app_theme, name="app-theme"),
]
