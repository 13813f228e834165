"""Walk every page of every face with users of two sibling grids.

Every URL name must be classified below: an object page (it takes the id of something that
lives in a grid), a list page (it shows many things), or exempt (with the reason). A new page
that is not classified fails `test_every_url_is_classified`, so no page escapes the walk.

For object pages, grid A's users ask for grid B's objects with GET and POST: the answer is 404
(never 403, which would confirm the object exists) and nothing in the database changes. For
list pages, grid A's users see none of grid B's people, addresses or ID numbers.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from linli.accounts.models import RoleBinding, User
from linli.accounts.services import binding_grant
from linli.audit.models import AuditEntry
from linli.orders.models import OrderEvent, WorkOrder
from linli.register import services as reg
from linli.register.models import (
    CorrectionProposal,
    Household,
    Membership,
    Person,
    RegisterEvent,
)
from tests.emergency.walk import emergency_extras, emergency_snapshot
from tests.factories import PASSWORD, World, make_world
from tests.health.walk import health_extras, health_snapshot
from tests.intake.factories import batch_b, profile_b
from tests.notify.walk import notify_extras, notify_snapshot
from tests.passes.walk import passes_extras, passes_snapshot
from tests.screening.factories import screening_extras, screening_snapshot
from tests.supplies.factories import supplies_extras, supplies_snapshot
from tests.volunteers.factories import volunteer_extras

pytestmark = pytest.mark.django_db

IdOf = Callable[[World, dict[str, Any]], int]

# url name -> grid B's object of the kind the page expects (extra objects made in `extras`).
OBJECT_PAGES: dict[str, IdOf] = {
    "workbench:area_detail": lambda w, x: w.b.grid.pk,
    "workbench:estate_detail": lambda w, x: x["estate_b"].pk,
    "workbench:building_detail": lambda w, x: w.b.building.pk,
    "workbench:dwelling_detail": lambda w, x: w.b.dwelling.pk,
    "workbench:household_open": lambda w, x: w.b.dwelling.pk,
    "workbench:household_detail": lambda w, x: w.b.household.pk,
    "workbench:household_move": lambda w, x: w.b.household.pk,
    "workbench:person_detail": lambda w, x: w.b.householder.pk,
    "workbench:person_edit": lambda w, x: w.b.householder.pk,
    "workbench:person_reveal": lambda w, x: w.b.householder.pk,
    "workbench:person_confirm": lambda w, x: w.b.householder.pk,
    "workbench:person_move_out": lambda w, x: w.b.householder.pk,
    "workbench:person_death": lambda w, x: w.b.householder.pk,
    "workbench:person_move_house": lambda w, x: w.b.householder.pk,
    "workbench:correction_review": lambda w, x: x["correction_b"].pk,
    "workbench:user_detail": lambda w, x: w.b.worker.pk,
    "workbench:binding_revoke": lambda w, x: x["binding_b"].pk,
    "portal:correct": lambda w, x: w.b.member.pk,
    "linkage:candidate_merge": lambda w, x: x["candidate_b"].pk,
    "linkage:candidate_keep_apart": lambda w, x: x["candidate_b"].pk,
    "linkage:candidate_undo": lambda w, x: x["candidate_b_decided"].pk,
    "linkage:flag_action": lambda w, x: x["flag_b"].pk,
    "linkage:list_detail": lambda w, x: x["list_b"].pk,
    "linkage:list_report": lambda w, x: x["list_b"].pk,
    "linkage:list_run": lambda w, x: x["run_b"].pk,
    "linkage:list_run_progress": lambda w, x: x["run_b"].pk,
    "orders:order_detail": lambda w, x: x["order_b"].pk,
    "orders:order_action": lambda w, x: x["order_b"].pk,
    "orders:attachment": lambda w, x: x["order_b"].attachments.get().pk,
    "orders:portal_detail": lambda w, x: x["order_b"].pk,
    "orders:portal_action": lambda w, x: x["order_b"].pk,
    "volunteers:volunteer_review": lambda w, x: x["vol_applicant_b"].pk,
    "volunteers:volunteer_detail": lambda w, x: x["vol_volunteer_b"].pk,
    "volunteers:volunteer_status": lambda w, x: x["vol_volunteer_b"].pk,
    "volunteers:entry_reverse": lambda w, x: x["vol_entry_b"].pk,
    "volunteers:activity_detail": lambda w, x: x["vol_activity_b"].pk,
    "volunteers:signup_check_in": lambda w, x: x["vol_open_signup_b"].pk,
    "volunteers:claim_review": lambda w, x: x["vol_claim_b"].pk,
    "volunteers:reward_restock": lambda w, x: x["vol_reward_b"].pk,
    "volunteers:redemption_handle": lambda w, x: x["vol_redemption_b"].pk,
    "volunteers:me_signup": lambda w, x: x["vol_activity_b"].pk,
    "volunteers:me_check_in": lambda w, x: x["vol_activity_b"].pk,
    "volunteers:me_claim": lambda w, x: x["vol_signup_b"].pk,
    "volunteers:me_redeem": lambda w, x: x["vol_reward_b"].pk,
    "volunteers:me_redemption_cancel": lambda w, x: x["vol_redemption_b"].pk,
    "volunteers:claim_photo": lambda w, x: x["vol_claim_b"].pk,
    "volunteers:me_signup_cancel": lambda w, x: x["vol_open_signup_b"].pk,
    "reports:template_detail": lambda w, x: x["report_template_b"].pk,
    "reports:template_edit": lambda w, x: x["report_template_b"].pk,
    "reports:template_preview": lambda w, x: x["report_template_b"].pk,
    "reports:template_export": lambda w, x: x["report_template_b"].pk,
    "reports:template_copy": lambda w, x: x["report_template_b"].pk,
    "reports:render_detail": lambda w, x: x["report_render_b"].pk,
    "reports:render_download": lambda w, x: x["report_render_b"].pk,
    "reports:request_detail": lambda w, x: x["data_request_b"].pk,
    "emergency:event_detail": lambda w, x: x["event_b"].pk,
    "emergency:event_change": lambda w, x: x["event_b"].pk,
    "emergency:event_end": lambda w, x: x["event_b"].pk,
    "emergency:risk_areas": lambda w, x: x["event_b"].pk,
    "emergency:arrival_list": lambda w, x: x["event_b"].pk,
    "emergency:arrival_create": lambda w, x: x["event_b"].pk,
    "emergency:risk_area_edit": lambda w, x: x["risk_b"].pk,
    "emergency:arrival_detail": lambda w, x: x["arrival_b"].pk,
    "emergency:quarantine_detail": lambda w, x: x["quarantine_b"].pk,
    "emergency:checkin_create": lambda w, x: x["quarantine_b"].pk,
    "emergency:quarantine_extend": lambda w, x: x["quarantine_b"].pk,
    "emergency:quarantine_transfer": lambda w, x: x["quarantine_b"].pk,
    "emergency:quarantine_release": lambda w, x: x["quarantine_b"].pk,
    "emergency:certificate_pdf": lambda w, x: x["quarantine_b"].pk,
    "emergency:task_done": lambda w, x: x["task_b"].pk,
    "emergency:poster": lambda w, x: w.b.grid.pk,
    "emergency:portal_checkin": lambda w, x: x["quarantine_b"].pk,
    "emergency:portal_certificate": lambda w, x: x["quarantine_b"].pk,
    "emergency:person_measure": lambda w, x: w.b.member.pk,
    "passes:pass_detail": lambda w, x: x["pass_b"].pk,
    "passes:pass_action": lambda w, x: x["pass_b"].pk,
    "passes:resident_issue": lambda w, x: w.b.household.pk,
    "passes:gate": lambda w, x: x["checkpoint_b"].pk,
    "passes:gate_sync": lambda w, x: x["checkpoint_b"].pk,
    "passes:roster": lambda w, x: x["checkpoint_b"].pk,
    "passes:shift_action": lambda w, x: x["shift_b"].pk,
    "passes:swap_action": lambda w, x: x["swap_b"].pk,
    "passes:health_code": lambda w, x: w.b.member.pk,
    "passes:portal_pass": lambda w, x: x["pass_b"].pk,
    "intake:batch_detail": lambda w, x: batch_b(w).pk,
    "intake:batch_mapping": lambda w, x: batch_b(w).pk,
    "intake:batch_progress": lambda w, x: batch_b(w).pk,
    "intake:batch_preview": lambda w, x: batch_b(w).pk,
    "intake:batch_commit": lambda w, x: batch_b(w).pk,
    "intake:batch_rejected": lambda w, x: batch_b(w).pk,
    "intake:profile_delete": lambda w, x: profile_b(w).pk,
    "notify:mass_detail": lambda w, x: x["notify_mass_b"].pk,
    "notify:mass_progress": lambda w, x: x["notify_mass_b"].pk,
    "notify:inbox_read": lambda w, x: x["notify_inbox_b"].pk,
    "supplies:request_detail": lambda w, x: x["supply_request_b"].pk,
    "supplies:stock_detail": lambda w, x: x["stock_item_b"].pk,
    "supplies:stock_receive": lambda w, x: x["stock_item_b"].pk,
    "supplies:stock_issue": lambda w, x: x["stock_item_b"].pk,
    "supplies:stock_adjust": lambda w, x: x["stock_item_b"].pk,
    "supplies:movement_reverse": lambda w, x: x["stock_movement_b"].pk,
    "supplies:portal_new": lambda w, x: x["supply_quarantine_b"].pk,
    "supplies:portal_receive": lambda w, x: x["supply_request_b"].pk,
    "screening:campaign_detail": lambda w, x: x["campaign_b"].pk,
    "screening:target_detail": lambda w, x: x["target_b"].pk,
    "screening:target_record": lambda w, x: x["target_b"].pk,
    "screening:target_verify": lambda w, x: x["target_b"].pk,
    "screening:target_call": lambda w, x: x["target_b"].pk,
    "health:round_detail": lambda w, x: x["round_b"].pk,
    "health:round_missing": lambda w, x: x["round_b"].pk,
    "health:round_close": lambda w, x: x["round_b"].pk,
    "health:sampling": lambda w, x: x["round_b"].pk,
    "health:results": lambda w, x: x["round_b"].pk,
    "health:person": lambda w, x: w.b.member.pk,
    "health:alert_detail": lambda w, x: x["alert_b"].pk,
    "health:import_run": lambda w, x: x["import_run_b"].pk,
    "health:import_run_progress": lambda w, x: x["import_run_b"].pk,
    "health:import_run_rejects": lambda w, x: x["import_run_b"].pk,
}
EXTRA_KWARGS: dict[str, dict[str, str]] = {
    "workbench:person_reveal": {"field": "national_id"},
    "linkage:flag_action": {"action": "follow_up"},
    "orders:order_action": {"action": "accept"},
    "orders:portal_action": {"action": "cancel"},
    "passes:pass_action": {"action": "revoke"},
    "passes:shift_action": {"action": "finish"},
    "passes:swap_action": {"action": "accept"},
}

LIST_PAGES = [
    "workbench:home",
    "workbench:person_list",
    "workbench:correction_list",
    "workbench:audit_list",
    "workbench:user_list",
    "command:home",
    "portal:home",
    "linkage:review",
    "linkage:followups",
    "linkage:lists",
    "orders:board",
    "orders:stats",
    "orders:portal_list",
    "volunteers:home",
    "volunteers:registrations",
    "volunteers:volunteer_list",
    "volunteers:activity_list",
    "volunteers:claim_list",
    "volunteers:reward_list",
    "volunteers:redemption_list",
    "volunteers:rankings",
    "volunteers:rule_list",
    "volunteers:me",
    "volunteers:me_activities",
    "volunteers:me_points",
    "volunteers:me_store",
    "volunteers_portal:apply",
    "volunteers_portal:board",
    "volunteers_portal:store",
    "reports:home",
    "reports:request_list",
    "emergency:event_list",
    "emergency:quarantine_list",
    "emergency:task_list",
    "emergency:portal_home",
    "passes:home",
    "passes:pass_list",
    "passes:scan_list",
    "passes:duty",
    "passes:portal_home",
    "intake:batch_list",
    "intake:upload",
    "intake:profile_list",
    "notify:notification_list",
    "notify:inbox",
    "notify:portal_inbox",
    "supplies:request_board",
    "supplies:stock_list",
    "supplies:portal_list",
    "screening:campaign_list",
    "screening:my_targets",
    "health:round_list",
    "health:coverage",
    "health:unvaccinated",
    "health:alert_list",
    "health:import",
    "health:portal_mine",
]

EXEMPT = {
    # Sign-in and sign-out pages hold no register data.
    "workbench:login": "no register data",
    "workbench:logout": "no register data",
    "portal:login": "no register data",
    "portal:login_verify": "no register data",
    "portal:logout": "no register data",
    "set_language": "language switch",
    # Tags are one configuration for the deployment, not data of a grid.
    "workbench:tag_list": "deployment configuration",
    "workbench:tag_create": "deployment configuration",
    "workbench:tag_edit": "deployment configuration",
    "workbench:tag_toggle": "deployment configuration",
    # Creating a person/user takes its grid from the form; covered in tests/workbench.
    "workbench:person_create": "target chosen in the form; tested in tests/workbench",
    "workbench:user_create": "target chosen in the form; tested in tests/workbench",
    # Concern categories are one configuration for the deployment, like tags.
    "linkage:category_list": "deployment configuration",
    "linkage:category_create": "deployment configuration",
    "linkage:category_edit": "deployment configuration",
    # Starts a background search over the user's own scope; no object id (tests/linkage).
    "linkage:review_refresh": "acts on the user's own scope; tested in tests/linkage",
    "linkage:list_upload": "target chosen in the form; tested in tests/linkage",
    "orders:order_create": "target grid chosen in the form; tested in tests/orders",
    "orders:portal_new": "files in the resident's own grid only; tested in tests/orders",
    # Open311 answers JSON to API keys; walked across grids in tests/orders/test_open311.py.
    "orders:open311_services": "categories: deployment configuration",
    "orders:open311_requests": "API key scope; tested in tests/orders/test_open311.py",
    "orders:open311_request": "API key scope; tested in tests/orders/test_open311.py",
    "volunteers:volunteer_create": "target chosen in the form; tested in tests/volunteers",
    "volunteers:activity_create": "target chosen in the form; tested in tests/volunteers",
    # Report actions whose targets come from the form or the user's own scope.
    "reports:template_import": "owner chosen in the form among the user's nodes; tests/reports",
    "reports:render_create": "template and area chosen in the form; tested in tests/reports",
    "reports:request_create": "template and area chosen in the form; tested in tests/reports",
    "reports:request_render_due": "renders the user's own due requests; tested in tests/reports",
    "emergency:event_declare": "areas chosen in the form; tested in tests/emergency",
    "emergency:portal_phone": "no register data (phone code step)",
    "emergency:portal_code": "no register data (phone code step)",
    "emergency:arrive": "signed token names event and grid; tested in tests/emergency",
    "emergency:verify": "public by design: holds the public key only",
    "emergency:verify_online": "public by design: masked name only; tested in tests/emergency",
    "passes:checkpoint_create": "estate and grid chosen in the form; tested in tests/passes",
    "passes:portal_visitor": "for the resident's own household only; tested in tests/passes",
    # Work-order categories are one configuration for the deployment, like tags.
    "orders:category_list": "deployment configuration",
    "orders:category_create": "deployment configuration",
    "orders:category_edit": "deployment configuration",
    "notify:mass_new": "building or grid chosen in the form among the user's; tests/notify",
    "notify:inbox_read_all": "acts on the user's own inbox only; tested in tests/notify",
    "supplies:stock_item_create": "store chosen in the form; tested in tests/supplies",
    "screening:campaign_create": "area and source chosen in the form; tested in tests/screening",
    "health:round_open": "area chosen in the form; tested in tests/health",
    "health:import_rejects": "the user's own last refused rows, from their session",
}


def _names(resolver: URLResolver | None = None, prefix: str = "") -> list[str]:
    resolver = resolver or get_resolver()
    names: list[str] = []
    for p in resolver.url_patterns:
        if isinstance(p, URLResolver):
            if p.namespace == "api":
                continue  # the API walks its own operations (tests/api)
            ns = f"{prefix}{p.namespace}:" if p.namespace else prefix
            names += _names(p, ns)
        elif isinstance(p, URLPattern) and p.name:
            names.append(prefix + p.name)
    return names


@pytest.fixture(params=["A looks at B", "B looks at A"])
def world(request: pytest.FixtureRequest, db: None) -> World:
    """The two-grid world, from each side in turn: neither grid may see the other."""
    w = make_world()
    return w if request.param == "A looks at B" else dataclasses.replace(w, a=w.b, b=w.a)


def test_every_url_is_classified() -> None:
    known = set(OBJECT_PAGES) | set(LIST_PAGES) | set(EXEMPT)
    assert sorted(set(_names()) - known) == []


@pytest.fixture
def extras(world: World) -> dict[str, Any]:
    estate_b = reg.estate_create(actor=None, community=world.community, name="乙区小区")
    reg.building_create(actor=None, estate=estate_b, grid=world.b.grid, name="9号楼", floors=6)
    resident_b = User.objects.create(username="resident-b", person=world.b.householder)
    correction_b = reg.correction_propose(
        actor=resident_b, person=world.b.member, changes={"name": "李小乙"}
    )
    leader_a = User.objects.create_user(username="leader-a", password=PASSWORD)
    binding_grant(actor=None, user=leader_a, role="grid_leader", area=world.a.grid)
    resident_a = User.objects.create(username="resident-a", person=world.a.householder)
    from tests.orders.factories import order_in, photo

    order_b = order_in(world, "b", photos=[photo()])
    return {
        "order_b": order_b,
        "estate_b": estate_b,
        "correction_b": correction_b,
        "binding_b": RoleBinding.objects.get(user=world.b.worker),
        "leader_a": leader_a,
        "resident_a": resident_a,
        **_linkage_extras(world),
        **_report_extras(world),
        **volunteer_extras(world),
        **emergency_extras(world),
        **notify_extras(world),
        **supplies_extras(world),
        **screening_extras(world),
        **passes_extras(world),
        **health_extras(world),
    }


def _linkage_extras(world: World) -> dict[str, Any]:
    """Grid B's review-queue pairs (one decided), flag and list, and a pair across A and B,
    which only someone covering both grids may see."""
    from linli.linkage.models import (
        ConcernCategory,
        ConcernFlag,
        ListMatchRun,
        MergeCandidate,
        WatchList,
    )

    b = world.b

    def pair(left: Person, right: Person, **kw: Any) -> MergeCandidate:
        return MergeCandidate.objects.create(
            left=left,
            right=right,
            left_grid=left.grid,
            right_grid=right.grid,
            score=0.9,
            level="probable",
            reasons=["name_similar"],
            **kw,
        )

    twin = reg.person_create(actor=None, name=b.householder.name, grid=b.grid)
    category = ConcernCategory.objects.first()
    list_b = WatchList.objects.create(
        name="乙网格名单", area=b.grid, file_name="b.csv", file_sha256="0" * 64, counts={}
    )
    return {
        "candidate_b": pair(b.householder, b.member),
        "candidate_b_decided": pair(b.householder, twin, status="kept_apart"),
        "candidate_ab": pair(world.a.householder, b.householder),
        "flag_b": ConcernFlag.objects.create(
            person=b.member, category=category, reason="测试", grid=b.grid, watch_list=list_b
        ),
        "list_b": list_b,
        "run_b": ListMatchRun.objects.create(name="乙网格名单", area=b.grid, file_name="b.csv"),
    }


def _report_extras(world: World) -> dict[str, Any]:
    """Grid B's own report template, a render made for grid B and a data request for it."""
    from linli.reports import services as rep

    spec = {
        "kind": "ledger",
        "rowset": "register.person",
        "header": {"title": "乙网格名单"},
        "columns": [{"source": "name", "label": "姓名"}],
    }
    template = rep.template_create(actor=None, code="b-list", spec=spec, owner_area=world.b.grid)
    made = rep.render_request(
        actor=world.b.worker, template=template, area=world.b.grid, fmt="csv", enqueue=False
    )
    rep.render_run(render_id=made.pk)
    request = rep.data_request_create(
        actor=None,
        department="乙部门",
        template=template,
        area=world.b.grid,
        due_on=made.created_at.date(),
    )
    return {"report_template_b": template, "report_render_b": made, "data_request_b": request}


