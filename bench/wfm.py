"""Staffing requests per second: ``hotline.core.wfm.staffing`` versus pyworkforce's ErlangC.

``python -m bench.wfm --json`` builds a week of 15-minute intervals for 100 queues
(7 × 96 × 100 = 67,200 Erlang C staffing requests: calls per interval, AHT, a service-level
target, sometimes an occupancy cap and shrinkage; business-hours queues get 0 calls at
night) and answers every request twice in one process — through ``staffing`` and through
``pyworkforce.queuing.ErlangC(...).required_positions(...)`` when pyworkforce is
importable.  It is not a project dependency (it pulls pandas and OR-Tools, ~190 MB), so::

    uv run --with pyworkforce==0.5.1 python -m bench.wfm --json

It prints both rates, their ratio, and every answer that differs, classified by cause.
The same week at 10× the volume, and single requests from 1 to 3,000 Erlangs, show how
the gap grows with traffic.  ``hotline_grid`` times the vectorised
``hotline.core.wfm.erlang_grid.staffing_grid`` on the same requests (as column arrays,
best of 3; ``grid_speedup`` is against pyworkforce's run) and counts answers that differ
from the scalar's (agents, scheduled agents, SL and ``p_wait`` to 1e-12).  It then
times ``staffing`` with Erlang A (patience 120 s) on the week, which pyworkforce does not offer.
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import random
import sys
import time
from dataclasses import dataclass
from importlib import metadata
from typing import Any

import numpy as np

from bench._machine import machine
from hotline.core.wfm import StaffingResult, staffing
from hotline.core.wfm.erlang_grid import GridStaffing, staffing_grid

INTERVAL = 900  # seconds: 15 minutes
#: (target share, answer within T seconds) — the usual contact-center targets
TARGETS = [(0.8, 20.0), (0.9, 15.0), (0.8, 30.0), (0.7, 60.0), (0.95, 10.0)]


@dataclass(frozen=True, slots=True)
class Request:
    calls: int
    aht: float
    target_sl: float
    answer_within: float
    max_occupancy: float | None
    shrinkage: float | None


def build_grid(queues: int, days: int, seed: int, volume: float = 1.0) -> list[Request]:
    """``queues × days × 96`` requests: each queue has its size (2–400 calls in its peak
    quarter hour, log-uniform, times ``volume``), AHT, target, cap, shrinkage and opening
    hours; volumes follow a two-peak day with Poisson-like noise, lower or none at
    weekends."""
    rng = random.Random(seed)
    grid: list[Request] = []
    for _ in range(queues):
        peak = volume * math.exp(rng.uniform(math.log(2), math.log(400)))
        aht = float(round(rng.choice([120, 180, 240, 300, 420, 600]) * rng.uniform(0.9, 1.1)))
        target_sl, answer_within = rng.choice(TARGETS)
        max_occupancy = rng.choice([None, None, 0.85, 0.9])
        shrinkage = rng.choice([None, 0.25, 0.3, 0.35])
        opens, closes = rng.choice([(0, 24), (8, 20), (7, 23)])
        weekend = rng.choice([1.0, 0.5, 0.0])
        for day in range(days):
            for quarter in range(96):
                hour = quarter / 4
                if not opens <= hour < closes:
                    calls = 0
                else:
                    shape = 0.15 + 0.85 * max(
                        math.exp(-(((hour - 11) / 2.5) ** 2)),
                        0.9 * math.exp(-(((hour - 15.5) / 2.5) ** 2)),
                    )
                    mean = peak * shape * (weekend if day >= 5 else 1.0)
                    calls = max(0, round(rng.gauss(mean, math.sqrt(mean)))) if mean else 0
                grid.append(Request(calls, aht, target_sl, answer_within, max_occupancy, shrinkage))
    return grid


def run_hotline(grid: list[Request], patience: float | None = None) -> list[StaffingResult]:
    return [
        staffing(
            r.calls,
            INTERVAL,
            r.aht,
            r.target_sl,
            r.answer_within,
            patience=patience,
            max_occupancy=r.max_occupancy,
            shrinkage=r.shrinkage,
        )
        for r in grid
    ]


def grid_arrays(grid: list[Request]) -> dict[str, Any]:
    """The requests as column arrays (None → nan), as a forecast hands them over."""
    nan = math.nan
    return {
        "calls": np.array([r.calls for r in grid], dtype=np.float64),
        "aht": np.array([r.aht for r in grid]),
        "target_sl": np.array([r.target_sl for r in grid]),
        "answer_within": np.array([r.answer_within for r in grid]),
        "max_occupancy": np.array(
            [nan if r.max_occupancy is None else r.max_occupancy for r in grid]
        ),
        "shrinkage": np.array([nan if r.shrinkage is None else r.shrinkage for r in grid]),
    }


def run_grid(columns: dict[str, Any]) -> GridStaffing:
    return staffing_grid(
        columns["calls"],
        INTERVAL,
        columns["aht"],
        columns["target_sl"],
        columns["answer_within"],
        max_occupancy=columns["max_occupancy"],
        shrinkage=columns["shrinkage"],
    )


def grid_versus_scalar(grid: list[Request], ours: list[StaffingResult]) -> dict[str, Any]:
    """``staffing_grid`` over the same requests (best of 3 runs: it takes milliseconds),
    and how many of its answers differ from the scalar's."""
    columns, arrays_s = timed(grid_arrays, grid)
    seconds = math.inf
    for _ in range(3):
        result, run_s = timed(run_grid, columns)
        seconds = min(seconds, run_s)
    names = ("calls", "aht", "target_sl", "answer_within", "max_occupancy")
    keys = np.nan_to_num(np.stack([columns[k] for k in names], axis=1), nan=-1.0)
    differ = sum(
        1
        for i, one in enumerate(ours)
        if one.agents != result.agents[i]
        or one.scheduled_agents != result.scheduled_agents[i]
        or not math.isclose(one.service_level, result.service_level[i], rel_tol=1e-12)
        or not math.isclose(one.p_wait, result.p_wait[i], rel_tol=1e-12, abs_tol=1e-300)
    )
    return {
        "seconds": round(seconds, 4),
        "requests_per_second": round(len(grid) / seconds),
        "distinct_requests": len(np.unique(keys, axis=0)),
        "building_arrays_seconds": round(arrays_s, 4),
        "answers_differing_from_scalar": differ,
    }


