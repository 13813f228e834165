"""Forms of the resident portal. They keep what was typed and answer in plain words."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from linli.core.identity import normalise_phone

_MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")
_CODE_RE = re.compile(r"^\d{6}$")

# Large inputs with the right phone keyboard: most residents sign in on a phone.
_BIG = "form-control form-control-lg"


class PhoneForm(forms.Form):
    """Step 1 of sign-in: the mobile number registered with the community."""

    phone = forms.CharField(
        label=_("Mobile number"),
        max_length=20,
        widget=forms.TextInput(
            attrs={
                "class": _BIG,
                "inputmode": "tel",
                "autocomplete": "tel",
                "placeholder": _("11-digit mobile number"),
                "autofocus": True,
            }
        ),
    )

    def clean_phone(self) -> str:
        value: str = self.cleaned_data["phone"]
        try:
            number = normalise_phone(value)
        except ValidationError:
            number = ""
        # A code can only be sent to a mobile, so landlines are refused here.
        if not _MOBILE_RE.match(number):
            raise ValidationError(_("Enter your 11-digit mobile number, for example 13912345678."))
        return number


class CodeForm(forms.Form):
    """Step 2 of sign-in: the six-digit code from the SMS."""

    code = forms.CharField(
        label=_("Code from the SMS"),
        max_length=12,
        widget=forms.TextInput(
            attrs={
                "class": _BIG + " text-center fs-3 otp-code",
                "inputmode": "numeric",
                "autocomplete": "one-time-code",
                "placeholder": "······",
                "autofocus": True,
            }
        ),
    )

    def clean_code(self) -> str:
        value = re.sub(r"\s", "", self.cleaned_data["code"])
        if not _CODE_RE.match(value):
            raise ValidationError(_("The code has 6 digits."))
        return value


class CorrectionForm(forms.Form):
    """What a resident thinks is wrong about a member of their household."""

    name = forms.CharField(
        label=_("Correct name"),
        max_length=64,
        required=False,
        widget=forms.TextInput(attrs={"class": _BIG, "autocomplete": "off"}),
    )
    phone = forms.CharField(
        label=_("Correct phone number"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"class": _BIG, "inputmode": "tel", "autocomplete": "off"}),
    )
    note = forms.CharField(
        label=_("Anything else to correct"),
        max_length=500,
        required=False,
        help_text=_("For example: moved out, wrong relation, wrong birth date."),
        widget=forms.Textarea(attrs={"class": _BIG, "rows": 3}),
    )

    def clean_name(self) -> str:
        value: str = self.cleaned_data["name"]
        return value.strip()

    def clean_phone(self) -> str:
        value: str = self.cleaned_data["phone"].strip()
        if not value:
            return ""
        try:
            return normalise_phone(value)
        except ValidationError:
            raise ValidationError(
                _("Enter an 11-digit mobile number, or a landline with its area code.")
            ) from None

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not self.errors and not any(data.get(f) for f in ("name", "phone", "note")):
            raise ValidationError(_("Write what should be corrected."))
        return data
