"""The OpenAPI document and the documentation page."""

import re

from django.test import Client


def test_openapi_document_is_3_1(db):
    response = Client().get("/api/v2/openapi.json")

    schema = response.json()
    assert response.status_code == 200
    assert schema["openapi"] == "3.1.0"
    assert schema["info"]["version"] == "2.0.0"
    paths = schema["paths"]
    assert set(paths["/api/v2/services/{agency_service_id}"]) == {
        "get",
        "put",
        "delete",
    }
    assert "get" in paths["/api/v2/services"]


def test_openapi_describes_request_body(db):
    schema = Client().get("/api/v2/openapi.json").json()

    put = schema["paths"]["/api/v2/services/{agency_service_id}"]["put"]
    body = put["requestBody"]["content"]["application/json"]["schema"]
    assert body["additionalProperties"] is False
    assert "name_zh" in body["required"]
    names = {parameter["name"] for parameter in put["parameters"]}
    assert {"agency_service_id", "If-Match"} <= names


def test_sandbox_has_own_document(db):
    schema = Client().get("/api/sandbox/v2/openapi.json").json()

    assert "/api/sandbox/v2/services" in schema["paths"]


def test_docs_page_loads_nothing_external(db):
    response = Client().get("/api/v2/docs")

    page = response.content.decode()
    assert response.status_code == 200
    assert "/api/v2/services/{agency_service_id}" in page
    assert "<script" not in page
    assert not re.search(r"(src|href)=\"https?://", page)
    assert "default-src 'none'" in response["Content-Security-Policy"]
