"""`linli seed_volunteers` fills the demo community once, through the services."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from linli.register.demo import seed_demo
from linli.volunteers.models import (
    ClaimStatus,
    PointsClaim,
    PointsEntry,
    Reward,
    Volunteer,
    VolunteerStatus,
)

pytestmark = pytest.mark.django_db


def test_needs_the_demo_first() -> None:
    with pytest.raises(CommandError):
        call_command("seed_volunteers")


def test_seeds_once() -> None:
    seed_demo(people=1000, progress=lambda _: None)
    call_command("seed_volunteers")
    assert Volunteer.objects.filter(status=VolunteerStatus.APPROVED).count() == 6
    assert Volunteer.objects.filter(status=VolunteerStatus.APPLIED).count() == 2
    assert PointsClaim.objects.filter(status=ClaimStatus.PENDING).count() == 2
    assert list(PointsEntry.objects.values_list("delta", flat=True)) == [30, 30, 30, 30]
    assert Reward.objects.count() == 4
    call_command("seed_volunteers")
    assert Volunteer.objects.count() == 8 and PointsEntry.objects.count() == 4
