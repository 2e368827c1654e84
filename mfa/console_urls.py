"""Console > Policies (included in the console namespace: console:policies:...)."""

from django.urls import path

from mfa import console_views as views

app_name = "policies"

urlpatterns = [
    path("", views.policies, name="index"),
    path("mfa/", views.mfa_policy, name="mfa"),
]
