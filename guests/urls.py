"""Hosted redemption pages. The link token appears only in the first URL; later steps keep
the invitation in the session so the token does not travel further."""

from django.urls import path

from guests import views

app_name = "guests"

urlpatterns = [
    path("new/", views.invite_new, name="invite-new"),
    path("guests/<uuid:public_id>/renew/", views.guest_renew, name="guest-renew"),
    path("code/verify/", views.verify, name="verify"),
    path("code/resend/", views.resend_code, name="resend-code"),
    path("consent/", views.consent, name="consent"),
    path("<str:token>/", views.landing, name="landing"),
    path("<str:token>/code/", views.start_code, name="start-code"),
    path("<str:token>/account/", views.start_account, name="start-account"),
    path("<str:token>/identity/", views.start_identity, name="start-identity"),
]
