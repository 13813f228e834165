"""The review queue (/w/linkage/review/): who sees which pair, merge, keep apart, undo."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from linli.linkage import services as svc
from linli.linkage.models import CandidateEvent, CandidateStatus, MergeCandidate, PersonMerge
from linli.register.models import Person, PersonStatus
from tests.factories import World

pytestmark = pytest.mark.django_db


def _client(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


def test_dedupe_queues_the_pairs_once(world: World, dups: dict[str, Any]) -> None:
    assert MergeCandidate.objects.count() == 2
    assert dups["pair_a"].reasons == ["name_exact", "phone_exact"]
    assert dups["pair_a"].level == "match"
    assert dups["pair_ab"].reasons == ["name_homophone", "phone_exact"]
    again = svc.candidates_find(actor=None, area=world.community)
    assert again == {"persons": 6, "pairs": 2, "new": 0}
    assert MergeCandidate.objects.count() == 2
    assert CandidateEvent.objects.filter(kind="found").count() == 2


def test_grid_worker_sees_only_pairs_inside_their_grid(world: World, dups: dict[str, Any]) -> None:
    body = _client(world.a.worker).get(reverse("linkage:review")).content.decode()
    assert f'id="candidate-{dups["pair_a"].pk}"' in body
    assert f'id="candidate-{dups["pair_ab"].pk}"' not in body
    assert world.b.householder.name not in body
    assert "姓名相同" in body and "电话相同" in body
    head = _client(world.head).get(reverse("linkage:review")).content.decode()
    assert f'id="candidate-{dups["pair_a"].pk}"' in head
    assert f'id="candidate-{dups["pair_ab"].pk}"' in head
    # Grid B's worker sees neither (pair_ab's right record lives in grid A).
    other = _client(world.b.worker).get(reverse("linkage:review")).content.decode()
    assert "candidate-" not in other


def test_merge_then_undo_from_the_page(world: World, dups: dict[str, Any]) -> None:
    c = _client(world.a.worker)
    pair = dups["pair_a"]
    r = c.post(reverse("linkage:candidate_merge", args=[pair.pk]), {"keep": "left"})
    assert r.status_code == 302
    pair.refresh_from_db()
    assert pair.status == CandidateStatus.MERGED and pair.decided_by == world.a.worker
    dup = Person.objects.get(pk=dups["dup_a"].pk)
    assert dup.status == PersonStatus.MERGED and dup.merged_into_id == world.a.householder.pk
    decided = c.get(reverse("linkage:review") + "?decided=1").content.decode()
    assert f'id="candidate-{pair.pk}"' in decided
    r = c.post(reverse("linkage:candidate_undo", args=[pair.pk]))
    assert r.status_code == 302
    pair.refresh_from_db()
    assert pair.status == CandidateStatus.OPEN and pair.merge is None
    assert Person.objects.get(pk=dup.pk).status == PersonStatus.LIVING
    assert PersonMerge.objects.get().undone_by == world.a.worker
    assert list(pair.events.values_list("kind", flat=True)) == ["found", "merge", "undo"]


def test_keep_apart_and_the_right_record_kept(world: World, dups: dict[str, Any]) -> None:
    c = _client(world.head)
    pair = dups["pair_ab"]
    c.post(
        reverse("linkage:candidate_merge", args=[pair.pk]), {"keep": "right", "take_name": "left"}
    )
    pair.refresh_from_db()
    kept = Person.objects.get(pk=dups["dup_b"].pk)
    absorbed = Person.objects.get(pk=world.b.householder.pk)
    assert kept.status == PersonStatus.LIVING and absorbed.merged_into_id == kept.pk
    assert kept.name == "李建国"  # the worker took the left record's name
    assert kept.id_masked == world.b.householder.id_masked  # the ID moved over
    c.post(reverse("linkage:candidate_keep_apart", args=[dups["pair_a"].pk]))
    assert MergeCandidate.objects.get(pk=dups["pair_a"].pk).status == CandidateStatus.KEPT_APART


def test_other_grid_gets_404_and_nothing_changes(world: World, dups: dict[str, Any]) -> None:
    c = _client(world.b.worker)
    pair = dups["pair_a"]
    for name in ("linkage:candidate_merge", "linkage:candidate_keep_apart"):
        assert c.post(reverse(name, args=[pair.pk])).status_code == 404
    pair.refresh_from_db()
    assert pair.status == CandidateStatus.OPEN
    assert PersonMerge.objects.count() == 0


def test_illegal_transitions_are_refused(world: World, dups: dict[str, Any]) -> None:
    pair = dups["pair_a"]
    with pytest.raises(ValidationError, match="不能撤销"):
        svc.candidate_undo(actor=None, candidate=pair)
    svc.candidate_keep_apart(actor=None, candidate=pair)
    with pytest.raises(ValidationError, match="不能合并"):
        svc.candidate_merge(actor=None, candidate=pair)
    # Undo on a pair still open is not on the page's list of decided pairs: 404.
    c = _client(world.a.worker)
    open_pair = dups["pair_ab"]
    assert c.post(reverse("linkage:candidate_undo", args=[open_pair.pk])).status_code == 404


def test_look_again_searches_the_workers_own_grid(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    """The button runs the background search over the worker's scope only (huey is
    immediate in tests): a duplicate in grid A is queued, one in grid B is not."""
    from linli.register import services as reg

    reg.person_create(actor=None, name="张建国", phone=world.a.householder_phone, grid=world.a.grid)
    reg.person_create(actor=None, name="李建国", phone=world.b.householder_phone, grid=world.b.grid)
    c = _client(world.a.worker)
    with django_capture_on_commit_callbacks(execute=True):
        r = c.post(reverse("linkage:review_refresh"))
    assert r.status_code == 302
    pairs = list(MergeCandidate.objects.values_list("left_grid_id", "right_grid_id"))
    assert pairs == [(world.a.grid.pk, world.a.grid.pk)]


def test_dedupe_command(world: World, capsys: Any) -> None:
    from django.core.management import call_command

    from linli.register import services as reg

    reg.person_create(actor=None, name="张建国", phone=world.a.householder_phone, grid=world.a.grid)
    call_command("dedupe", "--area", world.community.code)
    assert "共检查 5 人：发现疑似重复 1 对，新加入待审核 1 对。" in capsys.readouterr().out
    call_command("dedupe", "--area", world.community.code)
    assert "共检查 5 人：发现疑似重复 1 对，新加入待审核 0 对。" in capsys.readouterr().out
