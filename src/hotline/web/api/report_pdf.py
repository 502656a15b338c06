"""KPI report tables as PDF (fpdf2): the headline KPIs of each group on landscape A4.

A PDF page cannot hold all 22 KPIs of KPI.md legibly, so it shows the ones a printed report
is read for; CSV and XLSX carry every key.  Names are often Cyrillic, which the PDF core
fonts lack: a TrueType font with Cyrillic (DejaVu Sans, as Debian installs it, or the file
``HOTLINE_PDF_FONT`` names) is embedded when found; otherwise the core font is used and
characters it cannot show become ``?``.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from fpdf import FPDF
from fpdf.fonts import FontFace

from hotline.web.api.report_export import RATIO_KEYS, key_columns

#: the KPI columns of the PDF, with their headings
PDF_COLUMNS: tuple[tuple[str, str], ...] = (
    ("offered", "Offered"),
    ("answered", "Answered"),
    ("abandoned", "Abandoned"),
    ("sl_offered", "SL"),
    ("asa", "ASA, s"),
    ("aht", "AHT, s"),
    ("abandon_rate", "Abandon"),
    ("max_wait", "Max wait, s"),
    ("csat_avg", "CSAT"),
)
_FONT_PATHS = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
    "/usr/local/share/fonts/DejaVuSans.ttf",
)


def _font_file() -> Path | None:
    named = os.environ.get("HOTLINE_PDF_FONT")
    for candidate in (named, *_FONT_PATHS):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    return None


def _cell(name: str, value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if name in RATIO_KEYS:
        return f"{value:.1%}"
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)


def to_pdf(groups: Sequence[dict[str, Any]], *, title: str, subtitle: str = "") -> bytes:
    """A PDF with one table row per group (key columns, then :data:`PDF_COLUMNS`)."""
    pdf = FPDF(orientation="landscape", format="A4")
    font = _font_file()
    if font is not None:
        pdf.add_font("report", fname=str(font))
        family = "report"
    else:
        family = "helvetica"

    def text(value: str) -> str:
        if font is not None:
            return value
        return value.encode("latin-1", "replace").decode("latin-1")

    pdf.set_auto_page_break(auto=True, margin=12)
    pdf.add_page()
    pdf.set_font(family, size=14)
    pdf.cell(text=text(title), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(family, size=9)
    if subtitle:
        pdf.cell(text=text(subtitle), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    keys = [k for k in key_columns(groups) if k != "utc_offset"]
    header = [k.replace("_", " ") for k in keys] + [label for _, label in PDF_COLUMNS]
    pdf.set_font(family, size=8)
    with pdf.table(
        headings_style=FontFace(emphasis=None, fill_color=(225, 230, 240)),
        line_height=5,
        text_align="LEFT",
    ) as table:
        row = table.row()
        for heading in header:
            row.cell(text(heading))
        for group in groups:
            row = table.row()
            for name in keys:
                row.cell(text(_cell(name, group["key"][name])))
            for name, _ in PDF_COLUMNS:
                row.cell(text(_cell(name, group[name])))
    if not groups:
        pdf.cell(text="No interactions in this period.")
    return bytes(pdf.output())
