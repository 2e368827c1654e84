"""Console > Policies > Conditional access (Security administrator), included by the console
at policies/conditional-access/ (console:conditional-access:...)."""

from django.urls import path

from conditional_access import console_views as views

app_name = "conditional-access"

urlpatterns = [
    path("", views.policy_list, name="policy-list"),
    path("new/", views.policy_edit, name="policy-create"),
    path("what-if/", views.what_if, name="what-if"),
    path("locations/", views.location_list, name="location-list"),
    path("locations/new/", views.location_edit, name="location-create"),
    path("locations/<uuid:public_id>/", views.location_edit, name="location-edit"),
    path("locations/<uuid:public_id>/delete/", views.location_delete, name="location-delete"),
    path("<uuid:public_id>/", views.policy_edit, name="policy-edit"),
    path("<uuid:public_id>/state/", views.policy_state, name="policy-state"),
    path("<uuid:public_id>/delete/", views.policy_delete, name="policy-delete"),
]
