"""Workbench forms: parse and validate what a worker typed; the services do the real checks.

Forms only shape input. Errors the services raise (a ValidationError keyed by field) are put
back on the form with ``linli.core.feedback.add_service_errors`` so the page re-renders with
the typed values kept.
"""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from linli.accounts.roles import ROLE_RANK, Role
from linli.areas.models import Area
from linli.audit.models import AuditAction
from linli.register.models import PersonStatus, Relation, Residency, Tag


class BootstrapMixin:
    """Give every widget Bootstrap's classes, and mark fields with errors as invalid."""

    fields: dict[str, forms.Field]

    def style(self) -> None:
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.CheckboxSelectMultiple | forms.CheckboxInput):
                css = "form-check-input"
            elif isinstance(widget, forms.Select):
                css = "form-select"
            elif isinstance(widget, forms.RadioSelect):
                css = ""
            else:
                css = "form-control"
            widget.attrs["class"] = (widget.attrs.get("class", "") + " " + css).strip()

    def mark_invalid(self) -> None:
        errors: Any = getattr(self, "errors", {})
        for name in errors:
            if name in self.fields:
                widget = self.fields[name].widget
                widget.attrs["class"] = widget.attrs.get("class", "") + " is-invalid"


class StyledForm(BootstrapMixin, forms.Form):
    """A plain form with Bootstrap styling."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.style()

    def full_clean(self) -> None:
        super().full_clean()
        self.mark_invalid()


def _today() -> Any:
    return timezone.localdate()


class DateInput(forms.DateInput):
    """The browser's date picker; it needs ISO dates whatever the UI language."""

    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%d")


def _tag_field() -> forms.ModelMultipleChoiceField:
    return forms.ModelMultipleChoiceField(
        label=_("Tags"),
        queryset=Tag.objects.filter(is_active=True),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )


class _AddressFields(StyledForm):
    """The two addresses a person's papers give (户籍地址, 现居住地址), free text."""

    hukou_address = forms.CharField(label=_("Hukou address"), max_length=200, required=False)
    current_address = forms.CharField(
        label=_("Current address as written"),
        max_length=200,
        required=False,
        help_text=_("As the person's papers or a received ledger write it."),
    )


