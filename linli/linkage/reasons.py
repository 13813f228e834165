"""What the engine's reason codes and the trust rules' decisions mean, in words a worker reads."""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

#: Engine reason codes (linli.linkage.engine.REASONS) → label.
REASON_LABELS: dict[str, Promise] = {
    "id_exact": _("same national ID"),
    "id_transposed": _("national ID with two digits swapped"),
    "id_one_digit": _("national ID one digit off"),
    "id_tail": _("same last four ID digits"),
    "id_differs": _("different national ID"),
    "name_exact": _("same name"),
    "name_pinyin": _("same name in pinyin"),
    "name_homophone": _("names that sound the same"),
    "name_near_pinyin": _("names that sound alike"),
    "name_similar": _("similar names"),
    "name_differs": _("different names"),
    "birth_exact": _("same birth date"),
    "birth_swapped": _("birth date with day and month swapped"),
    "birth_differs": _("different birth dates"),
    "birth_from_id": _("birth date read from the ID"),
    "phone_exact": _("same phone"),
    "phone_one_digit": _("phone one digit off"),
    "phone_tail": _("same last four phone digits"),
    "phone_changed": _("different phone"),
    "sex_differs": _("different sex"),
    "address_same": _("same address"),
    "address_similar": _("similar address"),
    "address_differs": _("different address"),
}

#: Reasons that speak against the pair (shown in another colour).
AGAINST = frozenset(
    {
        "id_differs",
        "name_differs",
        "birth_differs",
        "phone_changed",
        "sex_differs",
        "address_differs",
    }
)

#: Trust-rule decisions → label.
DECISION_LABELS: dict[str, Promise] = {
    "same": _("the same"),
    "only_keep": _("only one record has it"),
    "only_absorb": _("only one record has it"),
    "joined": _("both kept"),
    "newest": _("newest value (trust rule)"),
    "trusted": _("more trusted source (trust rule)"),
    "undecided": _("you decide"),
    "worker": _("chosen by a worker"),
    "worker_override": _("chosen by a worker against the rule"),
    "worker_default": _("kept record's value"),
}


def reason_labels(codes: list[str] | tuple[str, ...]) -> list[dict[str, object]]:
    """Reasons for a template: label and whether it speaks against the pair."""
    return [
        {"code": c, "label": REASON_LABELS.get(c, c), "against": c in AGAINST} for c in codes if c
    ]


#: Labels of the register choices this app added (PersonStatus.MERGED, EventKind.MERGED and
#: UNMERGED) and of its permissions: the same msgids, so this app's catalogue carries them.
REGISTER_LABELS: dict[str, Promise] = {
    "merged_status": _("Merged into another record"),
    "merged_event": _("Records merged"),
    "unmerged_event": _("Merge undone"),
}
