"""Bad input never gives a 500 (SECURITY item 39): NUL bytes, lone surrogates and over-long
values sent to every form, search, OAuth endpoint and API field get a 4xx with a clear
message, in the shape the caller reads (an HTML page, an OAuth error, a Graph error)."""

from __future__ import annotations

import base64
import json
from urllib.parse import quote, urlencode

import pytest
import requests
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django_tenants.utils import tenant_context

from guests import services as guest_services
from guests.models import BulkInvitation, Invitation
from tests.helpers import PASSWORD, unique_email
from tests.oidc.helpers import Flow, consent_form, pkce_pair, register_app
from tests.server import free_port, start_gunicorn, stop

pytestmark = [pytest.mark.server]

# How each kind of bad value travels in a query string or a form body. The lone surrogate
# U+D800 is sent as the bytes its UTF-8-like encoding would have (ED A0 80): not UTF-8.
ENCODED = {
    "nul": quote("a\x00b"),
    "surrogate": "a%ED%A0%80b",
}
# In a JSON body, as JSON escapes.
IN_JSON = {"nul": "a\x00b", "surrogate": "a\ud800b"}
BAD_KINDS = sorted(ENCODED)
LONG = "x" * 5000

PAGE_MESSAGE = "characters we cannot accept"


def _query(base: dict, field: str, encoded: str) -> str:
    others = {key: value for key, value in base.items() if key != field}
    return urlencode(others) + ("&" if others else "") + f"{quote(field)}={encoded}"


def _client(world, user=None) -> Client:
    return world.client(user=user, raise_request_exception=False)


def _send(client: Client, method: str, path: str, base: dict, field: str, encoded: str):
    text = _query(base, field, encoded)
    if method == "GET":
        return client.get(f"{path}?{text}")
    return client.post(path, data=text, content_type="application/x-www-form-urlencoded")


def _assert_bad_characters_page(response):
    assert response.status_code == 400, (response.status_code, response.content[:200])
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert PAGE_MESSAGE in page
    assert "<h1" in page and 'class="hosted-card"' in page  # the product's layout
    assert "Content-Security-Policy" in response  # the page keeps the security headers


def _assert_oauth_error(response):
    assert response.status_code == 400, (response.status_code, response.content[:200])
    body = response.json()
    assert body["error"] == "invalid_request"
    assert body["error_description"]


def _assert_graph_error(response):
    assert 400 <= response.status_code < 500, (response.status_code, response.content[:200])
    error = response.json()["error"]
    assert error["code"] and error["message"]


SIGN_IN = {"login": "a@b.example", "password": "x"}
SIGN_UP = {"email": "a@b.example", "password1": PASSWORD}
INVITE = {"email": "a@b.example", "redirect_url": "https://app.acme.example/",
          "user_type": "guest", "expiry_days": "30"}  # fmt: skip
NEW_APP = {"name": "App", "app_type": "web", "redirect_uris": "https://app.example/cb"}
ATTRIBUTE = {"key": "loyalty", "label": "Loyalty", "data_type": "string", "position": "1"}
# Hosted and console pages: (who is signed in, method, path, a valid form, the fields tried).
PAGES = [
    ("anonymous", "POST", "/accounts/login/", SIGN_IN, ("login", "password")),
    ("anonymous", "GET", "/accounts/login/", {}, ("next",)),
    ("anonymous", "POST", "/accounts/signup/", SIGN_UP, ("email", "password1")),
    ("anonymous", "POST", "/accounts/login/code/", {"email": "a@b.example"}, ("email",)),
    ("anonymous", "POST", "/accounts/login/code/confirm/", {"code": "123456"}, ("code",)),
    ("anonymous", "POST", "/accounts/password/reset/", {"email": "a@b.example"}, ("email",)),
    ("anonymous", "POST", "/invite/code/verify/", {"code": "123456"}, ("code",)),
    ("member", "POST", "/account/profile/", {"attr_displayName": "Ada"}, ("attr_displayName",)),
    ("admin", "GET", "/console/users/", {}, ("q", "type", "state")),
    ("admin", "GET", "/console/guests/", {}, ("q", "inviter", "since", "status")),
    ("admin", "GET", "/console/apps/", {}, ("q", "type")),
    ("admin", "GET", "/console/logs/audit/", {}, ("q", "action")),
    ("admin", "GET", "/console/logs/sign-ins/", {}, ("q", "result", "days")),
    ("admin", "POST", "/console/logs/sign-ins/unlock/", {"email": "a@b.example"}, ("email",)),
    ("admin", "POST", "/console/guests/invite/", INVITE,
     ("email", "display_name", "redirect_url", "message", "cc_recipients")),
    ("admin", "POST", "/console/guests/api-keys/", {"name": "Portal"}, ("name",)),
    ("admin", "POST", "/console/apps/new/", NEW_APP, ("name", "redirect_uris", "home_url")),
    ("admin", "POST", "/console/user-flows/attributes/new/", ATTRIBUTE,
     ("key", "label", "choices")),
]  # fmt: skip
PAGE_FIELDS = [(*case[:4], field) for case in PAGES for field in case[4]]
TENANT = {"name": "Org", "slug": "bad-input-org", "admin_email": "a@b.example",
          "admin_password": PASSWORD}  # fmt: skip