class PersonCreateForm(_AddressFields):
    """Register a person in a household (relation required) or directly in a grid."""

    name = forms.CharField(label=_("Name"), max_length=64)
    national_id = forms.CharField(
        label=_("National ID"),
        max_length=32,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "text"}),
    )
    phone = forms.CharField(
        label=_("Phone"),
        max_length=32,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "tel"}),
    )
    residency = forms.ChoiceField(
        label=_("Residency"), choices=Residency.choices, initial=Residency.REGISTERED
    )
    relation = forms.ChoiceField(
        label=_("Relation to householder"),
        choices=[("", "—"), *Relation.choices],
        required=False,
    )
    grid = forms.ModelChoiceField(label=_("Grid"), queryset=Area.objects.none(), required=False)
    occurred_on = forms.DateField(label=_("Moved in on"), initial=_today, widget=DateInput)
    notes = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    tags = _tag_field()

    def __init__(self, *args: Any, with_household: bool, grids: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if with_household:
            del self.fields["grid"]
            self.fields["relation"].required = True
        else:
            del self.fields["relation"]
            grid_field = self.fields["grid"]
            assert isinstance(grid_field, forms.ModelChoiceField)
            grid_field.queryset = grids if grids is not None else Area.objects.none()
            grid_field.required = True
            self.fields["occurred_on"].label = _("Registered on")


class PersonEditForm(_AddressFields):
    """Change a person's details. National ID and phone are typed anew only to change them:
    the form never shows the full values (that would be an unaudited reveal)."""

    name = forms.CharField(label=_("Name"), max_length=64)
    national_id = forms.CharField(
        label=_("New national ID"),
        max_length=32,
        required=False,
        help_text=_("Leave empty to keep the current one."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    phone = forms.CharField(
        label=_("New phone"),
        max_length=32,
        required=False,
        help_text=_("Leave empty to keep the current one."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "tel"}),
    )
    residency = forms.ChoiceField(label=_("Residency"), choices=Residency.choices)
    relation = forms.ChoiceField(
        label=_("Relation to householder"), choices=Relation.choices, required=False
    )
    notes = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    tags = _tag_field()

    def __init__(self, *args: Any, with_household: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not with_household:
            del self.fields["relation"]

    def update_data(self) -> dict[str, Any]:
        """What to hand to person_update: only the fields that were meant to change."""
        data = {
            k: self.cleaned_data[k]
            for k in ("name", "residency", "hukou_address", "current_address", "notes")
        }
        if self.cleaned_data.get("relation"):
            data["relation"] = self.cleaned_data["relation"]
        for key in ("national_id", "phone"):
            if self.cleaned_data[key].strip():
                data[key] = self.cleaned_data[key].strip()
        return data


class EventDateForm(StyledForm):
    """A register event on a date (default today)."""

    occurred_on = forms.DateField(label=_("Date"), initial=_today, widget=DateInput)


class MoveOutForm(EventDateForm):
    destination = forms.CharField(label=_("Moved to (optional)"), max_length=100, required=False)


class MoveHouseForm(EventDateForm):
    to_household = forms.IntegerField(widget=forms.HiddenInput)
    relation = forms.ChoiceField(
        label=_("Relation to the new householder"), choices=Relation.choices
    )


class HouseholdMoveForm(EventDateForm):
    """Move a whole household: the dwelling picked from the search, and the date."""

    dwelling = forms.IntegerField(widget=forms.HiddenInput)
    allow_shared = forms.BooleanField(
        label=_("Another household lives there too: the dwelling is shared"), required=False
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["occurred_on"].label = _("Date of the move")
        self.fields["dwelling"].error_messages["required"] = _("Choose the dwelling above.")


class RevealForm(StyledForm):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=500,
        widget=forms.TextInput(attrs={"placeholder": _("e.g. calling about the pension check")}),
    )


class PersonFilterForm(StyledForm):
    """The person search: free text plus filters. Everything optional."""

    q = forms.CharField(
        label=_("Search"),
        required=False,
        widget=forms.TextInput(
            attrs={
                "type": "search",
                "placeholder": _("Name, pinyin, last 4 digits of ID or phone, address"),
                "autocomplete": "off",
            }
        ),
    )
    tag = forms.ChoiceField(label=_("Tag"), required=False)
    residency = forms.ChoiceField(
        label=_("Residency"), required=False, choices=[("", _("All")), *Residency.choices]
    )
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[*PersonStatus.choices, ("all", _("All"))],
        initial=PersonStatus.LIVING,
    )
    area = forms.TypedChoiceField(label=_("Area"), required=False, coerce=int, empty_value=None)

    def __init__(self, *args: Any, areas: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        tag_field = self.fields["tag"]
        assert isinstance(tag_field, forms.ChoiceField)
        tag_field.choices = [("", _("All")), *((t.code, t.label) for t in Tag.objects.all())]
        area_field = self.fields["area"]
        assert isinstance(area_field, forms.ChoiceField)
        area_field.choices = [("", _("All")), *((a.pk, a.name) for a in areas)]


class CorrectionReviewForm(StyledForm):
    decision = forms.ChoiceField(
        choices=[("accept", _("Accept")), ("reject", _("Reject"))], widget=forms.HiddenInput
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=500)


def grantable_roles(rank: int) -> list[tuple[str, str]]:
    """Staff roles at or below *rank*."""
    return [
        (str(value), str(label))
        for value, label in Role.choices
        if value != Role.RESIDENT and ROLE_RANK.get(value, 99) <= rank
    ]


class GrantForm(StyledForm):
    """Grant a role on a node of the manager's scope."""

    role = forms.ChoiceField(label=_("Role"))
    area = forms.ModelChoiceField(label=_("On area"), queryset=Area.objects.none())

    def __init__(self, *args: Any, roles: list[tuple[str, str]], areas: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        role_field = self.fields["role"]
        assert isinstance(role_field, forms.ChoiceField)
        role_field.choices = roles
        area_field = self.fields["area"]
        assert isinstance(area_field, forms.ModelChoiceField)
        area_field.queryset = areas
        area_field.label_from_instance = lambda a: f"{'—' * a.depth} {a.name}"  # type: ignore[method-assign,assignment]


class UserCreateForm(GrantForm):
    username = forms.CharField(label=_("User name"), max_length=150)
    display_name = forms.CharField(label=_("Display name"), max_length=64, required=False)
    password = forms.CharField(
        label=_("Password"),
        required=False,
        help_text=_("Leave empty to generate one; it is shown once."),
        widget=forms.PasswordInput(render_value=True, attrs={"autocomplete": "new-password"}),
    )

    field_order = ["username", "display_name", "password", "role", "area"]


_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")


class TagForm(StyledForm):
    code = forms.SlugField(label=_("Code"), max_length=32)
    name = forms.CharField(label=_("Name (Chinese)"), max_length=32)
    name_en = forms.CharField(label=_("Name (English)"), max_length=64, required=False)
    color = forms.CharField(
        label=_("Colour"),
        max_length=7,
        initial="#6c757d",
        widget=forms.TextInput(attrs={"type": "color"}),
    )
    description = forms.CharField(label=_("Description"), max_length=200, required=False)
    sort_key = forms.IntegerField(label=_("Order"), min_value=0, initial=0)
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if editing:
            # The code is what other systems and reports refer to: it does not change.
            del self.fields["code"]
        self.fields["color"].widget.attrs["class"] = "form-control form-control-color"

    def clean_color(self) -> str:
        value: str = self.cleaned_data["color"]
        if not _COLOR.match(value):
            raise ValidationError(_("Use a colour like #1a2b3c."))
        return value.lower()


class AuditFilterForm(StyledForm):
    action = forms.ChoiceField(
        label=_("Action"), required=False, choices=[("", _("All")), *AuditAction.choices]
    )