def _snapshot() -> tuple[Any, ...]:
    return (
        list(
            Person.objects.order_by("pk").values_list(
                "pk", "name", "status", "grid_id", "household_id", "provenance"
            )
        ),
        list(Household.objects.order_by("pk").values_list("pk", "status", "householder_id")),
        Membership.objects.filter(ended_on__isnull=False).count(),
        RegisterEvent.objects.count(),
        list(CorrectionProposal.objects.values_list("pk", "status")),
        list(RoleBinding.objects.values_list("pk", "is_active")),
        AuditEntry.objects.filter(action="reveal").count(),
        list(WorkOrder.objects.order_by("pk").values_list("pk", "status", "level", "assignee_id")),
        emergency_snapshot(),
        passes_snapshot(),
        health_snapshot(),
        OrderEvent.objects.count(),
        _linkage_snapshot(),
        notify_snapshot(),
        supplies_snapshot(),
        screening_snapshot(),
    )


def _linkage_snapshot() -> tuple[Any, ...]:
    from linli.linkage.models import ConcernFlag, MergeCandidate, PersonMerge

    return (
        list(MergeCandidate.objects.order_by("pk").values_list("pk", "status")),
        list(ConcernFlag.objects.order_by("pk").values_list("pk", "status", "note")),
        PersonMerge.objects.count(),
    )


