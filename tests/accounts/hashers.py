"""The production argon2id hasher, counting its work: tests read how many hashes a request
cost (a sign-in must cost exactly one)."""

from __future__ import annotations

from accounts.sign_in.hasher import TunedArgon2PasswordHasher


class CountingArgon2PasswordHasher(TunedArgon2PasswordHasher):
    hashes = 0

    def encode(self, password, salt):
        CountingArgon2PasswordHasher.hashes += 1
        return super().encode(password, salt)

    def verify(self, password, encoded):
        CountingArgon2PasswordHasher.hashes += 1
        return super().verify(password, encoded)
