"""The OpenAPI document and the docs page that renders it."""

import re

import pytest

SLOTS = "/api/v1/services/{service_id}/slots"


@pytest.fixture
def openapi(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.json()


@pytest.mark.django_db
def test_openapi_is_version_3_1_and_describes_slots(openapi):
    assert openapi["openapi"] == "3.1.0"
    operation = openapi["paths"][SLOTS]["get"]
    parameters = {p["name"]: p for p in operation["parameters"]}
    assert set(parameters) == {"service_id", "start", "end", "tz", "duration", "seats"}
    assert parameters["tz"]["required"] is True
    assert parameters["seats"]["schema"]["minimum"] == 1
    ok = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert ok == {"$ref": "#/components/schemas/SlotsOut"}
    slot = openapi["components"]["schemas"]["SlotOut"]
    assert set(slot["properties"]) == {"start", "end", "start_utc", "end_utc", "remaining"}


@pytest.mark.django_db
def test_openapi_gives_errors_the_problem_media_type(openapi):
    responses = openapi["paths"][SLOTS]["get"]["responses"]
    for status in ("400", "404", "422"):
        assert list(responses[status]["content"]) == ["application/problem+json"]
    schema = responses["422"]["content"]["application/problem+json"]["schema"]
    assert schema == {"$ref": "#/components/schemas/ValidationProblem"}


@pytest.mark.django_db
def test_docs_page_loads_swagger_from_our_static_files_under_a_strict_policy(client):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    policy = response["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["script-src"].split() == ["'self'"]
    assert "unsafe" not in policy
    html = response.content.decode()
    scripts = re.findall(r'<script[^>]*src="([^"]+)"', html)
    assert scripts == ["/static/ninja/swagger-ui-bundle.js", "/static/ninja/swagger-ui-init.js"]
    assert re.findall(r'<link[^>]*stylesheet[^>]*href="([^"]+)"', html) == [
        "/static/ninja/swagger-ui.css"
    ]
    # The only inline script is the JSON settings block, which is not executed.
    inline = re.findall(r"<script(?![^>]*src=)([^>]*)>", html)
    assert inline == [' type="application/json" id="swagger-settings"']
    assert "//" not in "".join(scripts)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    [
        "/static/ninja/swagger-ui-bundle.js",
        "/static/ninja/swagger-ui-init.js",
        "/static/ninja/swagger-ui.css",
    ],
)
def test_swagger_assets_are_served(client, path):
    response = client.get(path)
    assert response.status_code == 200
    response.close()