def run_pyworkforce(grid: list[Request], erlang_c: Any) -> list[dict[str, Any] | str]:
    """pyworkforce's answers (its units are minutes; its ``asa`` is the answer-within
    threshold), or the message of the error it raised; ``erlang_c`` is its ``ErlangC``
    (imported beforehand: pyworkforce's import loads pandas and OR-Tools, seconds)."""
    answers: list[dict[str, Any] | str] = []
    for r in grid:
        try:
            erlang = erlang_c(
                transactions=r.calls,
                aht=r.aht / 60,
                asa=r.answer_within / 60,
                interval=INTERVAL / 60,
                shrinkage=r.shrinkage or 0.0,
            )
            answers.append(
                erlang.required_positions(
                    service_level=r.target_sl, max_occupancy=r.max_occupancy or 1.0
                )
            )
        except ValueError as exc:
            answers.append(f"ValueError: {exc}")
    return answers


def timed(work: Any, *args: Any, **kwargs: Any) -> tuple[Any, float]:
    started = time.perf_counter()
    result = work(*args, **kwargs)
    return result, time.perf_counter() - started


def classify(request: Request, ours: StaffingResult, theirs: dict[str, Any] | str) -> str | None:
    """Why pyworkforce's answer differs from ours (None when they agree)."""
    if isinstance(theirs, str):
        return f"pyworkforce raises for {request.calls} calls ({theirs})"
    a = ours.traffic_erlangs
    raw, positions = theirs["raw_positions"], theirs["positions"]
    if raw != ours.agents:
        cap = request.max_occupancy
        if cap is not None and ours.agents == round(a / cap) and raw == ours.agents + 1:
            # A / cap is a whole number N in decimals; in binary floats a hair above it
            return "binary-float ceil(A / max_occupancy): e.g. 17.85 / 0.85 = 21.000000000000004"
        if ours.agents < round(a + 1) == raw:
            return "pyworkforce starts its search at round(A + 1), above the answer"
        return "other agents"
    if positions != ours.scheduled_agents:
        s = request.shrinkage or 0.0
        if positions == math.ceil(raw / (1 - s)) == ours.scheduled_agents + 1:
            return "binary-float ceil(N / (1 − shrinkage)): e.g. 21 / 0.7 = 30.000000000000004"
        return "other scheduled"
    return None


def compare(
    grid: list[Request], ours: list[StaffingResult], theirs: list[dict[str, Any] | str]
) -> dict[str, Any]:
    reasons: dict[str, int] = {}
    examples: dict[str, dict[str, Any]] = {}
    max_sl = max_wait = 0.0
    for request, mine, other in zip(grid, ours, theirs, strict=True):
        reason = classify(request, mine, other)
        if reason is not None:
            reasons[reason] = reasons.get(reason, 0) + 1
            examples.setdefault(
                reason,
                {
                    "request": {
                        "calls": request.calls,
                        "interval": INTERVAL,
                        "aht": request.aht,
                        "target_sl": request.target_sl,
                        "answer_within": request.answer_within,
                        "max_occupancy": request.max_occupancy,
                        "shrinkage": request.shrinkage,
                    },
                    "hotline": [mine.agents, mine.scheduled_agents],
                    "pyworkforce": other
                    if isinstance(other, str)
                    else [other["raw_positions"], other["positions"]],
                },
            )
        elif isinstance(other, dict):
            max_sl = max(max_sl, abs(other["service_level"] / mine.service_level - 1))
            max_wait = max(max_wait, abs(other["waiting_probability"] / mine.p_wait - 1))
    return {
        "same_answer": len(grid) - sum(reasons.values()),
        "different_answer": sum(reasons.values()),
        "reasons": dict(sorted(reasons.items(), key=lambda item: -item[1])),
        "examples": examples,
        "max_relative_difference_where_same": {
            "service_level": max_sl,
            "p_wait": max_wait,
        },
    }


