"""Console > Insights (console:insights)."""

from django.urls import path

from insights import console_views as views

app_name = "insights"

urlpatterns = [
    path("", views.insights, name="index"),
]
