"""Statistics over the API: JSON tables and DHIS2 dataValueSets, scoped to the caller."""

from __future__ import annotations

import pytest
from django.test import Client

from linli.audit.models import AuditEntry
from tests.factories import World

pytestmark = pytest.mark.django_db


def _client(user) -> Client:  # type: ignore[no-untyped-def]
    c = Client()
    c.force_login(user)
    return c


def test_grid_worker_gets_their_grid_and_404_beyond(rworld: World) -> None:
    w = rworld
    c = _client(w.a.worker)
    r = c.get(f"/api/v1/reports/statistics/{w.a.grid.pk}", {"template": "grid-population"})
    assert r.status_code == 200
    (table,) = r.json()["items"]
    assert (table["template"], table["area"], table["dimension"]) == (
        "grid-population",
        w.a.grid.code,
        "child_area",
    )
    (row,) = table["rows"]
    assert (row["key"], row["label"]) == (w.a.grid.code, "网格A")
    assert row["values"]["total"] == 3 and row["values"]["floating"] == 1
    assert row["values"]["elderly_alone"] == 1 and table["total"]["total"] == 3
    for area in (w.community, w.b.grid):
        assert c.get(f"/api/v1/reports/statistics/{area.pk}").status_code == 404
    assert AuditEntry.objects.filter(action="export", area=w.a.grid).count() == 1


def test_head_gets_all_tables_by_grid(rworld: World) -> None:
    w = rworld
    r = _client(w.head).get(f"/api/v1/reports/statistics/{w.community.pk}")
    items = {t["template"]: t for t in r.json()["items"]}
    assert sorted(items) == [
        "dwelling-occupancy",
        "grid-population",
        "key-groups-by-tag",
        "test-round-statistics",
        "vaccination-coverage-statistics",
        "volunteer-hours-by-grid",
        "work-order-by-category",
        "work-order-statistics",
    ]
    # No orders yet: an average with no rows is null, not 0.
    orders = items["work-order-statistics"]
    assert orders["total"]["submitted"] == 0 and orders["total"]["avg_rating"] is None
    pop = items["grid-population"]
    assert [(x["label"], x["values"]["total"]) for x in pop["rows"]] == [("网格A", 3), ("网格B", 3)]
    dwell = items["dwelling-occupancy"]
    assert dwell["total"]["total"] == 4 and dwell["total"]["occupied"] == 2
    tags = {x["key"]: x["values"]["total"] for x in items["key-groups-by-tag"]["rows"]}
    assert tags == {"elderly_alone": 2, "key_person": 2}
    assert items["key-groups-by-tag"]["total"]["total"] == 4


def test_dhis2_data_value_set(rworld: World) -> None:
    w = rworld
    r = _client(w.head).get(
        f"/api/v1/reports/statistics/{w.community.pk}/dhis2",
        {"template": "grid-population", "period": "202611"},
    )
    body = r.json()
    assert (body["period"], body["orgUnit"]) == ("202611", w.community.code)
    values = {(v["dataElement"], v["orgUnit"]): v for v in body["dataValues"]}
    assert values[("grid-population.total", w.a.grid.code)]["value"] == "3"
    assert values[("grid-population.total", w.community.code)]["value"] == "6"
    assert values[("grid-population.floating", w.b.grid.code)]["dataSet"] == "grid-population"
    assert len(body["dataValues"]) == 12 * 3
    tag = (
        _client(w.head)
        .get(
            f"/api/v1/reports/statistics/{w.community.pk}/dhis2", {"template": "key-groups-by-tag"}
        )
        .json()
    )
    coc = {(v["dataElement"], v["categoryOptionCombo"]): v["value"] for v in tag["dataValues"]}
    assert coc[("key-groups-by-tag.total", "key_person")] == "2"
    assert (
        _client(w.head)
        .get(f"/api/v1/reports/statistics/{w.community.pk}", {"template": "nope"})
        .status_code
        == 404
    )
