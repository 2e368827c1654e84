"""Celery app whose tasks run in the schema of the tenant that queued them.

tenant-schemas-celery stamps each task with the current schema when it is
queued and switches the worker's connection to that schema before it runs.
"""

from __future__ import annotations

import os

from tenant_schemas_celery.app import CeleryApp

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ciam.settings")

app = CeleryApp("ciam")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
