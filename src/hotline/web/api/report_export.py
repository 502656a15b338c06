"""KPI report tables as CSV and XLSX (openpyxl), with the cell types a spreadsheet expects.

XLSX: counts are integers, seconds are numbers, ratios are numbers shown as percentages,
interval starts are real date-times.  Excel has no time zones, so an interval start is
written as the hotline's wall-clock time with its UTC offset in the next column (the two
02:00 rows of a DST fall-back day then read ``+02:00`` and ``+01:00``).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from hotline.core.kpi.compute import KPI_KEYS

#: KPI keys that are shares (0–1), shown as percentages.
RATIO_KEYS = frozenset(
    {
        "sl_offered",
        "sl_answered",
        "sl_excl_short",
        "sl_excl_abandon_within",
        "abandon_rate",
        "abandon_rate_excl_short",
        "csat_share_satisfied",
    }
)
#: KPI keys in seconds.
SECONDS_KEYS = frozenset(
    {"asa", "avg_abandon_wait", "max_wait", "aht", "avg_talk", "avg_hold", "avg_wrapup"}
)
VALUE_COLUMNS: tuple[str, ...] = (*KPI_KEYS, "answer_within", "short_abandon")


def key_columns(groups: Sequence[dict[str, Any]]) -> list[str]:
    """The key columns, in first-seen order (every group of a report has the same keys)."""
    columns: list[str] = []
    for group in groups[:1]:
        for name in group["key"]:
            columns.append(name)
            if name == "interval_start":
                columns.append("utc_offset")
    return columns


def _offset(value: dt.datetime) -> str:
    return value.isoformat()[19:] or "+00:00"


def to_csv(groups: Sequence[dict[str, Any]]) -> str:
    """One row per group; times in ISO 8601 with their offset, ratios as fractions."""
    keys = key_columns(groups)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*keys, *VALUE_COLUMNS])
    for group in groups:
        cells: list[Any] = []
        for name in keys:
            if name == "utc_offset":
                cells.append(_offset(group["key"]["interval_start"]))
                continue
            value = group["key"][name]
            cells.append(value.isoformat() if isinstance(value, dt.datetime) else value)
        cells.extend(group[name] for name in VALUE_COLUMNS)
        writer.writerow(["" if cell is None else cell for cell in cells])
    return out.getvalue()


def to_xlsx(groups: Sequence[dict[str, Any]], *, title: str = "KPIs") -> bytes:
    """A workbook with one sheet; see the module docstring for the cell types."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None  # noqa: S101 - a new workbook has one sheet
    sheet.title = title[:31]
    keys = key_columns(groups)
    header = [*keys, *VALUE_COLUMNS]
    sheet.append(header)
    for group in groups:
        cells: list[Any] = []
        for name in keys:
            if name == "utc_offset":
                cells.append(_offset(group["key"]["interval_start"]))
                continue
            value = group["key"][name]
            if isinstance(value, dt.datetime):
                value = value.replace(tzinfo=None)  # the wall clock; offset beside it
            cells.append(value)
        cells.extend(group[name] for name in VALUE_COLUMNS)
        sheet.append(cells)
    for index, name in enumerate(header, start=1):
        if name in RATIO_KEYS:
            fmt = "0.0%"
        elif name in SECONDS_KEYS or name in {"answer_within", "short_abandon"}:
            fmt = "0.0"
        elif name == "interval_start":
            fmt = "yyyy-mm-dd hh:mm"
        else:
            continue
        letter = get_column_letter(index)
        for (cell,) in sheet.iter_rows(min_col=index, max_col=index, min_row=2):
            cell.number_format = fmt
        sheet.column_dimensions[letter].width = 18 if name == "interval_start" else 12
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