def head_to_head(grid: list[Request], erlang_c: Any) -> dict[str, Any]:
    """Both implementations over ``grid`` in this process: rates, ratio, differences."""
    ours, ours_s = timed(run_hotline, grid)
    traffic = [r.calls * r.aht / INTERVAL for r in grid]
    report: dict[str, Any] = {
        "requests": len(grid),
        "zero_call_requests": sum(1 for r in grid if r.calls == 0),
        "traffic_erlangs_mean": round(sum(traffic) / len(traffic), 2),
        "traffic_erlangs_max": round(max(traffic), 2),
        "agents_total": sum(r.agents for r in ours),
        "hotline": {"seconds": round(ours_s, 3), "requests_per_second": round(len(grid) / ours_s)},
        "hotline_grid": grid_versus_scalar(grid, ours),
    }
    grid_s = report["hotline_grid"]["seconds"]
    report["grid_speedup_vs_scalar"] = round(ours_s / grid_s, 1)
    if erlang_c is not None:
        theirs, theirs_s = timed(run_pyworkforce, grid, erlang_c)
        report["pyworkforce"] = {
            "seconds": round(theirs_s, 3),
            "requests_per_second": round(len(grid) / theirs_s),
        }
        report["speedup"] = round(theirs_s / ours_s, 1)
        report["grid_speedup"] = round(theirs_s / grid_s, 1)
        report["agreement"] = compare(grid, ours, theirs)
    return report


def by_traffic(erlang_c: Any) -> list[dict[str, Any]]:
    """Microseconds per request for one 80/20 request (AHT 225 s) at growing traffic:
    pyworkforce recomputes Erlang B from 1 for each N it tries (O(N) a try), we step the
    recursion (O(1) a try) from a start √(100·A) below A."""
    rows = []
    for erlangs in (1, 10, 100, 1000, 3000):
        calls = erlangs * 4  # AHT 225 s over 900 s
        repeat = max(20, 20_000 // erlangs)
        _, ours_s = timed(
            lambda c=calls, k=repeat: [staffing(c, INTERVAL, 225.0, 0.8, 20.0) for _ in range(k)]
        )
        row: dict[str, Any] = {
            "traffic_erlangs": erlangs,
            "hotline_us": round(ours_s / repeat * 1e6, 1),
        }
        if erlang_c is not None:
            grid = [Request(calls, 225.0, 0.8, 20.0, None, None)] * repeat
            _, theirs_s = timed(run_pyworkforce, grid, erlang_c)
            row["pyworkforce_us"] = round(theirs_s / repeat * 1e6, 1)
            row["speedup"] = round(theirs_s / ours_s, 1)
        rows.append(row)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.add_argument("--queues", type=int, default=100)
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--patience", type=float, default=120.0, help="Erlang A run (s)")
    args = parser.parse_args(argv)

    try:  # outside the timings: pyworkforce's import loads pandas and OR-Tools
        queuing = importlib.import_module("pyworkforce.queuing")
    except ImportError:
        erlang_c: Any = None
        pyworkforce: dict[str, Any] = {
            "installed": False,
            "run": "uv run --with pyworkforce==0.5.1 python -m bench.wfm --json",
        }
    else:
        erlang_c = queuing.ErlangC
        pyworkforce = {"installed": True, "version": metadata.version("pyworkforce")}

    grid = build_grid(args.queues, args.days, args.seed)
    week = head_to_head(grid, erlang_c)
    erlang_a, erlang_a_s = timed(run_hotline, grid, patience=args.patience)
    report: dict[str, Any] = {
        "benchmark": "wfm staffing (Erlang C), hotline vs pyworkforce, same process",
        "command": "python -m bench.wfm --json",
        "pyworkforce": pyworkforce,
        "week": {
            "queues": args.queues,
            "days": args.days,
            "interval_seconds": INTERVAL,
            **week,
        },
        "week_volume_x10": head_to_head(
            build_grid(args.queues, args.days, args.seed, volume=10.0), erlang_c
        ),
        "by_traffic": by_traffic(erlang_c),
        "week_erlang_a": {
            "patience_seconds": args.patience,
            "seconds": round(erlang_a_s, 3),
            "requests_per_second": round(len(grid) / erlang_a_s),
            "agents_total": sum(r.agents for r in erlang_a),
        },
        "machine": machine(),
    }
    if args.json:
        json.dump(report, sys.stdout, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        print(json.dumps(report, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
