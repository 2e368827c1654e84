from __future__ import annotations

from ciam.celery import app
from tenants.provisioning import spare_schemas_fill


@app.task
def spare_schemas_refill() -> int:
    """Make spare schemas again after tenant_create took one (see tenants/provisioning.py)."""
    return spare_schemas_fill()
