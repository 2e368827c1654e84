"""A real, independent OpenID Provider (node oidc-provider, started by the test on loopback)
as a tenant's generic OpenID Connect IdP, scripted against the real server: a first sign-in
creates the account, `email_verified: false` for an existing account's email signs in to
nothing, and a refusal at the provider comes back as an upstream error in the sign-in log."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import uuid
from pathlib import Path
from urllib.parse import urljoin

import pytest
from django_tenants.utils import tenant_context

from tests.federation.helpers import Browser, base, create_provider, log_rows, signed_in_as, start
from tests.helpers import unique_email
from tests.mfa.helpers import make_user
from tests.server import free_port

pytestmark = pytest.mark.server

NODE_DIR = Path(__file__).parent / "node"
FORM = re.compile(r'<form[^>]*action="([^"]+)"')
HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')


def _hidden(page) -> dict:
    return dict(HIDDEN.findall(page.text))


def _npm_ready() -> None:
    if not (NODE_DIR / "node_modules" / "oidc-provider").exists():
        subprocess.run(
            [shutil.which("npm") or "npm", "ci", "--no-audit", "--no-fund"],
            cwd=NODE_DIR, check=True, capture_output=True, timeout=300,
        )  # fmt: skip


class NodeIdp:
    def __init__(self, downstream, port: int, accounts: dict, *, trusted: bool):
        _npm_ready()
        self.port = free_port()
        self.issuer = f"http://127.0.0.1:{self.port}"
        self.secret = uuid.uuid4().hex
        self.provider = create_provider(
            downstream, name=f"Node IdP {uuid.uuid4().hex[:6]}", discovery_url=self.issuer,
            client_id=f"client-{uuid.uuid4().hex[:8]}", secret=self.secret,
            trust_verified_email=trusted,
        )  # fmt: skip
        callback = (
            f"http://{downstream.host}:{port}/accounts/oidc/{self.provider.slug}/login/callback/"  # noqa: E501
        )
        self.process = subprocess.Popen(
            ["node", str(NODE_DIR / "idp.mjs")],
            env={"PATH": "/usr/bin:/bin", "PORT": str(self.port),
                 "CLIENT_ID": self.provider.client_id, "CLIENT_SECRET": self.secret,
                 "REDIRECT_URI": callback, "ACCOUNTS": json.dumps(accounts)},
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )  # fmt: skip
        assert self.process.stdout.readline().strip() == "ready"

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


@pytest.fixture
def node_idp(downstream, running_server):
    started = []

    def make(accounts: dict, *, trusted: bool = True) -> NodeIdp:
        idp = NodeIdp(downstream, running_server.port, accounts, trusted=trusted)
        started.append(idp)
        return idp

    yield make
    for idp in started:
        idp.stop()


def _federated(browser: Browser, idp: NodeIdp, downstream, port: int, login: str, *, abort=False):
    """Press the button, sign in at the provider's login page, then allow (or cancel)."""
    fed = type("Fed", (), {"downstream": downstream, "provider": idp.provider})
    redirect = start(browser, fed, port)
    assert redirect.headers["Location"].startswith(f"{idp.issuer}/auth?")
    login_page = browser.go(redirect.headers["Location"])
    action = urljoin(browser.visited[-1], FORM.search(login_page.text).group(1))
    if abort:  # "Cancel" on the provider's sign-in page
        return browser.go(re.search(r'href="([^"]+/abort)"', login_page.text).group(1))
    consent = browser.go(action, {**_hidden(login_page), "login": login, "password": "x"})
    found = FORM.search(consent.text)
    assert found, (browser.visited[-3:], consent.status_code, consent.text[-1500:])
    confirm = urljoin(browser.visited[-1], found.group(1))
    return browser.go(confirm, _hidden(consent))


def test_a_first_sign_in_at_a_real_openid_provider_creates_the_account(
    downstream, running_server, node_idp
):
    from allauth.socialaccount.models import SocialAccount
    from django.contrib.auth import get_user_model

    email = unique_email("node")
    idp = node_idp({"alice": {"email": email, "email_verified": True, "given_name": "Alice"}})
    browser = Browser()

    _federated(browser, idp, downstream, running_server.port, "alice")

    assert browser.visited[-1] == f"{base(downstream, running_server.port)}/account/"
    assert signed_in_as(browser, downstream, running_server.port) == email
    with tenant_context(downstream.tenant):
        user = get_user_model().objects.get(email=email)
        assert user.first_name == "Alice"
        assert SocialAccount.objects.get(user=user).uid == "alice"
    [row] = log_rows(downstream, result="success")
    assert (row.method, row.idp, row.idp_subject) == ("federated", idp.provider.slug, "alice")


def test_email_verified_false_for_an_existing_accounts_email_signs_in_to_nothing(
    downstream, running_server, node_idp
):
    from allauth.socialaccount.models import SocialAccount

    email = unique_email("victim")
    victim = make_user(downstream, email=email)
    idp = node_idp({"mallory": {"email": email, "email_verified": False}}, trusted=True)
    browser = Browser()

    _federated(browser, idp, downstream, running_server.port, "mallory")

    assert signed_in_as(browser, downstream, running_server.port) is None
    with tenant_context(downstream.tenant):
        assert not SocialAccount.objects.filter(user=victim).exists()
        assert not SocialAccount.objects.filter(uid="mallory").exists()
    assert log_rows(downstream, result="success") == []


def test_a_refusal_at_the_provider_is_logged_as_an_upstream_error(
    downstream, running_server, node_idp
):
    idp = node_idp({"bob": {"email": unique_email("bob"), "email_verified": True}})
    browser = Browser()

    _federated(browser, idp, downstream, running_server.port, "bob", abort=True)

    assert signed_in_as(browser, downstream, running_server.port) is None
    [row] = log_rows(downstream, method="federated")
    assert (row.result, row.upstream_error, row.idp) == (
        "failure", "access_denied", idp.provider.slug,
    )  # fmt: skip


def test_an_email_from_an_untrusted_provider_is_proven_by_the_emailed_link_first(
    downstream, running_server, node_idp
):
    """Pre-hijacking: an IdP the tenant does not trust for emails creates the account, but
    the address is proven by the emailed link before anyone is signed in with it."""
    from allauth.account.models import EmailAddress

    from emails.models import OutboxEmail

    email = unique_email("new")
    idp = node_idp({"carol": {"email": email, "email_verified": True}}, trusted=False)
    browser = Browser()

    page = _federated(browser, idp, downstream, running_server.port, "carol")

    assert page.status_code == 200
    assert signed_in_as(browser, downstream, running_server.port) is None
    with tenant_context(downstream.tenant):
        assert not EmailAddress.objects.get(email=email).verified
        assert OutboxEmail.objects.filter(to=email).exists()


def test_a_provider_that_sends_no_email_asks_for_one(downstream, running_server, node_idp):
    idp = node_idp({"dave": {"given_name": "Dave"}})
    browser = Browser()

    page = _federated(browser, idp, downstream, running_server.port, "dave")

    assert page.status_code == 200
    assert browser.visited[-1].endswith("/accounts/3rdparty/signup/")
    assert 'name="email"' in page.text
    assert signed_in_as(browser, downstream, running_server.port) is None
