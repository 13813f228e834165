"""Forms of emergency mode. They keep what was typed; services give the final word and their
errors are put back on the fields (``linli.core.feedback.add_service_errors``)."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from linli.areas.models import Area
from linli.core.identity import normalise_phone
from linli.emergency.models import (
    EmergencyEvent,
    EventKind,
    Measure,
    QuarantineKind,
    RiskArea,
    RiskLevel,
    Symptom,
    TravelMode,
)

_C = {"class": "form-control"}
_S = {"class": "form-select"}
_BIG = {"class": "form-control form-control-lg"}
_MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")


class EventForm(forms.Form):
    """Declare or change an event."""

    name = forms.CharField(label=_("Event name"), max_length=100, widget=forms.TextInput(attrs=_C))
    kind = forms.ChoiceField(
        label=_("Kind"), choices=EventKind.choices, widget=forms.Select(attrs=_S)
    )
    level = forms.IntegerField(
        label=_("Level (1 most severe – 4)"),
        min_value=1,
        max_value=4,
        initial=4,
        widget=forms.NumberInput(attrs=_C),
    )
    areas = forms.ModelMultipleChoiceField(
        label=_("Areas covered"),
        help_text=_("Hold Ctrl (⌘ on a Mac) to choose several."),
        queryset=Area.objects.none(),
        widget=forms.SelectMultiple(attrs={**_S, "size": 6}),
    )
    measures = forms.MultipleChoiceField(
        label=_("Measures"),
        choices=Measure.choices,
        initial=list(Measure.values),
        widget=forms.CheckboxSelectMultiple,
    )
    days_home = forms.IntegerField(
        label=_("Days of home quarantine"),
        min_value=1,
        max_value=60,
        initial=14,
        widget=forms.NumberInput(attrs=_C),
    )
    days_centralised = forms.IntegerField(
        label=_("Days of centralised quarantine"),
        min_value=1,
        max_value=60,
        initial=14,
        widget=forms.NumberInput(attrs=_C),
    )
    days_home_monitoring = forms.IntegerField(
        label=_("Days of home health monitoring"),
        min_value=1,
        max_value=60,
        initial=7,
        widget=forms.NumberInput(attrs=_C),
    )
    rule_high = forms.ChoiceField(
        label=_("Arrivals from high-risk areas"),
        choices=[("", _("No measure")), *QuarantineKind.choices],
        initial=QuarantineKind.HOME,
        required=False,
        widget=forms.Select(attrs=_S),
    )
    rule_medium = forms.ChoiceField(
        label=_("Arrivals from medium-risk areas"),
        choices=[("", _("No measure")), *QuarantineKind.choices],
        initial=QuarantineKind.HOME_MONITORING,
        required=False,
        widget=forms.Select(attrs=_S),
    )
    rule_low = forms.ChoiceField(
        label=_("Arrivals from low-risk areas"),
        choices=[("", _("No measure")), *QuarantineKind.choices],
        initial="",
        required=False,
        widget=forms.Select(attrs=_S),
    )
    checkin_deadline_hour = forms.IntegerField(
        label=_("Check-ins due by (hour)"),
        min_value=0,
        max_value=23,
        initial=10,
        widget=forms.NumberInput(attrs=_C),
    )
    is_drill = forms.BooleanField(label=_("This is a drill"), required=False)

    def __init__(
        self, *args: Any, area_choices: Any = None, editing: bool = False, **kw: Any
    ) -> None:
        super().__init__(*args, **kw)
        if editing:
            del self.fields["areas"]
            del self.fields["is_drill"]
        elif area_choices is not None:
            self.fields["areas"].queryset = area_choices  # type: ignore[attr-defined]

    def service_kwargs(self) -> dict[str, Any]:
        d = self.cleaned_data
        return {
            "name": d["name"],
            "kind": d["kind"],
            "level": d["level"],
            "measures": d["measures"],
            "rule_days": {
                QuarantineKind.HOME: d["days_home"],
                QuarantineKind.CENTRALISED: d["days_centralised"],
                QuarantineKind.HOME_MONITORING: d["days_home_monitoring"],
            },
            "risk_rules": {
                RiskLevel.HIGH: d["rule_high"],
                RiskLevel.MEDIUM: d["rule_medium"],
                RiskLevel.LOW: d["rule_low"],
            },
            "checkin_deadline_hour": d["checkin_deadline_hour"],
        }

    @staticmethod
    def initial_from(event: Any) -> dict[str, Any]:
        return {
            "name": event.name,
            "kind": event.kind,
            "level": event.level,
            "measures": event.measures,
            "days_home": event.days_for(QuarantineKind.HOME),
            "days_centralised": event.days_for(QuarantineKind.CENTRALISED),
            "days_home_monitoring": event.days_for(QuarantineKind.HOME_MONITORING),
            "rule_high": event.measure_for(RiskLevel.HIGH),
            "rule_medium": event.measure_for(RiskLevel.MEDIUM),
            "rule_low": event.measure_for(RiskLevel.LOW),
            "checkin_deadline_hour": event.checkin_deadline_hour,
        }


class RiskAreaForm(forms.Form):
    name = forms.CharField(label=_("Place"), max_length=100, widget=forms.TextInput(attrs=_C))
    region_code = forms.CharField(
        label=_("Region code"), max_length=12, required=False, widget=forms.TextInput(attrs=_C)
    )
    level = forms.ChoiceField(
        label=_("Risk level"), choices=RiskLevel.choices, widget=forms.Select(attrs=_S)
    )
    from_date = forms.DateField(
        label=_("From"), widget=forms.DateInput(format="%Y-%m-%d", attrs={**_C, "type": "date"})
    )
    to_date = forms.DateField(
        label=_("Until"),
        required=False,
        widget=forms.DateInput(format="%Y-%m-%d", attrs={**_C, "type": "date"}),
    )


class ArrivalForm(forms.Form):
    """An arrival, as typed by a worker or by the person at the gate."""

    name = forms.CharField(label=_("Name"), max_length=64, widget=forms.TextInput(attrs=_BIG))
    national_id = forms.CharField(
        label=_("National ID"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={**_BIG, "autocomplete": "off"}),
    )
    phone = forms.CharField(
        label=_("Phone"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={**_BIG, "inputmode": "tel"}),
    )
    risk_area = forms.ModelChoiceField(
        label=_("Coming from (risk area)"),
        queryset=RiskArea.objects.none(),
        required=False,
        empty_label=_("— none of these —"),
        widget=forms.Select(attrs={"class": "form-select form-select-lg"}),
    )
    from_text = forms.CharField(
        label=_("Coming from (other place)"),
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs=_BIG),
    )
    arrived_on = forms.DateField(
        label=_("Arrived on"),
        widget=forms.DateInput(format="%Y-%m-%d", attrs={**_BIG, "type": "date"}),
    )
    travel_mode = forms.ChoiceField(
        label=_("Travelled by"),
        choices=TravelMode.choices,
        widget=forms.Select(attrs={"class": "form-select form-select-lg"}),
    )
    address = forms.CharField(
        label=_("Staying at (address)"),
        max_length=200,
        widget=forms.TextInput(attrs=_BIG),
    )

    def __init__(
        self, *args: Any, event: Any = None, self_service: bool = False, **kw: Any
    ) -> None:
        super().__init__(*args, **kw)
        if event is not None:
            today = timezone.localdate()
            self.fields["risk_area"].queryset = RiskArea.objects.filter(  # type: ignore[attr-defined]
                event=event, from_date__lte=today
            ).exclude(to_date__lt=today)
        self.fields["arrived_on"].initial = timezone.localdate()
        if self_service:
            # The phone was proven by the code; it is not typed again.
            del self.fields["phone"]


class DecideForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[*QuarantineKind.choices, ("no_measure", _("No measure needed"))],
        widget=forms.Select(attrs=_S),
    )
    reason = forms.CharField(
        label=_("Reason"), max_length=200, required=False, widget=forms.TextInput(attrs=_C)
    )


class CheckInForm(forms.Form):
    temperature = forms.DecimalField(
        label=_("Temperature (°C)"),
        max_digits=3,
        decimal_places=1,
        widget=forms.NumberInput(
            attrs={**_BIG, "step": "0.1", "inputmode": "decimal", "placeholder": "36.5"}
        ),
    )
    symptoms = forms.MultipleChoiceField(
        label=_("Symptoms"),
        choices=Symptom.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    note = forms.CharField(
        label=_("Note"), max_length=200, required=False, widget=forms.TextInput(attrs=_C)
    )


class WorkerCheckInForm(CheckInForm):
    day = forms.DateField(
        label=_("Day"), widget=forms.DateInput(format="%Y-%m-%d", attrs={**_C, "type": "date"})
    )


class ExtendForm(forms.Form):
    days = forms.IntegerField(
        label=_("Extend by (days)"), min_value=1, max_value=30, widget=forms.NumberInput(attrs=_C)
    )
    reason = forms.CharField(label=_("Reason"), max_length=200, widget=forms.TextInput(attrs=_C))


class TransferForm(forms.Form):
    to = forms.CharField(
        label=_("Transferred to"), max_length=100, widget=forms.TextInput(attrs=_C)
    )


class TaskDoneForm(forms.Form):
    note = forms.CharField(
        label=_("What was found"), max_length=300, required=False, widget=forms.TextInput(attrs=_C)
    )


class PhoneForm(forms.Form):
    phone = forms.CharField(
        label=_("Mobile number"),
        max_length=20,
        widget=forms.TextInput(
            attrs={
                **_BIG,
                "inputmode": "tel",
                "autocomplete": "tel",
                "placeholder": _("11-digit mobile number"),
            }
        ),
    )

    def clean_phone(self) -> str:
        try:
            number = normalise_phone(self.cleaned_data["phone"])
        except ValidationError:
            number = ""
        if not _MOBILE_RE.match(number):
            raise ValidationError(_("Enter your 11-digit mobile number, for example 13912345678."))
        return number


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code from the SMS"),
        max_length=12,
        widget=forms.TextInput(
            attrs={**_BIG, "inputmode": "numeric", "autocomplete": "one-time-code"}
        ),
    )

    def clean_code(self) -> str:
        value = re.sub(r"\s", "", self.cleaned_data["code"])
        if not re.match(r"^\d{6}$", value):
            raise ValidationError(_("The code has 6 digits."))
        return value


class PersonMeasureForm(forms.Form):
    """Put a person of the register under a measure (a close contact, a returning resident)."""

    event = forms.ModelChoiceField(
        label=_("Event"), queryset=EmergencyEvent.objects.none(), widget=forms.Select(attrs=_S)
    )
    kind = forms.ChoiceField(
        label=_("Measure"), choices=QuarantineKind.choices, widget=forms.Select(attrs=_S)
    )
    reason = forms.CharField(label=_("Reason"), max_length=200, widget=forms.TextInput(attrs=_C))
    starts_on = forms.DateField(
        label=_("First day"),
        widget=forms.DateInput(format="%Y-%m-%d", attrs={**_C, "type": "date"}),
    )

    def __init__(self, *args: Any, events: Any = None, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.fields["event"].queryset = events  # type: ignore[attr-defined]
        self.fields["starts_on"].initial = timezone.localdate()
