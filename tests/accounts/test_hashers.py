"""Password hashes: argon2id at the OWASP minimum in the standard format, readable by the
reference implementation both ways, and older parameters upgraded at the next sign-in."""

from __future__ import annotations

import argon2
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import (
    Argon2PasswordHasher,
    check_password,
    identify_hasher,
    make_password,
)
from django_tenants.utils import tenant_context

from accounts.sign_in.hasher import TunedArgon2PasswordHasher
from tests.helpers import PASSWORD, make_user, sign_in, tenant_client, unique_email

reference = argon2.PasswordHasher()


def test_new_hashes_are_owasp_minimum_argon2id_the_reference_implementation_accepts():
    encoded = make_password("a long and unusual passphrase")
    prefix, standard = encoded.split("$", 1)
    assert prefix == "argon2"
    assert standard.startswith("argon2id$v=19$m=19456,t=2,p=1$")
    # The hash our libsodium path wrote is the one argon2-cffi computes.
    assert reference.verify("$" + standard, "a long and unusual passphrase")
    assert not check_password("a long and unusual passphrasf", encoded)
    # Stored argon2 hashes are verified by this hasher too, not by Django's own argon2 class.
    assert isinstance(identify_hasher(encoded), TunedArgon2PasswordHasher)
    # Two hashes of one password differ: every one has its own salt.
    assert make_password("same password twice") != make_password("same password twice")


def test_hashes_written_by_the_reference_implementation_verify_without_an_upgrade():
    hasher = TunedArgon2PasswordHasher()
    written = "argon2" + argon2.PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1).hash(
        "a long and unusual passphrase"
    )
    assert hasher.verify("a long and unusual passphrase", written)
    assert not hasher.verify("A long and unusual passphrase", written)
    assert not hasher.must_update(written)


def test_a_malformed_hash_refuses_the_password():
    hasher = TunedArgon2PasswordHasher()
    assert not hasher.verify("anything", "argon2$argon2id$v=19$m=19456,t=2,p=1$garbage")


def test_a_hash_with_older_parameters_is_upgraded_at_sign_in(acme):
    user = make_user(acme, email=unique_email("upgrade"))
    django_default = Argon2PasswordHasher()
    with tenant_context(acme.tenant):
        get_user_model().objects.filter(pk=user.pk).update(
            password=django_default.encode(PASSWORD, django_default.salt())
        )
    assert sign_in(tenant_client(acme), user.email, PASSWORD)["Location"] == "/account/"
    with tenant_context(acme.tenant):
        stored = get_user_model().objects.get(pk=user.pk).password
    assert "$m=19456,t=2,p=1$" in stored
    assert sign_in(tenant_client(acme), user.email, PASSWORD)["Location"] == "/account/"
