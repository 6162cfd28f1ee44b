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
from tests.publishing.helpers import make_agency

import collections
STATS = collections.Counter()
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# Bounds each operation's run: the whole module takes well under a minute.
GENERATION = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)

production_schema = schemathesis.openapi.from_wsgi("/api/v2/openapi.json", application)
sandbox_schema = schemathesis.openapi.from_wsgi(
    "/api/sandbox/v2/openapi.json", application
)


@pytest.fixture
def api_headers(settings):
    """Issue a production and a test key for one agency; return their headers."""
    # The per-key limit would turn most generated requests into 429 answers.
    settings.API_RATE_LIMIT_PER_MINUTE = 1_000_000
    agency = make_agency()
    production = issue_key(agency, Environment.PRODUCTION).secret
    test = issue_key(agency, Environment.TEST).secret
    return {
        Environment.PRODUCTION: {"Authorization": f"Bearer {production}"},
        Environment.TEST: {"Authorization": f"Bearer {test}"},
    }


# The WSGI handler closes the database connection at the end of each request,
# which a test wrapped in one transaction cannot survive.
@pytest.mark.django_db
@production_schema.parametrize()
@GENERATION
def test_production_conforms(case, api_headers):
    r = case.call_and_validate(headers=api_headers[Environment.PRODUCTION], checks=CHECKS)
    import collections, sys; STATS[(case.method, r.status_code)] += 1
    sys.stderr.write(f"{case.method} {case.path} {r.status_code} {r.text[:150]}\n")


@pytest.mark.django_db
@sandbox_schema.parametrize()
@GENERATION
def test_sandbox_conforms(case, api_headers):
    case.call_and_validate(headers=api_headers[Environment.TEST], checks=CHECKS)
