"""Planning figures: forecast fit time and accuracy, requirements, shift solve time.

``python -m bench.wfm_plan --json`` prints one JSON document:

* ``forecast``: 100 queues × 9 weeks of 15-minute history (a two-peak weekday, weekends
  lower, a trend of −2 … +3 % a week, Poisson counts): the default Poisson model fitted
  twice per queue (backtest on the last week, then the forecast of the next), total
  seconds, and the backtest WAPE over the Poisson noise floor (1.0 is perfect); the same
  for Holt-Winters (statsmodels ETS, period 672) on ``--ets-queues`` queues only — it
  takes seconds per queue — so the comparison is on the same histories.
* ``requirements``: Erlang C staffing of every interval of those 100 forecast weeks.
* ``shifts``: a week of 30-minute requirements for 2 groups and 50 operators (a third
  of them with both skills), 4/8/12 h templates with breaks and an unpaid lunch, one
  deterministic worker for ``--time-limit`` seconds: build and solve time, cost and the
  solver's lower bound (the gap says how far from proven optimal it stopped), and a
  simple analytic bound (required hours × lowest rate × least paid time per hour on the
  phones) that the solver's LP bound often does not reach within the limit.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from datetime import date
from typing import Any

import numpy as np

from bench._machine import machine
from hotline.core.wfm.forecast import History, forecast
from hotline.core.wfm.requirements import requirements
from hotline.core.wfm.shifts import Operator, Pause, Template, schedule

PER_DAY = 96
WEEK = 7 * PER_DAY


def histories(queues: int, weeks: int, seed: int) -> list[tuple[History, np.ndarray]]:
    rng = np.random.default_rng(seed)
    t = np.arange(weeks * WEEK)
    hour = (t % PER_DAY) / 4
    weekday = (t // PER_DAY) % 7
    out = []
    for _ in range(queues):
        peak = math.exp(rng.uniform(math.log(2), math.log(200)))
        weekend = rng.choice([1.0, 0.5, 0.2])
        trend = rng.uniform(-0.02, 0.03)
        shape = (
            0.05 + np.exp(-(((hour - 11) / 2.5) ** 2)) + 0.9 * np.exp(-(((hour - 15.5) / 2.5) ** 2))
        )
        mean = peak * shape * np.where(weekday >= 5, weekend, 1.0) * np.exp(trend * t / WEEK)
        calls = rng.poisson(mean).astype(float)
        aht = np.where(calls > 0, rng.uniform(150, 400), np.nan)
        out.append((History(date(2026, 9, 7), 15, calls, aht), mean))
    return out


def poisson_floor(mean: np.ndarray) -> float:
    k = np.floor(mean)
    log = np.log(2) - mean + (k + 1) * np.log(np.maximum(mean, 1e-300))
    log -= np.array([math.lgamma(x + 1) for x in k])
    return float(np.exp(log).sum() / mean.sum())


def bench_forecast(queues: int, ets_queues: int) -> tuple[dict[str, Any], list[Any]]:
    data = histories(queues, 9, seed=5)
    figures: dict[str, Any] = {"queues": queues, "interval_minutes": 15, "history_weeks": 9}
    results = []
    forecast(data[0][0])  # warm-up: scipy is imported on first use, not timed
    for method, count in (("poisson", queues), ("ets", ets_queues)):
        ratios = []
        started = time.perf_counter()
        for h, mean in data[:count]:
            r = forecast(h, method=method)  # type: ignore[arg-type]
            wape = r.backtest.wape if r.backtest and r.backtest.wape is not None else math.nan
            ratios.append(wape / poisson_floor(mean[-WEEK:]))
            if method == "poisson":
                results.append(r)
        took = time.perf_counter() - started
        figures[method] = {
            "queues": count,
            "seconds": round(took, 3),
            "seconds_per_queue": round(took / max(count, 1), 4),
            "wape_over_floor_median": round(float(np.median(ratios)), 3) if ratios else None,
            "wape_over_floor_max": round(float(np.max(ratios)), 3) if ratios else None,
        }
    return figures, results


def bench_requirements(forecasts: list[Any]) -> dict[str, Any]:
    started = time.perf_counter()
    intervals = 0
    for r in forecasts:
        aht = np.where(np.isfinite(r.aht), r.aht, 1.0)
        requirements(r.calls, aht, 900, 0.8, 20, shrinkage=0.3)
        intervals += len(r.calls)
    took = time.perf_counter() - started
    return {"intervals": intervals, "seconds": round(took, 3)}


def bench_shifts(operators: int, time_limit: float, workers: int) -> dict[str, Any]:
    per_day = 48
    t = np.arange(7 * per_day)
    hour = (t % per_day) / 2
    weekday = (t // per_day) % 7
    busy = 0.2 + np.exp(-(((hour - 12) / 4) ** 2))
    weekend = np.where(weekday >= 5, 0.5, 1.0)
    required = {
        "a": [int(x) for x in np.round(9 * busy * weekend * (hour >= 7) * (hour < 22))],
        "b": [int(x) for x in np.round(4 * busy * weekend * (hour >= 8) * (hour < 20))],
    }
    brk = Pause("break", 30, 60, 150)
    templates = [
        Template("4h", 240, (brk,)),
        Template("8h", 480, (brk, Pause("lunch", 60, 180, 300, paid=False))),
        Template("12h", 720, (brk, Pause("lunch", 60, 240, 420, paid=False))),
    ]
    staff = [
        Operator(
            f"op{i}",
            frozenset({"a", "b"} if i % 3 == 0 else {"a"}),
            12.0 + i % 5,
            ((0, 7 * 1440),) if i % 4 else ((0, 5 * 1440),),  # a quarter weekdays only
            max_shifts=5,
        )
        for i in range(operators)
    ]
    started = time.perf_counter()
    result = schedule(
        30, required, staff, templates, time_limit=time_limit, workers=workers, seed=0
    )
    took = time.perf_counter() - started
    missing = sum(sum(c.under) for c in result.coverage.values()) / 2
    # No schedule is cheaper than every required operator-hour paid at the lowest rate
    # with the least paid time per hour on the phones of any template (pauses cost)
    hours = sum(sum(v) for v in required.values()) / 2
    per_phone_hour = min(
        t.paid_minutes() / (t.minutes - sum(p.minutes for p in t.pauses)) for t in templates
    )
    simple_bound = hours * min(o.hourly_rate for o in staff) * per_phone_hour
    return {
        "operators": operators,
        "intervals": 7 * per_day,
        "required_operator_hours": sum(sum(v) for v in required.values()) / 2,
        "time_limit_s": time_limit,
        "workers": workers,
        "seconds": round(took, 2),
        "status": result.status,
        "shifts": len(result.shifts),
        "cost": round(result.cost, 2),
        "bound": round(result.bound, 2),
        "gap": round((result.cost - result.bound) / result.cost, 4) if result.cost else 0.0,
        "simple_lower_bound": round(simple_bound, 2),
        "cost_over_simple_bound": round(result.cost / simple_bound, 3),
        "under_coverage_hours": missing,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.add_argument("--queues", type=int, default=100)
    parser.add_argument("--ets-queues", type=int, default=3)
    parser.add_argument("--operators", type=int, default=50)
    parser.add_argument("--time-limit", type=float, default=30.0)
    parser.add_argument("--workers", type=int, default=1, help="CP-SAT threads (1: repeatable)")
    args = parser.parse_args(argv)
    figures, forecasts = bench_forecast(args.queues, args.ets_queues)
    report = {
        "command": "python -m bench.wfm_plan --json",
        "forecast": figures,
        "requirements": bench_requirements(forecasts),
        "shifts": bench_shifts(args.operators, args.time_limit, args.workers),
        "machine": machine(),
    }
    print(json.dumps(report, ensure_ascii=False, indent=None if args.json else 2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
