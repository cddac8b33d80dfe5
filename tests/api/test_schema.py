"""The OpenAPI 3 schema is valid and documents every Read API endpoint; the docs page is served
from our own static files, under the Content-Security-Policy."""

import re

import pytest
import yaml
from django.urls import get_resolver
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema

pytestmark = pytest.mark.django_db

PATHS = {
    "/api/v1/people/",
    "/api/v1/people/{person_id}/",
    "/api/v1/people/{person_id}/events/",
    "/api/v1/events/",
    "/api/v1/groups/",
    "/api/v1/groups/{group_id}/",
    "/api/v1/segments/",
    "/api/v1/segments/{segment_id}/",
}


def test_the_schema_validates_against_the_openapi_3_specification():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    validate_schema(schema)  # raises on any departure from the OpenAPI 3.0 JSON schema
    assert schema["openapi"].startswith("3.")
    assert set(schema["paths"]) == PATHS
    assert set(schema["components"]["securitySchemes"]) == {"apiKey", "session"}


def test_every_endpoint_documents_only_get_with_its_errors_and_pagination():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    for path, item in schema["paths"].items():
        assert set(item) - {"parameters"} == {"get"}, path
        responses = item["get"]["responses"]
        assert {"200", "401", "403", "404", "429"} <= set(responses), path
        if not re.search(r"\{\w+\}/$", path):
            params = {p["name"] for p in item["get"]["parameters"]}
            assert {"after", "before", "limit"} <= params, path
    people = {p["name"] for p in schema["paths"]["/api/v1/people/"]["get"]["parameters"]}
    assert {"q", "group", "audience", "missing_email", "segment", "filter"} <= people
    events = {p["name"] for p in schema["paths"]["/api/v1/events/"]["get"]["parameters"]}
    assert {"type", "name", "since", "until", "hidden"} <= events


def test_the_schema_url_serves_it_to_the_signed_in_browser_and_anyone(client, owner_client):
    for c in (client, owner_client):
        response = c.get("/api/v1/schema/")
        assert response.status_code == 200
        schema = yaml.safe_load(response.content)
        validate_schema(schema)
        assert set(schema["paths"]) == PATHS


def test_the_docs_page_loads_swagger_ui_from_our_own_static_files(owner_client):
    response = owner_client.get("/api/v1/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    sources = re.findall(r'<script[^>]*src="([^"]+)"', html)
    styles = re.findall(r'<link[^>]*href="([^"]+)"', html)
    assert sources and styles
    assert all(url.startswith("/") and not url.startswith("//") for url in sources + styles)
    # No inline script: the policy runs only files from this origin.
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>\s*\S", html)
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]


def test_the_api_namespace_holds_the_documented_endpoints_the_schema_and_the_docs():
    api = get_resolver().namespace_dict["api"][1]
    assert {p.name for p in api.url_patterns} == {
        "people", "person", "person-events", "events", "groups", "group", "segments", "segment",
        "schema", "docs",
    }  # fmt: skip


def test_only_the_docs_page_may_load_data_images(owner_client):
    docs = owner_client.get("/api/v1/docs/")["Content-Security-Policy"]
    directives = {d.split()[0]: d.split()[1:] for d in docs.split("; ")}
    assert directives["img-src"] == ["'self'", "https:", "http:", "data:"]
    assert directives["script-src"] == directives["style-src"] == ["'self'"]
    for url in ("/api-keys/", "/people/"):
        assert "data:" not in owner_client.get(url)["Content-Security-Policy"]


def test_the_docs_start_up_script_is_served_by_the_view_as_javascript(owner_client):
    response = owner_client.get("/api/v1/docs/?script=")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/javascript")
    assert "/api/v1/schema/" in response.content.decode()
