"""``hotline report``: reports straight from an interaction-history CSV, no database.

``report kpis`` prints every KPI of KPI.md per group (``--by``, intervals in ``--tz``);
``report overview`` prints the seeds' reports (:mod:`hotline.core.kpi.reports`).

Glue only, like :mod:`hotline.cli`: read the file, let :mod:`hotline.core.kpi.history` check
it (all-or-nothing), turn rows into visits with the names numbered by
:class:`~hotline.core.kpi.grouping.Names`, group them with
:mod:`hotline.core.kpi.grouping` and print.  The same contracts as the rest of the CLI: with
``--json`` exactly one JSON document on stdout; a user's mistake (bad option, unreadable
or bad file) is ``error:`` lines on stderr and exit status 2, nothing computed.
"""

from __future__ import annotations

import json
from collections.abc import Hashable
from pathlib import Path
from typing import Annotated, Any, NoReturn, cast

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from hotline.core.kpi import KpiAccumulator, KpiError, QueueVisit
from hotline.core.kpi.grouping import (
    Dimension,
    GroupKey,
    Names,
    fill_intervals,
    group_documents,
    group_visits,
    parse_by,
)
from hotline.core.kpi.history import HistoryCsvError, HistoryRow, history_visit, parse_history_csv
from hotline.core.kpi.intervals import Period, Slot, zone

report_app = typer.Typer(
    help="Reports from an interaction-history CSV, without a database.", no_args_is_help=True
)


def _stderr() -> Console:
    return Console(stderr=True)


def _fail(*messages: str) -> NoReturn:
    console = _stderr()
    for message in messages:
        console.print(f"[bold red]error:[/] {escape(message)}", soft_wrap=True)
    raise typer.Exit(code=2)


class _Catalogue:
    """The names of a file numbered per dimension, so visits can carry int ids."""

    def __init__(self) -> None:
        self.hotlines = Names()
        self.queues = Names()
        self.operators = Names()

    def visit(self, number: int, row: HistoryRow) -> QueueVisit:
        return history_visit(
            row,
            queue_id=self.queues.id_of(row.queue),
            interaction_id=number,
            hotline_id=self.hotlines.id_of(row.hotline),
            operator_id=None if row.agent is None else self.operators.id_of(row.agent),
        )

    def label(self, dimension: Dimension, value: Hashable) -> object:
        if value is None:
            return None
        if isinstance(value, Slot):
            return value.label
        if isinstance(value, int):
            match dimension:
                case Dimension.HOTLINE:
                    return self.hotlines.name_of(value)
                case Dimension.QUEUE:
                    return self.queues.name_of(value)
                case Dimension.OPERATOR:
                    return self.operators.name_of(value)
        return value


#: KPI.md's example thresholds, the defaults of ``--answer-within`` and ``--short-abandon``.
DEFAULT_ANSWER_WITHIN = 20.0
DEFAULT_SHORT_ABANDON = 5.0


def _thresholds(
    option: str, given: list[str] | None, default: float
) -> tuple[float, dict[str, float]]:
    """``["20", "Sales=30"]`` → ``(20.0, {"Sales": 30.0})``: the default and per-queue
    values of a threshold option, each checked as KpiAccumulator checks it."""
    overall: float | None = None
    per_queue: dict[str, float] = {}
    for item in given or []:
        name, sep, text = item.rpartition("=")
        try:
            value = float(text)
        except ValueError:
            raise KpiError(f"{option} {item}: not a number of seconds") from None
        try:
            KpiAccumulator(value, 0.0)
        except KpiError:
            raise KpiError(f"{option} {item}: must be a finite number of seconds >= 0") from None
        if not sep:
            if overall is not None:
                raise KpiError(f"{option}: give one default value (then QUEUE=SECONDS)")
            overall = value
        elif not name.strip():
            raise KpiError(f"{option} {item}: the queue name is empty")
        else:
            per_queue[name.strip()] = value
    return (default if overall is None else overall), per_queue


def _read_rows(path: Path) -> list[HistoryRow]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        _fail(f"--log {path}: cannot read the file ({exc.strerror})")
    except UnicodeDecodeError:
        _fail(f"--log {path}: not a UTF-8 text file")
    try:
        return parse_history_csv(text.splitlines())
    except HistoryCsvError as exc:
        _fail(*(f"{path}: {problem}" for problem in exc.problems))


