"""The private APIs of our libraries that the code relies on, checked at the locked versions.

Each line names what we use, where, and what the library must still offer. A library
upgrade that changes one of them fails here first, with a pointer, rather than somewhere
in a sign-in or a migration. The README's "Upgrading" section lists the same things; when
a line goes (the code stopped relying on it), remove it from both.
"""

from __future__ import annotations

import dataclasses
import inspect
import re
from importlib import metadata

import pytest
from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.auth_backends import AuthenticationBackend
from allauth.account.internal.flows import reauthentication as reauthentication_flows
from allauth.account.internal.flows.email_verification import send_verification_email_to_address
from allauth.account.internal.flows.login import record_authentication
from allauth.account.internal.flows.reauthentication import resume_request
from allauth.account.internal.stagekit import stash_login, unstash_login
from allauth.account.models import Login
from allauth.account.stages import LoginStageController
from allauth.account.views import BaseReauthenticateView
from allauth.socialaccount.internal import statekit
from allauth.socialaccount.internal.flows import login as social_login_flow
from allauth.socialaccount.models import SocialLogin
from allauth.socialaccount.providers.base import Provider
from allauth.socialaccount.providers.microsoft.views import MicrosoftGraphOAuth2Adapter
from allauth.socialaccount.providers.oauth2.provider import OAuth2Provider
from allauth.socialaccount.providers.openid_connect import views as openid_connect_views
from allauth.socialaccount.providers.saml import utils as saml_utils
from allauth.socialaccount.providers.saml import views as saml_views
from allauth.socialaccount.providers.saml.provider import SAMLProvider
from csp.middleware import CSPMiddleware, PolicyParts
from django.contrib.sessions.backends.base import SessionBase
from django.contrib.sessions.backends.db import SessionStore
from django.core.handlers.base import BaseHandler
from django.core.management.sql import emit_pre_migrate_signal
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.operations.base import Operation
from django.db.migrations.recorder import MigrationRecorder
from django.db.migrations.state import ModelState, ProjectState, StateApps
from django.template.defaulttags import URLNode
from django.templatetags.i18n import TranslateNode
from django_otp.middleware import OTPMiddleware as DjangoOTPMiddleware
from django_tenants.migration_executors import base as tenant_executors
from django_tenants.postgresql_backend import base as tenant_backend
from gunicorn.glogging import Logger as GunicornLogger
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauth2_provider.views.oidc import UserInfoView
from oauthlib.oauth2 import RequestValidator
from oauthlib.openid import Server
from onelogin.saml2.response import OneLogin_Saml2_Response

from tests.server import ROOT

POINTER = "see README.md, Upgrading"