PLATFORM_PAGES = [
    *[("POST", "/", TENANT, field) for field in TENANT],
    ("GET", "/slug-availability/", {}, "slug"),
    ("POST", "/operator/login/", {"username": "a@b.example", "password": "x"}, "username"),
]


def _page_id(case) -> str:
    return "-".join(str(part) for part in case if not isinstance(part, dict))


def _signed_in(world, who: str) -> Client:
    return _client(world, {"anonymous": None, "member": world.member, "admin": world.admin}[who])


@pytest.mark.parametrize("kind", BAD_KINDS)
@pytest.mark.parametrize("case", PAGE_FIELDS, ids=[_page_id(case) for case in PAGE_FIELDS])
def test_pages_refuse_nul_and_lone_surrogates_with_a_400_page(acme, case, kind):
    who, method, path, base, field = case
    response = _send(_signed_in(acme, who), method, path, base, field, ENCODED[kind])
    _assert_bad_characters_page(response)


@pytest.mark.parametrize("case", PAGE_FIELDS, ids=[_page_id(case) for case in PAGE_FIELDS])
def test_pages_answer_over_long_values_without_a_server_error(acme, case):
    who, method, path, base, field = case
    response = _send(_signed_in(acme, who), method, path, base, field, LONG)
    assert response.status_code < 500


@pytest.mark.parametrize("kind", BAD_KINDS)
@pytest.mark.parametrize("case", PLATFORM_PAGES, ids=[_page_id(case) for case in PLATFORM_PAGES])
def test_platform_pages_refuse_bad_characters_with_a_400_page(db, case, kind):
    method, path, base, field = case
    client = Client(HTTP_HOST=settings.BASE_DOMAIN, raise_request_exception=False)
    response = _send(client, method, path, base, field, ENCODED[kind])
    _assert_bad_characters_page(response)


@pytest.mark.parametrize("path", ["/invite/a%00b/", "/console/guests/a%00b/", "/a%00b"])
def test_a_path_with_nul_gets_a_400_page(acme, path):
    _assert_bad_characters_page(_client(acme, acme.admin).get(path))


def test_a_path_that_is_not_utf8_is_simply_not_found(acme):
    # Django keeps such bytes percent-encoded in the path, so no view receives them.
    response = _client(acme).get("/invite/a%ED%A0%80b/")
    assert response.status_code == 404


@pytest.fixture
def web_app(acme):
    return register_app(acme, post_logout="https://app.example/signed-out")


def _authorize_query(app) -> dict:
    _verifier, challenge = pkce_pair()
    return {
        "response_type": "code",
        "client_id": app.client_id,
        "redirect_uri": app.redirect_uri,
        "scope": "openid profile",
        "state": "s",
        "nonce": "n",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }


AUTHORIZE_FIELDS = ["client_id", "redirect_uri", "scope", "state", "nonce", "code_challenge"]


@pytest.mark.parametrize("kind", BAD_KINDS)
@pytest.mark.parametrize("field", AUTHORIZE_FIELDS)
def test_authorize_refuses_bad_characters(acme, web_app, field, kind):
    response = _send(
        _client(acme, acme.member), "GET", "/o/authorize/", _authorize_query(web_app), field,
        ENCODED[kind],
    )  # fmt: skip
    _assert_bad_characters_page(response)
    assert "invalid_request" in response.content.decode()