def _print_table(documents: list[dict[str, object]], by: tuple[Dimension, ...]) -> None:
    def number(value: object, digits: int = 1) -> str:
        return "—" if not isinstance(value, int | float) else f"{value:.{digits}f}"

    def percent(value: object) -> str:
        return "—" if not isinstance(value, int | float) else f"{100 * value:.1f}"

    table = Table(title="KPIs (shared/KPI.md); --json gives every key")
    for dimension in by:
        table.add_column(str(dimension), overflow="fold")  # wrap names, never cut them
    columns = ["offered", "answered", "aband.", "SL %", "SL ans. %", "ASA s", "AHT s"]
    for column in [*columns, "aband. %", "CSAT"]:
        table.add_column(column, justify="right")
    for document in documents:
        key = cast(dict[str, object], document["key"])  # built by group_documents
        table.add_row(
            *("—" if key[str(d)] is None else escape(str(key[str(d)])) for d in by),
            str(document["offered"]),
            str(document["answered"]),
            str(document["abandoned"]),
            percent(document["sl_offered"]),
            percent(document["sl_answered"]),
            number(document["asa"]),
            number(document["aht"]),
            percent(document["abandon_rate"]),
            number(document["csat_avg"], 2),
        )
    console = Console()
    if not console.is_terminal:
        # piped or captured: no terminal to fit, so keep interval labels on one line
        console = Console(width=max(console.width, 160))
    console.print(table)


