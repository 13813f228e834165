"""Deciding which of two records' values a merge keeps, per field group, by the trust rules.

For each field group (name; national ID with birth date and sex; phone; residency; notes) the
two records either agree, or only one has a value (it is taken), or they conflict. A conflict
is decided by the policy of the deepest area above the kept person's grid that has one:
``newest`` takes the value confirmed last (``Person.provenance``), ``trusted`` takes the value
whose source ranks higher (``SourceTrust``). Anything else — no policy, equal ranks, unknown
dates — is left undecided: a worker decides it in the review queue.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from linli.areas.models import Area
from linli.linkage.models import FieldGroup, SourceTrust, TrustPolicy, TrustPolicyKind
from linli.register.models import Person

KEEP = "keep"
ABSORB = "absorb"

#: The provenance key that speaks for each group (register services stamp these names).
PROVENANCE_KEY: dict[str, str] = {
    FieldGroup.NAME: "name",
    FieldGroup.IDENTITY: "national_id",
    FieldGroup.CONTACT: "phone",
    FieldGroup.RESIDENCY: "residency",
    FieldGroup.NOTES: "notes",
}


@dataclass(frozen=True)
class Decision:
    """What a merge does with one field group: take ``keep``'s or ``absorb``'s value, or
    ``None`` (undecided: a worker must choose). ``why`` is a code the pages translate."""

    group: str
    choice: str | None
    why: str

    @property
    def conflict(self) -> bool:
        return self.why not in ("same", "only_keep", "only_absorb", "joined")


def group_value(person: Person, group: str) -> Any:
    """The comparable value of one field group (empty parts are ``None``)."""
    if group == FieldGroup.NAME:
        return person.name or None
    if group == FieldGroup.IDENTITY:
        parts = (person.id_bidx or None, person.birth_date, person.sex or None)
        return parts if any(parts) else None
    if group == FieldGroup.CONTACT:
        return person.phone_bidx or None
    if group == FieldGroup.RESIDENCY:
        return person.residency or None
    return person.notes.strip() or None


def _identity_agrees(a: tuple[Any, ...], b: tuple[Any, ...]) -> bool:
    """Identity parts agree when no part is set on both sides with different values."""
    return all(x is None or y is None or x == y for x, y in zip(a, b, strict=True))


def _identity_richer(a: tuple[Any, ...], b: tuple[Any, ...]) -> bool:
    return sum(x is not None for x in b) > sum(x is not None for x in a)


@dataclass
class TrustRules:
    """The rules in force for one grid: a policy per group and a rank per (source, group)."""

    policies: dict[str, str]
    ranks: dict[tuple[str, str], int]

    def rank(self, source: str, group: str) -> int | None:
        if (source, group) in self.ranks:
            return self.ranks[(source, group)]
        return self.ranks.get((source, ""))

    @classmethod
    def for_grid(cls, grid: Area) -> TrustRules:
        """Rules from the grid and its ancestors; a deeper area overrides a higher one."""
        chain = [*grid.ancestors(), grid]
        depth = {a.pk: i for i, a in enumerate(chain)}
        policies: dict[str, tuple[int, str]] = {}
        for p in TrustPolicy.objects.filter(area_id__in=depth):
            d = depth[p.area_id]
            if p.field_group not in policies or d > policies[p.field_group][0]:
                policies[p.field_group] = (d, p.policy)
        ranks: dict[tuple[str, str], tuple[int, int]] = {}
        for t in SourceTrust.objects.filter(area_id__in=depth):
            key = (t.source, t.field_group)
            d = depth[t.area_id]
            if key not in ranks or d > ranks[key][0]:
                ranks[key] = (d, t.rank)
        return cls(
            policies={g: v for g, (_d, v) in policies.items()},
            ranks={k: v for k, (_d, v) in ranks.items()},
        )


def _decide_conflict(group: str, keep: Person, absorb: Person, rules: TrustRules) -> Decision:
    key = PROVENANCE_KEY[group]
    pk, pa = keep.provenance.get(key) or {}, absorb.provenance.get(key) or {}
    policy = rules.policies.get(group)
    if policy == TrustPolicyKind.NEWEST:
        tk, ta = pk.get("confirmed_at") or "", pa.get("confirmed_at") or ""
        if tk and ta and tk != ta:
            return Decision(group, KEEP if tk > ta else ABSORB, "newest")
        return Decision(group, None, "undecided")
    if policy == TrustPolicyKind.TRUSTED:
        rk = rules.rank(pk.get("source") or "", group)
        ra = rules.rank(pa.get("source") or "", group)
        if rk is not None and ra is not None and rk != ra:
            return Decision(group, KEEP if rk > ra else ABSORB, "trusted")
        if rk is not None and ra is None:
            return Decision(group, KEEP, "trusted")
        if ra is not None and rk is None:
            return Decision(group, ABSORB, "trusted")
    return Decision(group, None, "undecided")


def resolve(keep: Person, absorb: Person, *, rules: TrustRules | None = None) -> list[Decision]:
    """One decision per field group for merging *absorb* into *keep*."""
    rules = rules if rules is not None else TrustRules.for_grid(keep.grid)
    decisions = []
    for group in FieldGroup.values:
        a, b = group_value(keep, group), group_value(absorb, group)
        if b is None:
            decisions.append(Decision(group, KEEP, "same" if a is None else "only_keep"))
        elif a is None:
            decisions.append(Decision(group, ABSORB, "only_absorb"))
        elif a == b:
            decisions.append(Decision(group, KEEP, "same"))
        elif group == FieldGroup.NOTES:
            decisions.append(Decision(group, KEEP, "joined"))
        elif group == FieldGroup.IDENTITY and _identity_agrees(a, b):
            # One side knows more (an ID where the other has only a birth date): take it.
            richer = _identity_richer(a, b)
            decisions.append(
                Decision(
                    group, ABSORB if richer else KEEP, "only_absorb" if richer else "only_keep"
                )
            )
        else:
            decisions.append(_decide_conflict(group, keep, absorb, rules))
    return decisions
