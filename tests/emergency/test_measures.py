"""The measure-link registry: an event's page and the portal banner show the buttons other
capabilities registered for the measures the event runs, and only those."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.test import Client
from django.urls import reverse

from linli.emergency import measures
from linli.emergency import services as em
from tests.factories import World

pytestmark = pytest.mark.django_db


@pytest.fixture
def probe_links() -> Iterator[None]:
    saved = list(measures._LINKS)
    # Only the probes: installed capabilities (linli.health) register their own links too.
    measures._LINKS[:] = []
    measures.register(
        measures.MeasureLink(
            "tests",
            "PROBE-WB",
            measures.workbench_url("emergency:risk_areas"),
            perm="emergency.view",
        )
    )
    measures.register(
        measures.MeasureLink(
            "supplies", "PROBE-OFF", measures.workbench_url("emergency:risk_areas")
        )
    )
    measures.register(
        measures.MeasureLink(
            "tests",
            "PROBE-PORTAL",
            measures.workbench_url("emergency:portal_home", event_arg=False),
            portal=True,
        )
    )
    yield
    measures._LINKS[:] = saved


def test_event_page_shows_links_of_its_measures_only(world: World, probe_links: None) -> None:
    event = em.event_declare(
        actor=None,
        name="演练",
        kind="epidemic",
        areas=[world.community],
        measures=["arrivals", "tests"],
        is_drill=True,
    )
    c = Client()
    c.force_login(world.head)
    body = c.get(reverse("emergency:event_detail", args=[event.pk])).content.decode()
    assert "PROBE-WB" in body and reverse("emergency:risk_areas", args=[event.pk]) in body
    assert "PROBE-OFF" not in body and "PROBE-PORTAL" not in body
    links = measures.links_for(event, portal=True)
    assert [x["label"] for x in links] == ["PROBE-PORTAL"]
    # A link whose permission the viewer lacks is left out; an ended event shows none.
    assert measures.links_for(event, allowed=lambda perm: False) == []
    em.event_end(actor=None, event=event)
    event.refresh_from_db()
    assert measures.links_for(event) == []
