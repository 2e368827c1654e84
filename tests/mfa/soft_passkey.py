"""A software authenticator for server-side tests: makes and uses a passkey (ES256, "none"
attestation) the way a browser and authenticator answer navigator.credentials.create() and
get(), built from python-fido2's own data classes."""

from __future__ import annotations

import json
import os
from hashlib import sha256

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from fido2.cose import ES256
from fido2.utils import websafe_decode, websafe_encode
from fido2.webauthn import (
    AttestationObject,
    AttestedCredentialData,
    AuthenticatorData,
    CollectedClientData,
)

FLAG = AuthenticatorData.FLAG


class SoftPasskey:
    def __init__(self, *, origin: str, counts: bool = False, synced: bool = True):
        self.origin = origin
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.credential_id = os.urandom(32)
        self.user_handle = b""
        self.rp_id = ""
        self.counter = 0
        self.counts = counts  # a security key's counter; synced passkeys keep 0
        self.synced = synced

    def _flags(self, *, verified: bool) -> int:
        flags = FLAG.UP
        if verified:
            flags |= FLAG.UV
        if self.synced:
            flags |= FLAG.BE | FLAG.BS
        return flags

    def create(self, options: dict, *, verified: bool = True, origin: str = "") -> str:
        public_key = options["publicKey"]
        self.rp_id = public_key["rp"]["id"]
        self.user_handle = websafe_decode(public_key["user"]["id"])
        client_data = CollectedClientData.create(
            type="webauthn.create",
            challenge=websafe_decode(public_key["challenge"]),
            origin=origin or self.origin,
        )
        credential = AttestedCredentialData.create(
            bytes(16), self.credential_id, ES256.from_cryptography_key(self.key.public_key())
        )
        auth_data = AuthenticatorData.create(
            sha256(self.rp_id.encode()).digest(),
            self._flags(verified=verified) | FLAG.AT,
            self.counter,
            credential,
        )
        attestation = AttestationObject.create("none", auth_data, {})
        return json.dumps(
            {
                "id": websafe_encode(self.credential_id),
                "rawId": websafe_encode(self.credential_id),
                "type": "public-key",
                "response": {
                    "clientDataJSON": websafe_encode(client_data),
                    "attestationObject": websafe_encode(attestation),
                    "transports": ["internal", "hybrid"],
                },
                "clientExtensionResults": {"credProps": {"rk": True}},
            }
        )

    def get(
        self, options: dict, *, verified: bool = True, origin: str = "", counter: int | None = None
    ) -> str:
        public_key = options["publicKey"]
        if self.counts:
            self.counter += 1
        client_data = CollectedClientData.create(
            type="webauthn.get",
            challenge=websafe_decode(public_key["challenge"]),
            origin=origin or self.origin,
        )
        auth_data = AuthenticatorData.create(
            sha256(public_key["rpId"].encode()).digest(),
            self._flags(verified=verified),
            self.counter if counter is None else counter,
        )
        signature = self.key.sign(auth_data + client_data.hash, ec.ECDSA(hashes.SHA256()))
        return json.dumps(
            {
                "id": websafe_encode(self.credential_id),
                "rawId": websafe_encode(self.credential_id),
                "type": "public-key",
                "response": {
                    "clientDataJSON": websafe_encode(client_data),
                    "authenticatorData": websafe_encode(auth_data),
                    "signature": websafe_encode(signature),
                    "userHandle": websafe_encode(self.user_handle),
                },
                "clientExtensionResults": {},
            }
        )
