"""Characters no field can hold are refused before any view sees them (SECURITY item 39).

PostgreSQL text cannot hold a NUL character, and a lone surrogate (which JSON can spell as
"\\ud800") cannot be encoded to UTF-8 at all: either one reaching a query, a log row or a
template used to end in a 500. Bytes in a query string or a form that are not UTF-8 (a
percent-encoded surrogate among them) reach Django's decoder as U+FFFD, the replacement
character, so a value holding it is refused too: the client sent something we could not read.

Checked here: the path, every query-string and form name and value, and every string and key
of a JSON body. File uploads are the job of the code that reads them (guests' bulk CSV
reports such rows as rejected). The answer has the shape its caller reads: an OAuth error on
the machine endpoints under /o/, a Graph error on /api/, a page in the product's look
elsewhere.
"""

from __future__ import annotations

import json
import re

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import JsonResponse, UnreadablePostError
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import render
from django.utils.translation import gettext as _

from ciam.api import error_response
from ciam.handlers import uses_api_stack

# In strings that came from JSON (decoded strictly, so U+FFFD there is a real character).
_NUL_OR_SURROGATE = re.compile("[\x00\ud800-\udfff]")
# Browser pages under /o/: the person sees the answer, the app never does.
_OAUTH_PAGES = ("/o/authorize/", "/o/logout/")


def _form_problem(data) -> bool:
    # Decoded form data holds no surrogates (undecodable bytes became U+FFFD), so two
    # substring scans do: the token endpoint pays a few microseconds for them.
    for name, values in data.lists():
        if "\x00" in name or "\ufffd" in name:
            return True
        for value in values:
            if "\x00" in value or "\ufffd" in value:
                return True
    return False


def _json_problem(value) -> bool:
    if isinstance(value, str):
        return _NUL_OR_SURROGATE.search(value) is not None
    if isinstance(value, dict):
        return any(_json_problem(key) or _json_problem(item) for key, item in value.items())
    if isinstance(value, list):
        return any(_json_problem(item) for item in value)
    return False


def _body_problem(request) -> bool:
    content_type = request.content_type or ""
    if content_type == "application/x-www-form-urlencoded":
        return _form_problem(request.POST)
    if content_type == "multipart/form-data":
        # Machine endpoints take no uploads, and once parsed here, request.body could no
        # longer be read by a view that reads it (the invitations API answers "not JSON").
        return not uses_api_stack(request.path_info) and _form_problem(request.POST)
    if content_type == "application/json" or content_type.endswith("+json"):
        try:
            text = request.body.decode("utf-8")
        except UnicodeDecodeError:
            return True
        if "\\u" not in text:
            return False  # raw NUL is not valid JSON: the view refuses it as such
        try:
            return _json_problem(json.loads(text))
        except ValueError:
            return False  # the view answers that the body is not JSON
    return False


def request_has_bad_characters(request) -> bool:
    if "\x00" in request.path_info or _form_problem(request.GET):
        return True
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return False
    try:
        return _body_problem(request)
    except (
        MultiPartParserError, RequestDataTooBig, SuspiciousOperation, UnreadablePostError
    ):  # fmt: skip
        # A body that cannot be parsed is left to the view (and the CSRF check), as before.
        return False


def bad_characters_response(request):
    message = _("The request contained characters we cannot accept.")
    path = request.path_info
    if path.startswith("/api/"):
        return error_response(400, "invalidRequest", message)
    if path.startswith("/o/") and not path.startswith(_OAUTH_PAGES):
        response = JsonResponse(
            {"error": "invalid_request", "error_description": message}, status=400
        )
        response["Cache-Control"] = "no-store"
        return response
    context = {"error_code": "invalid_request" if path.startswith("/o/") else ""}
    return render(request, "errors/bad_characters.html", context, status=400)


class BadInputMiddleware:
    """Answers 400 to a request carrying NUL, a lone surrogate or undecodable bytes."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request_has_bad_characters(request):
            return bad_characters_response(request)
        return self.get_response(request)
