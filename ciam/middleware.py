from __future__ import annotations

import functools
import re
import uuid

from csp.middleware import CSPMiddleware
from django.http import HttpResponse, JsonResponse
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.middleware import OTPMiddleware as DjangoOTPMiddleware

from ciam import health, metrics
from ciam.log_redaction import request_id_var

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class HealthMiddleware:
    """`/healthz`, `/readyz` and `/metrics` (protected: ciam.metrics) answer on any host,
    before tenant lookup."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path == "/healthz":
            request.metrics_route = "healthz"
            return HttpResponse("ok\n", content_type="text/plain")
        if request.path == "/readyz":
            request.metrics_route = "readyz"
            checks = health.readiness_checks()
            ready = all(check["ok"] for check in checks.values())
            return JsonResponse({"ready": ready, "checks": checks}, status=200 if ready else 503)
        if request.path == "/metrics":
            return metrics.metrics_response(request)
        return self.get_response(request)


class RequestIdMiddleware:
    """Gives every request an id (kept from X-Request-ID when well formed) for logs and audit."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request.request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        token = request_id_var.set(request.request_id)
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(token)
        response["X-Request-ID"] = request.request_id
        return response


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp's middleware, with the origins this page's flow may lead to added to
    `form-action` (ciam.csp.form_action_allow). django-csp documents subclassing and
    extending `get_policy_parts` for this."""

    def get_policy_parts(self, request, response, report_only=False):
        parts = super().get_policy_parts(request, response, report_only=report_only)
        origins = request.__dict__.get("form_action_origins")
        if origins:
            update = dict(parts.update or {})
            update["form-action"] = [*update.get("form-action", []), *sorted(origins)]
            parts.update = update
        return parts


class OTPMiddleware(DjangoOTPMiddleware):
    """django-otp's middleware, reading the session's verified device only when something
    asks for it (`request.user.is_verified()`: the console and operator pages), not on every
    request of a session signed in with MFA. The device is checked as django-otp checks it
    (it must be the user's and confirmed, else the session forgets it) when it is read."""

    def _verify_user_sync(self, request, user):
        self._init_user_fields(user)
        if not user.is_authenticated:
            return user
        persistent_id = request.session.get(DEVICE_ID_SESSION_KEY)
        if not persistent_id:
            return user
        load = functools.partial(self._device_load, request, user, persistent_id)
        # `user` is AuthenticationMiddleware's lazy object: __class__ is the user's class.
        if isinstance(getattr(user.__class__, "otp_device", None), property):
            user._otp_device_load = load  # read by accounts.models.User.otp_device
        else:
            user.otp_device = load()
        return user

    def _device_load(self, request, user, persistent_id):
        device = self._device_from_persistent_id(persistent_id)
        return self._finalize_device(request, user, device)
