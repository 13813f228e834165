"""Forms of passes and checkpoints. They keep what was typed; services give the final word and
their errors are put back on the fields (``linli.core.feedback.add_service_errors``)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from linli.accounts.models import User
from linli.areas.models import Area
from linli.passes.models import HealthColour
from linli.register.models import Estate

_C = {"class": "form-control"}
_S = {"class": "form-select"}
_DT = {"class": "form-control", "type": "datetime-local"}


class CheckpointForm(forms.Form):
    """A new gate of an estate."""

    estate = forms.ModelChoiceField(
        label=_("Estate"), queryset=Estate.objects.none(), widget=forms.Select(attrs=_S)
    )
    grid = forms.ModelChoiceField(
        label=_("Grid"), queryset=Area.objects.none(), widget=forms.Select(attrs=_S)
    )
    name = forms.CharField(label=_("Gate name"), max_length=50, widget=forms.TextInput(attrs=_C))

    def __init__(self, *args: Any, estates: Any, grids: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["estate"].queryset = estates  # type: ignore[attr-defined]
        self.fields["grid"].queryset = grids  # type: ignore[attr-defined]


class VisitorPassForm(forms.Form):
    """A resident applies for a visitor's pass."""

    visitor_name = forms.CharField(
        label=_("Visitor's name"), max_length=64, widget=forms.TextInput(attrs=_C)
    )
    visitor_phone = forms.CharField(
        label=_("Visitor's mobile"),
        max_length=20,
        widget=forms.TextInput(attrs={**_C, "inputmode": "tel"}),
    )
    reason = forms.CharField(
        label=_("Why they come"), max_length=200, widget=forms.TextInput(attrs=_C)
    )
    valid_from = forms.DateTimeField(label=_("Valid from"), widget=forms.DateTimeInput(attrs=_DT))
    valid_until = forms.DateTimeField(label=_("Valid until"), widget=forms.DateTimeInput(attrs=_DT))


class DecisionForm(forms.Form):
    note = forms.CharField(
        label=_("Note"), max_length=300, required=False, widget=forms.TextInput(attrs=_C)
    )


class ResidentPassForm(forms.Form):
    """Issue a resident pass: the whole household or one member."""

    holder = forms.ChoiceField(label=_("For"), widget=forms.Select(attrs=_S))
    valid_until = forms.DateTimeField(label=_("Valid until"), widget=forms.DateTimeInput(attrs=_DT))

    def __init__(self, *args: Any, members: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [("household", _("The whole household"))]
        choices += [(str(m.pk), m.name) for m in members]
        self.fields["holder"].choices = choices  # type: ignore[attr-defined]


class HealthCodeForm(forms.Form):
    colour = forms.ChoiceField(
        label=_("Health code"), choices=HealthColour.choices, widget=forms.RadioSelect
    )
    source = forms.CharField(
        label=_("Source"), max_length=50, required=False, widget=forms.TextInput(attrs=_C)
    )


class ShiftForm(forms.Form):
    """Put someone on duty at a gate."""

    user = forms.ModelChoiceField(
        label=_("On duty"), queryset=User.objects.none(), widget=forms.Select(attrs=_S)
    )
    starts_at = forms.DateTimeField(label=_("Shift starts"), widget=forms.DateTimeInput(attrs=_DT))
    ends_at = forms.DateTimeField(label=_("Shift ends"), widget=forms.DateTimeInput(attrs=_DT))
    note = forms.CharField(
        label=_("Note"), max_length=300, required=False, widget=forms.TextInput(attrs=_C)
    )

    def __init__(self, *args: Any, people: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = people  # type: ignore[attr-defined]
        self.fields["user"].label_from_instance = lambda u: u.label  # type: ignore[attr-defined]


class SwapForm(forms.Form):
    to_user = forms.ModelChoiceField(
        label=_("Ask"), queryset=User.objects.none(), widget=forms.Select(attrs=_S)
    )

    def __init__(self, *args: Any, people: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["to_user"].queryset = people  # type: ignore[attr-defined]
        self.fields["to_user"].label_from_instance = lambda u: u.label  # type: ignore[attr-defined]
