"""Generated requests against every API operation, checked against the OpenAPI.

schemathesis loads each environment's OpenAPI document from the WSGI
application itself and calls the application in process, so no server or
network is involved. Every response must not be a server error (5xx), must
have a documented status code and content type, and its body must match the
documented schema.
"""

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from govportal.api.keys import issue_key
from govportal.api.models import Environment
from govportal.wsgi import application
from tests.api.conftest import PASSPORT, PRODUCTION, SANDBOX
from tests.publishing.helpers import make_agency

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# Fixed seeds keep the run reproducible. 25 examples per operation keep the
# module at about 10 s on a 2-core x86_64 machine.
GENERATION = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
SERVICE = "/services/{agency_service_id}"

production_schema = schemathesis.openapi.from_wsgi("/api/v2/openapi.json", application)
sandbox_schema = schemathesis.openapi.from_wsgi(
    "/api/sandbox/v2/openapi.json", application
)


@pytest.fixture
def api_headers(settings):
    """Issue a production and a test key for one agency and return their headers."""
    # Without this, the per-key limit turns most generated requests into 429.
    settings.API_RATE_LIMIT_PER_MINUTE = 1_000_000
    agency = make_agency()
    production = issue_key(agency, Environment.PRODUCTION).secret
    test = issue_key(agency, Environment.TEST).secret
    return {
        Environment.PRODUCTION: {"Authorization": f"Bearer {production}"},
        Environment.TEST: {"Authorization": f"Bearer {test}"},
    }


# Django's WSGI handler closes old database connections after each request.
# In-memory SQLite ignores that, but on PostgreSQL it would break the
# transaction that a plain django_db test runs in.
@pytest.mark.django_db(transaction=True)
@production_schema.parametrize()
@GENERATION
def test_production_conforms(case, api_headers):
    case.call_and_validate(headers=api_headers[Environment.PRODUCTION], checks=CHECKS)


@pytest.mark.django_db(transaction=True)
@sandbox_schema.parametrize()
@GENERATION
def test_sandbox_conforms(case, api_headers):
    case.call_and_validate(headers=api_headers[Environment.TEST], checks=CHECKS)


def call(schema, method, path, auth, service_id=None, **data):
    """Send one hand-written case through schemathesis and run every check."""
    if service_id is not None:
        data["path_parameters"] = {"agency_service_id": service_id}
    base = SANDBOX if schema is sandbox_schema else PRODUCTION
    case = schema[base + path][method].Case(**data)
    return case.call_and_validate(headers=auth, checks=CHECKS)


# Generated bodies almost never pass the service validation, so the success
# responses get few checks above. This walks one service through each of them.
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("schema", "environment"),
    [
        (production_schema, Environment.PRODUCTION),
        (sandbox_schema, Environment.TEST),
    ],
    ids=["production", "sandbox"],
)
def test_success_responses_conform(schema, environment, api_headers):
    auth = api_headers[environment]

    created = call(schema, "PUT", SERVICE, auth, "S-001", body=PASSPORT)
    assert created.status_code == 201

    replaced = call(schema, "PUT", SERVICE, auth, "S-001", body=PASSPORT)
    assert replaced.status_code == 200

    read = call(schema, "GET", SERVICE, auth, "S-001")
    assert read.status_code == 200

    listed = call(schema, "GET", "/services", auth, query={"page_size": 5})
    assert listed.status_code == 200
    assert listed.json()["total"] == 1

    stale = call(
        schema,
        "PUT",
        SERVICE,
        auth,
        "S-001",
        body=PASSPORT,
        headers={"If-Match": '"r0"'},
    )
    assert stale.status_code == 409

    withdrawn = call(
        schema, "DELETE", SERVICE, auth, "S-001", body={"reason": "Replaced by S-002."}
    )
    assert withdrawn.status_code == 200
