"""Simulated calls per second: Hotline's simulator versus a plain SimPy model.

``python -m bench.simulate --json`` runs the same M/M/N+M scenario (Poisson arrivals,
exponential handle time and patience, one queue) twice in one process:
- through ``hotline.sim`` — the full routing core, every event-log line, KPIs folded from
  the log, exactly what ``hotline simulate`` does;
- as the textbook SimPy model (``simpy.Resource`` plus a patience timeout), which keeps
  no log and computes nothing but the waits.
It prints both rates and their ratio, plus the two large scenarios of issue 3: a month of
a 50,000-calls-per-month hotline and a day of a 1,000-operator center (≈ 100,000 calls).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from typing import Any

import simpy

from bench._machine import machine
from hotline.sim.driver import run_scenario
from hotline.sim.scenario import parse_scenario


def hotline_rate(
    per_hour: float, aht: float, patience: float, agents: int, hours: float, seed: int
) -> dict[str, Any]:
    scenario = parse_scenario(
        f"""
seed: {seed}
duration: {hours}h
answer_within: 20
queues:
  - name: support
    arrivals: {{per_hour: {per_hour}}}
    handle_time: {{dist: exponential, mean: {aht}}}
    patience: {{dist: exponential, mean: {patience}}}
operators:
  - {{count: {agents}, queues: [support]}}
"""
    )
    started = time.perf_counter()
    result = run_scenario(scenario)
    wall = time.perf_counter() - started
    kpis = result["queues"]["support"]
    return {
        "calls": kpis["offered"],
        "wall_seconds": round(wall, 3),
        "calls_per_second": round(kpis["offered"] / wall),
        "events": result["events"],
        "sl_offered": kpis["sl_offered"],
        "abandon_rate": kpis["abandon_rate"],
    }


def simpy_rate(
    per_hour: float, aht: float, patience: float, agents: int, hours: float, seed: int
) -> dict[str, Any]:
    rng = random.Random(seed)
    env = simpy.Environment()
    pool = simpy.Resource(env, capacity=agents)
    horizon = hours * 3600
    lam = per_hour / 3600
    waits: list[float] = []
    abandoned = 0

    def caller(env: simpy.Environment) -> Any:
        nonlocal abandoned
        arrived = env.now
        with pool.request() as request:
            outcome = yield request | env.timeout(rng.expovariate(1 / patience))
            if request in outcome:
                waits.append(env.now - arrived)
                yield env.timeout(rng.expovariate(1 / aht))
            else:
                abandoned += 1

    def source(env: simpy.Environment) -> Any:
        while True:
            yield env.timeout(rng.expovariate(lam))
            if env.now >= horizon:
                return
            env.process(caller(env))

    env.process(source(env))
    started = time.perf_counter()
    env.run()
    wall = time.perf_counter() - started
    calls = len(waits) + abandoned
    return {
        "calls": calls,
        "wall_seconds": round(wall, 3),
        "calls_per_second": round(calls / wall),
        "sl_offered": sum(1 for w in waits if w <= 20) / calls,
        "abandon_rate": abandoned / calls,
    }


def big_scenario(calls_per_hour: float, agents: int, hours: float) -> dict[str, Any]:
    return hotline_rate(calls_per_hour, 240, 120, agents, hours, 7)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--hours", type=float, default=100.0, help="simulated hours, M/M/N+M")
    parser.add_argument("--quick", action="store_true", help="skip the month and the big day")
    args = parser.parse_args(argv)
    params = {
        "per_hour": 720.0,
        "aht": 240.0,
        "patience": 120.0,
        "agents": 50,
        "hours": args.hours,
        "seed": 42,
    }
    ours = hotline_rate(**params)
    theirs = simpy_rate(**params)
    result: dict[str, Any] = {
        "scenario": params,
        "hotline": ours,
        "simpy": theirs,
        "ratio_vs_simpy": round(ours["calls_per_second"] / theirs["calls_per_second"], 3),
    }
    if not args.quick:
        # 50,000 calls a month ≈ 69.4 an hour around the clock, 30 days
        result["month_50k_calls"] = big_scenario(50_000 / (30 * 24), 6, 30 * 24)
        # 1,000 operators, ≈ 100,000 calls in a day: 4,167 an hour, AHT 240 s → 278 Erlangs…
        # at 1,000 operators that is a lightly loaded center; the point is the scale
        result["day_1000_operators"] = big_scenario(100_000 / 24, 1000, 24)
    result["machine"] = machine()
    if args.json:
        json.dump(result, sys.stdout)
        sys.stdout.write("\n")
    else:
        print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
