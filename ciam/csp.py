"""Where a page's forms may lead (the CSP `form-action` directive), decided per response.

Browsers apply `form-action` to every redirect that follows a form submission, so a POST
whose answer sends the person to another origin (an app's redirect URI, an invitation's
redirect URL) is blocked under `form-action 'self'`. The page that holds such a form names
the one origin its flow may lead to; ContentSecurityPolicyMiddleware adds it to the policy of
that response only (docs/security.md, "Content Security Policy").
"""

from __future__ import annotations

from urllib.parse import urlsplit


def url_origin(url: str) -> str | None:
    """The CSP source expression that allows `url`: its origin for http(s), its scheme for
    a native app's private-use scheme (`com.example.app:`), None for anything else."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme in ("http", "https"):
        if not parts.hostname or any(c in parts.netloc for c in " ;,'\"*"):
            return None
        port = f":{parts.port}" if parts.port else ""
        return f"{scheme}://{parts.hostname}{port}"
    if scheme and all(c.isalnum() or c in "+.-" for c in scheme) and "." in scheme:
        return f"{scheme}:"
    return None


def form_action_allow(request, url: str) -> None:
    """Let the forms of the page answering `request` lead to the origin of `url`. Call it only
    with a URL the flow in progress has validated (a registered redirect URI...)."""
    origin = url_origin(url)
    if origin is not None:
        request.__dict__.setdefault("form_action_origins", set()).add(origin)
