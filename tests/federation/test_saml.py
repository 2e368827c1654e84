"""A SAML 2.0 identity provider (a real one, started by the test on loopback: its assertions
signed by xmlsec) as a tenant's IdP, against the running server: an SP-initiated sign-in
with a signed request creates the account; unsigned, altered, wrong-audience, replayed and
unsolicited (IdP-initiated) responses sign nobody in; during a key rollover an assertion
signed with either certificate of its metadata is accepted, one signed by a key it does not
publish is not; a guest redeems an invitation with it; and the console adds it from its
metadata URL or an uploaded file."""

from __future__ import annotations

import base64
import hashlib
import re
import time
import uuid
from urllib.parse import urlencode

import pytest
from allauth.socialaccount.models import SocialAccount
from django.contrib.auth import get_user_model
from django.db import connection
from django_tenants.utils import tenant_context

from tests.federation.helpers import CSRF, Browser, base, log_rows, signed_in_as
from tests.federation.saml_idp import SamlIdp
from tests.helpers import eventually, make_user, unique_email

pytestmark = pytest.mark.server

FORM_ACTION = re.compile(r'<form method="post" action="([^"]+)"')
HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')


@pytest.fixture
def saml_idp():
    started = []

    def make(people: dict) -> SamlIdp:
        idp = SamlIdp(people).start()
        started.append(idp)
        return idp

    yield make
    for idp in started:
        idp.stop()


def _person(subject: str | None = None, email: str | None = None) -> tuple[str, dict]:
    subject = subject or f"emp-{uuid.uuid4().hex[:10]}"
    return subject, {
        "email": email or unique_email("saml"),
        "given_name": "Ada",
        "family_name": "Lovelace",
    }


def _add(world, idp: SamlIdp, **fields):
    from federation.services import identity_provider_create

    with tenant_context(world.tenant):
        provider = identity_provider_create(
            actor=world.admin, kind="saml", name=f"Corp SAML {uuid.uuid4().hex[:6]}",
            saml_metadata_url=idp.entity_id, **fields,
        )  # fmt: skip
    connection.close()
    return provider


def _start(browser: Browser, world, port: int, provider, next_url: str = "/account/") -> str:
    """Press the IdP's button on the sign-in page: the redirect to the IdP's sign-on URL."""
    b = base(world, port)
    page = browser.go(f"{b}/accounts/login/?{urlencode({'next': next_url})}")
    assert f"Sign in with {provider.name}" in page.text
    redirect = browser.session.post(
        f"{b}/accounts/saml/{provider.slug}/login/",
        data={"csrfmiddlewaretoken": CSRF.search(page.text).group(1), "process": "login",
              "next": next_url},
        allow_redirects=False, timeout=20,
    )  # fmt: skip
    assert redirect.status_code == 302, redirect.text[:500]
    return redirect.headers["Location"]


def _at_idp(browser: Browser, idp: SamlIdp, location: str):
    """Follow the redirect to the IdP: its page and the form it would post."""
    assert location.startswith(idp.sso_url + "?")
    page = browser.go(location)
    assert page.status_code == 200, page.text
    fields = dict(HIDDEN.findall(page.text))
    return FORM_ACTION.search(page.text).group(1), fields


def _refused(page) -> bool:
    return "Sign-in failed" in page.text or "Third-Party Login Failure" in page.text


def _post(browser: Browser, acs: str, saml_response: str, relay_state: str = ""):
    return browser.go(acs, {"SAMLResponse": saml_response, "RelayState": relay_state})


def test_sp_initiated_sign_in_with_a_signed_request_creates_the_account(
    running_server, downstream, saml_idp
):
    from audit.models import SignInEvent

    subject, person = _person()
    idp = saml_idp({subject: person})
    provider = _add(downstream, idp, trust_verified_email=True)
    port = running_server.port
    browser = Browser()

    location = _start(browser, downstream, port, provider)
    acs, fields = _at_idp(browser, idp, location)

    assert idp.signature_problems == []  # the request was signed with our published key
    request = idp.requests[-1]
    assert request.issuer == f"{base(downstream, port)}/accounts/saml/{provider.slug}/metadata/"
    assert acs == f"{base(downstream, port)}/accounts/saml/{provider.slug}/acs/"
    landing = _post(browser, acs, fields["SAMLResponse"], fields["RelayState"])
    assert landing.status_code == 200
    assert browser.visited[-1] == f"{base(downstream, port)}/account/"
    assert signed_in_as(browser, downstream, port) == person["email"]
    with tenant_context(downstream.tenant):
        account = SocialAccount.objects.get(provider=provider.slug, uid=subject)
        assert (account.user.email, account.user.first_name, account.user.last_name) == (
            person["email"], "Ada", "Lovelace",
        )  # fmt: skip
    rows = log_rows(downstream, idp_subject=subject)
    assert [(row.method, row.result) for row in rows] == [
        (SignInEvent.Method.FEDERATED, SignInEvent.Result.SUCCESS)
    ]


