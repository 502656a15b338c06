"""Routing decisions per second and decision latency on a large center.

``python -m bench.routing --json`` — 10,000 operators, 500 queues (50 hotlines × 10),
100 skills.  Each queue requires one or two skills at some level; each operator serves one
to three hotlines and has ten random skills.  The center runs near saturation so both
decision paths are exercised: an arrival looking for an available operator, and an
operator who becomes free looking for the best waiting interaction.  A *decision* is one
``handle()`` call of either kind; its latency is the wall time of that call.
"""

from __future__ import annotations

import argparse
import gc
import heapq
import json
import random
import sys
import time
from typing import Any

from bench._machine import machine
from hotline.core import events as ev
from hotline.core.commands import Offer
from hotline.core.routing.config import ExpansionStep, OperatorConfig, QueueConfig
from hotline.core.routing.engine import RoutingEngine
from hotline.core.routing.expr import parse_requirement


def build(operators: int, hotlines: int, queues_per_hotline: int, skills: int, seed: int) -> Any:
    rng = random.Random(seed)
    names = [f"s{i}" for i in range(skills)]
    queues = []
    for h in range(hotlines):
        for k in range(queues_per_hotline):
            a, b = rng.sample(names, 2)
            text = f"{a} >= {rng.randint(1, 4)}" + (f" and {b}" if rng.random() < 0.3 else "")
            queues.append(
                QueueConfig(
                    id=h * queues_per_hotline + k + 1,
                    hotline_id=h + 1,
                    steps=(
                        ExpansionStep(0.0, parse_requirement(text)),
                        ExpansionStep(30.0, parse_requirement("")),
                    ),
                )
            )
    ops = []
    for i in range(operators):
        assigned = frozenset(rng.sample(range(1, hotlines + 1), rng.randint(1, 3)))
        levels = {s: rng.randint(1, 10) for s in rng.sample(names, 10)}
        ops.append(OperatorConfig(i + 1, assigned, levels))
    return RoutingEngine(queues, ops, seed=seed), len(queues)


def run(decisions_target: int, operators: int, skills: int, seed: int) -> dict[str, Any]:
    engine, queue_count = build(operators, 50, 10, skills, seed)
    # configuration is long-lived: keep it out of the collector's scans (as the server
    # does after start-up), so a full collection does not walk 10,000 operators
    gc.collect()
    gc.freeze()
    rng = random.Random(seed + 1)
    for op in range(1, operators + 1):
        engine.handle(ev.OperatorWentReady(op), 0.0)
    aht = 300.0
    # offered load slightly above capacity: queues build up, operators never idle long
    rate = operators / aht * 1.02
    ends: list[tuple[float, int]] = []
    latencies: list[int] = []
    now = 0.0
    next_arrival = rng.expovariate(rate)
    iid = 0
    perf = time.perf_counter_ns
    started = perf()
    while len(latencies) < decisions_target:
        if ends and ends[0][0] < next_arrival:
            now, ended = heapq.heappop(ends)
            event: ev.Event = ev.InteractionEnded(ended)
        else:
            now = next_arrival
            iid += 1
            event = ev.InteractionArrived(iid, rng.randint(1, queue_count))
            next_arrival = now + rng.expovariate(rate)
        t0 = perf()
        commands = engine.handle(event, now)
        latencies.append(perf() - t0)
        for command in commands:
            if type(command) is Offer:
                engine.handle(ev.OfferAccepted(command.interaction_id, command.operator_id), now)
                heapq.heappush(ends, (now + rng.expovariate(1 / aht), command.interaction_id))
    wall_ns = perf() - started
    latencies.sort()
    decision_ns = sum(latencies)
    return {
        "decisions": len(latencies),
        "decisions_per_second": round(len(latencies) / (decision_ns / 1e9)),
        "decisions_per_second_with_driver": round(len(latencies) / (wall_ns / 1e9)),
        "offers": engine.decisions,
        "p50_ms": latencies[len(latencies) // 2] / 1e6,
        "p99_ms": latencies[int(len(latencies) * 0.99)] / 1e6,
        "max_ms": latencies[-1] / 1e6,
        "operators": operators,
        "queues": queue_count,
        "skills": skills,
        "simulated_seconds": round(now, 1),
        "machine": machine(),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.add_argument("--decisions", type=int, default=200_000)
    parser.add_argument("--operators", type=int, default=10_000)
    parser.add_argument("--skills", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    result = run(args.decisions, args.operators, args.skills, args.seed)
    if args.json:
        json.dump(result, sys.stdout)
        sys.stdout.write("\n")
    else:
        for key, value in result.items():
            print(f"{key:>34}: {value}")


if __name__ == "__main__":
    main()
