"""What every app reads from a request: the client's address (once per request) and the
credentials of a Basic header (token, revocation and introspection endpoints alike)."""

from __future__ import annotations

import base64

import pytest
from django.test import RequestFactory

from ciam.http import basic_credentials, client_ip


def basic(text: bytes) -> str:
    return "Basic " + base64.b64encode(text).decode()


def test_the_client_address_is_worked_out_once_per_request(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    request = RequestFactory().get(
        "/", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.7", REMOTE_ADDR="10.0.0.2"
    )
    assert client_ip(request) == "203.0.113.7"
    request.META["HTTP_X_FORWARDED_FOR"] = "198.51.100.1"
    assert client_ip(request) == "203.0.113.7"
    assert client_ip(RequestFactory().get("/", REMOTE_ADDR="10.0.0.2")) == "10.0.0.2"


def test_basic_credentials_are_form_decoded():
    assert basic_credentials(basic(b"my%20app:s%3Acret+x")) == ("my app", "s:cret x")
    assert basic_credentials(basic(b"app:")) == ("app", "")


def test_other_schemes_carry_no_basic_credentials():
    assert basic_credentials("") is None
    assert basic_credentials("Bearer abc") is None
    assert basic_credentials("basic " + base64.b64encode(b"a:b").decode()) is None


@pytest.mark.parametrize(
    "header",
    ["Basic not*base64", basic(b"no colon"), basic("é:x".encode("latin-1")), "Basic YQ"],
)
def test_an_unreadable_basic_header_is_refused(header):
    with pytest.raises(ValueError):
        basic_credentials(header)
