"""Validation errors of a service record, per field, in Chinese and English.

An error stores a stable code and parameters. The text is made when asked
for, in the active language or in both site languages, so the API can send
both and the back office can show the reader's own.
"""

import dataclasses
from typing import Any

from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

# The key of errors that concern the record as a whole, as in Django forms.
NON_FIELD = "__all__"
SITE_LANGUAGES = ("zh-hant", "en")

MESSAGES: dict[str, Promise] = {
    "required": _("%(field)s is required."),
    "not_text": _("%(field)s must be text."),
    "not_list": _("%(field)s must be a list of text values."),
    "too_long": _("%(field)s has %(length)d characters, but the maximum is %(max)d."),
    "forbidden_character": _(
        "%(field)s contains the control or invisible character %(codepoint)s at "
        "position %(position)d. Remove it and send the text again."
    ),
    "line_break": _(
        "%(field)s must be one line: remove the line break or tab at position "
        "%(position)d."
    ),
    "not_https": _("%(field)s must be an absolute address that starts with https://."),
    "url_credentials": _(
        "%(field)s must not contain a user name or password. Send the public address."
    ),
    "invalid_url": _("%(field)s is not a valid web address."),
    "invalid_email": _("%(field)s is not a valid email address."),
    "invalid_phone": _(
        "%(field)s is not a valid phone number. Use digits, spaces, +, -, "
        "parentheses and # before an extension."
    ),
    "unknown_term": _(
        "%(field)s contains the unknown value “%(value)s”. Allowed values: %(allowed)s."
    ),
    "too_many": _("%(field)s has %(count)d entries, but the maximum is %(max)d."),
    "empty_entry": _("Entry %(position)d of %(field)s is empty."),
    "unknown_field": _(
        "%(field)s is not a field of a service. Remove it or correct its spelling."
    ),
    "not_an_object": _("The service data must be an object with one member per field."),
    "duplicate_service_id": _(
        "%(field)s “%(value)s” is already used by another service of this "
        "agency. Update that service instead of creating a new one."
    ),
    "invalid_service_id": _(
        "%(field)s may contain only letters, digits and . _ : - (at most "
        "%(max)d characters) and must start with a letter or digit."
    ),
}


@dataclasses.dataclass(frozen=True)
class FieldError:
    """One problem with one field. ``params`` may contain lazy labels."""

    field: str
    code: str
    params: dict[str, Any] = dataclasses.field(default_factory=dict)

    def message(self) -> str:
        """Return the error as a sentence in the active language."""
        values = {
            key: str(value) if isinstance(value, Promise) else value
            for key, value in self.params.items()
        }
        return str(MESSAGES[self.code]) % values

    def messages(self) -> dict[str, str]:
        """Return the error as a sentence in each site language."""
        texts = {}
        for language in SITE_LANGUAGES:
            with translation.override(language):
                texts[language] = self.message()
        return texts


class ServiceValidationError(ValueError):
    """Invalid service data, with one error per problem. Nothing was stored."""

    def __init__(self, errors: list[FieldError]) -> None:
        self.errors = errors
        super().__init__(f"{len(errors)} invalid field(s)")

    def __str__(self) -> str:
        return " ".join(error.message() for error in self.errors)

    def by_field(self) -> dict[str, list[dict[str, str]]]:
        """Return the errors per field key, each with its code and both texts."""
        result: dict[str, list[dict[str, str]]] = {}
        for error in self.errors:
            entry = {"code": error.code, **error.messages()}
            result.setdefault(error.field, []).append(entry)
        return result
