"""Forms of the volunteer pages. They parse and keep what was typed; the services decide."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from linli.areas.models import Area, AreaKind
from linli.volunteers.models import NameShown, RuleKind, VolunteerKind

_TEXT = {"class": "form-control"}
_SELECT = {"class": "form-select"}


def _communities() -> Any:
    return Area.objects.filter(kind=AreaKind.COMMUNITY).order_by("path")


class ApplyForm(forms.Form):
    """A resident's application on the portal."""

    kind = forms.ChoiceField(
        label=_("I register as"),
        choices=VolunteerKind.choices,
        widget=forms.RadioSelect,
        initial=VolunteerKind.VOLUNTEER,
    )
    skills = forms.CharField(
        label=_("Skills"),
        required=False,
        max_length=200,
        help_text=_("Separate with commas, e.g. repairs, first aid, computers"),
        widget=forms.TextInput(attrs=_TEXT),
    )
    availability = forms.CharField(
        label=_("When I can help"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={**_TEXT, "placeholder": _("e.g. weekend mornings")}),
    )
    name_shown = forms.ChoiceField(
        label=_("On the points board show"),
        choices=NameShown.choices,
        initial=NameShown.SURNAME,
        widget=forms.RadioSelect,
    )
    employer = forms.CharField(
        label=_("Employer (party members)"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs=_TEXT),
    )
    paired_community = forms.ModelChoiceField(
        label=_("Community paired with the employer (party members)"),
        queryset=Area.objects.none(),
        required=False,
        widget=forms.Select(attrs=_SELECT),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["paired_community"].queryset = _communities()  # type: ignore[attr-defined]


class RegisterForm(ApplyForm):
    """A worker registers a volunteer."""

    name = forms.CharField(label=_("Name"), max_length=64, widget=forms.TextInput(attrs=_TEXT))
    phone = forms.CharField(
        label=_("Mobile phone"), max_length=20, widget=forms.TextInput(attrs=_TEXT)
    )
    area = forms.ModelChoiceField(
        label=_("Serves in"), queryset=Area.objects.none(), widget=forms.Select(attrs=_SELECT)
    )
    residence_community = forms.ModelChoiceField(
        label=_("Community of residence"),
        queryset=Area.objects.none(),
        required=False,
        widget=forms.Select(attrs=_SELECT),
    )

    field_order = [
        "name",
        "phone",
        "area",
        "residence_community",
        "kind",
        "employer",
        "paired_community",
        "skills",
        "availability",
        "name_shown",
    ]

    def __init__(self, *args: Any, areas: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The worker fills this in for someone else.
        self.fields["kind"].label = _("Registers as")
        self.fields["availability"].label = _("When they can help")
        self.fields["area"].queryset = areas  # type: ignore[attr-defined]
        self.fields["residence_community"].queryset = _communities()  # type: ignore[attr-defined]


class ReasonForm(forms.Form):
    reason = forms.CharField(required=False, max_length=300)


class ActivityForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=100, widget=forms.TextInput(attrs=_TEXT))
    area = forms.ModelChoiceField(
        label=_("Area"), queryset=Area.objects.none(), widget=forms.Select(attrs=_SELECT)
    )
    place = forms.CharField(label=_("Place"), max_length=200, widget=forms.TextInput(attrs=_TEXT))
    starts_at = forms.DateTimeField(
        label=_("Starts at"),
        widget=forms.DateTimeInput(attrs={**_TEXT, "type": "datetime-local"}),
    )
    ends_at = forms.DateTimeField(
        label=_("Ends at"),
        widget=forms.DateTimeInput(attrs={**_TEXT, "type": "datetime-local"}),
    )
    capacity = forms.IntegerField(
        label=_("Places"), min_value=1, max_value=10000, widget=forms.NumberInput(attrs=_TEXT)
    )
    description = forms.CharField(
        label=_("Description"),
        required=False,
        widget=forms.Textarea(attrs={**_TEXT, "rows": 3}),
    )

    def __init__(self, *args: Any, areas: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["area"].queryset = areas  # type: ignore[attr-defined]


class CheckInCodeForm(forms.Form):
    code = forms.CharField(
        label=_("Check-in code"),
        max_length=8,
        widget=forms.TextInput(attrs={**_TEXT, "inputmode": "numeric", "autocomplete": "off"}),
    )


class ClaimForm(forms.Form):
    note = forms.CharField(
        label=_("What did you do?"),
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={**_TEXT, "rows": 4}),
    )
    photo = forms.FileField(
        label=_("Photo (optional)"),
        required=False,
        widget=forms.ClearableFileInput(attrs={**_TEXT, "accept": "image/*"}),
    )


class RuleForm(forms.Form):
    area = forms.ModelChoiceField(
        label=_("Area"), queryset=Area.objects.none(), widget=forms.Select(attrs=_SELECT)
    )
    kind = forms.ChoiceField(
        label=_("Rewards"), choices=RuleKind.choices, widget=forms.Select(attrs=_SELECT)
    )
    points = forms.IntegerField(
        label=_("Points"), min_value=1, max_value=10000, widget=forms.NumberInput(attrs=_TEXT)
    )
    min_stars = forms.IntegerField(
        label=_("Work orders: at least this many stars"),
        min_value=1,
        max_value=5,
        initial=4,
        widget=forms.NumberInput(attrs=_TEXT),
    )

    def __init__(self, *args: Any, areas: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["area"].queryset = areas  # type: ignore[attr-defined]


class RewardForm(forms.Form):
    name = forms.CharField(
        label=_("Reward name"), max_length=100, widget=forms.TextInput(attrs=_TEXT)
    )
    area = forms.ModelChoiceField(
        label=_("Area"), queryset=Area.objects.none(), widget=forms.Select(attrs=_SELECT)
    )
    price = forms.IntegerField(
        label=_("Points price"),
        min_value=1,
        max_value=1_000_000,
        widget=forms.NumberInput(attrs=_TEXT),
    )
    stock = forms.IntegerField(
        label=_("Stock"), min_value=0, max_value=100_000, widget=forms.NumberInput(attrs=_TEXT)
    )
    description = forms.CharField(
        label=_("Description"),
        required=False,
        max_length=300,
        widget=forms.TextInput(attrs=_TEXT),
    )

    def __init__(self, *args: Any, areas: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["area"].queryset = areas  # type: ignore[attr-defined]


class RestockForm(forms.Form):
    add = forms.IntegerField(min_value=-100_000, max_value=100_000)
