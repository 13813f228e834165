"""Forms of the linkage pages."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class CategoryForm(forms.Form):
    """A concern category; the code is set once, when it is created."""

    code = forms.SlugField(label=_("Code"), max_length=32, required=False)
    name = forms.CharField(label=_("Name"), max_length=64)
    description = forms.CharField(label=_("Description"), max_length=200, required=False)
    sort_key = forms.IntegerField(label=_("Order"), min_value=0, max_value=999, initial=0)
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)


class FollowUpForm(forms.Form):
    note = forms.CharField(label=_("What was done"), max_length=2000)
