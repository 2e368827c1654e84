from __future__ import annotations

import re
import uuid
from dataclasses import asdict
from http import HTTPStatus

from csp.constants import HEADER as CSP_HEADER
from csp.constants import HEADER_REPORT_ONLY as CSP_HEADER_REPORT_ONLY
from csp.middleware import CheckableLazyObject, CSPMiddleware
from csp.utils import build_policy
from django.conf import settings
from django.http import HttpResponse, JsonResponse

from ciam import health
from ciam.logging import request_id_var

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class HealthMiddleware:
    """`/healthz` and `/readyz` answer on any host, before tenant lookup."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path == "/healthz":
            return HttpResponse("ok\n", content_type="text/plain")
        if request.path == "/readyz":
            checks = health.readiness_checks()
            ready = all(check["ok"] for check in checks.values())
            return JsonResponse({"ready": ready, "checks": checks}, status=200 if ready else 503)
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
    """django-csp's middleware with the settings' policy built once per process.

    django-csp builds the header from the settings on every response (about 25 µs, a
    fiftieth of a token request). Here the policy from the settings is built once, with a
    placeholder where a request's nonce goes; a response with its own policy (the
    `csp_update`, `csp_replace` and `csp_override` decorators) is built as django-csp does.
    """

    _NONCE_MARK = "ciam-csp-nonce-mark"

    def __init__(self, get_response):
        super().__init__(get_response)
        self._policies: dict[tuple, str] = {}

    def process_response(self, request, response):
        if settings.DEBUG and response.status_code in (HTTPStatus.NOT_FOUND, 500):
            return response
        for report_only, header, setting in (
            (False, CSP_HEADER, "CONTENT_SECURITY_POLICY"),
            (True, CSP_HEADER_REPORT_ONLY, "CONTENT_SECURITY_POLICY_REPORT_ONLY"),
        ):
            parts = self.get_policy_parts(request, response, report_only=report_only)
            if parts.config is None and parts.update is None and parts.replace is None:
                policy = self._settings_policy(setting, report_only, parts.nonce)
            else:
                policy = build_policy(**asdict(parts), report_only=report_only)
            exempt_attribute = "_csp_exempt_ro" if report_only else "_csp_exempt"
            prefixes = (getattr(settings, setting, None) or {}).get("EXCLUDE_URL_PREFIXES") or ()
            if (
                policy
                and header not in response
                and getattr(response, exempt_attribute, False) is False
                and not request.path_info.startswith(tuple(prefixes))
            ):
                response[header] = policy
        if getattr(request, "_csp_nonce", None) is None:
            # As django-csp: a nonce asked for after the header is written is an error.
            request.csp_nonce = CheckableLazyObject(self._csp_nonce_post_response)
        return response

    def get_policy_parts(self, request, response, report_only=False):
        """django-csp's parts, with the origins this page's flow may lead to added to
        `form-action` (ciam.csp.form_action_allow)."""
        parts = super().get_policy_parts(request, response, report_only=report_only)
        origins = request.__dict__.get("form_action_origins")
        if origins:
            update = dict(parts.update or {})
            update["form-action"] = [*update.get("form-action", []), *sorted(origins)]
            parts.update = update
        return parts

    def _settings_policy(self, setting: str, report_only: bool, nonce: str | None) -> str:
        # Keyed by the settings object too, so that override_settings is honoured.
        key = (id(getattr(settings, setting, None)), report_only, nonce is not None)
        policy = self._policies.get(key)
        if policy is None:
            policy = build_policy(
                nonce=self._NONCE_MARK if nonce is not None else None, report_only=report_only
            )
            self._policies[key] = policy
        return policy.replace(self._NONCE_MARK, nonce) if nonce is not None else policy
