"""Forms of the notify capability; choices come from the user's own scope."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from linli.accounts.roles import Perm
from linli.areas.models import Area, AreaKind
from linli.core.scoping import scope_for
from linli.notify.models import Channel, MassTarget
from linli.register.models import Building
from linli.workbench.forms import StyledForm


class MassMessageForm(StyledForm):
    """Message everyone in a building, a grid, or a grid's quarantine list."""

    token = forms.CharField(widget=forms.HiddenInput, max_length=64)
    target = forms.ChoiceField(
        label=_("Send to"),
        choices=MassTarget.choices,
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
    )
    building = forms.ModelChoiceField(
        label=_("Building"),
        queryset=Building.objects.none(),
        required=False,
        help_text=_("When sending to a building."),
    )
    grid = forms.ModelChoiceField(
        label=_("Grid"),
        queryset=Area.objects.none(),
        required=False,
        help_text=_("When sending to a grid or its quarantine list."),
    )
    only_missing_checkin = forms.BooleanField(
        label=_("Only those under quarantine who have not checked in today"), required=False
    )
    channel = forms.ChoiceField(label=_("Channel"), choices=Channel.choices, initial=Channel.SMS)
    text = forms.CharField(
        label=_("Message"), max_length=500, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        scope = scope_for(user, Perm.SEND_NOTIFICATIONS)
        building: Any = self.fields["building"]
        grid: Any = self.fields["grid"]
        building.queryset = (
            Building.objects.filter(Building.scope_q(scope))
            .select_related("estate")
            .order_by("estate__name", "sort_key", "name")
        )
        grid.queryset = Area.objects.filter(scope.q("id"), kind=AreaKind.GRID).order_by("path")
        building.label_from_instance = lambda b: f"{b.estate.name} {b.name}"
        if not self.is_bound:
            self.initial.setdefault("token", uuid.uuid4().hex)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        target = data.get("target")
        if target == MassTarget.BUILDING and not data.get("building"):
            self.add_error("building", _("Choose a building."))
        if target in (MassTarget.GRID, MassTarget.QUARANTINE) and not data.get("grid"):
            self.add_error("grid", _("Choose a grid."))
        return data
