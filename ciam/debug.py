"""What Django's debug page may show."""

from __future__ import annotations

import re

from django.views.debug import SafeExceptionReporterFilter


class CredentialsHiddenFilter(SafeExceptionReporterFilter):
    """Django's filter masks names with KEY, SECRET, PASS...; ours also masks those that hold
    connection URLs with credentials in them (DATABASE_URL, REDIS_URL, EMAIL_URL,
    CELERY_BROKER_URL, CACHES' LOCATION, DATABASES) in the settings and in the request's
    environment, which the development server fills from the process's."""

    hidden_settings = re.compile(
        "API|AUTH|TOKEN|KEY|SECRET|PASS|SIGNATURE|HTTP_COOKIE"
        "|URL|URI|DSN|DATABASE|REDIS|EMAIL|BROKER|CACHES|LOCATION",
        flags=re.IGNORECASE,
    )