def test_our_metadata_names_the_entity_id_the_acs_and_the_signing_certificate(
    running_server, downstream, saml_idp
):
    idp = saml_idp(dict([_person()]))
    provider = _add(downstream, idp)
    url = f"{base(downstream, running_server.port)}/accounts/saml/{provider.slug}/metadata/"
    metadata = Browser().go(url)
    assert metadata.status_code == 200
    text = metadata.text
    assert f'entityID="{url}"' in text
    assert 'AuthnRequestsSigned="true"' in text and 'WantAssertionsSigned="true"' in text
    assert f"/accounts/saml/{provider.slug}/acs/" in text
    body = "".join(provider.sp_certificate.strip().splitlines()[1:-1])
    assert body in text.replace("\n", "")
    assert "PRIVATE KEY" not in text and "PRIVATE KEY" not in provider.sp_private_key_sealed


DEFECTS = {
    "unsigned assertion": {"sign": False},
    "wrong audience": {"audience": "https://another-sp.example/metadata"},
    "IdP-initiated": {"unsolicited": True},
    "altered assertion": {"alter": True},
}


@pytest.mark.parametrize("defect", list(DEFECTS))
def test_a_defective_response_signs_nobody_in(running_server, downstream, saml_idp, defect):
    from audit.models import SignInEvent

    subject, person = _person()
    idp = saml_idp({subject: person})
    provider = _add(downstream, idp)
    port = running_server.port
    browser = Browser()
    acs, fields = _at_idp(browser, idp, _start(browser, downstream, port, provider))
    request = idp.requests[-1]
    options = dict(DEFECTS[defect])
    if options.pop("unsolicited", False):
        options["acs_url"] = acs
        request = None
    if options.pop("alter", False):
        # A valid signature over someone else's address: the signed content changed.
        options["alter"] = {person["email"]: "mallory@corp.example"}
    saml_response = idp.response(request, subject, **options)

    page = _post(browser, acs, saml_response, fields["RelayState"])

    assert page.status_code in (200, 400, 401, 403)
    assert "Sign-in failed" in page.text or "Third-Party Login Failure" in page.text, page.text[
        :800
    ]
    assert signed_in_as(browser, downstream, port) is None
    with tenant_context(downstream.tenant):
        assert not SocialAccount.objects.filter(provider=provider.slug).exists()
        assert not get_user_model().objects.filter(email=person["email"]).exists()
    rows = log_rows(downstream, idp=provider.slug)
    assert [(row.result, row.failure_reason) for row in rows] == [
        (SignInEvent.Result.FAILURE, SignInEvent.FailureReason.IDP_ERROR)
    ]


def test_a_replayed_assertion_is_refused(running_server, downstream, saml_idp):
    subject, person = _person()
    idp = saml_idp({subject: person})
    provider = _add(downstream, idp, trust_verified_email=True)
    port = running_server.port
    first = Browser()
    acs, fields = _at_idp(first, idp, _start(first, downstream, port, provider))
    _post(first, acs, fields["SAMLResponse"], fields["RelayState"])
    assert signed_in_as(first, downstream, port) == person["email"]

    # Someone who captured the posted response sends it again from their own browser,
    # after starting a sign-in of their own.
    attacker = Browser()
    _at_idp(attacker, idp, _start(attacker, downstream, port, provider))
    page = _post(attacker, acs, fields["SAMLResponse"], fields["RelayState"])

    assert "Sign-in failed" in page.text or "Third-Party Login Failure" in page.text, page.text[
        :800
    ]
    assert signed_in_as(attacker, downstream, port) is None
    failures = log_rows(downstream, idp=provider.slug, result="failure")
    assert len(failures) == 1 and "used before" in failures[0].upstream_error


# Key rollover: the IdP's metadata lists two signing certificates ---------------------------


