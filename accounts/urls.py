from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("", views.my_account, name="my-account"),
    path("profile/", views.profile_edit, name="profile-edit"),
    path("language/", views.language_edit, name="language-edit"),
    path("delete/", views.account_delete, name="account-delete"),
]