@report_app.command("kpis")
def report_kpis(
    log: Annotated[
        Path,
        typer.Option(
            "--log",
            metavar="FILE.csv",
            help="Interaction history CSV: id,channel,hotline,queue,agent,source,topic,"
            "arrived_at,answered_at,ended_at,hold_seconds,wrapup_seconds,csat.",
        ),
    ],
    by: Annotated[
        str,
        typer.Option(
            "--by",
            help="Group by any of hotline,queue,operator,topic,outcome,source,channel,"
            "interval (comma-separated; empty: one total).",
        ),
    ] = "queue",
    interval: Annotated[
        str, typer.Option("--interval", help="Interval: 15, 30, 60 minutes, day, week or month.")
    ] = "30",
    answer_within: Annotated[
        list[str] | None,
        typer.Option(
            "--answer-within",
            metavar="SECONDS|QUEUE=SECONDS",
            help="Service-level threshold T, seconds (default 20); QUEUE=SECONDS sets one "
            "queue's own T (repeat the option).",
        ),
    ] = None,
    short_abandon: Annotated[
        list[str] | None,
        typer.Option(
            "--short-abandon",
            metavar="SECONDS|QUEUE=SECONDS",
            help="Short-abandon threshold S, seconds (default 5, 0: none); QUEUE=SECONDS "
            "sets one queue's own S (repeat the option).",
        ),
    ] = None,
    tz: Annotated[
        str, typer.Option("--tz", help="Time zone of the intervals (IANA name).")
    ] = "UTC",
    fill: Annotated[
        bool, typer.Option("--fill", help="List intervals without interactions too.")
    ] = False,
    json_out: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> None:
    """Every KPI of KPI.md except occupancy, per group, computed from the file alone.

    An interaction belongs to the interval it entered the queue in, in --tz wall-clock time
    (DST days have 46 or 50 half hours).  Ratios with a zero denominator are null.
    """
    try:
        dimensions = parse_by(by)
        period = Period.parse(interval)
        zone_info = zone(tz)
        t, t_per_queue = _thresholds("--answer-within", answer_within, DEFAULT_ANSWER_WITHIN)
        s, s_per_queue = _thresholds("--short-abandon", short_abandon, DEFAULT_SHORT_ABANDON)
    except KpiError as exc:
        _fail(str(exc))
    rows = _read_rows(log)
    catalogue = _Catalogue()
    visits = [catalogue.visit(number, row) for number, row in enumerate(rows, start=1)]
    unknown = sorted((t_per_queue.keys() | s_per_queue.keys()) - catalogue.queues.ids.keys())
    if unknown:
        _fail(*(f"{log}: no queue named {name!r} (given a threshold)" for name in unknown))
    queue_thresholds = {
        catalogue.queues.id_of(name): (t_per_queue.get(name, t), s_per_queue.get(name, s))
        for name in t_per_queue.keys() | s_per_queue.keys()
    }
    groups: dict[GroupKey, KpiAccumulator] = group_visits(
        visits,
        dimensions,
        period=period,
        tz=zone_info,
        answer_within=t,
        short_abandon=s,
        queue_thresholds=queue_thresholds,
    )
    if fill:
        groups = fill_intervals(
            groups, dimensions, period=period, tz=zone_info, answer_within=t, short_abandon=s
        )
    documents = group_documents(groups, dimensions, catalogue.label)
    if json_out:
        typer.echo(json.dumps({"groups": documents}, ensure_ascii=False))
    else:
        _print_table(documents, dimensions)


@report_app.command("overview")
def report_overview(
    log: Annotated[
        Path,
        typer.Option("--log", metavar="FILE.csv", help="Interaction history CSV (see kpis)."),
    ],
    answer_within: Annotated[
        float, typer.Option("--answer-within", help="Service-level threshold T, seconds.")
    ] = DEFAULT_ANSWER_WITHIN,
    short_abandon: Annotated[
        float, typer.Option("--short-abandon", help="Short-abandon threshold S, seconds.")
    ] = DEFAULT_SHORT_ABANDON,
    tz: Annotated[
        str, typer.Option("--tz", help="Time zone for hours, weekdays, months (IANA name).")
    ] = "UTC",
    json_out: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> None:
    """The seeds' reports (operators, conversion, abandonment, billing...) from the file.

    Calls by weekday and hour, talk durations, topics, lead → customer conversion by source
    and operator, the per-operator table, abandonment with its waits, EWT accuracy,
    callbacks requested and billing per hotline and month (definitions:
    hotline.core.kpi.reports).
    """
    from hotline.core.kpi.overview import overview_document

    try:
        zone_info = zone(tz)
        KpiAccumulator(answer_within, short_abandon)  # checks both thresholds
    except KpiError as exc:
        _fail(str(exc))
    catalogue = _Catalogue()
    rows = _read_rows(log)
    visits = [catalogue.visit(number, row) for number, row in enumerate(rows, start=1)]
    kinds = {"hotline": Dimension.HOTLINE, "queue": Dimension.QUEUE, "operator": Dimension.OPERATOR}
    document = overview_document(
        visits,
        tz=zone_info,
        answer_within=answer_within,
        short_abandon=short_abandon,
        name=lambda kind, id_: catalogue.label(kinds[kind], id_),
    )
    if json_out:
        typer.echo(json.dumps(document, ensure_ascii=False))
        return
    _print_overview(document)


def _print_overview(document: dict[str, Any]) -> None:
    """The operator table, billing and abandonment waits; --json has every report."""

    def number(value: object, digits: int = 1) -> str:
        return "—" if not isinstance(value, int | float) else f"{value:.{digits}f}"

    console = Console()
    operators = Table(title="Operators (SL: share of their answers within T)")
    for column in ["operator", "handled", "AHT s", "SL %", "conversion %", "CSAT"]:
        operators.add_column(column, justify="left" if column == "operator" else "right")
    for row in document["operators"]:
        operators.add_row(
            escape(str(row["operator"])),
            str(row["handled"]),
            number(row["aht"]),
            number(None if row["sl_answered"] is None else 100 * row["sl_answered"]),
            number(None if row["conversion"] is None else 100 * row["conversion"]),
            number(row["csat_avg"], 2),
        )
    console.print(operators)
    bills = Table(title="Billing per hotline and month")
    for column in ["hotline", "month", "interactions", "handled min", "talk min"]:
        bills.add_column(column, justify="left" if column in {"hotline", "month"} else "right")
    for row in document["billing"]:
        bills.add_row(
            escape(str(row["hotline"])),
            row["month"],
            str(row["interactions"]),
            number(row["handled_minutes"], 2),
            number(row["talk_minutes"], 2),
        )
    console.print(bills)
    abandon = document["abandonment"]
    waits = Table(title=f"Abandoned: {abandon['abandoned']} of {abandon['offered']} offered")
    waits.add_column("wait s")
    waits.add_column("abandoned", justify="right")
    for bucket in abandon["waits"]:
        upper = "" if bucket["upper"] is None else f"{bucket['upper']:g}"
        waits.add_row(f"{bucket['lower']:g}–{upper}", str(bucket["count"]))
    console.print(waits)
