"""The integration API v2 (數位服務介接規範 v2): one ninja API per environment.

Production is served at ``/api/v2/`` and the sandbox at ``/api/sandbox/v2/``
with the same operations. Each checks the key (see ``auth``), reads the
body strictly (see ``body``) and hands validated data to its store.
"""

import logging
import math
from datetime import datetime
from typing import Any, cast

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext_lazy as _
from ninja import NinjaAPI, Router

from govportal.api.auth import ApiKeyAuth
from govportal.api.body import read_json_body
from govportal.api.conformance import rejected_report
from govportal.api.docs_page import EndpointList
from govportal.api.errors import ApiError, field_entry, invalid_input
from govportal.api.models import ApiKey, Environment
from govportal.api.schemas import (
    ErrorOut,
    ServiceData,
    ServiceList,
    ServiceOut,
    WithdrawalIn,
)
from govportal.api.stores import (
    ORDERINGS,
    STORES,
    ListFilter,
    ServiceRecord,
    Store,
    not_found,
)
from govportal.publishing.states import State
from govportal.services.errors import NON_FIELD, FieldError, ServiceValidationError
from govportal.services.fields import FieldSpec, Kind
from govportal.services.validation import (
    clean_text,
    validate_agency_service_id,
    validate_service,
)

logger = logging.getLogger(__name__)

VERSION = "2.0.0"
MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 20
# Bounds the OFFSET a client can make the database skip.
MAX_PAGE = 100_000
LIST_PARAMETERS = ("page", "page_size", "state", "updated_since", "ordering")
REASON = FieldSpec("reason", _("reason"), Kind.TEXT, 2000, required=True)

ERRORS = {
    400: ErrorOut,
    401: ErrorOut,
    404: ErrorOut,
    409: ErrorOut,
    413: ErrorOut,
    415: ErrorOut,
    422: ErrorOut,
    429: ErrorOut,
}
IF_MATCH = {
    "in": "header",
    "name": "If-Match",
    "required": False,
    "schema": {"type": "string", "example": '"r3"'},
    "description": "The revision the change is based on. A stale one gives 409.",
}


def _json_body(model: Any) -> dict[str, Any]:
    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": model.model_json_schema()}},
        }
    }


LIST_DOCS = {
    "parameters": [
        {"in": "query", "name": "page", "schema": {"type": "integer", "minimum": 1}},
        {
            "in": "query",
            "name": "page_size",
            "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE},
            "description": f"Values above {MAX_PAGE_SIZE} are capped.",
        },
        {
            "in": "query",
            "name": "state",
            "schema": {"type": "string", "enum": [s.value for s in State]},
        },
        {
            "in": "query",
            "name": "updated_since",
            "schema": {"type": "string", "format": "date-time"},
        },
        {
            "in": "query",
            "name": "ordering",
            "schema": {
                "type": "string",
                "enum": list(ORDERINGS),
            },
        },
    ]
}


def _respond(record: ServiceRecord, status: int = 200) -> JsonResponse:
    response = JsonResponse(record.as_json(), status=status)
    response["ETag"] = record.etag
    return response


def _key(request: HttpRequest) -> ApiKey:
    key = getattr(request, "auth", None)
    if not isinstance(key, ApiKey):
        raise RuntimeError("the operation ran without an authenticated key")
    return key


def build_router(store: Store) -> Router:
    """Return the service operations of one environment."""
    router = Router(tags=["services"])
    sandbox = store.environment == Environment.TEST

    @router.get(
        "/services",
        response={200: ServiceList, **ERRORS},
        summary="List the agency's services",
        description="Paginated, with filters on state and last change.",
        openapi_extra=LIST_DOCS,
    )
    def list_services(request: HttpRequest) -> JsonResponse:
        key = _key(request)
        filters, page, page_size = _list_parameters(request)
        offset = (page - 1) * page_size
        total, records = store.page(key, filters, offset, page_size)
        return JsonResponse(
            {
                "items": [record.summary() for record in records],
                "page": page,
                "page_size": page_size,
                "total": total,
                "pages": math.ceil(total / page_size),
            }
        )

    @router.get(
        "/services/{agency_service_id}",
        response={200: ServiceOut, **ERRORS},
        summary="Read a service",
        description="The current and the published revision, with the state.",
    )
    def get_service(request: HttpRequest, agency_service_id: str) -> JsonResponse:
        key = _key(request)
        record = store.get(key, agency_service_id)
        if record is None:
            raise not_found(key, agency_service_id)
        return _respond(record)

    @router.put(
        "/services/{agency_service_id}",
        response={200: ServiceOut, 201: ServiceOut, **ERRORS},
        summary="Create or replace a service",
        description=(
            "Idempotent. In production the service is submitted for central "
            "review and published only after approval. The sandbox stores it "
            "apart and returns a conformance report."
        ),
        openapi_extra={**_json_body(ServiceData), "parameters": [IF_MATCH]},
    )
    def put_service(request: HttpRequest, agency_service_id: str) -> JsonResponse:
        key = _key(request)
        data = read_json_body(request)
        try:
            service_id = validate_agency_service_id(agency_service_id)
            snapshot = validate_service(data)
        except ServiceValidationError as error:
            extra = (
                {"conformance": rejected_report(error.by_field())} if sandbox else {}
            )
            _log_rejection(key, agency_service_id, error)
            raise invalid_input(error.by_field(), extra) from None
        if_match = request.headers.get("If-Match")
        record, created = store.put(key, service_id, snapshot, if_match)
        return _respond(record, 201 if created else 200)

    @router.delete(
        "/services/{agency_service_id}",
        response={200: ServiceOut, **ERRORS},
        summary="Withdraw a service",
        description="Takes the service off the public site. A reason is required.",
        openapi_extra=_json_body(WithdrawalIn),
    )
    def delete_service(request: HttpRequest, agency_service_id: str) -> JsonResponse:
        key = _key(request)
        reason = _withdrawal_reason(read_json_body(request))
        return _respond(store.withdraw(key, agency_service_id, reason))

    return router


