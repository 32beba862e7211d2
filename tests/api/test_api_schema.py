"""The OpenAPI document is served, valid, and names every operation after its function."""

import re

import pytest
from django.test import Client
from openapi_spec_validator import validate

from api import endpoints
from tests.api.conftest import document

pytestmark = pytest.mark.django_db


def test_the_document_is_served_without_a_session_and_is_valid_openapi_3(client: Client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    served = response.json()
    assert served["openapi"].startswith("3.")
    validate(served)
    assert served["paths"] == document()["paths"]


def test_every_operation_is_named_after_its_function_and_documents_its_refusals():
    for template, methods in document()["paths"].items():
        assert template.startswith("/api/v1/")
        for method, operation in methods.items():
            function = getattr(endpoints, operation["operationId"], None)
            assert callable(function), f"{method} {template}: {operation['operationId']}"
            # Reporting an external check's result takes a report token, nothing else does.
            scheme = (
                "ReportToken"
                if operation["operationId"] == "check_result_report"
                else "BearerToken"
            )
            assert operation["security"] == [{scheme: []}]
            refusals = {"400", "401", "403", "404"} | ({"409"} if method == "post" else set())
            assert refusals <= set(operation["responses"]), f"{method} {template}"
            for status in refusals:
                assert set(operation["responses"][status]["content"]) == {
                    "application/problem+json"
                }


def test_lists_share_one_page_shape():
    lists = 0
    for template, methods in document()["paths"].items():
        operation = methods.get("get", {})
        if not operation.get("operationId", "").endswith("_list"):
            continue
        lists += 1
        ok = operation["responses"]["200"]
        ref = ok["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
        schema = document()["components"]["schemas"][ref]
        assert set(schema["required"]) == {"count", "next", "results"}, template
        assert {"limit", "offset"} <= {p["name"] for p in operation["parameters"]}, template
    assert lists == 7


def test_the_docs_page_loads_only_local_files(client: Client):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger" in html.lower()
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources and all(s.startswith("/") for s in sources), sources
    for source in sources:
        if source.startswith("/static/"):
            assert client.get(source).status_code == 200, source


def test_a_request_without_a_token_is_a_401_problem(client: Client):
    response = client.get("/api/v1/repositories")
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    assert response["WWW-Authenticate"].startswith("Bearer")
    body = response.json()
    assert body["status"] == 401 and body["title"] == "Unauthorized"
    assert body["instance"] == "/api/v1/repositories"