def _clients(world: World, extras: dict[str, Any]) -> dict[str, Client]:
    clients = {}
    for label, user in (
        ("grid worker A", world.a.worker),
        ("grid leader A", extras["leader_a"]),
        ("resident A", extras["resident_a"]),
    ):
        c = Client()
        c.force_login(user)
        clients[label] = c
    return clients


def test_object_pages_answer_404_for_the_sibling_grid(world: World, extras: dict[str, Any]) -> None:
    """B's objects look exactly like objects that do not exist: same status, same place.

    A user who holds the page's permission gets 404; one who holds it nowhere may get the
    page's own 403 or a sign-in redirect, but the same for B's id as for a missing id.
    """
    before = _snapshot()
    failures = []
    data = {
        "reason": "核查",
        "occurred_on": "2026-01-01",
        "name": "越权",
        "accept": "1",
        "note": "x",
        "field": "national_id",
    }
    for label, client in _clients(world, extras).items():
        for name, id_of in OBJECT_PAGES.items():
            key = "person_id" if name == "portal:correct" else "pk"
            for pk in (id_of(world, extras),):
                url = reverse(name, kwargs={**EXTRA_KWARGS.get(name, {}), key: pk})
                missing = reverse(name, kwargs={**EXTRA_KWARGS.get(name, {}), key: 987654})
                for method in ("get", "post"):
                    call = getattr(client, method)
                    r, r0 = (
                        (call(url, data), call(missing, data))
                        if method == "post"
                        else (call(url), call(missing))
                    )
                    seen = (r.status_code, r.get("Location"))
                    if seen != (r0.status_code, r0.get("Location")) or r.status_code < 300:
                        failures.append(
                            f"{label} {method.upper()} {url} → {seen}, "
                            f"missing id → {r0.status_code}"
                        )
    # Those who hold the permission on their own grid get exactly 404 for B's objects.
    leader = _clients(world, extras)["grid leader A"]
    for name, id_of in OBJECT_PAGES.items():
        if name.startswith(("portal:", "orders:portal_", "supplies:portal_", "passes:portal_")):
            continue  # resident pages: staff are sent to the workbench, as for any id
        url = reverse(name, kwargs={**EXTRA_KWARGS.get(name, {}), "pk": id_of(world, extras)})
        for r in (leader.get(url), leader.post(url, data)):
            if r.status_code not in (404, 405):
                failures.append(f"grid leader A {url} → {r.status_code}, expected 404")
    assert failures == [], "\n".join(failures)
    assert _snapshot() == before


