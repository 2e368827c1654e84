"""A first sign-in through an IdP that did not send everything the user flow asks for: one
page (on the hosted look) asks only for the rest: the flow's missing attributes and the
terms; what the IdP sent is not asked again."""

from __future__ import annotations

import re
import uuid
from urllib.parse import urlencode

import pytest
from allauth.socialaccount.models import SocialAccount
from django.db import connection
from django_tenants.utils import tenant_context

from tests.federation.helpers import CSRF, Browser, base, create_provider, signed_in_as
from tests.federation.stand_in_op import StandInOP
from tests.helpers import unique_email

pytestmark = pytest.mark.server


def test_the_sign_up_page_asks_only_what_the_idp_did_not_send(running_server, downstream):
    from accounts.services import sign_up_attribute_save, user_flow_update

    with tenant_context(downstream.tenant):
        user_flow_update(
            actor=downstream.admin, terms_required=True, terms_url="https://fabrikam.example/terms"
        )
        from accounts.models import SignUpAttribute

        given = SignUpAttribute.objects.filter(key="givenName").first()
        sign_up_attribute_save(
            actor=downstream.admin, key="givenName", label="Given name", data_type="string",
            required=True, position=given.position if given else 1, attribute=given,
        )  # fmt: skip
        sign_up_attribute_save(
            actor=downstream.admin, key="company", label="Company", data_type="string",
            required=True, position=2,
        )  # fmt: skip
    client_id, secret = f"client-{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
    email = unique_email("signup")
    subject = f"sub-{uuid.uuid4().hex[:8]}"
    op = StandInOP(client_id, secret, {
        "sub": subject, "email": email, "email_verified": True, "given_name": "Katherine",
    }).start()  # fmt: skip
    try:
        provider = create_provider(
            downstream, discovery_url=op.issuer, client_id=client_id, secret=secret,
            trust_verified_email=True,
        )  # fmt: skip
        connection.close()
        port = running_server.port
        b = base(downstream, port)
        browser = Browser()
        page = browser.go(f"{b}/accounts/login/?{urlencode({'next': '/account/'})}")
        redirect = browser.session.post(
            f"{b}/accounts/oidc/{provider.slug}/login/",
            data={"csrfmiddlewaretoken": CSRF.search(page.text).group(1), "process": "login",
                  "next": "/account/"},
            allow_redirects=False, timeout=20,
        )  # fmt: skip
        signup = browser.go(redirect.headers["Location"])

        assert browser.visited[-1] == f"{b}/accounts/3rdparty/signup/"
        assert "Finish creating your account" in signup.text
        assert f"You signed in with {provider.name}" in signup.text
        assert 'name="attr_company"' in signup.text or "company" in signup.text
        assert "Company" in signup.text
        assert f'value="{email}"' in signup.text
        assert "terms of use" in signup.text
        field_names = set(re.findall(r'name="([^"]+)"', signup.text))
        company = next(name for name in field_names if name.endswith("company"))
        assert not any(name.endswith("givenName") for name in field_names)  # the IdP sent it

        missing = browser.submit(
            f"{b}/accounts/3rdparty/signup/", signup, {"email": email, "accept_terms": "on"}
        )
        assert missing.status_code == 200 and "This field is required" in missing.text
        assert signed_in_as(browser, downstream, port) is None

        done = browser.submit(
            f"{b}/accounts/3rdparty/signup/", missing,
            {"email": email, company: "Fabrikam", "accept_terms": "on"},
        )  # fmt: skip
        assert done.status_code == 200
        assert signed_in_as(browser, downstream, port) == email
        with tenant_context(downstream.tenant):
            account = SocialAccount.objects.get(provider=provider.slug, uid=subject)
            user = account.user
            assert user.first_name == "Katherine"
            assert user.attributes["company"] == "Fabrikam"
            assert "termsAcceptedAt" in user.attributes
            assert not user.has_usable_password()
    finally:
        op.stop()
