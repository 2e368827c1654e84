"""My account > Apps you allowed, at /account/apps/ (My account links there)."""

from django.urls import path

from oidc import views

app_name = "consents"

urlpatterns = [
    path("", views.consent_list, name="list"),
    path("<uuid:public_id>/revoke/", views.consent_revoke, name="revoke"),
]
