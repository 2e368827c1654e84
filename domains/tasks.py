from __future__ import annotations

from ciam.celery import app
from domains.services import custom_domain_verify_try


@app.task(bind=True, acks_late=True)
def custom_domain_verify(self, custom_domain_id: int, series: int) -> None:
    """One try at the proof of a custom domain, in the schema of the tenant that added it; the
    next try is this task again after the backoff the service says (README, "Custom
    domains"). A newer series ("Check now") makes the older one's tries stop."""
    delay = custom_domain_verify_try(custom_domain_id=custom_domain_id, series=series)
    if delay is not None:
        custom_domain_verify.apply_async((custom_domain_id, series), countdown=delay)