def test_every_signing_certificate_of_the_metadata_is_stored(downstream, saml_idp):
    idp = saml_idp(dict([_person()]))
    idp.roll_over()

    provider = _add(downstream, idp)

    assert len(idp.certificates) == 2
    assert provider.saml_certificates == idp.certificates


def test_a_certificate_that_cannot_be_read_is_left_out_and_metadata_with_none_refused(saml_idp):
    from django.core.exceptions import ValidationError

    from federation.saml import metadata_parse

    idp = saml_idp({})
    idp.roll_over()
    current, following = idp.certificates
    garbage = base64.b64encode(b"not a certificate").decode()

    assert metadata_parse(idp.metadata().replace(current, garbage))["certificates"] == [following]
    with pytest.raises(ValidationError, match="None of the IdP's signing certificates"):
        metadata_parse(idp.metadata().replace(current, garbage).replace(following, garbage))


def test_an_assertion_signed_with_the_idps_next_certificate_is_accepted(
    running_server, downstream, saml_idp
):
    """The IdP switched to the key its metadata listed second: its sign-ins go on."""
    subject, person = _person()
    idp = saml_idp({subject: person})
    idp.roll_over()
    provider = _add(downstream, idp, trust_verified_email=True)
    idp.signing_key = 1
    port = running_server.port
    browser = Browser()

    acs, fields = _at_idp(browser, idp, _start(browser, downstream, port, provider))
    page = _post(browser, acs, fields["SAMLResponse"], fields["RelayState"])

    assert not _refused(page), page.text[:800]
    assert signed_in_as(browser, downstream, port) == person["email"]


def test_an_assertion_signed_by_a_key_the_metadata_does_not_list_is_refused(
    running_server, downstream, saml_idp
):
    from federation.saml import sp_key_pair

    subject, person = _person()
    idp = saml_idp({subject: person})
    idp.roll_over()
    provider = _add(downstream, idp, trust_verified_email=True)
    port = running_server.port
    browser = Browser()
    acs, fields = _at_idp(browser, idp, _start(browser, downstream, port, provider))
    forged = idp.response(idp.requests[-1], subject, key_pair=sp_key_pair("not the IdP"))

    page = _post(browser, acs, forged, fields["RelayState"])

    assert _refused(page), page.text[:800]
    assert signed_in_as(browser, downstream, port) is None
    with tenant_context(downstream.tenant):
        assert not SocialAccount.objects.filter(provider=provider.slug).exists()


def test_a_guest_redeems_an_invitation_through_saml(running_server, downstream, saml_idp):
    from guests import services as guest_services
    from guests.models import Invitation

    subject, person = _person()
    idp = saml_idp({subject: person})
    provider = _add(downstream, idp, trust_verified_email=True)
    port = running_server.port
    with tenant_context(downstream.tenant):
        invitation = guest_services.invitation_create(
            invited_by=downstream.admin, email=person["email"],
            redirect_url="https://app.fabrikam.example/welcome",
        )  # fmt: skip
    connection.close()
    token = invitation.redeem_url.rstrip("/").rsplit("/", 1)[1]
    b = base(downstream, port)
    browser = Browser()
    landing = browser.go(f"{b}/invite/{token}/")
    assert f"Sign in with {provider.name}" in landing.text
    action = re.search(r'<form method="post" action="([^"]+/identity/)"', landing.text).group(1)
    redirect = browser.session.post(
        f"{b}{action}",
        data={"csrfmiddlewaretoken": CSRF.search(landing.text).group(1),
              "provider": provider.slug},
        allow_redirects=False, timeout=20,
    )  # fmt: skip
    acs, fields = _at_idp(browser, idp, redirect.headers["Location"])
    consent = _post(browser, acs, fields["SAMLResponse"], fields["RelayState"])
    assert browser.visited[-1] == f"{b}/invite/consent/", consent.status_code
    accepted = browser.submit(
        f"{b}/invite/consent/", consent, {"decision": "accept"}, stop_at="https://app."
    )
    assert browser.visited[-1] == "https://app.fabrikam.example/welcome", accepted.text[:500]
    with tenant_context(downstream.tenant):
        guest = get_user_model().objects.get(email=person["email"])
        assert guest.user_type == "guest"
        assert SocialAccount.objects.get(provider=provider.slug, uid=subject).user == guest
        assert Invitation.objects.get(pk=invitation.pk).status == Invitation.Status.ACCEPTED


