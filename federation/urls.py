"""Hosted federation pages, under account/identities/ (federation:...)."""

from django.urls import path

from federation import views

app_name = "federation"

urlpatterns = [
    path("", views.identities, name="identities"),
    path("link/", views.link, name="link"),
    path("unlink/", views.identity_unlink, name="identity-unlink"),
]
