"""Forms of supplies. They keep what was typed; the services give the final word and their
errors are put back on the fields (``add_service_errors``)."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from linli.areas.models import Area
from linli.core.feedback import add_service_errors
from linli.supplies.models import RecipientKind

__all__ = ["add_service_errors"]

_C = {"class": "form-control"}
_BIG = {"class": "form-control form-control-lg"}


class _KeyedForm(forms.Form):
    """A hidden key made when the form is shown: a double tap or a retry sends the same key,
    and the service returns what the first one did."""

    client_key = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("client_key", uuid.uuid4().hex)


class ShoppingListForm(_KeyedForm):
    items = forms.CharField(
        label=_("What to buy (one item a line, with the quantity)"),
        help_text=_("For example: 大米 1 袋, 鸡蛋 10 个, 酱油"),
        widget=forms.Textarea(attrs={**_BIG, "rows": 6}),
    )
    notes = forms.CharField(
        label=_("Notes"),
        required=False,
        max_length=300,
        help_text=_("Brands, substitutes, allergies …"),
        widget=forms.TextInput(attrs=_C),
    )
    delivery_note = forms.CharField(
        label=_("Where to leave it"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs=_C),
    )
    payment_note = forms.CharField(
        label=_("Budget and payment"),
        required=False,
        max_length=200,
        help_text=_("For example: about 100 yuan, paid by WeChat on delivery"),
        widget=forms.TextInput(attrs=_C),
    )


class ReceiptForm(forms.Form):
    stars = forms.TypedChoiceField(
        label=_("How was it?"),
        coerce=int,
        choices=[(5, "★★★★★"), (4, "★★★★"), (3, "★★★"), (2, "★★"), (1, "★")],
        initial=5,
        widget=forms.Select(attrs={"class": "form-select form-select-lg"}),
    )
    words = forms.CharField(
        label=_("A word of thanks or what was missing"),
        required=False,
        max_length=300,
        widget=forms.TextInput(attrs=_C),
    )


class StockItemForm(forms.Form):
    area = forms.ModelChoiceField(
        label=_("Storehouse"),
        queryset=Area.objects.none(),
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    name = forms.CharField(label=_("Name"), max_length=60, widget=forms.TextInput(attrs=_C))
    unit = forms.CharField(label=_("Unit"), max_length=10, widget=forms.TextInput(attrs=_C))
    low_threshold = forms.IntegerField(
        label=_("Warn when at or below"),
        min_value=0,
        initial=0,
        widget=forms.NumberInput(attrs=_C),
    )
    note = forms.CharField(
        label=_("Note"), required=False, max_length=200, widget=forms.TextInput(attrs=_C)
    )

    def __init__(self, *args: Any, areas: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["area"].queryset = areas  # type: ignore[attr-defined]


class ReceiveForm(_KeyedForm):
    quantity = forms.IntegerField(
        label=_("Quantity received"), min_value=1, widget=forms.NumberInput(attrs=_BIG)
    )
    reason = forms.CharField(
        label=_("From where"),
        max_length=200,
        help_text=_("Delivery from the subdistrict, donation from …"),
        widget=forms.TextInput(attrs=_C),
    )


class IssueForm(_KeyedForm):
    quantity = forms.IntegerField(
        label=_("Quantity issued"), min_value=1, widget=forms.NumberInput(attrs=_BIG)
    )
    recipient_kind = forms.ChoiceField(
        label=_("Issued to"),
        choices=RecipientKind.choices,
        widget=forms.Select(attrs={"class": "form-select form-select-lg"}),
    )
    recipient = forms.CharField(
        label=_("Recipient"),
        max_length=100,
        help_text=_("Household address, name, checkpoint …"),
        widget=forms.TextInput(attrs=_C),
    )
    reason = forms.CharField(label=_("Reason"), max_length=200, widget=forms.TextInput(attrs=_C))


class AdjustForm(_KeyedForm):
    counted = forms.IntegerField(
        label=_("Counted on hand"), min_value=0, widget=forms.NumberInput(attrs=_BIG)
    )
    reason = forms.CharField(label=_("Reason"), max_length=200, widget=forms.TextInput(attrs=_C))


class ReverseForm(forms.Form):
    reason = forms.CharField(
        label=_("Why it was wrong"), max_length=200, widget=forms.TextInput(attrs=_C)
    )
