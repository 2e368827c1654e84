"""Federation's nightly work: SAML IdPs' metadata read again from their URLs."""

from __future__ import annotations

from ciam.celery import app


@app.task
def saml_metadata_refresh_all() -> dict:
    """Beat (daily): queue, in every active tenant (read from the public tenant table, no
    schema asked here), the reading of its SAML IdPs' metadata URLs."""
    from tenants.work import active_tenants_queue

    return {"tenants": active_tenants_queue(tenant_saml_metadata_refresh)}


@app.task(acks_late=True, reject_on_worker_lost=True)
def tenant_saml_metadata_refresh() -> dict[str, int]:
    """Read again the metadata of this tenant's SAML IdPs configured by URL (the schema the
    task was queued in): a new signing certificate (a key rollover) is used before the IdP
    signs with it. Tenants without one answer from one query."""
    from federation.services import identity_providers_metadata_refresh_all

    return identity_providers_metadata_refresh_all()
