"""Forms of the work order pages. They shape input; the services decide."""

from __future__ import annotations

import re
import uuid
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from linli.areas.models import Area
from linli.core.images import CleanImage, image_clean
from linli.orders.models import Channel, Level, OrderCategory
from linli.workbench.forms import StyledForm


class CategoryField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return str(obj.label)


class PhotoMixin:
    """An optional photo, checked and re-encoded when the form is cleaned."""

    cleaned_data: dict[str, Any]

    def clean_photo(self) -> CleanImage | None:
        upload = self.cleaned_data.get("photo")
        if not upload:
            return None
        try:
            return image_clean(upload, size=upload.size)
        except ValidationError as exc:
            raise forms.ValidationError(exc.messages) from exc

    def photos(self) -> list[CleanImage]:
        photo = self.cleaned_data.get("photo")
        return [photo] if photo else []


def _client_key() -> str:
    return uuid.uuid4().hex


class OrderForm(PhotoMixin, StyledForm):
    """A resident's request on the portal."""

    category = CategoryField(
        label=_("What kind of help"),
        queryset=OrderCategory.objects.filter(is_active=True),
        empty_label=None,
    )
    title = forms.CharField(label=_("In a few words"), max_length=100)
    description = forms.CharField(
        label=_("Details"), required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    location = forms.CharField(
        label=_("Where"),
        max_length=200,
        required=False,
        help_text=_("For example: building 3, entrance 1, third floor."),
    )
    photo = forms.FileField(
        label=_("Photo (optional)"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "image/*"}),
    )
    client_key = forms.CharField(widget=forms.HiddenInput, required=False, initial=_client_key)


class WorkerOrderForm(OrderForm):
    """A worker files a request on a resident's behalf (phone call, walk-in, WeChat message)."""

    field_order = [
        "grid",
        "channel",
        "contact_name",
        "phone",
        "category",
        "title",
        "description",
        "location",
        "photo",
    ]

    grid: forms.ModelChoiceField[Any] = forms.ModelChoiceField(
        label=_("Grid"), queryset=Area.objects.none(), empty_label=None
    )
    channel = forms.ChoiceField(label=_("How it came in"), choices=Channel.choices)
    contact_name = forms.CharField(label=_("Resident's name"), max_length=64, required=False)
    phone = forms.CharField(label=_("Resident's phone"), max_length=20, required=False)

    def __init__(self, *args: Any, grids: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["grid"].queryset = grids  # type: ignore[attr-defined]
        self.fields["description"].label = _("Details (paste the WeChat message here)")


class ActionForm(PhotoMixin, StyledForm):
    """The input of any transition; which fields matter depends on the action."""

    note = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    reason = forms.CharField(label=_("Reason"), required=False, max_length=300)
    assignee = forms.IntegerField(label=_("Dispatch to"), required=False)
    department = forms.IntegerField(label=_("Department"), required=False)
    minutes_spent = forms.IntegerField(
        label=_("Minutes spent"), required=False, min_value=1, max_value=10080
    )
    stars = forms.TypedChoiceField(
        label=_("Stars"),
        choices=[(str(i), "★" * i) for i in range(5, 0, -1)],
        coerce=int,
        required=False,
        empty_value=None,
    )
    words = forms.CharField(label=_("Your words"), required=False, max_length=300)
    fixed = forms.TypedChoiceField(
        label=_("Is it fixed?"),
        choices=[("yes", _("Yes, it is fixed")), ("no", _("No, it is not fixed"))],
        coerce=lambda v: v == "yes",
        required=False,
        empty_value=True,  # type: ignore[arg-type]
    )
    photo = forms.FileField(
        label=_("Photo"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "image/*"}),
    )


class CategoryForm(StyledForm):
    """A work-order category; the code is set once, when it is created."""

    # A plain field: the service's message on a bad code says what is allowed.
    code = forms.CharField(
        label=_("Category code"),
        max_length=32,
        required=False,
        help_text=_("Lower-case letters, digits, - and _; it cannot be changed later."),
    )
    name = forms.CharField(label=_("Category name"), max_length=32)
    name_en = forms.CharField(label=_("English name"), max_length=64, required=False)
    default_level = forms.ChoiceField(label=_("Starts at level"), choices=Level.choices)
    grid_hours = forms.IntegerField(
        label=_("Time limit at the grid (hours)"), min_value=1, max_value=24 * 365
    )
    community_hours = forms.IntegerField(
        label=_("Time limit at the community (hours)"), min_value=1, max_value=24 * 365
    )
    subdistrict_hours = forms.IntegerField(
        label=_("Time limit at the subdistrict (hours)"), min_value=1, max_value=24 * 365
    )
    department_hours = forms.IntegerField(
        label=_("Time limit at a department (hours)"), min_value=1, max_value=24 * 365
    )
    sort_key = forms.IntegerField(label=_("Position in lists"), min_value=0, max_value=999)
    is_active = forms.BooleanField(label=_("In use"), required=False)

    def clean_code(self) -> str:
        # Checked here too, so a bad code shows beside the other fields' errors at once.
        code = str(self.cleaned_data.get("code") or "").strip().lower()
        if code and not re.fullmatch(r"[a-z0-9_-]{1,32}", code):
            raise forms.ValidationError(
                _("Use 1 to 32 lower-case letters, digits, - and _ for the code.")
            )
        return code
