"""``hotline wfm forecast | shifts`` (and, via :mod:`hotline.cli_wfm_whatif`, ``whatif |
cost``): planning commands on the ``wfm`` group.

Glue only, like :mod:`hotline.cli`: read the files and options
(:mod:`hotline.wfm_plan_io`), call the pure math in :mod:`hotline.core.wfm`, print one
JSON document (``--json``) or a short summary.  A user's mistake prints one ``error:``
line per problem (``FILE: line N: column: problem`` for a CSV) and exits with status 2.
Registered by importing this module from :mod:`hotline.cli`.
"""

from __future__ import annotations

import json
import math
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.markup import escape

from hotline.cli import JsonOpt, _fail, _stderr, wfm_app
from hotline.wfm_plan_io import InputError


def _fail_all(source: str, problems: list[str]) -> NoReturn:
    console = _stderr()
    for problem in problems:
        console.print(f"[bold red]error:[/] {escape(f'{source}: {problem}')}", soft_wrap=True)
    raise typer.Exit(code=2)


def _emit(document: Any, json_out: bool, summary: list[str]) -> None:
    if json_out:
        typer.echo(json.dumps(document, ensure_ascii=False, allow_nan=False))
    else:
        for line in summary:
            typer.echo(line)


def _finite(x: float) -> float | None:
    return x if math.isfinite(x) else None


def _iso(t: datetime) -> str:
    return t.isoformat(timespec="minutes")


# --- forecast -------------------------------------------------------------------------------


