"""The tenant's issuer, mounted at /o: discovery at /o/.well-known/openid-configuration."""

from django.urls import path

from oidc import views

app_name = "oidc"

urlpatterns = [
    path(".well-known/openid-configuration", views.discovery, name="discovery"),
    path(".well-known/jwks.json", views.jwks, name="jwks"),
    path("authorize/", views.AuthorizationView.as_view(), name="authorize"),
    path("token/", views.TokenView.as_view(), name="token"),
    path("userinfo/", views.UserInfoView.as_view(), name="userinfo"),
    path("revoke/", views.RevokeView.as_view(), name="revoke"),
    path("introspect/", views.introspect, name="introspect"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("select-account/", views.select_account, name="select-account"),
]
