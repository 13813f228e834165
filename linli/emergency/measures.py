"""Where each measure shows itself: a small registry other capabilities fill in.

An event turns measures on (``EmergencyEvent.measures``). Capabilities that implement a measure
(passes and checkpoints, tests and vaccinations, screening, supplies …) live in their own apps;
each registers, from its ``AppConfig.ready()``, the links the event page and the portal banner
show while an active event runs that measure. The emergency app never imports them.

The same capabilities close what an event opened when it ends: each registers a hook
(:func:`register_end_hook`) that ``emergency.services.event_end`` calls inside its transaction,
after the event is marked ended (passes stop verifying, duty shifts after the end are
cancelled …), and ``event_change`` when a running event stops the hook's measure. A hook keeps
every record and answers what it closed, for the event's audit entry.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.urls import reverse


@dataclass(frozen=True)
class MeasureLink:
    """One button: ``label`` (lazy, translated), a URL built from the event (workbench) or from
    nothing (portal), and the permission the viewer needs (workbench links only)."""

    measure: str
    label: Any
    url: Callable[[Any], str]
    perm: str = ""
    portal: bool = False
    # Portal links only: shown when this says so for the signed-in resident (e.g. only to a
    # household under quarantine); None shows the link to every resident the event covers.
    shown_to: Callable[[Any], bool] | None = None


_LINKS: list[MeasureLink] = []


def register(link: MeasureLink) -> None:
    """Add a link; registering the same measure/label/face twice keeps one (apps may reload)."""
    for known in _LINKS:
        if (known.measure, str(known.label), known.portal) == (
            link.measure,
            str(link.label),
            link.portal,
        ):
            return
    _LINKS.append(link)


def workbench_url(name: str, *, event_arg: bool = True) -> Callable[[Any], str]:
    """A URL builder for :class:`MeasureLink`: ``reverse(name, args=[event.pk])`` or
    ``reverse(name)``."""

    def build(event: Any) -> str:
        return reverse(name, args=[event.pk]) if event_arg else reverse(name)

    return build


def links_for(
    event: Any,
    *,
    portal: bool = False,
    allowed: Callable[[str], bool] | None = None,
    viewer: Any = None,
) -> list[dict[str, str]]:
    """The buttons of *event*'s measures for one face, in registration order; workbench links
    are kept only where ``allowed(perm)`` holds."""
    out: list[dict[str, str]] = []
    if event is None or event.status != "active":
        return out
    on = set(event.measures or [])
    for link in _LINKS:
        if link.portal != portal or link.measure not in on:
            continue
        if not portal and link.perm and allowed is not None and not allowed(link.perm):
            continue
        if portal and link.shown_to is not None and not link.shown_to(viewer):
            continue
        out.append({"label": str(link.label), "url": link.url(event), "measure": link.measure})
    return out


# A hook: (event, actor, at) -> counts of what it closed, e.g. {"passes_closed": 3}.
EndHook = Callable[[Any, Any, dt.datetime], dict[str, int]]
_END_HOOKS: list[tuple[EndHook, str | None]] = []


def register_end_hook(hook: EndHook, *, measure: str | None = None) -> None:
    """Have *hook* called when an event ends (from a capability's AppConfig.ready()) and, when
    it names its *measure*, also when a running event stops that measure (the event is then
    still active, with the measure still in its list while the hook runs). Registering the same
    hook twice keeps one (apps may be set up again)."""
    if all(h is not hook for h, _m in _END_HOOKS):
        _END_HOOKS.append((hook, measure))


def run_end_hooks(
    event: Any, *, actor: Any, at: dt.datetime, stopped: Iterable[str] | None = None
) -> dict[str, int]:
    """Call the end hooks for *event*, in registration order, inside the caller's transaction:
    a hook that fails undoes the whole change. With *stopped* (measures a running event turns
    off) only the hooks of those measures run; without it (the event has ended) all of them.
    Their counts, added."""
    only = None if stopped is None else set(stopped)
    counts: dict[str, int] = {}
    for hook, measure in _END_HOOKS:
        if only is not None and measure not in only:
            continue
        for key, n in hook(event, actor, at).items():
            counts[key] = counts.get(key, 0) + n
    return counts
