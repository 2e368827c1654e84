"""A task that exists only for tests: the worker imports it with --include."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import connection

from ciam.celery import app


@app.task
def send_probe_email(address: str) -> None:
    tenant = connection.tenant
    count = get_user_model().objects.count()
    send_mail(
        subject="probe",
        message=f"{tenant.name} has {count} users",
        from_email=None,
        recipient_list=[address],
    )
