"""Console pages of the Logs area (console:logs): the sign-in log, its exports and the
unlocking of an account from it, the audit log, and how long both are kept."""

from django.urls import path

from accounts import console_views as account_views
from audit import console_views as views

app_name = "logs"

urlpatterns = [
    path("", views.logs, name="index"),
    path("audit/", views.audit_log, name="audit"),
    path("retention/", views.log_retention, name="retention"),
    path("sign-ins/", views.sign_in_log, name="sign-ins"),
    path("sign-ins/unlock/", account_views.account_unlock, name="unlock"),
    path("sign-ins/exports/", views.sign_in_export_create, name="export-create"),
    path("sign-ins/exports/<uuid:public_id>/", views.sign_in_export_detail, name="export-detail"),
    path(
        "sign-ins/exports/<uuid:public_id>/download/",
        views.sign_in_export_download,
        name="export-download",
    ),
]
