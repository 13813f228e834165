"""Forms of screening campaigns. They keep what was typed; the services give the final word."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from linli.areas.models import Area
from linli.emergency.models import EmergencyEvent
from linli.linkage.models import WatchList
from linli.register.models import Building, Tag
from linli.screening.models import OUTCOMES, CampaignSource

_C = {"class": "form-control"}
_S = {"class": "form-select"}


class CampaignForm(forms.Form):
    name = forms.CharField(
        label=_("Campaign name"), max_length=100, widget=forms.TextInput(attrs=_C)
    )
    area = forms.ModelChoiceField(
        label=_("Area"), queryset=Area.objects.none(), widget=forms.Select(attrs=_S)
    )
    source = forms.ChoiceField(
        label=_("People to reach"),
        choices=CampaignSource.choices,
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
    )
    watch_list = forms.ModelChoiceField(
        label=_("Matched list"),
        queryset=WatchList.objects.none(),
        required=False,
        widget=forms.Select(attrs=_S),
    )
    building = forms.ModelChoiceField(
        label=_("Building"),
        queryset=Building.objects.none(),
        required=False,
        widget=forms.Select(attrs=_S),
    )
    tag = forms.ModelChoiceField(
        label=_("Tag"), queryset=Tag.objects.none(), required=False, widget=forms.Select(attrs=_S)
    )
    event = forms.ModelChoiceField(
        label=_("Emergency event (optional)"),
        queryset=EmergencyEvent.objects.none(),
        required=False,
        widget=forms.Select(attrs=_S),
    )
    due_on = forms.DateField(label=_("Due"), widget=forms.DateInput(attrs={**_C, "type": "date"}))

    def __init__(
        self,
        *args: Any,
        areas: Any,
        watch_lists: Any,
        buildings: Any,
        tags: Any,
        events: Any,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["area"].queryset = areas  # type: ignore[attr-defined]
        self.fields["watch_list"].queryset = watch_lists  # type: ignore[attr-defined]
        self.fields["building"].queryset = buildings  # type: ignore[attr-defined]
        self.fields["tag"].queryset = tags  # type: ignore[attr-defined]
        self.fields["event"].queryset = events  # type: ignore[attr-defined]
        if not self.is_bound:
            self.initial.setdefault("due_on", timezone.localdate() + dt.timedelta(days=2))


class AttemptForm(forms.Form):
    outcome = forms.ChoiceField(choices=[(o.value, o.label) for o in OUTCOMES])
    note = forms.CharField(required=False, max_length=300)
    client_key = forms.CharField(required=False, max_length=64)

    @staticmethod
    def new_key() -> str:
        return uuid.uuid4().hex
