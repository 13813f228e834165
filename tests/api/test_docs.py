"""The API documents itself: every operation described, docs page served without the internet."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.test import Client
from django.urls import reverse

from tests.api.conftest import API, ApiClient
from tests.factories import PASSWORD, World

pytestmark = pytest.mark.django_db

METHODS = ("get", "post", "put", "patch", "delete")


def test_docs_url_name() -> None:
    assert reverse("api:docs") == "/api/v1/docs/"
    assert reverse("api:openapi-json") == "/api/v1/openapi.json"


def test_api_root_leads_to_docs(db: None) -> None:
    response = Client().get("/api/v1/")
    assert (response.status_code, response["Location"]) == (302, "/api/v1/docs/")


def test_every_operation_is_documented(db: None) -> None:
    spec = ApiClient().get("/openapi.json").data
    assert spec["openapi"].startswith("3.")
    operations = [
        (method, path, op)
        for path, ops in spec["paths"].items()
        for method, op in ops.items()
        if method in METHODS
    ]
    # 18 of the register, 4 of work orders, 2 of report statistics, 6 of emergency mode,
    # 4 of passes and checkpoints, 4 of supplies and screening (read-only), 5 of tests and
    # vaccinations
    assert len(operations) == 43
    for method, path, op in operations:
        where = f"{method.upper()} {path}"
        summary, description = op.get("summary", ""), op.get("description", "")
        assert summary.strip(), f"{where} has no summary"
        # ninja invents a summary from the function name; ours are written by hand.
        invented = op["operationId"].split("_", 1)[-1].replace("_", " ").title()
        assert summary != invented, f"{where}: summary is the function name"
        assert len(description.strip()) >= 30, f"{where} has no real description"
        assert op.get("tags"), f"{where} has no tag"
        assert op.get("security") == [{"BearerTokenAuth": []}, {"SessionAuth": []}], where
    schemes = spec["components"]["securitySchemes"]
    assert schemes["BearerTokenAuth"] == {"type": "http", "scheme": "bearer"}
    assert schemes["SessionAuth"]["in"] == "cookie"


def test_openapi_names_no_outside_host(db: None) -> None:
    text = ApiClient().get("/openapi.json").text
    assert "http://" not in text and "https://" not in text


def _assert_local_only(html: str) -> None:
    assert "http://" not in html and "https://" not in html and "//cdn" not in html
    refs = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert refs, "the page loads its assets"
    for ref in refs:
        assert ref.startswith("/static/"), ref
        rel = ref.removeprefix("/static/")
        # linli/static/ (the vendored assets) counts too, whether or not a finder lists it yet.
        local = finders.find(rel) or (settings.BASE_DIR / "linli" / "static" / rel).is_file()
        assert local, f"{ref} is not in our static files"
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in refs
    assert "/static/vendor/swagger-ui/swagger-ui.css" in refs


def test_docs_page_for_anyone_uses_local_files_only(db: None) -> None:
    response = Client().get("/api/v1/docs/", headers={"Accept-Language": "en"})
    assert response.status_code == 200
    html = response.content.decode()
    _assert_local_only(html)
    assert '"url": "/api/v1/openapi.json"' in html
    assert '"validatorUrl": null' in html
    assert "Use the Authorize button" not in html or "Authorization: Bearer" in html


def test_docs_page_for_a_signed_in_worker(world: World) -> None:
    client = Client()
    assert client.login(username="grida", password=PASSWORD)
    response = client.get("/api/v1/docs/", headers={"Accept-Language": "en"})
    assert response.status_code == 200
    html = response.content.decode()
    _assert_local_only(html)
    assert "已登录为 网格员A" in html  # Chinese by default, like every page
    assert response.context["csrf"]
    assert f'data-token="{response.context["csrf"]}"' in html


def test_docs_page_in_chinese(db: None) -> None:
    html = Client().get("/api/v1/docs/", headers={"Accept-Language": "zh-hans"}).content.decode()
    assert "API documentation" not in html
    assert "API 文档" in html


def test_api_answers_in_chinese_by_default(db: None) -> None:
    answer = ApiClient().call("GET", "/persons", lang="zh-hans")
    assert answer.status == 401
    assert "Authentication required" not in answer.data["detail"]


def test_openapi_is_public_but_operations_are_not(db: None) -> None:
    assert ApiClient().get("/openapi.json").status == 200
    assert ApiClient().get(f"{API}/areas").status == 401