@pytest.mark.parametrize(("field", "length"), [("nonce", 300), ("code_challenge", 200)])
@pytest.mark.parametrize("first_party", [True, False])
def test_authorize_sends_invalid_request_to_the_app_for_over_long_values(
    acme, field, length, first_party
):
    app = register_app(acme, first_party=first_party)
    response = _send(
        _client(acme, acme.member), "GET", "/o/authorize/", _authorize_query(app), field,
        "x" * length,
    )  # fmt: skip
    assert response.status_code == 302, (response.status_code, response.content[:200])
    assert response["Location"].startswith(app.redirect_uri)
    assert "error=invalid_request" in response["Location"]
    assert "code=" not in response["Location"]


def test_a_consent_form_posted_with_an_over_long_nonce_gets_invalid_request(acme):
    app = register_app(acme, first_party=False, name="Partner app")
    flow = Flow(acme, user=acme.member)
    consent_page, _verifier = flow.authorize(app)
    form = consent_form(consent_page)
    flow.browser.raise_request_exception = False
    posted = flow.browser.post("/o/authorize/", {**form, "nonce": "n" * 300, "allow": "on"})
    assert posted.status_code == 302, (posted.status_code, posted.content[:200])
    assert "error=invalid_request" in posted["Location"]


def test_authorize_with_an_over_long_client_id_shows_the_error_page(acme):
    query = {**_authorize_query(register_app(acme)), "client_id": "x" * 300}
    response = _client(acme, acme.member).get("/o/authorize/?" + urlencode(query))
    assert response.status_code == 400
    assert "client_id" in response.content.decode()


def _token_base(app) -> dict:
    return {
        "grant_type": "authorization_code",
        "client_id": app.client_id,
        "client_secret": app.secret,
        "code": "c" * 43,
        "redirect_uri": app.redirect_uri,
        "code_verifier": "v" * 43,
    }


TOKEN_FIELDS = ["grant_type", "client_id", "client_secret", "code", "redirect_uri",
                "code_verifier", "refresh_token", "scope"]  # fmt: skip


@pytest.mark.parametrize("kind", BAD_KINDS)
@pytest.mark.parametrize("field", TOKEN_FIELDS)
def test_token_endpoint_refuses_bad_characters_with_invalid_request(acme, web_app, field, kind):
    response = _send(_client(acme), "POST", "/o/token/", _token_base(web_app), field,
                     ENCODED[kind])  # fmt: skip
    _assert_oauth_error(response)


@pytest.mark.parametrize("field", TOKEN_FIELDS)
def test_token_endpoint_answers_over_long_values_with_an_oauth_error(acme, web_app, field):
    response = _send(_client(acme), "POST", "/o/token/", _token_base(web_app), field, LONG)
    assert 400 <= response.status_code < 500
    assert response.json()["error"]


def test_a_code_issued_for_an_over_long_nonce_never_exists(acme, web_app):
    """The authorization endpoint refuses it first; the token endpoint never sees one."""
    flow = Flow(acme, user=acme.member)
    response, _verifier = flow.authorize(web_app, nonce="n" * 300)
    assert "error=invalid_request" in response["Location"]
    assert "code=" not in response["Location"]


@pytest.mark.parametrize("kind", BAD_KINDS)
@pytest.mark.parametrize("path", ["/o/introspect/", "/o/revoke/"])
@pytest.mark.parametrize("field", ["token", "client_id", "client_secret", "token_type_hint"])
def test_introspect_and_revoke_refuse_bad_characters(acme, web_app, path, field, kind):
    base = {"token": "t" * 40, "client_id": web_app.client_id, "client_secret": web_app.secret}
    response = _send(_client(acme), "POST", path, base, field, ENCODED[kind])
    _assert_oauth_error(response)


@pytest.mark.parametrize("path", ["/o/introspect/", "/o/revoke/"])
@pytest.mark.parametrize("field", ["token", "client_id"])
def test_introspect_and_revoke_answer_over_long_values_without_a_server_error(
    acme, web_app, path, field
):
    base = {"token": "t" * 40, "client_id": web_app.client_id, "client_secret": web_app.secret}
    response = _send(_client(acme), "POST", path, base, field, LONG)
    assert response.status_code < 500


