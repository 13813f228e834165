"""The template editor's form: a spec shown as editable rows, and posted rows back to a spec.

No code for the user: columns are chosen from the source registry, ordered with up/down
buttons, labelled and grouped; filters are the row set's own filters shown as fields.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from linli.areas.models import Area
from linli.reports import registry
from linli.reports.models import Recurrence, RenderFormat, ReportTemplate
from linli.reports.spec import MANUAL, SEQ


def source_choices(rs: registry.RowSet) -> list[tuple[str, str]]:
    """The columns a user may pick, by the default label the form uses for them."""
    out = [(SEQ, str(_("Row number"))), (MANUAL, str(_("Blank column, filled by hand")))]
    out += [(c.key, str(c.label) + (" ★" if c.reveal else "")) for c in rs.columns.values()]
    return out


def filter_fields(rs: registry.RowSet, values: dict[str, Any]) -> list[dict[str, Any]]:
    """The row set's filters as fields with the spec's current values."""
    out = []
    for f in rs.filters.values():
        value = values.get(f.key)
        out.append(
            {
                "key": f.key,
                "label": f.label,
                "kind": f.kind,
                "choices": f.choice_list(),
                "value": value if value is not None else ([] if f.kind == "multi" else ""),
            }
        )
    return out


def _int(value: str) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def spec_from_post(data: QueryDict, base: dict[str, Any], rs: registry.RowSet) -> dict[str, Any]:
    """The spec the editor's fields describe (validated afterwards by spec_validate)."""
    spec = dict(base)
    lines = lambda name: [x.strip() for x in data.get(name, "").splitlines() if x.strip()]  # noqa: E731
    spec["header"] = {
        "title": data.get("title", "").strip(),
        "subtitle": data.get("subtitle", "").strip(),
        "department": data.get("department", "").strip(),
        "period": data.get("period", "").strip(),
        "unit": data.get("unit", "").strip(),
        "info": lines("info"),
        "footer": lines("footer"),
    }
    filters: dict[str, Any] = {}
    for f in rs.filters.values():
        name = f"filter_{f.key}"
        if f.kind == "multi":
            chosen = [v for v in data.getlist(name) if v]
            if chosen:
                filters[f.key] = chosen
        elif f.kind == "int":
            raw = data.get(name, "").strip()
            if raw:
                number = _int(raw)
                filters[f.key] = number if number is not None else raw
        else:
            raw = data.get(name, "").strip()
            if raw:
                filters[f.key] = raw
    spec["filters"] = filters
    spec["orientation"] = data.get("orientation", "auto")
    if base.get("kind") == "statistics":
        by_key = {m["key"]: m for m in base.get("measures", [])}
        measures = []
        for key, label, group in zip(
            data.getlist("m_key"), data.getlist("m_label"), data.getlist("m_group"), strict=False
        ):
            if key in by_key:
                measures.append({**by_key[key], "label": label.strip(), "group": group.strip()})
        spec["measures"] = measures
        spec["dimension_label"] = data.get("dimension_label", "").strip()
        return spec
    columns = []
    for source, label, group, width in zip(
        data.getlist("col_source"),
        data.getlist("col_label"),
        data.getlist("col_group"),
        data.getlist("col_width"),
        strict=False,
    ):
        if not source:
            continue
        col: dict[str, Any] = {"source": source, "label": label.strip() or source}
        if group.strip():
            col["group"] = group.strip()
        if _int(width):
            col["width"] = _int(width)
        columns.append(col)
    spec["columns"] = columns
    spec["group_by"] = data.get("group_by", "")
    spec["subtotals"] = bool(data.get("subtotals")) and bool(spec["group_by"])
    sort = data.get("sort", "")
    spec["sort"] = [{"source": sort, "descending": bool(data.get("sort_desc"))}] if sort else []
    return spec


class RenderForm(forms.Form):
    """Render one template for one of the user's areas."""

    area: forms.ModelChoiceField[Any] = forms.ModelChoiceField(
        queryset=Area.objects.none(),
        label=_("Area"),
        empty_label=None,
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    format = forms.ChoiceField(
        choices=RenderFormat.choices,
        label=_("Format"),
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    reason = forms.CharField(
        label=_("Reason for full ID numbers"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"class": "form-control"}),
    )

    def __init__(self, *args: Any, areas: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["area"].queryset = areas  # type: ignore[attr-defined]


class DataRequestForm(forms.Form):
    department = forms.CharField(label=_("Department"), max_length=100)
    template: forms.ModelChoiceField[Any] = forms.ModelChoiceField(
        queryset=ReportTemplate.objects.none(), label=_("Template")
    )
    area: forms.ModelChoiceField[Any] = forms.ModelChoiceField(
        queryset=Area.objects.none(), label=_("Area")
    )
    period = forms.CharField(label=_("Period"), max_length=60, required=False)
    due_on = forms.DateField(label=_("Due date"), widget=forms.DateInput(attrs={"type": "date"}))
    recurrence = forms.ChoiceField(choices=Recurrence.choices, label=_("Recurrence"))
    format = forms.ChoiceField(choices=RenderFormat.choices, label=_("Format"))

    def __init__(self, *args: Any, templates: Any, areas: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            field.widget.attrs.setdefault("class", css)
        self.fields["template"].queryset = templates  # type: ignore[attr-defined]
        self.fields["area"].queryset = areas  # type: ignore[attr-defined]
