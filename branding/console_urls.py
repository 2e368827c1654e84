"""Console > Branding, included by console.urls under console:branding."""

from django.urls import path

from branding import console_views as views
from branding import languages

app_name = "branding"

urlpatterns = [
    path("", views.branding_edit, name="edit"),
    path("logo/", views.logo_upload, name="logo-upload"),
    path("logo/remove/", views.logo_remove, name="logo-remove"),
    path("publish/", views.publish, name="publish"),
    path("reset/", views.reset, name="reset"),
    path("preview/", views.preview, name="preview"),
    path("languages/", languages.languages, name="languages"),
    path("languages/default/", languages.default_language, name="default-language"),
    path("preview/theme-<str:digest>.css", views.preview_theme, name="preview-theme"),
]
