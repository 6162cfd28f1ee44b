"""Errors of the integration API and their JSON form, in Chinese and English.

Every error response has the same body: a stable ``code``, a ``message`` in
both site languages and, for invalid input, ``fields`` with the errors per
field or query parameter in the form of ``ServiceValidationError.by_field``.
"""

from typing import Any

from django.http import JsonResponse
from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from govportal.services.errors import SITE_LANGUAGES

MESSAGES: dict[str, Promise] = {
    "missing_key": _(
        "An API key is required. Send it in the header Authorization: Bearer <key>."
    ),
    "invalid_key": _(
        "The API key is invalid. Check that it was copied completely, or ask the "
        "portal team for a new key."
    ),
    "key_in_query": _(
        "The API key must not be sent in the address, because logs and proxies "
        "record addresses. Send it in the Authorization header, and ask for a new "
        "key because this one may have been recorded."
    ),
    "revoked_key": _(
        "The API key was revoked or its integration is suspended. Ask the portal "
        "team for a new key."
    ),
    "expired_key": _(
        "The API key expired at %(expired_at)s. Ask the portal team for a new key."
    ),
    "wrong_environment": _(
        "The API key is not valid for this environment: %(environment)s keys work "
        "only at %(path)s."
    ),
    "rate_limited": _(
        "Too many requests with this API key: the limit is %(limit)d per minute. "
        "Retry after %(seconds)d seconds."
    ),
    "too_many_failures": _(
        "Too many requests with invalid API keys came from this address. Retry "
        "after %(seconds)d seconds."
    ),
    "unsupported_media_type": _(
        "The request body must be JSON in UTF-8, sent with the header "
        "Content-Type: application/json."
    ),
    "not_json": _(
        "The request body is not valid JSON: the error is at line %(line)d, "
        "column %(column)d."
    ),
    "body_too_large": _(
        "The request body has %(size)d bytes, but the maximum is %(max)d bytes."
    ),
    "too_deep": _(
        "The JSON is nested more than %(max)d levels deep. A service record needs "
        "at most two levels."
    ),
    "duplicate_key": _(
        "The JSON object contains the member “%(key)s” more than once. Send each "
        "member once."
    ),
    "not_a_number": _(
        "The JSON contains %(value)s, which is not a number that JSON allows."
    ),
    "number_too_long": _(
        "The JSON contains a number with more than %(max)d digits. No field of "
        "this API is a number that large."
    ),
    "validation_failed": _(
        "The request contains invalid data. The errors are listed per field."
    ),
    "not_found": _("This agency has no service with the ID “%(service_id)s”."),
    "stale_revision": _(
        "The service changed: its current revision is %(current)s, but If-Match "
        "names %(requested)s. Read the service again, apply your change and send "
        "it with If-Match: %(current)s."
    ),
    "invalid_integer": _("%(name)s must be a whole number from %(min)d to %(max)d."),
    "invalid_datetime": _(
        "%(name)s must be a date and time in ISO 8601 with a time zone, such as "
        "2025-01-31T09:00:00+08:00."
    ),
    "invalid_choice": _("%(name)s must be one of: %(allowed)s."),
    "unknown_parameter": _(
        "%(name)s is not a query parameter of this endpoint. Allowed parameters: "
        "%(allowed)s."
    ),
    "hint_online_without_url": _(
        "The methods include online application, but the online application "
        "address is empty. Reviewers return such services."
    ),
    "hint_url_without_online": _(
        "The online application address is set, but the methods do not include "
        "online application."
    ),
    "hint_short_content": _(
        "The Chinese service content has %(length)d characters. Reviewers "
        "usually return services that explain less than %(min)d characters."
    ),
    "hint_no_contact": _(
        "Neither a contact phone nor a contact email is given, so the public "
        "cannot ask about the service."
    ),
    "hint_no_category": _(
        "No life-event category is chosen, so the service is not listed under "
        "any category of the portal."
    ),
    "internal_error": _(
        "The server failed to handle the request. Try again later, and contact "
        "the portal team if the error continues."
    ),
}


def both_languages(code: str, params: dict[str, Any] | None = None) -> dict[str, str]:
    """Return the message of ``code`` as a sentence in each site language."""
    texts = {}
    for language in SITE_LANGUAGES:
        with translation.override(language):
            values = {
                key: str(value) if isinstance(value, Promise) else value
                for key, value in (params or {}).items()
            }
            texts[language] = str(MESSAGES[code]) % values
    return texts


def field_entry(code: str, params: dict[str, Any]) -> dict[str, str]:
    """Return one error of a field in the form ``{code, zh-hant, en}``."""
    return {"code": code, **both_languages(code, params)}


class ApiError(Exception):
    """A request the API rejects, with its HTTP status and JSON body."""

    def __init__(
        self,
        status: int,
        code: str,
        params: dict[str, Any] | None = None,
        *,
        fields: dict[str, list[dict[str, str]]] | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
        message: dict[str, str] | None = None,
    ) -> None:
        self.status = status
        # A message made elsewhere, such as a publishing error in both languages.
        self.message = message
        self.code = code
        self.params = params or {}
        self.fields = fields
        self.headers = headers or {}
        self.extra = extra or {}
        super().__init__(code)

    def body(self) -> dict[str, Any]:
        """Return the JSON body of the error response."""
        body: dict[str, Any] = {
            "code": self.code,
            "message": self.message or both_languages(self.code, self.params),
        }
        if self.fields is not None:
            body["fields"] = self.fields
        body.update(self.extra)
        return body

    def response(self) -> JsonResponse:
        """Return the error as a JSON response with its headers."""
        response = JsonResponse(self.body(), status=self.status)
        for name, value in self.headers.items():
            response[name] = value
        return response


def invalid_input(
    fields: dict[str, list[dict[str, str]]], extra: dict[str, Any] | None = None
) -> ApiError:
    """Return the 422 error for input with errors per field."""
    return ApiError(422, "validation_failed", fields=fields, extra=extra)
