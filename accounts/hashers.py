from __future__ import annotations

from django.contrib.auth.hashers import Argon2PasswordHasher


class TunedArgon2PasswordHasher(Argon2PasswordHasher):
    """argon2id at the OWASP minimum (19 MiB, 2 passes, 1 lane): about 20-25 ms per verify on
    one core, instead of Django's default (100 MiB, 8 lanes) or PBKDF2's 237 ms. Hashes made
    with other parameters are upgraded at the next sign-in."""

    algorithm = "argon2"
    time_cost = 2
    memory_cost = 19456
    parallelism = 1
