"""Platform operators with an authenticator app, and their sign-in through the pages."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.test import Client
from django_otp.oath import totp

from tests.helpers import PASSWORD, unique_email


def operator_make(email: str = ""):
    return get_user_model().objects.create_superuser(
        email=email or unique_email(), password=PASSWORD
    )


def operator_with_totp(operator):
    """A confirmed authenticator app for `operator`, as the setup page leaves it."""
    from operators.services import operator_totp_start

    device = operator_totp_start(user=operator)
    device.confirmed = True
    device.save()
    return device


def code_for(device, *, steps: int = 0) -> str:
    return f"{totp(device.bin_key, step=30, digits=6, drift=steps):06d}"


def password_step(client: Client, operator, next_url: str = "/operator/"):
    return client.post(
        f"/operator/login/?next={next_url}",
        {"username": operator.email, "password": PASSWORD, "next": next_url},
    )


def operator_sign_in(operator, device) -> Client:
    """A browser on the platform's host signed in as `operator`: password, then a code."""
    client = Client(HTTP_HOST="localhost")
    password_step(client, operator)
    response = client.post(
        "/operator/login/code/", {"code": code_for(device), "next": "/operator/"}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    return client
