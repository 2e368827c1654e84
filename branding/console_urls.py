"""Console > Branding, included by console.urls under console:branding."""

from django.urls import path

from branding import console_views as views
from branding import languages

app_name = "branding"

urlpatterns = [
    path("", views.branding_edit, name="edit"),
    path("logo/", views.logo_upload, name="logo-upload"),
    path("logo/remove/", views.logo_remove, name="logo-remove"),
    path("images/<slug:slot>/", views.image_upload, name="image-upload"),
    path("images/<slug:slot>/remove/", views.image_remove, name="image-remove"),
    path("publish/", views.publish, name="publish"),
    path("reset/", views.reset, name="reset"),
    path("export/", views.export, name="export"),
    path("import/", views.import_, name="import"),
    path("apps/<uuid:public_id>/", views.app_branding, name="app"),
    path("apps/<uuid:public_id>/remove/", views.app_branding_remove, name="app-remove"),
    path("preview/", views.preview, name="preview"),
    path("preview/live/", views.preview_fragments, name="preview-live"),
    path("languages/", languages.languages, name="languages"),
    path("languages/default/", languages.default_language, name="default-language"),
    path("preview/theme-<str:digest>.css", views.preview_theme, name="preview-theme"),
]
