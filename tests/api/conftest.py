import json
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client

from govportal.api.keys import issue_key
from govportal.api.models import ApiKey, Environment, SandboxService
from govportal.publishing.models import Revision, Transition
from govportal.services.models import Service
from tests.publishing.helpers import make_agency, make_user

PRODUCTION = "/api/v2"
SANDBOX = "/api/sandbox/v2"

PASSPORT = {
    "name_zh": "護照申請",
    "name_en": "Passport application",
    "content_zh": "申請普通護照，需本人親自到外交部領事事務局或各辦事處辦理，首次申請者需備妥相關文件。",
    "content_en": "Apply for an ordinary passport in person.",
    "methods": ["counter"],
    "contact_phone": "(02)2343-2888",
    "categories": ["public-information"],
}


@pytest.fixture(autouse=True)
def empty_cache():
    """Start every test with fresh rate-limit counters."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def agency(db):
    return make_agency()


@pytest.fixture
def other_agency(db):
    return make_agency(code="A09000000E", name="衛生福利部")


@pytest.fixture
def reviewer(db):
    return make_user("reviewer", reviewer=True)


@pytest.fixture
def live_key(agency) -> str:
    return issue_key(agency, Environment.PRODUCTION, label="live").secret


@pytest.fixture
def test_key(agency) -> str:
    return issue_key(agency, Environment.TEST, label="sandbox").secret


@pytest.fixture
def other_live_key(other_agency) -> str:
    return issue_key(other_agency, Environment.PRODUCTION).secret


@pytest.fixture
def other_test_key(other_agency) -> str:
    return issue_key(other_agency, Environment.TEST).secret


class Api:
    """A test client that sends JSON with a key to one environment."""

    def __init__(self, base: str, key: str | None) -> None:
        self.base = base
        self.key = key
        self.client = Client()

    def headers(self, extra: dict[str, str]) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.key}"} if self.key else {}
        headers.update(extra)
        return headers

    def get(self, path: str, query: dict[str, Any] | None = None, **headers: str):
        return self.client.get(
            self.base + path, query or {}, headers=self.headers(headers)
        )

    def send(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        raw: bytes | str | None = None,
        content_type: str = "application/json",
        if_match: str | None = None,
        **headers: str,
    ):
        if if_match is not None:
            headers["If-Match"] = if_match
        data = raw if raw is not None else json.dumps(body, ensure_ascii=False)
        call = getattr(self.client, method)
        return call(
            self.base + path,
            data=data,
            content_type=content_type,
            headers=self.headers(headers),
        )

    def put(self, service_id: str, body: Any = None, **kwargs: Any):
        return self.send("put", f"/services/{service_id}", body, **kwargs)

    def delete(self, service_id: str, body: Any = None, **kwargs: Any):
        return self.send("delete", f"/services/{service_id}", body, **kwargs)


@pytest.fixture
def live(live_key) -> Api:
    return Api(PRODUCTION, live_key)


@pytest.fixture
def sandbox(test_key) -> Api:
    return Api(SANDBOX, test_key)


def stored_state() -> dict[str, Any]:
    """Return every row the API writes, to compare before and after a request."""
    return {
        "services": list(Service.objects.values().order_by("pk")),
        "revisions": list(Revision.objects.values().order_by("pk")),
        "transitions": list(Transition.objects.values().order_by("pk")),
        "sandbox": list(SandboxService.objects.values().order_by("pk")),
        "keys": list(
            ApiKey.objects.values("pk", "revoked_at", "key_hash").order_by("pk")
        ),
    }


def assert_clean_error(response, secret: str | None = None) -> dict[str, Any]:
    """Check an error response is JSON with both languages and nothing leaked."""
    text = response.content.decode()
    assert response["Content-Type"].startswith("application/json")
    assert "Traceback" not in text
    assert 'File "' not in text
    if secret:
        assert secret not in text
        assert secret.rsplit("_", 1)[-1] not in text
    body = response.json()
    assert body["code"]
    assert body["message"]["en"]
    assert body["message"]["zh-hant"]
    return body
