"""The work order state machine: every allowed transition, in one table.

``TRANSITIONS[action] = (states it may start from, state it leads to)``; ``None`` as the target
keeps the state (escalation moves an order up the ladder without changing what is being done
with it). ``transition_check`` is the one guard every service calls; an action not allowed from
the order's state raises ``IllegalTransition`` with a sentence saying why.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from linli.orders.models import Status

S = Status

# Orders nobody has finished yet: they have a time limit and can escalate.
OPEN_STATES = frozenset(
    {
        S.SUBMITTED,
        S.ACCEPTED,
        S.REOPENED,
        S.DISPATCHED,
        S.OPENED,
        S.TAKEN,
        S.IN_PROGRESS,
        S.WHISTLED,
    }
)
# Not yet in anybody's hands: the requester may still cancel.
CANCELLABLE = frozenset({S.SUBMITTED, S.ACCEPTED, S.REOPENED, S.DISPATCHED, S.OPENED})
ESCALATABLE = frozenset(OPEN_STATES - {S.WHISTLED})
WHISTLEABLE = frozenset({S.SUBMITTED, S.ACCEPTED, S.REOPENED, S.DISPATCHED, S.OPENED})

TRANSITIONS: dict[str, tuple[frozenset[str], str | None]] = {
    "submit": (frozenset({""}), S.SUBMITTED),
    "accept": (frozenset({S.SUBMITTED, S.REOPENED}), S.ACCEPTED),
    "return": (frozenset({S.SUBMITTED, S.REOPENED}), S.RETURNED),
    "dispatch": (frozenset({S.ACCEPTED}), S.DISPATCHED),
    "open": (frozenset({S.ACCEPTED}), S.OPENED),
    "take": (frozenset({S.DISPATCHED, S.OPENED}), S.TAKEN),
    "start": (frozenset({S.TAKEN}), S.IN_PROGRESS),
    "finish": (frozenset({S.IN_PROGRESS}), S.DONE),
    "rate": (frozenset({S.DONE}), S.RATED),
    "reopen": (frozenset({S.RATED, S.CLOSED}), S.REOPENED),
    "close": (frozenset({S.RATED, S.ANSWERED}), S.CLOSED),
    "cancel": (CANCELLABLE, S.CANCELLED),
    "escalate": (ESCALATABLE, None),
    "whistle": (WHISTLEABLE, S.WHISTLED),
    "answer": (frozenset({S.WHISTLED}), S.ANSWERED),
    # The follow-up question days after the rating ("是否仍已解决？"): no state change.
    "followup": (frozenset({S.RATED, S.CLOSED}), None),
}

# What each action is called on buttons and in messages (a verb).
ACTION_LABELS = {
    "submit": gettext_lazy("Submit"),
    "accept": pgettext_lazy("work order", "Accept"),
    "return": gettext_lazy("Return to the requester"),
    "dispatch": gettext_lazy("Dispatch"),
    "open": gettext_lazy("Open for volunteers"),
    "take": gettext_lazy("Take"),
    "start": gettext_lazy("Start the work"),
    "finish": gettext_lazy("Finish"),
    "rate": gettext_lazy("Rate"),
    "reopen": gettext_lazy("Reopen"),
    "close": gettext_lazy("Close the order"),
    "cancel": pgettext_lazy("work order", "Cancel"),
    "escalate": gettext_lazy("Escalate a level"),
    "whistle": gettext_lazy("Whistle a department"),
    "answer": gettext_lazy("Answer"),
    "followup": gettext_lazy("Answer the follow-up"),
}


class IllegalTransition(ValidationError):
    """The action is not allowed from the order's current state."""


def allowed_from(action: str, status: str) -> bool:
    sources, _target = TRANSITIONS[action]
    return status in sources


def transition_check(action: str, status: str) -> str:
    """The state *action* leads to from *status*; raise IllegalTransition if not allowed."""
    if action not in TRANSITIONS:
        raise IllegalTransition(_("Unknown action: %(action)s.") % {"action": action})
    sources, target = TRANSITIONS[action]
    if status not in sources:
        raise IllegalTransition(
            _("An order that is “%(status)s” cannot be “%(action)s”.")
            % {"status": Status(status).label, "action": ACTION_LABELS[action]},
            code="illegal_transition",
        )
    return target or status
