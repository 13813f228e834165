"""Forms of the health pages. Services validate again; their errors land on these fields."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from linli.core.feedback import add_service_errors  # noqa: F401  (re-exported for views)
from linli.emergency.models import QuarantineKind

_C = {"class": "form-control"}
_S = {"class": "form-select"}


class RoundForm(forms.Form):
    """Open a test round."""

    name = forms.CharField(label=_("Round name"), max_length=100, widget=forms.TextInput(attrs=_C))
    area = forms.ChoiceField(label=_("Area covered"), widget=forms.Select(attrs=_S))
    date = forms.DateField(
        label=_("Date"),
        initial=timezone.localdate,
        widget=forms.DateInput(attrs={**_C, "type": "date"}),
    )
    sites = forms.CharField(
        label=_("Sampling sites (one a line)"),
        required=False,  # the service says what is missing, in its own words
        widget=forms.Textarea(attrs={**_C, "rows": 3}),
    )
    event = forms.ChoiceField(
        label=_("Emergency event"), required=False, widget=forms.Select(attrs=_S)
    )

    def __init__(self, *args: Any, areas: Any = (), events: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["area"].choices = [(a.pk, a.name) for a in areas]  # type: ignore[attr-defined]
        choices = [("", _("None (routine round)"))] + [(e.pk, e.name) for e in events]
        self.fields["event"].choices = choices  # type: ignore[attr-defined]


class VaccinationForm(forms.Form):
    """Record one dose on the person page."""

    dose = forms.IntegerField(
        label=_("Dose number"), min_value=1, max_value=6, widget=forms.NumberInput(attrs=_C)
    )
    product = forms.CharField(label=_("Vaccine"), max_length=64, widget=forms.TextInput(attrs=_C))
    vaccinated_on = forms.DateField(
        label=_("Vaccinated on"), widget=forms.DateInput(attrs={**_C, "type": "date"})
    )
    site = forms.CharField(
        label=_("Vaccination site"),
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs=_C),
    )


class ImportForm(forms.Form):
    """Upload a file of results (into a round) or of vaccinations."""

    kind = forms.ChoiceField(
        label=_("What the file holds"),
        choices=[("results", _("Test results")), ("vaccinations", _("Vaccinations"))],
        widget=forms.Select(attrs=_S),
    )
    round = forms.ChoiceField(label=_("Test round"), required=False, widget=forms.Select(attrs=_S))
    file = forms.FileField(label=_("File (.xlsx, .xls or .csv)"))

    def __init__(self, *args: Any, rounds: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [("", "—")] + [(r.pk, str(r)) for r in rounds]
        self.fields["round"].choices = choices  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("kind") == "results" and not data.get("round"):
            self.add_error("round", _("Choose the round the results belong to."))
        return data


class AlertForm(forms.Form):
    """Act on a positive result: start a measure, or record what was done."""

    kind = forms.ChoiceField(
        label=_("Measure"),
        choices=QuarantineKind.choices,
        required=False,
        widget=forms.Select(attrs=_S),
    )
    note = forms.CharField(
        label=_("What was done"), max_length=300, required=False, widget=forms.TextInput(attrs=_C)
    )
