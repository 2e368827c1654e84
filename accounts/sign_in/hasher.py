from __future__ import annotations

import base64

import nacl.bindings
import nacl.exceptions
from django.contrib.auth.hashers import Argon2PasswordHasher

# libsodium's argon2id picks AVX2 / AVX-512 code at run time: the same hash as the reference
# implementation argon2-cffi ships, in about half the CPU time.
_SODIUM_ARGON2ID = nacl.bindings.crypto_pwhash_ALG_ARGON2ID13
_SODIUM_SALT_BYTES = nacl.bindings.crypto_pwhash_SALTBYTES  # 16


class TunedArgon2PasswordHasher(Argon2PasswordHasher):
    """argon2id at the OWASP minimum (19 MiB, 2 passes, 1 lane) instead of Django's default
    (100 MiB, 8 lanes) or PBKDF2's 237 ms. Hashes made with other parameters are upgraded at
    the next sign-in.

    The work runs in libsodium, whose vectorised argon2id costs about 12 ms per verify on one
    core where argon2-cffi's portable build costs 24 ms. The parameters, and so the cost of a
    guess to an attacker with an optimised implementation, are unchanged; the stored format
    is the standard `$argon2id$v=19$m=19456,t=2,p=1$...` string, which argon2-cffi verifies
    too and which this hasher verifies whichever library wrote it.
    """

    algorithm = "argon2"
    time_cost = 2
    memory_cost = 19456
    parallelism = 1
    # libsodium takes 16-byte salts: 16 characters of Django's 62-letter alphabet (95 bits).
    # A salt only has to be unique, and 95 bits are far beyond any collision.
    salt_entropy = 90

    def encode(self, password: str, salt: str) -> str:
        raw_salt = salt.encode()
        if len(raw_salt) != _SODIUM_SALT_BYTES or self.parallelism != 1:
            # A caller with its own salt length: argon2-cffi, same format.
            return super().encode(password, salt)
        digest = nacl.bindings.crypto_pwhash_alg(
            32,
            password.encode(),
            raw_salt,
            self.time_cost,
            self.memory_cost * 1024,
            _SODIUM_ARGON2ID,
        )
        return (
            f"{self.algorithm}$argon2id$v=19$m={self.memory_cost},t={self.time_cost},"
            f"p={self.parallelism}${_b64(raw_salt)}${_b64(digest)}"
        )

    def verify(self, password: str, encoded: str) -> bool:
        algorithm, rest = encoded.split("$", 1)
        assert algorithm == self.algorithm
        if not rest.startswith("argon2id$v=19$"):
            # argon2i or argon2d hashes from another system: the reference implementation.
            return super().verify(password, encoded)
        try:
            return nacl.bindings.crypto_pwhash_str_verify(("$" + rest).encode(), password.encode())
        except nacl.exceptions.InvalidkeyError:
            return False


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii").rstrip("=")
