"""Forms of the workbench import pages: they shape input; intake.jobs does the real checks."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from linli.areas.models import Area
from linli.intake.mapping import FIELDS, ColumnMatch, Mapping
from linli.workbench.forms import StyledForm


class UploadForm(StyledForm):
    """The file, where it goes (a community or grid in scope) and where it comes from."""

    file = forms.FileField(
        label=_("File"),
        allow_empty_file=True,  # the reader says "the file is empty" in its own words
        help_text=_("An Excel workbook (.xlsx, .xls) or a .csv file, such as a grid ledger."),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.xls,.csv"}),
    )
    area = forms.ModelChoiceField(
        label=_("Import into"), queryset=Area.objects.none(), empty_label=None
    )
    source = forms.CharField(
        label=_("Source"),
        max_length=64,
        help_text=_(
            "Where the file comes from, e.g. 网格花名册 or 派出所流动人口表. Files from the same "
            "source reuse its saved column mapping."
        ),
        widget=forms.TextInput(attrs={"list": "known-sources", "autocomplete": "off"}),
    )

    def __init__(self, *args: Any, areas: QuerySet[Area], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        area_field: Any = self.fields["area"]
        area_field.queryset = areas
        area_field.label_from_instance = lambda a: f"{a.name}（{a.get_kind_display()}）"


NOT_IMPORTED = ""


class MappingForm(StyledForm):
    """One select per column of the file (the field it feeds, or not imported), and the name
    of the profile to save the mapping as."""

    profile_name = forms.CharField(
        label=_("Save as profile"),
        max_length=100,
        required=False,
        help_text=_(
            "Give the mapping a name to reuse it: next month's file from the same source is "
            "then imported with no questions. Leave empty not to save it."
        ),
    )

    def __init__(self, *args: Any, mapping: Mapping, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.mapping = mapping
        choices = [(NOT_IMPORTED, _("(not imported)")), *FIELDS.items()]
        for col in mapping.columns:
            self.fields[f"col_{col.index}"] = forms.ChoiceField(
                label=col.header or "—",
                choices=choices,
                required=False,
                initial=col.field or NOT_IMPORTED,
                widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
            )
        self.order_fields([*(f"col_{c.index}" for c in mapping.columns), "profile_name"])

    def column_rows(self) -> list[dict[str, Any]]:
        """What the mapping page shows per column: header, the recognised field, the select."""
        return [{"col": c, "field": self[f"col_{c.index}"]} for c in self.mapping.columns]

    def chosen_mapping(self) -> Mapping:
        """The mapping as the worker set it (call after is_valid())."""
        columns = []
        for col in self.mapping.columns:
            value = self.cleaned_data.get(f"col_{col.index}") or None
            conf = col.confidence if value == col.field else 1.0
            columns.append(ColumnMatch(col.index, col.header, value, conf if value else 0.0))
        return Mapping(columns=columns)
