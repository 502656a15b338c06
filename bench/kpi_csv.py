"""How fast ``hotline report kpis`` computes from a history CSV, stage by stage, no database.

``python -m bench.kpi_csv --json [--rows 100000]`` writes a synthetic history in memory
(20 queues, 200 agents, 30 days in Europe/Berlin, ~20 % abandoned) and times: parsing and
checking every row (:func:`parse_history_csv`), making visits (:func:`history_visit`), and
grouping by ``queue,interval`` with 30-minute wall-clock intervals and by ``operator``.
It prints one JSON document with rows per second for each stage and the machine.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from bench._machine import machine
from hotline.core.kpi.grouping import Dimension, Names, group_visits
from hotline.core.kpi.history import HISTORY_COLUMNS, history_visit, parse_history_csv
from hotline.core.kpi.intervals import Period, zone


def synthetic_csv(rows: int, seed: int) -> list[str]:
    """``rows`` interactions over 30 days in October 2026 (the Berlin fall-back included)."""
    rng = random.Random(seed)
    start = datetime(2026, 10, 1, tzinfo=UTC)
    lines = [",".join(HISTORY_COLUMNS)]
    for n in range(rows):
        arrived = start + timedelta(seconds=rng.uniform(0, 30 * 86400))
        queue, agent = f"Q{rng.randrange(20)}", f"agent{rng.randrange(200)}"
        wait = rng.expovariate(1 / 25)
        if rng.random() < 0.2:  # abandoned: no agent, answer, hold, wrap-up or survey
            agent = answered = hold = wrapup = csat = ""
            ended = arrived + timedelta(seconds=wait)
        else:
            answered_at = arrived + timedelta(seconds=wait)
            talk = rng.expovariate(1 / 240)
            answered = answered_at.isoformat()
            ended = answered_at + timedelta(seconds=talk)
            hold = f"{talk * rng.random() * 0.2:.3f}"
            wrapup = f"{rng.uniform(0, 60):.1f}"
            csat = rng.choice(["", "", "3", "4", "5"])
        lines.append(
            ",".join(
                [
                    f"c{n}",
                    "call",
                    "Acme",
                    queue,
                    agent,
                    rng.choice(["google", "tv", ""]),
                    rng.choice(["lead", "customer", "support", ""]),
                    arrived.isoformat(),
                    answered,
                    ended.isoformat(),
                    hold,
                    wrapup,
                    csat,
                ]
            )
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    args = parser.parse_args()
    lines = synthetic_csv(args.rows, args.seed)
    figures: dict[str, Any] = {"rows": args.rows}

    began = time.perf_counter()
    rows = parse_history_csv(lines)
    figures["parse_s"] = time.perf_counter() - began

    began = time.perf_counter()
    queues, agents = Names(), Names()
    visits = [
        history_visit(
            row,
            queue_id=queues.id_of(row.queue),
            interaction_id=n,
            operator_id=None if row.agent is None else agents.id_of(row.agent),
        )
        for n, row in enumerate(rows, start=1)
    ]
    figures["visits_s"] = time.perf_counter() - began

    berlin = zone("Europe/Berlin")
    began = time.perf_counter()
    by_interval = group_visits(
        visits,
        (Dimension.QUEUE, Dimension.INTERVAL),
        period=Period(minutes=30),
        tz=berlin,
        answer_within=20,
        short_abandon=5,
    )
    results = [accumulator.result() for accumulator in by_interval.values()]
    figures["group_queue_interval30_s"] = time.perf_counter() - began
    figures["groups_queue_interval30"] = len(results)

    began = time.perf_counter()
    by_operator = group_visits(visits, (Dimension.OPERATOR,), answer_within=20, short_abandon=5)
    figures["group_operator_s"] = time.perf_counter() - began
    figures["groups_operator"] = len(by_operator)

    total = figures["parse_s"] + figures["visits_s"] + figures["group_queue_interval30_s"]
    figures["total_s"] = total
    figures["rows_per_s"] = args.rows / total
    document = {"benchmark": "kpi_csv", "figures": figures, "machine": machine()}
    if args.json:
        print(json.dumps(document))
    else:
        for key, value in figures.items():
            print(f"{key}: {value:.3f}" if isinstance(value, float) else f"{key}: {value}")


if __name__ == "__main__":
    main()