# Console ---------------------------------------------------------------------------------

LIST = "/console/identity-providers/"


def test_console_adds_a_saml_idp_by_metadata_url_or_upload_and_shows_our_metadata_url(
    acme, saml_idp
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from audit.models import AuditEvent
    from federation.models import IdentityProvider

    idp = saml_idp(dict([_person()]))
    admin = make_user(acme, admin_roles=["security_administrator"])
    client = acme.client(admin)
    name = f"Corp {uuid.uuid4().hex[:6]}"

    missing = client.post(f"{LIST}new/saml/", {"name": name, "enabled": "on"})
    assert missing.status_code == 400
    assert "Enter the URL of the IdP&#x27;s metadata, or upload" in missing.content.decode()

    not_xml = client.post(
        f"{LIST}new/saml/",
        {"name": name, "saml_metadata_file": SimpleUploadedFile("m.xml", b"hello")},
    )
    assert not_xml.status_code == 400 and "This is not SAML metadata" in not_xml.content.decode()
    assert name in not_xml.content.decode()  # what was typed is kept

    by_url = client.post(
        f"{LIST}new/saml/", {"name": name, "saml_metadata_url": idp.entity_id, "enabled": "on"}
    )
    assert by_url.status_code == 303, by_url.content.decode()[:2000]
    page = client.get(by_url["Location"]).content.decode()
    with tenant_context(acme.tenant):
        provider = IdentityProvider.objects.get(name=name)
        event = AuditEvent.objects.get(
            action="identity_provider.create", target_id=str(provider.public_id)
        )
    assert (provider.saml_entity_id, provider.saml_sso_url) == (idp.entity_id, idp.sso_url)
    assert f"/accounts/saml/{provider.slug}/metadata/" in page
    assert f"/accounts/saml/{provider.slug}/acs/" in page
    assert "PRIVATE KEY" not in page and event.after["signing_key"] == "set"
    assert "PRIVATE KEY" not in str(event.after)

    uploaded = client.post(
        f"{LIST}new/saml/",
        {"name": name + " B",
         "saml_metadata_file": SimpleUploadedFile("idp.xml", idp.metadata().encode())},
    )  # fmt: skip
    assert uploaded.status_code == 303
    test = client.post(f"{by_url['Location']}test/")
    assert "Connection test passed" in test.content.decode()
    assert idp.entity_id in test.content.decode()


def _thumbprint(body: str) -> str:
    return hashlib.sha1(base64.b64decode(body)).hexdigest().upper()


def test_the_console_shows_each_signing_certificate_of_the_idp_with_its_expiry(acme, saml_idp):
    from cryptography import x509

    idp = saml_idp(dict([_person()]))
    idp.roll_over()
    client = acme.client(make_user(acme, admin_roles=["security_administrator"]))
    created = client.post(
        f"{LIST}new/saml/",
        {"name": f"Corp {uuid.uuid4().hex[:6]}", "saml_metadata_url": idp.entity_id},
    )
    assert created.status_code == 303, created.content.decode()[:2000]

    page = client.get(created["Location"]).content.decode()

    for (_, pem), body in zip(idp.keys, idp.certificates, strict=True):
        not_after = x509.load_pem_x509_certificate(pem.encode()).not_valid_after_utc
        assert f"<code>{_thumbprint(body)}</code> · Valid until {not_after:%Y-%m-%d}" in page
    assert "Assertions signed with any of them are accepted" in page
    test = client.post(f"{created['Location']}test/").content.decode()
    assert "Connection test passed" in test
    for body in idp.certificates:
        assert f"Signing certificate {_thumbprint(body)} is valid until" in test


def test_the_connection_test_notices_a_new_certificate_and_points_to_reading_it_again(
    acme, saml_idp
):
    """A key rollover begins (the metadata lists a second certificate after the first): the
    test says so and points to the button that reads the metadata again, which does it (a
    Save with the URL unchanged keeps the metadata read before)."""
    from federation.models import IdentityProvider

    idp = saml_idp(dict([_person()]))
    client = acme.client(make_user(acme, admin_roles=["security_administrator"]))
    name = f"Corp {uuid.uuid4().hex[:6]}"
    created = client.post(f"{LIST}new/saml/", {"name": name, "saml_metadata_url": idp.entity_id})
    assert created.status_code == 303, created.content.decode()[:2000]
    detail = created["Location"]
    assert "Connection test passed" in client.post(f"{detail}test/").content.decode()

    idp.roll_over()
    test = client.post(f"{detail}test/").content.decode()

    assert "Connection test failed" in test
    assert "lists other signing certificates than the ones in use" in test
    assert "Press “Read the metadata again” to use what it says now." in test
    assert ">Read the metadata again</button>" in test
    assert client.post(f"{detail}metadata/refresh/").status_code == 303
    with tenant_context(acme.tenant):
        assert IdentityProvider.objects.get(name=name).saml_certificates == idp.certificates
    assert "Connection test passed" in client.post(f"{detail}test/").content.decode()


# Reading the IdP's metadata again (its key rollover) ----------------------------------------


def _sign_in_with_next_key(idp: SamlIdp, world, port: int, provider):
    """A sign-in the IdP answers with an assertion signed with its new key: (the browser,
    the page it lands on)."""
    idp.signing_key = len(idp.keys) - 1
    browser = Browser()
    acs, fields = _at_idp(browser, idp, _start(browser, world, port, provider))
    return browser, _post(browser, acs, fields["SAMLResponse"], fields["RelayState"])


def test_reading_the_metadata_again_takes_the_idps_next_certificate_and_sign_ins_go_on(
    running_server, downstream, saml_idp
):
    """The IdP publishes a second certificate, then signs with its key: refused until the
    admin presses “Read the metadata again”; then its sign-ins go on. Audited, thumbprints
    before and after."""
    from audit.models import AuditEvent
    from federation.models import IdentityProvider

    subject, person = _person()
    idp = saml_idp({subject: person})
    provider = _add(downstream, idp, trust_verified_email=True)
    port = running_server.port
    idp.roll_over()
    current, following = (_thumbprint(body) for body in idp.certificates)
    _, refused = _sign_in_with_next_key(idp, downstream, port, provider)
    assert _refused(refused), refused.text[:800]

    client = downstream.client(downstream.admin)
    detail = f"{LIST}{provider.public_id}/"
    assert ">Read the metadata again</button>" in client.get(detail).content.decode()
    pressed = client.post(f"{detail}metadata/refresh/")

    assert pressed.status_code == 303 and pressed["Location"] == detail
    page = client.get(detail).content.decode()
    assert f"The metadata was read again. New signing certificate {following}, valid until" in page
    assert f"<code>{current}</code>" in page and f"<code>{following}</code>" in page
    with tenant_context(downstream.tenant):
        stored = IdentityProvider.objects.get(pk=provider.pk).saml_certificates
        events = list(
            AuditEvent.objects.filter(
                action="identity_provider.metadata_refresh", target_id=str(provider.public_id)
            )
        )
    connection.close()
    assert stored == idp.certificates
    # A server checks for such changes once a second (ciam/process_cache.py).
    time.sleep(1.1)
    assert [(e.actor_label, e.before, e.after) for e in events] == [
        (downstream.admin.email, {"certificates": [current]},
         {"certificates": [current, following]})
    ]  # fmt: skip
    browser, landing = _sign_in_with_next_key(idp, downstream, port, provider)
    assert not _refused(landing), landing.text[:800]
    assert signed_in_as(browser, downstream, port) == person["email"]

    # Read again with nothing new: said so, nothing written.
    client.post(f"{detail}metadata/refresh/")
    assert "The metadata was read again: nothing changed." in client.get(detail).content.decode()
    with tenant_context(downstream.tenant):
        assert (
            AuditEvent.objects.filter(
                action="identity_provider.metadata_refresh", target_id=str(provider.public_id)
            ).count()
            == 1
        )
    connection.close()


def test_the_nightly_task_reads_each_idps_metadata_again_and_one_failure_stops_no_other(
    running_server, downstream, saml_idp, celery_worker_process
):
    """Beat's task queues a task in every tenant; the worker reads each SAML IdP's metadata
    URL again there: the IdP rolling its key over is signed in with its new key; another
    whose metadata URL fails (read first) keeps its certificates, its failure audited."""
    from django.conf import settings

    from audit.models import AuditEvent
    from federation.models import IdentityProvider
    from federation.tasks import saml_metadata_refresh_all

    schedule = settings.CELERY_BEAT_SCHEDULE["federation-saml-metadata-refresh"]
    assert schedule["task"] == "federation.tasks.saml_metadata_refresh_all"
    broken = saml_idp(dict([_person()]))
    broken_provider = _add(downstream, broken)
    subject, person = _person()
    idp = saml_idp({subject: person})
    provider = _add(downstream, idp, trust_verified_email=True)
    broken.roll_over()
    broken.metadata_status = 503
    idp.roll_over()

    assert saml_metadata_refresh_all()["tenants"] >= 1

    def refreshed() -> bool:
        with tenant_context(downstream.tenant):
            found = IdentityProvider.objects.get(pk=provider.pk).saml_certificates
        connection.close()
        return found == idp.certificates

    eventually(refreshed, timeout=60, message="the worker did not read the metadata again")
    with tenant_context(downstream.tenant):
        kept = IdentityProvider.objects.get(pk=broken_provider.pk).saml_certificates
        failure = AuditEvent.objects.get(
            action="identity_provider.metadata_refresh_fail",
            target_id=str(broken_provider.public_id),
        )
        refresh = AuditEvent.objects.get(
            action="identity_provider.metadata_refresh", target_id=str(provider.public_id)
        )
    connection.close()
    assert kept == broken.certificates[:1]
    assert failure.actor_label == "system"
    assert failure.after["reason"] == (
        f"{broken.entity_id} answered with HTTP 503 instead of the IdP's metadata."
    )
    assert refresh.actor_label == "system"
    assert refresh.after == {"certificates": [_thumbprint(body) for body in idp.certificates]}
    time.sleep(1.1)  # a server checks for such changes once a second (ciam/process_cache.py)
    browser, landing = _sign_in_with_next_key(idp, downstream, running_server.port, provider)
    assert not _refused(landing), landing.text[:800]
    assert signed_in_as(browser, downstream, running_server.port) == person["email"]


@pytest.mark.parametrize("failure", ["HTTP 503", "unreachable"])
def test_when_the_metadata_url_fails_the_idp_keeps_its_certificates_and_the_admin_sees_why(
    acme, saml_idp, failure
):
    from audit.models import AuditEvent
    from federation.models import IdentityProvider

    idp = saml_idp(dict([_person()]))
    client = acme.client(make_user(acme, admin_roles=["security_administrator"]))
    name = f"Corp {uuid.uuid4().hex[:6]}"
    created = client.post(f"{LIST}new/saml/", {"name": name, "saml_metadata_url": idp.entity_id})
    assert created.status_code == 303, created.content.decode()[:2000]
    idp.roll_over()
    if failure == "unreachable":
        idp.stop()
        reason = f"Could not fetch the metadata at {idp.entity_id}: check the URL."
    else:
        idp.metadata_status = 503
        reason = f"{idp.entity_id} answered with HTTP 503 instead of the IdP&#x27;s metadata."

    pressed = client.post(f"{created['Location']}metadata/refresh/", follow=True)

    page = pressed.content.decode()
    assert pressed.status_code == 200
    assert (
        '<div class="alert alert-danger">The metadata could not be read again; nothing '
        f"changed. {reason}</div>"
    ) in page
    with tenant_context(acme.tenant):
        provider = IdentityProvider.objects.get(name=name)
        assert provider.saml_certificates == idp.certificates[:1]
        assert not AuditEvent.objects.filter(
            action="identity_provider.metadata_refresh", target_id=str(provider.public_id)
        ).exists()


@pytest.mark.parametrize("roles", [[], ["user_administrator"], ["reports_reader"]])
def test_only_security_and_global_administrators_may_read_the_metadata_again(acme, saml_idp, roles):
    from federation.models import IdentityProvider
    from federation.services import identity_provider_create

    idp = saml_idp(dict([_person()]))
    with tenant_context(acme.tenant):
        provider = identity_provider_create(
            actor=acme.admin, kind="saml", name=f"Corp {uuid.uuid4().hex[:6]}",
            saml_metadata_url=idp.entity_id,
        )  # fmt: skip
        uploaded = identity_provider_create(
            actor=acme.admin, kind="saml", name=f"Corp {uuid.uuid4().hex[:6]}",
            saml_metadata_file=idp.metadata(),
        )  # fmt: skip
    idp.roll_over()
    url = f"{LIST}{provider.public_id}/metadata/refresh/"

    assert acme.client(make_user(acme, admin_roles=roles)).post(url).status_code == 403
    with tenant_context(acme.tenant):
        assert (
            IdentityProvider.objects.get(pk=provider.pk).saml_certificates == (idp.certificates[:1])
        )
    admin = acme.client(acme.admin)
    assert admin.get(url).status_code == 405  # a POST only (CSRF-checked like the others)
    # An uploaded IdP has no URL to read: no button, nothing to press.
    uploaded_page = admin.get(f"{LIST}{uploaded.public_id}/").content.decode()
    assert "Read the metadata again" not in uploaded_page
    assert admin.post(f"{LIST}{uploaded.public_id}/metadata/refresh/").status_code == 404
    assert admin.post(url).status_code == 303
    with tenant_context(acme.tenant):
        assert IdentityProvider.objects.get(pk=provider.pk).saml_certificates == idp.certificates


# In Chromium, under the policies the servers send ------------------------------------------


@pytest.mark.browser
def test_sp_initiated_sign_in_to_an_app_in_chromium(running_server, downstream, saml_idp):
    """The sign-in page lets its button's form lead to the IdP's sign-on URL; the IdP's page
    (whose own policy allows posting to our ACS only) posts the assertion cross-site to our
    ACS, where the session cookie (SameSite=Lax) is not sent: allauth keeps the POST in a
    cookie of its own and finishes on a same-site GET; the app then gets its code."""
    from tests.browser import in_own_thread
    from tests.e2e.relying_party import RelyingParty
    from tests.oidc.helpers import jwt_parts, register_app

    subject, person = _person()
    idp = saml_idp({subject: person})
    provider = _add(downstream, idp, trust_verified_email=True)
    party = RelyingParty().start()
    try:
        app = register_app(
            downstream, name=f"SAML app {uuid.uuid4().hex[:6]}", redirect_uri=party.redirect_uri
        )
        party.connect(
            tenant_host=downstream.host, server_port=running_server.port,
            client_id=app.client_id, secret=app.secret,
        )  # fmt: skip
        connection.close()

        def scenario(page):
            page.goto(party.url("/login"))
            page.wait_for_url("**/accounts/login/**")
            response = page.reload()
            policy = response.header_value("content-security-policy") or ""
            assert idp.base in policy
            page.get_by_role("button", name=f"Sign in with {provider.name}").click()
            page.wait_for_url(f"{idp.sso_url}?**")
            page.get_by_role("button", name="Continue").click()
            page.wait_for_url(f"{party.redirect_uri}?**")
            assert page.locator("#result").inner_text() == f"Signed in as {person['email']}"

        in_own_thread(scenario)
        assert jwt_parts(party.id_token)[1]["idp"] == idp.entity_id
    finally:
        party.stop()
    assert idp.signature_problems == []


REFEDS_MFA = "https://refeds.org/profile/mfa"


@pytest.mark.parametrize(
    ("context", "counts"),
    [(REFEDS_MFA, True), ("urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport",
                          False)],
    ids=["listed MFA context", "password only"],
)  # fmt: skip
def test_a_trusted_saml_idps_mfa_context_counts_as_the_second_factor(
    running_server, downstream, saml_idp, context, counts
):
    """With the tenant requiring MFA of everyone: an assertion whose AuthnContextClassRef is
    one the tenant listed for the IdP as MFA is this sign-in's second factor; another is not."""
    from tests.mfa.helpers import set_policy

    set_policy(downstream, requirement="required_all")
    subject, person = _person()
    idp = saml_idp({subject: person})
    provider = _add(
        downstream, idp, trust_verified_email=True, trust_idp_mfa=True,
        saml_mfa_contexts=[REFEDS_MFA],
    )  # fmt: skip
    port = running_server.port

    def sign_in() -> Browser:
        browser = Browser()
        acs, fields = _at_idp(browser, idp, _start(browser, downstream, port, provider))
        _post(browser, acs, fields["SAMLResponse"], fields["RelayState"])
        return browser

    # The first sign-in creates the account (a sign-up); the next one asks for MFA.
    assert signed_in_as(sign_in(), downstream, port) == person["email"]
    idp.authn_context = context
    again = sign_in()

    if counts:
        assert signed_in_as(again, downstream, port) == person["email"]
        last = log_rows(downstream, idp=provider.slug, result="success")[-1]
        assert last.mfa_method == "idp"
    else:
        assert "/mfa/" in again.visited[-1], again.visited[-1]
        assert signed_in_as(again, downstream, port) is None