def test_list_pages_hold_nothing_of_the_sibling_grid(world: World, extras: dict[str, Any]) -> None:
    b = world.b
    markers = [
        b.householder.name,
        b.member.name,
        b.householder.id_masked,
        b.householder.phone_masked,
        b.dwelling.address,
        b.worker.username,
        "乙区小区",
        "乙网格名单",
        "乙部门",
        "乙网格口罩",
        "乙网格排查",
    ]
    failures = []
    clients = _clients(world, extras)
    for label, client in clients.items():
        for name in LIST_PAGES:
            r = client.get(reverse(name), follow=True)
            body = r.content.decode()
            leaked = [m for m in markers if m and m in body]
            if leaked:
                failures.append(f"{label} {name}: {leaked}")
    # Searching for B's people by every key finds nothing either. (After the list pages: a
    # search by a full ID is audited with the masked term the searcher typed, which the
    # searcher's own audit log then rightly shows.)
    b_link = reverse("workbench:person_detail", kwargs={"pk": b.householder.pk})
    for label, client in clients.items():
        for q in (
            b.householder.name,
            b.householder_id_number,
            b.householder_phone,
            b.householder_id_number[-4:],
            b.householder.name_initials,
        ):
            r = client.get(reverse("workbench:person_list"), {"q": q}, follow=True)
            body = r.content.decode()
            if f'href="{b_link}"' in body or b.householder.id_masked in body:
                failures.append(f"{label} search {q!r} found B's householder")
    assert failures == []


def test_sibling_worker_sees_own_grid(world: World, extras: dict[str, Any]) -> None:
    """The walk is not vacuous: A's worker does see A's own objects on the same pages."""
    c = Client()
    assert c.login(username=world.a.worker.username, password=PASSWORD)
    for name, pk in (
        ("workbench:person_detail", world.a.householder.pk),
        ("workbench:household_detail", world.a.household.pk),
        ("workbench:dwelling_detail", world.a.dwelling.pk),
        ("workbench:building_detail", world.a.building.pk),
        ("workbench:area_detail", world.a.grid.pk),
    ):
        r = c.get(reverse(name, kwargs={"pk": pk}))
        assert r.status_code == 200, name
    r = c.get(reverse("workbench:person_list"))
    assert world.a.householder.name in r.content.decode()