@pytest.mark.parametrize("kind", BAD_KINDS)
def test_userinfo_refuses_bad_characters(acme, kind):
    response = _client(acme).get(f"/o/userinfo/?access_token={ENCODED[kind]}")
    _assert_oauth_error(response)


@pytest.mark.parametrize("kind", BAD_KINDS)
@pytest.mark.parametrize(
    "field", ["client_id", "id_token_hint", "post_logout_redirect_uri", "state", "ui_locales"]
)
def test_logout_refuses_bad_characters(acme, web_app, field, kind):
    base = {
        "client_id": web_app.client_id,
        "post_logout_redirect_uri": "https://app.example/signed-out",
    }
    response = _send(_client(acme, acme.member), "GET", "/o/logout/", base, field, ENCODED[kind])
    _assert_bad_characters_page(response)
    assert "invalid_request" in response.content.decode()


@pytest.mark.parametrize("field", ["client_id", "id_token_hint", "state"])
def test_logout_answers_over_long_values_without_a_server_error(acme, web_app, field):
    base = {"client_id": web_app.client_id}
    response = _send(_client(acme, acme.member), "GET", "/o/logout/", base, field, LONG)
    assert response.status_code < 500


@pytest.fixture
def directory_reader(acme):
    app = register_app(acme, app_type="daemon", permissions=["User.Read.All"], name="HR sync")
    status, token = Flow(acme).token(app, {"grant_type": "client_credentials"})
    assert status == 200
    return token["access_token"]


@pytest.mark.parametrize("kind", BAD_KINDS)
@pytest.mark.parametrize("template", ["mail eq 'VALUE'", "startswith(displayName, 'VALUE')",
                                      "userType eq 'VALUE'"])  # fmt: skip
def test_users_api_filter_refuses_bad_characters(acme, directory_reader, template, kind):
    prefix, suffix = template.split("VALUE")
    encoded = quote(prefix) + ENCODED[kind] + quote(suffix)
    response = _client(acme).get(
        f"/api/v1/users?%24filter={encoded}", HTTP_AUTHORIZATION=f"Bearer {directory_reader}"
    )
    _assert_graph_error(response)
    assert response.status_code == 400


@pytest.mark.parametrize("kind", BAD_KINDS)
def test_users_api_path_refuses_bad_characters(acme, directory_reader, kind):
    response = _client(acme).get(
        f"/api/v1/users/{ENCODED[kind]}", HTTP_AUTHORIZATION=f"Bearer {directory_reader}"
    )
    _assert_graph_error(response)


def test_users_api_answers_over_long_values_without_a_server_error(acme, directory_reader):
    client = _client(acme)
    for path in (f"/api/v1/users/{LONG}", f"/api/v1/users?%24filter=mail eq '{LONG}'",
                 f"/api/v1/users?%24top={LONG}", f"/api/v1/users?%24skiptoken={LONG}"):  # fmt: skip
        response = client.get(path, HTTP_AUTHORIZATION=f"Bearer {directory_reader}")
        assert 200 <= response.status_code < 500, path


@pytest.fixture
def invitations_key(acme):
    with tenant_context(acme.tenant):
        _key, secret = guest_services.api_key_create(actor=acme.admin, name="Partner portal")
    return secret


def _invitation(**changes) -> dict:
    body = {
        "invitedUserEmailAddress": unique_email(),
        "inviteRedirectUrl": "https://portal.acme.example/",
        "invitedUserDisplayName": "Robin",
        "invitedUserMessageInfo": {"customizedMessageBody": "Welcome", "messageLanguage": "en"},
        "invitedUserType": "Guest",
    }
    for name, value in changes.items():
        if name in ("customizedMessageBody", "messageLanguage"):
            body["invitedUserMessageInfo"][name] = value
        else:
            body[name] = value
    return body


INVITATION_FIELDS = ["invitedUserEmailAddress", "inviteRedirectUrl", "invitedUserDisplayName",
                     "customizedMessageBody", "messageLanguage", "invitedUserType"]  # fmt: skip


@pytest.mark.parametrize("kind", BAD_KINDS)
@pytest.mark.parametrize("field", INVITATION_FIELDS)
def test_invitations_api_refuses_bad_characters_in_json_strings(acme, invitations_key, field, kind):
    response = _client(acme).post(
        "/api/v1/invitations",
        data=json.dumps(_invitation(**{field: IN_JSON[kind]})),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {invitations_key}",
    )
    _assert_graph_error(response)
    assert response.status_code == 400


