"""/api/v1/docs works offline: Swagger UI comes from our own static files, nothing from a CDN."""

import re

import pytest

pytestmark = pytest.mark.django_db


def test_api_docs_load_swagger_from_our_static_files_only(cast, login):
    c = login(cast.county_doctor)
    html = c.get("/api/v1/docs").content.decode()
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert any(s.endswith("swagger-ui-bundle.js") for s in sources)
    assert all(not s.startswith(("http://", "https://", "//")) for s in sources), sources


def test_the_swagger_bundle_is_served(cast, login, client):
    c = login(cast.county_doctor)
    html = c.get("/api/v1/docs").content.decode()
    bundle = next(s for s in re.findall(r'src="([^"]+)"', html) if s.endswith("swagger-ui-bundle.js"))
    response = client.get(bundle)
    assert response.status_code == 200
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert b"SwaggerUIBundle" in body
