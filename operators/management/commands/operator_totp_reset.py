"""An operator lost their authenticator app or passkeys and their recovery codes: remove them
all, so that their next sign-in sets up a new second factor. Run by whoever runs the platform
(audited)."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from operators.services import operator_totp_reset


class Command(BaseCommand):
    help = (
        "Remove an operator's authenticator app, passkeys and recovery codes (they set up a new "
        "second factor)."
    )

    def add_arguments(self, parser):
        parser.add_argument("email")

    def handle(self, *args, email, **options):
        operator = get_user_model().objects.filter(email__iexact=email, is_staff=True).first()
        if operator is None:
            raise CommandError(f"No operator {email}.")
        if operator_totp_reset(operator=operator, actor="manage.py operator_totp_reset"):
            self.stdout.write(f"{operator.email} sets up a new second factor at next sign-in.")
        else:
            self.stdout.write(f"{operator.email} had no second factor.")