@wfm_app.command("forecast")
def wfm_forecast(
    history: Annotated[
        Path,
        typer.Option(
            "--history",
            metavar="FILE.csv",
            help="Header timestamp,calls,aht (then optionally queue): the start of each "
            "interval in the queue's local time (ISO 8601, e.g. 2026-11-02T08:30), calls "
            "offered, mean handle time in s (empty without calls).  Missing intervals count "
            "as 0 calls.",
        ),
    ],
    interval: Annotated[int, typer.Option("--interval", help="Minutes: 15, 30 or 60.")] = 30,
    horizon: Annotated[str, typer.Option("--horizon", help="Days to forecast, e.g. 7d.")] = "7d",
    event: Annotated[
        list[str] | None,
        typer.Option(
            "--event",
            metavar="FIRST:LAST:+N%",
            help="A one-off change of demand, dates inclusive (repeatable), e.g. "
            "2026-12-01:2026-12-07:+60%.  Applies to the history too (taken out of the fit).",
        ),
    ] = None,
    holiday: Annotated[
        list[str] | None,
        typer.Option("--holiday", metavar="YYYY-MM-DD", help="A closed day (repeatable)."),
    ] = None,
    method: Annotated[
        str, typer.Option("--method", help="poisson (default) or ets (Holt-Winters).")
    ] = "poisson",
    holdout: Annotated[
        int, typer.Option("--holdout", help="Days held out for the backtest (0: none).")
    ] = 7,
    target_sl: Annotated[
        float | None,
        typer.Option("--target-sl", help="With --answer-within: add operators required."),
    ] = None,
    answer_within: Annotated[
        float | None, typer.Option("--answer-within", help="Service-level threshold T, s.")
    ] = None,
    patience: Annotated[
        float | None, typer.Option("--patience", help="Mean patience, s (Erlang A).")
    ] = None,
    shrinkage: Annotated[float | None, typer.Option("--shrinkage", help="e.g. 0.3.")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Calls and AHT per interval for the next days, per queue, with the backtest (MAPE,
    WAPE) of the same model on the last week of the history; with --target-sl and
    --answer-within also the operators required per interval (Erlang, with shrinkage)
    and supervisors (1 per 10)."""
    from hotline.core.wfm.erlang import StaffingError
    from hotline.core.wfm.forecast import ForecastError, forecast, history_from_rows
    from hotline.core.wfm.requirements import requirements
    from hotline.wfm_plan_io import parse_event, read_history

    try:
        days = int(horizon.strip().removesuffix("d"))
    except ValueError:
        _fail(f"--horizon: {horizon!r} is not a number of days such as 7d")
    try:
        events = [parse_event(e) for e in event or []]
    except ValueError as exc:
        _fail(f"--event: {exc}")
    try:
        closed = [date.fromisoformat(h) for h in holiday or []]
    except ValueError as exc:
        _fail(f"--holiday: {exc}")
    if method not in ("poisson", "ets"):
        _fail(f"--method: must be poisson or ets (got {method!r})")
    if (target_sl is None) != (answer_within is None):
        _fail("give --target-sl and --answer-within together")
    try:
        by_queue = read_history(history)
    except InputError as exc:
        _fail_all(str(history), exc.problems)
    queues = []
    summary = []
    for name, rows in sorted(by_queue.items()):
        where = f"{history}" + (f" (queue {name})" if name else "")
        try:
            result = forecast(
                history_from_rows(rows, interval),
                horizon_days=days,
                holidays=closed,
                events=events,
                method="ets" if method == "ets" else "poisson",
                holdout_days=holdout,
            )
        except ForecastError as exc:
            _fail(f"{where}: {exc}")
        intervals: list[dict[str, Any]] = [
            {"start": _iso(t), "calls": float(c), "aht": _finite(float(a))}
            for t, c, a in zip(result.timestamps(), result.calls, result.aht, strict=True)
        ]
        if target_sl is not None and answer_within is not None:
            try:
                need = requirements(
                    result.calls,
                    [a if math.isfinite(a) else 1.0 for a in result.aht],  # no calls ever
                    interval * 60,
                    target_sl,
                    answer_within,
                    patience=patience,
                    shrinkage=shrinkage,
                )
            except StaffingError as exc:
                _fail(f"{where}: {exc}")
            for i, row in enumerate(intervals):
                row["agents"] = int(need.agents[i])
                row["scheduled"] = int(need.scheduled[i])
                row["supervisors"] = int(need.supervisors[i])
        bt = result.backtest
        queues.append(
            {
                "queue": name or None,
                "method": result.method,
                "trend_per_week": result.trend_per_week,
                "backtest": None
                if bt is None
                else {
                    "first_day": bt.first_day.isoformat(),
                    "days": bt.days,
                    "mape": bt.mape,
                    "wape": bt.wape,
                    "aht_wape": bt.aht_wape,
                },
                "intervals": intervals,
            }
        )
        wape = "—" if bt is None or bt.wape is None else f"{100 * bt.wape:.1f} %"
        summary.append(
            f"{name or 'queue'}: {sum(result.calls):.0f} calls forecast over {days} d from "
            f"{result.start}; backtest WAPE {wape}"
        )
    _emit({"interval_minutes": interval, "horizon_days": days, "queues": queues}, json_out, summary)


# --- shifts ---------------------------------------------------------------------------------

_DEFAULT_TEMPLATES = (
    "4h=4h;break:{i}@60-120",
    "8h=8h;break:{i}@60-120;lunch:60@180-300:unpaid;break2:{i}@360-{late}",
)


@wfm_app.command("shifts")
def wfm_shifts(
    requirements_file: Annotated[
        Path,
        typer.Option(
            "--requirements",
            metavar="FILE.csv",
            help="Header start,GROUP… : one row per interval, consecutive, from a local "
            "midnight (start in ISO 8601), one column per requirement group with the "
            "operators needed on the phones.",
        ),
    ],
    operators_file: Annotated[
        Path,
        typer.Option(
            "--operators",
            metavar="FILE.csv",
            help="Header name,skills,hourly_rate,available (then max_shifts,min_shifts): "
            "skills are groups separated by ';', available e.g. 'mon-fri 08:00-18:00; sat "
            "10:00-14:00' or 'all 00:00-24:00'.",
        ),
    ],
    interval: Annotated[int, typer.Option("--interval", help="Minutes: 15, 30 or 60.")] = 30,
    template: Annotated[
        list[str] | None,
        typer.Option(
            "--template",
            metavar="NAME=LENGTH[;PAUSE…]",
            help="A shift template (repeatable); PAUSE is name:MINUTES@EARLIEST-LATEST"
            "[:unpaid], minutes from the shift start, e.g. "
            "'8h=8h;break:15@60-150;lunch:60@180-300:unpaid'.  Default: 4 h with a break, "
            "8 h with two breaks and an unpaid hour of lunch.",
        ),
    ] = None,
    start_step: Annotated[
        str, typer.Option("--start-step", help="Shift start granularity, e.g. 30m or 1h.")
    ] = "1h",
    min_rest: Annotated[
        str, typer.Option("--min-rest", help="Minimum rest between shifts, e.g. 11h.")
    ] = "11h",
    under_penalty: Annotated[
        float, typer.Option("--under-penalty", help="Cost of one missing operator-hour.")
    ] = 1000.0,
    time_limit: Annotated[
        float, typer.Option("--time-limit", help="Solver time limit in seconds.")
    ] = 10.0,
    workers: Annotated[int, typer.Option("--workers", help="Solver threads (1: repeatable).")] = 1,
    seed: Annotated[int, typer.Option("--seed", help="Solver random seed.")] = 0,
    json_out: JsonOpt = False,
) -> None:
    """Shifts per operator (with breaks and lunch) covering the requirements at least cost
    (paid hours × rate + a penalty per missing operator-hour), with the coverage per
    interval (required vs scheduled) and supervisors (1 per 10 operators on the floor)."""
    from hotline.core.wfm.requirements import supervisors_for
    from hotline.core.wfm.shifts import ScheduleError, schedule
    from hotline.wfm_plan_io import (
        parse_duration_minutes,
        parse_template,
        read_operators,
        read_requirements,
    )

    if interval not in (15, 30, 60):
        _fail(f"--interval: must be 15, 30 or 60 (got {interval})")
    try:
        step, rest = parse_duration_minutes(start_step), parse_duration_minutes(min_rest)
    except ValueError as exc:
        _fail(f"--start-step/--min-rest: {exc}")
    texts = template or [
        t.format(i=max(15, interval), late=420 - max(15, interval)) for t in _DEFAULT_TEMPLATES
    ]
    try:
        templates = [parse_template(t) for t in texts]
    except ValueError as exc:
        _fail(f"--template: {exc}")
    try:
        first, required = read_requirements(requirements_file, interval)
    except InputError as exc:
        _fail_all(str(requirements_file), exc.problems)
    n = len(next(iter(required.values())))
    days = -(-n * interval // 1440)
    try:
        operators = read_operators(operators_file, first.date(), days)
    except InputError as exc:
        _fail_all(str(operators_file), exc.problems)
    try:
        result = schedule(
            interval,
            required,
            operators,
            templates,
            start_step_minutes=step,
            min_rest_minutes=rest,
            under_penalty=under_penalty,
            time_limit=time_limit,
            workers=workers,
            seed=seed,
        )
    except ScheduleError as exc:
        _fail_all("shifts", exc.problems)

    def at(minute: int) -> str:
        return _iso(first + timedelta(minutes=minute))

    on_floor = [sum(cv.scheduled[t] for cv in result.coverage.values()) for t in range(n)]
    missing = sum(sum(cv.under) for cv in result.coverage.values()) * interval / 60
    document = {
        "status": result.status,
        "cost": result.cost,
        "bound": result.bound,
        "paid_cost": result.paid_cost,
        "under_coverage_hours": missing,
        "unused_operators": result.unused,
        "shifts": [
            {
                "operator": s.operator,
                "template": s.template,
                "start": at(s.start),
                "end": at(s.end),
                "paid_hours": s.paid_hours,
                "cost": s.cost,
                "pauses": [{"name": p, "start": at(a), "end": at(b)} for p, a, b in s.pauses],
                "segments": [{"group": g, "start": at(a), "end": at(b)} for a, b, g in s.segments],
            }
            for s in result.shifts
        ],
        "coverage": {
            g: [
                {"start": at(t * interval), "required": r, "scheduled": s}
                for t, (r, s) in enumerate(zip(cv.required, cv.scheduled, strict=True))
            ]
            for g, cv in result.coverage.items()
        },
        "supervisors": [supervisors_for(k) for k in on_floor],
    }
    summary = [
        f"{len(result.shifts)} shifts, cost {result.cost:.2f} ({result.status}; bound "
        f"{result.bound:.2f}), {missing:g} operator-hours under requirement"
    ]
    summary += [
        f"  {s.operator}: {at(s.start)} – {at(s.end)} ({s.template})" for s in result.shifts
    ]
    _emit(document, json_out, summary)


# whatif and cost: on the same group, in their own module (kept under 400 lines each)
import hotline.cli_wfm_whatif  # noqa: E402, F401
