"""Forms of the linkage pages (Bootstrap-styled like the workbench's)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from linli.areas.models import Area
from linli.linkage.models import ConcernCategory
from linli.workbench.forms import StyledForm


class CategoryForm(StyledForm):
    """A concern category; the code is set once, when it is created."""

    code = forms.SlugField(label=_("Code"), max_length=32, required=False)
    name = forms.CharField(label=_("Name"), max_length=64)
    description = forms.CharField(label=_("Description"), max_length=200, required=False)
    sort_key = forms.IntegerField(label=_("Order"), min_value=0, max_value=999, initial=0)
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)


class ListUploadForm(StyledForm):
    """A received list to match: its name, the area to match against, the flag to raise."""

    name = forms.CharField(label=_("List name"), max_length=100)
    area = forms.ModelChoiceField(label=_("Match against"), queryset=Area.objects.none())
    category = forms.ModelChoiceField(
        label=_("Flag the people found as"),
        queryset=ConcernCategory.objects.filter(is_active=True),
        required=False,
        empty_label=_("(no flag)"),
    )
    file = forms.FileField(
        label=_("File (.xlsx, .xls or .csv)"),
        help_text=_("Columns: 姓名, 身份证号 and/or 联系电话; 来源地 and 抵达时间 are kept."),
    )

    def __init__(self, *args: Any, areas: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        area_field = self.fields["area"]
        assert isinstance(area_field, forms.ModelChoiceField)
        area_field.queryset = areas