# (where the code relies on it, the callable, its parameters at the locked versions)
SIGNATURES = [
    # allauth
    ("accounts/forms.py ConfirmLoginCodeForm: the sign-in waiting at the code stage (public "
     "module, not in allauth's documentation)",
     LoginStageController.enter, ["request", "stage_key"]),
    ("mfa/views.py: the second factor joins the session's authentication records (amr)",
     record_authentication, ["request", "user", "method", "extra_data"]),
    ("mfa/step_up.py: after the second factor, back to the request that asked for "
     "re-authentication (allauth's stashed POST or `next`)",
     resume_request, ["request"]),
    ("mfa/views.py: a sign-in waiting at the MFA stage keeps what the stage learnt",
     stash_login, ["request", "login"]),
    ("accounts/services.py email_verification_send: allauth's verification email and its limit",
     send_verification_email_to_address,
     ["request", "address", "signup", "process", "skip_enumeration_mails"]),
    ("accounts/sign_in/backend.py EmailBackend overrides it",
     AuthenticationBackend._authenticate_by_email, ["self", "email", "password"]),
    ("accounts/sign_in/backend.py EmailBackend overrides it (usernames are not used)",
     AuthenticationBackend._authenticate_by_username, ["self", "username", "password"]),
    ("accounts/sign_in/backend.py EmailBackend calls it",
     AuthenticationBackend._check_password, ["self", "user", "password"]),
    ("federation/views.py oidc_callback wraps allauth's OpenID Connect callback view",
     openid_connect_views.callback, ["request", "provider_id"]),
    ("guests/views.py consent: a guest who redeemed with an identity signed in with it (idp)",
     social_login_flow.record_authentication, ["request", "sociallogin"]),
    ("federation/services.py home_realm_redirect starts an upstream sign-in (auth_params "
     "in kwargs: login_hint)",
     OAuth2Provider.redirect, ["self", "request", "process", "next_url", "data", "kwargs"]),
    ("federation/providers.py SignInMixin overrides it (the state written by the response)",
     Provider.stash_redirect_state,
     ["self", "request", "process", "next_url", "data", "state_id", "kwargs"]),
    ("federation/providers.py SignInMixin calls it", statekit.get_states, ["request"]),
    ("federation/providers.py SignInMixin calls it", statekit.gc_states, ["states"]),
    ("federation/providers.py SignInMixin overrides it",
     Provider.sociallogin_from_response, ["self", "request", "response"]),
    ("federation/providers.py LinkedSocialLogin overrides it (one query)",
     SocialLogin._lookup_by_socialaccount, ["self"]),
    ("federation/providers.py LinkedSocialLogin calls it", SocialLogin._store_token, ["self"]),
    # django-oauth-toolkit
    ("oidc/validators.py TenantOAuth2Validator overrides it (clients from the process cache)",
     OAuth2Validator._load_application, ["self", "client_id", "request"]),
    ("oidc/views.py UserInfoView overrides it (token in the query refused, error headers)",
     UserInfoView._create_userinfo_response, ["self", "request"]),
    # django-csp (public, documented for subclasses; listed because an upgrade may move it)
    ("ciam/middleware.py ContentSecurityPolicyMiddleware overrides it (form-action per page)",
     CSPMiddleware.get_policy_parts, ["self", "request", "response", "report_only"]),
    # Django
    ("ciam/sessions.py SessionStore overrides it (NUL in a cookie)",
     SessionBase._validate_session_key, ["self", "key"]),
    ("ciam/sessions.py SessionStore overrides it (160 random bits, no query)",
     SessionBase._get_new_session_key, ["self"]),
    ("ciam/sessions.py SessionStore._write calls it",
     SessionBase._get_session, ["self", "no_load"]),
    ("ciam/handlers.py ApiWSGIHandler swaps settings.MIDDLEWARE around it",
     BaseHandler.load_middleware, ["self", "is_async"]),
    ("ciam/handlers.py ResolvedOnceMixin keeps what it returns for the busiest API paths",
     BaseHandler.resolve_request, ["self", "request"]),
    ("tenants/migration_executor.py SchemaBatchMigrator: the state before a plan",
     MigrationExecutor._create_project_state, ["self", "with_applied_migrations"]),
    ("tenants/migration_executor.py", MigrationExecutor.__init__,
     ["self", "connection", "progress_callback"]),
    ("tenants/migration_executor.py", MigrationExecutor.migration_plan,
     ["self", "targets", "clean_start"]),
    ("tenants/migration_executor.py", MigrationExecutor.record_migration,
     ["self", "migration"]),
    ("tenants/migration_executor.py", MigrationExecutor.check_replacements, ["self"]),
    ("tenants/migration_executor.py", MigrationLoader.__init__,
     ["self", "connection", "load", "ignore_no_migrations", "replace_migrations"]),
    ("tenants/migration_executor.py", MigrationLoader.check_consistent_history,
     ["self", "connection"]),
    ("tenants/migration_executor.py", MigrationLoader.detect_conflicts, ["self"]),
    ("tenants/migration_executor.py _SchemaRecorder overrides it",
     MigrationRecorder.has_table, ["self"]),
    ("tenants/migration_executor.py", MigrationRecorder.ensure_schema, ["self"]),
    ("tenants/migration_executor.py", MigrationRecorder.applied_migrations, ["self"]),
    ("tenants/migration_executor.py", ProjectState.clone, ["self"]),
    ("tenants/migration_executor.py", ProjectState.clear_delayed_apps_cache, ["self"]),
    ("tenants/migration_executor.py _post_migrate_apps", StateApps.bulk_update, ["self"]),
    ("tenants/migration_executor.py _post_migrate_apps", StateApps.unregister_model,
     ["self", "app_label", "model_name"]),
    ("tenants/migration_executor.py _post_migrate_apps", StateApps.render_multiple,
     ["self", "model_states"]),
    ("tenants/migration_executor.py _post_migrate_apps", ModelState.from_model,
     ["model", "exclude_rels"]),
    ("tenants/migration_executor.py", Operation.state_forwards,
     ["self", "app_label", "state"]),
    ("tenants/migration_executor.py", Operation.database_forwards,
     ["self", "app_label", "schema_editor", "from_state", "to_state"]),
    ("tenants/migration_executor.py: pre_migrate once per migration",
     emit_pre_migrate_signal, ["verbosity", "interactive", "db", "kwargs"]),
    # django-tenants
    ("ciam/db/base.py DatabaseWrapper overrides it (SET search_path only on a change)",
     tenant_backend.DatabaseWrapper._handle_search_path, ["self", "cursor"]),
    ("ciam/db/base.py DatabaseWrapper calls it",
     tenant_backend.DatabaseWrapper._get_cursor_search_paths, ["self"]),
    ("ciam/db/base.py DatabaseWrapper overrides it",
     tenant_backend.DatabaseWrapper.set_tenant, ["self", "tenant", "include_public"]),
    ("tenants/migrations/0001_initial.py: Tenant.schema_name's validator",
     tenant_backend._check_schema_name, ["name"]),
    ("tenants/migration_executor.py UpToDateSkippingExecutor subclasses it",
     tenant_executors.MigrationExecutor.__init__, ["self", "args", "options"]),
    ("tenants/migration_executor.py UpToDateSkippingExecutor overrides it",
     tenant_executors.MigrationExecutor.run_migrations, ["self", "tenants"]),
    ("tenants/migration_executor.py: Django's migrate for one schema",
     tenant_executors.run_migrations,
     ["args", "options", "executor_codename", "schema_name", "tenant_type", "allow_atomic",
      "idx", "count"]),
    # Django's i18n tags (ciam/i18n_kept.py builds its node from Django's)
    ("ciam/i18n_kept.py KeptTranslateNode subclasses it", TranslateNode.__init__,
     ["self", "filter_expression", "noop", "asvar", "message_context"]),
    # Django's url tag (ciam/url_kept.py builds its node from Django's)
    ("ciam/url_kept.py KeptURLNode subclasses it", URLNode.__init__,
     ["self", "view_name", "args", "kwargs", "asvar"]),
    # django-otp
    ("ciam/middleware.py OTPMiddleware overrides it (the device read when asked)",
     DjangoOTPMiddleware._verify_user_sync, ["self", "request", "user"]),
    ("ciam/middleware.py OTPMiddleware calls it", DjangoOTPMiddleware._init_user_fields,
     ["user"]),
    ("ciam/middleware.py OTPMiddleware calls it",
     DjangoOTPMiddleware._device_from_persistent_id, ["self", "persistent_id"]),
    ("ciam/middleware.py OTPMiddleware calls it", DjangoOTPMiddleware._finalize_device,
     ["request", "user", "device"]),
    # gunicorn
    ("ciam/log_redaction.py GunicornLogger overrides it (URL secrets redacted)",
     GunicornLogger.atoms, ["self", "resp", "req", "environ", "request_time"]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("where", "target", "parameters"),
    SIGNATURES,
    ids=[f"{target.__module__}.{target.__qualname__}" for _, target, _ in SIGNATURES],
)
def test_private_callables_keep_their_signature(where, target, parameters):
    found = list(inspect.signature(target).parameters)
    assert found == parameters, (
        f"{target.__module__}.{target.__qualname__} now takes {found}; {where} relies on it: "
        f"{POINTER}"
    )


# (where the code relies on it, the library code, what it must still contain)
CALLS = [
    ("accounts/sign_in/backend.py login_deserialize_install: a stashed sign-in is resumed "
     "through Login.deserialize",
     unstash_login, "Login.deserialize(data)"),
    ("accounts/sign_in/backend.py login_deserialize_install: allauth's deserialize reads the "
     "user from `user_pk` (ours passes None and reads the user itself)",
     inspect.unwrap(Login.deserialize), 'user_pk = data["user_pk"]'),
    ("accounts/sign_in/backend.py EmailBackend overrides _authenticate_by_email",
     AuthenticationBackend._authenticate, "self._authenticate_by_email("),
    ("accounts/sign_in/backend.py EmailBackend overrides _authenticate_by_username",
     AuthenticationBackend._authenticate, "self._authenticate_by_username("),
    ("accounts/sign_in/backend.py: one hash per attempt (no timing-mitigation hash after ours)",
     AuthenticationBackend._check_password, "self._did_check_password = True"),
    ("oidc/validators.py overrides _load_application",
     OAuth2Validator, "self._load_application(client_id, request)"),
    ("oidc/views.py UserInfoView overrides _create_userinfo_response",
     UserInfoView.get, "self._create_userinfo_response(request)"),
    ("ciam/db/base.py DatabaseWrapper overrides _handle_search_path",
     tenant_backend.DatabaseWrapper._cursor, "self._handle_search_path("),
    ("ciam/handlers.py swaps settings.MIDDLEWARE while the chain is built",
     BaseHandler.load_middleware, "settings.MIDDLEWARE"),
    ("ciam/handlers.py ResolvedOnceMixin: the resolution sets the URLconf and the request's "
     "resolver_match, as it does", BaseHandler.resolve_request, "request.resolver_match = "),
    ("ciam/handlers.py ResolvedOnceMixin", BaseHandler.resolve_request, "set_urlconf(urlconf)"),
    ("federation/selectors.py, audit/services.py: an IdP sign-in's record names its "
     "provider and upstream subject", social_login_flow.record_authentication,
     '"uid": sociallogin.account.uid'),
    ("federation/providers.py SignInMixin: the state is stashed by the provider's method",
     OAuth2Provider.redirect, "self.stash_redirect_state("),
    ("federation/providers.py SignInMixin stores the state as statekit does",
     statekit.stash_state, "states[state_id] = (state, time.time(), provider_id)"),
    ("federation/providers.py SignInMixin: the callback still consumes the state at once",
     statekit.unstash_state, "_save_session(request)"),
    ("federation/providers.py LinkedSocialLogin overrides _lookup_by_socialaccount",
     SocialLogin.lookup, "self._lookup_by_socialaccount()"),
    ("federation/adapter.py social_app: PKCE on per app", OAuth2Provider.get_pkce_params,
     'self.app.settings.get("oauth_pkce_enabled")'),
    ("federation/adapter.py social_app: the IdP's scopes per app", OAuth2Provider.get_scope,
     'self.app.settings.get("scope")'),
    ("federation/adapter.py social_app: the Entra tenant per app",
     MicrosoftGraphOAuth2Adapter._build_tenant_url, 'app.settings.get("tenant"'),
    ("tenants/migration_executor.py _SchemaRecorder caches the answer in _has_table",
     MigrationRecorder.has_table, "self._has_table"),
    ("federation/saml.py saml_config_build wraps the module's build_saml_config: build_auth "
     "calls it through the module global",
     saml_utils.build_auth, "build_saml_config(request, provider.app.settings"),
    ("federation/saml.py saml_config_build: the assertion consumer service builds its "
     "python3-saml Auth with build_auth", saml_views.FinishACSView.dispatch,
     "build_auth(acs_request, provider)"),
    ("federation/saml.py saml_config_build: the sign-in redirect builds it with build_auth",
     SAMLProvider.redirect, "build_auth(request, self)"),
    ("federation/saml.py saml_config_build: python3-saml checks a response's signatures with "
     "each certificate of idp.x509certMulti.signing",
     OneLogin_Saml2_Response.is_valid, "multicerts = idp_data['x509certMulti']['signing']"),
    ("mfa/apps.py wraps the module's get_reauthentication_flows (a passkey is a way)",
     reauthentication_flows.did_recently_reauthenticate, "get_reauthentication_flows(request"),
    ("mfa/step_up.py ReauthenticatePasskey: allauth checks the page is one of the adapter's",
     BaseReauthenticateView._check_reauthentication_method_available,
     "get_reauthentication_methods("),
    ("ciam/i18n_kept.py KeptTranslateNode renders a literal as TranslateNode.render does",
     TranslateNode.render, 'value = value.replace("%%", "%")'),
    ("ciam/url_kept.py KeptURLNode keys what it kept by the current app URLNode.render uses",
     URLNode.render, "current_app = context.request.current_app"),
    ("ciam/url_kept.py KeptURLNode reverses as URLNode.render does",
     URLNode.render, "reverse(view_name, args=args, kwargs=kwargs, current_app=current_app)"),
    ("ciam/middleware.py OTPMiddleware: the lazy user is built by _verify_user_sync",
     DjangoOTPMiddleware._install_lazy_accessors, "self._verify_user_sync"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("where", "library_code", "expected"),
    CALLS,
    ids=[f"{code.__qualname__}:{expected}" for _, code, expected in CALLS],
)
def test_library_code_still_calls_what_we_override(where, library_code, expected):
    assert expected in inspect.getsource(library_code), (
        f"{library_code.__module__}.{library_code.__qualname__} no longer contains "
        f"{expected!r}; {where}: {POINTER}"
    )


def test_allauth_gives_python3_saml_every_signing_certificate_of_a_saml_idp():
    """federation/saml.py saml_config_build, put in place of allauth's build_saml_config by
    FederationConfig.ready(): the python3-saml Auth that allauth's build_auth makes (the
    sign-in redirect's and the assertion consumer service's) checks signatures with each of
    the IdP's certificates, not only the `x509cert` allauth copies."""
    from django.test import RequestFactory
    from onelogin.saml2.utils import OneLogin_Saml2_Utils

    from federation.models import FederationSocialApp
    from federation.saml import SIGNING_CERTIFICATES, CheckedSAMLProvider, sp_key_pair

    assert saml_views.build_auth is saml_utils.build_auth, POINTER
    bodies = ["".join(sp_key_pair(name)[1].strip().splitlines()[1:-1]) for name in ("now", "next")]
    private_key, sp_certificate = sp_key_pair("sp")
    app = FederationSocialApp(
        provider="saml", provider_id="corp", client_id="corp", name="Corp",
        settings={
            "idp": {"entity_id": "https://idp.example/", "sso_url": "https://idp.example/sso",
                    "x509cert": bodies[0], SIGNING_CERTIFICATES: bodies},
            "advanced": {"authn_request_signed": True, "want_assertion_signed": True,
                         "x509cert": sp_certificate, "private_key": private_key},
        },
    )  # fmt: skip
    request = RequestFactory().get("/", HTTP_HOST="acme.localhost")
    auth = saml_utils.build_auth(request, CheckedSAMLProvider(request=request, app=app))

    idp = auth.get_settings().get_idp_data()
    assert idp.get("x509certMulti", {}).get("signing") == [
        OneLogin_Saml2_Utils.format_cert(body) for body in bodies
    ], POINTER


def test_csp_policy_parts_keep_the_update_field_we_extend():
    """ciam/middleware.py adds form-action origins to the `update` of get_policy_parts."""
    assert "update" in [field.name for field in dataclasses.fields(PolicyParts)], POINTER


def test_session_store_keeps_its_private_state():
    """ciam/sessions.py sets _session_key and _session_cache itself (a key without a query)."""
    store = SessionStore()
    assert store._session_key is None, POINTER
    assert not hasattr(store, "_session_cache")
    assert store._get_session(no_load=True) == {}
    assert store._session_cache == {}, POINTER


def test_tenant_connection_and_migration_state_keep_their_private_attributes():
    """ciam/db/base.py reads _setting_search_path and search_path_set_schemas of
    django-tenants' DatabaseWrapper (set in its __init__)."""
    from django.db import connections

    connection = connections["default"]
    assert isinstance(connection, tenant_backend.DatabaseWrapper)
    assert connection._setting_search_path is False, POINTER
    assert hasattr(connection, "search_path_set_schemas"), POINTER
    assert MigrationRecorder(connection)._has_table is False, POINTER
    # tenants/migration_executor.py sets each schema's applied migrations on one loader.
    assert MigrationLoader(None, ignore_no_migrations=True).applied_migrations == {}, POINTER


def test_oauthlib_server_keeps_its_endpoint_tables():
    """oidc/server.py TenantServer trims the response types, grant types and token types of
    oauthlib's Server and adds a pre_auth validator to its two code grants."""
    server = Server(RequestValidator())
    assert "code" in server._response_types, POINTER
    assert "authorization_code" in server._grant_types, POINTER
    assert "Bearer" in server._tokens, POINTER
    for grant in (server.auth_grant, server.openid_connect_auth):
        assert isinstance(grant.custom_validators.pre_auth, list), POINTER
    assert callable(server.bearer.validate_request)


def test_allauth_login_stages_are_the_ones_ours_list():
    """accounts/sign_in/stages.py LOGIN_STAGES lists allauth's stages itself (or ours in their
    place, with their key), in allauth's order: a stage a new allauth adds must be placed
    there too."""
    from django.utils.module_loading import import_string

    from accounts.sign_in.stages import LOGIN_STAGES

    allauths = [import_string(path).key for path in DefaultAccountAdapter().get_login_stages()]
    ours = [import_string(path).key for path in LOGIN_STAGES]
    assert [key for key in ours if key in allauths] == allauths, POINTER


def test_model_state_adding_marks_an_unsaved_instance():
    """oidc/grants.py builds users from its own SELECT and sets _state.adding = False
    (documented by Django, listed here because of the underscore)."""
    from django.contrib.auth import get_user_model

    assert get_user_model()()._state.adding is True, POINTER


CHECKED_AT = [
    "django",
    "django-tenants",
    "django-allauth",
    "django-oauth-toolkit",
    "oauthlib",
    "django-csp",
    "gunicorn",
    "python3-saml",
]


def test_the_libraries_are_the_locked_versions():
    """The lines above were checked at the versions requirements.txt locks: an environment
    with other versions is an upgrade that has not been through this file."""
    locked = dict(
        re.findall(r"^([a-z0-9-]+)==(\S+)", (ROOT / "requirements.txt").read_text(), re.M)
    )
    installed = {name: metadata.version(name) for name in CHECKED_AT}
    assert installed == {name: locked[name] for name in CHECKED_AT}, POINTER