def test_invitations_api_refuses_bad_characters_in_object_keys(acme, invitations_key):
    response = _client(acme).post(
        "/api/v1/invitations",
        data=json.dumps({**_invitation(), "a\x00b": "x"}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {invitations_key}",
    )
    _assert_graph_error(response)


@pytest.mark.parametrize("field", INVITATION_FIELDS)
def test_invitations_api_answers_over_long_values_with_a_graph_error(acme, invitations_key, field):
    response = _client(acme).post(
        "/api/v1/invitations",
        data=json.dumps(_invitation(**{field: LONG})),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {invitations_key}",
    )
    assert response.status_code < 500
    if response.status_code != 201:
        _assert_graph_error(response)


def test_invitations_api_refuses_a_body_that_is_not_utf8(acme, invitations_key):
    response = _client(acme).post(
        "/api/v1/invitations",
        data=b'{"invitedUserEmailAddress": "a\xed\xa0\x80b@x.example"}',
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {invitations_key}",
    )
    _assert_graph_error(response)


@pytest.mark.parametrize("column", [0, 1, 2, 3])
def test_bulk_csv_rows_with_nul_are_rejected_with_their_reason(acme, column):
    good, bad = unique_email(), unique_email()
    cells = [bad, "Robin", "https://app.acme.example/", "Hello"]
    cells[column] = cells[column][:3] + "\x00" + cells[column][3:]
    text = f"email,name,redirect,message\n{good},Ada,https://app.acme.example/,Hi\n"
    text += ",".join(cells) + "\n"
    upload = SimpleUploadedFile("partners.csv", text.encode(), content_type="text/csv")
    client = _client(acme, acme.admin)
    response = client.post("/console/guests/bulk/", {"file": upload})
    assert response.status_code == 302, response.content[:500]
    page = client.get(response["Location"]).content.decode()
    assert "2 rows: 1 valid, 1 rejected." in page
    assert "<tr><td>3</td>" in page and "characters we cannot accept" in page
    with tenant_context(acme.tenant):
        bulk = BulkInvitation.objects.latest("created_at")
        assert [row["email"] for row in bulk.pending_rows] == [good]


# Longer than the columns (254 and 2000 characters), yet accepted by Django's validators.
LONG_EMAIL = "a" * 64 + "@" + "b" * 63 + "." + "c" * 63 + "." + "d" * 63 + ".example"
LONG_URL = "https://app.acme.example/" + "p" * 1990


@pytest.mark.parametrize(
    ("field", "value"),
    [("invitedUserEmailAddress", LONG_EMAIL), ("inviteRedirectUrl", LONG_URL)],
)
def test_invitations_api_refuses_values_longer_than_their_columns(
    acme, invitations_key, field, value
):
    response = _client(acme).post(
        "/api/v1/invitations",
        data=json.dumps(_invitation(**{field: value})),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {invitations_key}",
    )
    assert response.status_code == 400, (response.status_code, response.content[:200])
    assert response.json()["error"]["field"] == field


def test_bulk_csv_with_over_long_cells_is_reported_row_by_row(acme):
    good = unique_email()
    text = (
        f"{good},{LONG},https://app.acme.example/,{LONG}\n"
        f"{LONG_EMAIL},Robin,https://app.acme.example/,Hello\n"
        f"{unique_email()},Robin,{LONG_URL},Hello\n"
    )
    upload = SimpleUploadedFile("partners.csv", text.encode(), content_type="text/csv")
    client = _client(acme, acme.admin)
    response = client.post("/console/guests/bulk/", {"file": upload})
    assert response.status_code == 302, response.content[:500]
    page = client.get(response["Location"]).content.decode()
    assert "3 rows: 1 valid, 2 rejected." in page
    assert "<td>2</td>" in page and "bad email" in page
    assert "<td>3</td>" in page and "bad redirect URL" in page
    with tenant_context(acme.tenant):
        bulk = BulkInvitation.objects.latest("created_at")
        guest_services.bulk_invitation_process_chunk(bulk_id=bulk.pk)  # what the worker does
        assert Invitation.objects.get(bulk=bulk).email == good  # name and message cut to fit


def _basic(credentials: bytes) -> str:
    return "Basic " + base64.b64encode(credentials).decode()


@pytest.mark.parametrize("credentials", [b"a\x00b:secret", b"a%00b:secret", b"{id}:se%00cret"])
def test_token_endpoint_refuses_nul_in_basic_credentials(acme, web_app, credentials):
    credentials = credentials.replace(b"{id}", web_app.client_id.encode())
    response = _client(acme).post(
        "/o/token/", {"grant_type": "client_credentials"}, HTTP_AUTHORIZATION=_basic(credentials)
    )
    _assert_oauth_error(response)


@pytest.mark.parametrize("path", ["/o/introspect/", "/o/revoke/"])
@pytest.mark.parametrize("credentials", [b"a\x00b:secret", b"a%00b:secret"])
def test_introspect_and_revoke_refuse_nul_in_basic_credentials(acme, path, credentials):
    response = _client(acme).post(path, {"token": "t" * 40}, HTTP_AUTHORIZATION=_basic(credentials))
    # A refusal in the OAuth shape, never a 500: introspection reads the header as the token
    # endpoint does (invalid_request); revocation finds no such client (invalid_client).
    expected = {"/o/introspect/": (400, "invalid_request"), "/o/revoke/": (401, "invalid_client")}
    assert (response.status_code, response.json()["error"]) == expected[path]


def test_a_session_cookie_spelling_nul_is_no_session(acme):
    client = _client(acme)
    client.cookies["sessionid"] = "a\x00b" * 12  # sent quoted, as "a\000b..."
    assert '"a\\000b' in client.cookies.output()
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    assert "Sign in" in response.content.decode()


@pytest.fixture(scope="module")
def server(subprocess_env):
    """The real server: machine endpoints go through API_MIDDLEWARE there (ciam.handlers),
    not through the browser stack the test client uses."""
    port = free_port()
    process = start_gunicorn(subprocess_env, port)
    yield port
    stop(process)


def test_the_machine_endpoints_refuse_bad_characters_on_the_real_server(server, worlds):
    host = f"{worlds['acme'].host}:{server}"

    def call(method, path, **kwargs):
        return requests.request(
            method, f"http://127.0.0.1:{server}{path}", headers={"Host": host, **kwargs.pop(
                "headers", {})}, timeout=10, **kwargs
        )  # fmt: skip

    form = {"Content-Type": "application/x-www-form-urlencoded"}
    for path in ("/o/token/", "/o/introspect/", "/o/revoke/"):
        response = call("POST", path, data="grant_type=client_credentials&client_id=a%00b",
                        headers=form)  # fmt: skip
        _assert_oauth_error(response)
    _assert_oauth_error(call("GET", "/o/userinfo/?access_token=a%ED%A0%80b"))
    for response in (
        call("GET", "/api/v1/users/a%00b"),
        call("GET", "/api/v1/users?%24filter=mail%20eq%20%27a%00b%27"),
        call("POST", "/api/v1/invitations", data='{"invitedUserEmailAddress": "a\\ud800b"}',
             headers={"Content-Type": "application/json"}),
    ):  # fmt: skip
        assert response.status_code == 400, response.text[:200]
        assert response.json()["error"]["code"] == "invalidRequest"


def test_a_form_upload_to_the_invitations_api_is_refused_as_not_json(acme, invitations_key):
    response = _client(acme).post(
        "/api/v1/invitations",
        {"invitedUserEmailAddress": "robin@partner.example"},
        HTTP_AUTHORIZATION=f"Bearer {invitations_key}",
    )
    _assert_graph_error(response)


def test_ordinary_non_ascii_text_is_accepted(acme, invitations_key):
    emoji = json.dumps("Zoë \U0001f600")  # an escaped surrogate pair: one valid character
    assert "\\ud83d\\ude00" in emoji
    body = json.dumps(_invitation()).replace('"Robin"', emoji)
    response = _client(acme).post(
        "/api/v1/invitations",
        data=body,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {invitations_key}",
    )
    assert response.status_code == 201, response.content[:200]
    assert response.json()["invitedUserDisplayName"] == "Zoë \U0001f600"
    search = _client(acme, acme.admin).get("/console/users/?q=" + quote("Zoë \U0001f600"))
    assert search.status_code == 200