def _log_rejection(key: ApiKey, service_id: str, error: ServiceValidationError) -> None:
    logger.info(
        "api rejected write prefix=%s service=%r fields=%s",
        key.prefix,
        service_id[:100],
        sorted({problem.field[:60] for problem in error.errors}),
    )


def _withdrawal_reason(data: Any) -> str:
    if not isinstance(data, dict):
        raise _invalid_fields([FieldError(NON_FIELD, "not_an_object")])
    errors = [
        FieldError(str(name), "unknown_field", {"field": str(name)[:60]})
        for name in data
        if name != "reason"
    ]
    reason, reason_errors = clean_text(REASON, data.get("reason"))
    errors.extend(reason_errors)
    if errors:
        raise _invalid_fields(errors)
    return reason


def _invalid_fields(errors: list[FieldError]) -> ApiError:
    return invalid_input(ServiceValidationError(errors).by_field())


def _list_parameters(request: HttpRequest) -> tuple[ListFilter, int, int]:
    fields: dict[str, list[dict[str, str]]] = {}
    for name in request.GET:
        if name not in LIST_PARAMETERS:
            params = {"name": name[:60], "allowed": ", ".join(LIST_PARAMETERS)}
            fields[name[:60]] = [field_entry("unknown_parameter", params)]
    page = _integer(request, "page", 1, MAX_PAGE, 1, fields)
    page_size = _integer(request, "page_size", 1, None, DEFAULT_PAGE_SIZE, fields)
    state = request.GET.get("state") or None
    states = [choice.value for choice in State]
    if state is not None and state not in states:
        params = {"name": "state", "allowed": ", ".join(states)}
        fields["state"] = [field_entry("invalid_choice", params)]
    ordering = request.GET.get("ordering") or "agency_service_id"
    orderings = list(ORDERINGS)
    if ordering not in orderings:
        params = {"name": "ordering", "allowed": ", ".join(orderings)}
        fields["ordering"] = [field_entry("invalid_choice", params)]
    updated_since = _datetime(request, "updated_since", fields)
    if fields:
        raise invalid_input(fields)
    filters = ListFilter(state, updated_since, ordering)
    return filters, page, min(page_size, MAX_PAGE_SIZE)


def _integer(
    request: HttpRequest,
    name: str,
    minimum: int,
    maximum: int | None,
    default: int,
    fields: dict[str, list[dict[str, str]]],
) -> int:
    raw = request.GET.get(name)
    if raw is None:
        return default
    shown_max = maximum or 999_999_999
    if raw.isascii() and raw.isdigit() and len(raw) <= 9:
        value = int(raw)
        if value >= minimum and (maximum is None or value <= maximum):
            return value
    params = {"name": name, "min": minimum, "max": shown_max}
    fields[name] = [field_entry("invalid_integer", params)]
    return default


def _datetime(
    request: HttpRequest, name: str, fields: dict[str, list[dict[str, str]]]
) -> datetime | None:
    raw = request.GET.get(name)
    if raw is None:
        return None
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        value = None
    if value is None or value.tzinfo is None:
        fields[name] = [field_entry("invalid_datetime", {"name": name})]
        return None
    return value


def _api_error(request: HttpRequest, error: Any) -> HttpResponse:
    return cast(ApiError, error).response()


def _internal_error(request: HttpRequest, error: Any) -> HttpResponse:
    # The trace goes to the log only, never into the response.
    logger.exception("api request failed: %s %s", request.method, request.path)
    return ApiError(500, "internal_error").response()


def build_api(environment: Environment) -> NinjaAPI:
    """Return the ninja API of one environment with its own URL namespace."""
    title = (
        "govportal integration API (sandbox)"
        if environment == Environment.TEST
        else "govportal integration API"
    )
    api = NinjaAPI(
        title=title,
        version=VERSION,
        description=(
            "Services of the key's agency. Send the key as Authorization: "
            "Bearer <key> (or X-API-Key), and JSON bodies with Content-Type: "
            "application/json. Errors come in Chinese (zh-hant) and English."
        ),
        urls_namespace=f"api-v2-{environment.value}",
        auth=ApiKeyAuth(environment),
        docs=EndpointList(),
        docs_url="/docs",
        openapi_url="/openapi.json",
    )
    api.add_exception_handler(ApiError, _api_error)
    api.add_exception_handler(Exception, _internal_error)
    api.add_router("/", build_router(STORES[environment]))
    return api


production_api = build_api(Environment.PRODUCTION)
sandbox_api = build_api(Environment.TEST)
