from django.urls import path

from accounts import api

urlpatterns = [
    path("users", api.user_list, name="api-users"),
    path("users/<str:key>", api.user_detail, name="api-user-detail"),
]
