"""Schemas of the OpenAPI document.

The API reads request bodies itself (see ``body``) and validates them with
``validate_service``, so these models only describe the contract. The
request model is built from the field table, so it cannot drift from it.
"""

from datetime import datetime
from typing import Any, Literal

from ninja import Schema
from pydantic import BaseModel, ConfigDict, Field, create_model

from govportal.services.fields import FIELDS, FieldSpec, Kind
from govportal.services.vocabularies import slugs


def _annotation(spec: FieldSpec) -> Any:
    description = str(spec.label)
    if spec.kind == Kind.TERMS:
        choice = Literal[slugs(spec.terms)]  # type: ignore[valid-type]
        return (
            list[choice] | None,  # type: ignore[valid-type]
            Field(None, max_length=spec.max_items, description=description),
        )
    if spec.kind == Kind.KEYWORDS:
        return (
            list[str] | None,
            Field(None, max_length=spec.max_items, description=description),
        )
    extra: dict[str, Any] = {"max_length": spec.max_length}
    if spec.kind == Kind.URL:
        extra["pattern"] = "^https://"
    if spec.required:
        return (str, Field(..., description=description, **extra))
    return (str | None, Field(None, description=description, **extra))


ServiceData: type[BaseModel] = create_model(
    "ServiceData",
    __config__=ConfigDict(extra="forbid"),
    **{spec.key: _annotation(spec) for spec in FIELDS},
)


class WithdrawalIn(Schema):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(..., min_length=1, max_length=2000)


class Conformance(Schema):
    accepted_in_production: bool
    errors: dict[str, list[dict[str, str]]]
    english_gaps: list[dict[str, Any]]
    review_hints: list[dict[str, str]]


class ServiceOut(Schema):
    agency_service_id: str
    agency: str
    environment: Literal["production", "test"]
    state: str
    current_revision: int
    published_revision: int | None
    updated_at: datetime
    data: dict[str, Any]
    published_data: dict[str, Any] | None
    conformance: Conformance | None = Field(
        None, description="Only in the sandbox environment."
    )


class ServiceSummary(Schema):
    agency_service_id: str
    state: str
    current_revision: int
    published_revision: int | None
    updated_at: datetime
    name_zh: str
    name_en: str


class ServiceList(Schema):
    items: list[ServiceSummary]
    page: int
    page_size: int
    total: int
    pages: int


class ErrorOut(Schema):
    code: str
    message: dict[str, str] = Field(..., description="Keys zh-hant and en.")
    fields: dict[str, list[dict[str, str]]] | None = None
    current_revision: int | None = None
    conformance: Conformance | None = None
