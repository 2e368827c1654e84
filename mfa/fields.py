from __future__ import annotations

from django.db import models

from mfa.crypto import secret_open, secret_seal


class EncryptedTextField(models.TextField):
    """Text sealed in the database (mfa.crypto), plain in Python. Not searchable: each save
    seals with a fresh random IV."""

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return secret_open(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return secret_seal(value)
