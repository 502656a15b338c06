"""The simulator against queueing theory: Erlang C (M/M/N) and Erlang A (M/M/N+M).

Theory is computed here from the textbook formulas, independently of ``hotline.core``:
Erlang C via the Erlang B recursion (KPI.md: ``service_level = 1 − C·e^{−(N−A)·T/AHT}``,
``asa = C·AHT/(N − A)``), Erlang A from the stationary distribution of its birth–death
chain (Mandelbaum & Zeltyn 2007: births λ, deaths ``min(n, N)·μ + max(n − N, 0)·θ``;
PASTA gives ``P(wait > 0) = Σ_{n≥N} π_n`` and ``P(abandon) = θ·E[queue]/λ``).

Each scenario runs R independent replications (fixed seeds: the test is deterministic);
the theory must lie within the replications' 99 % confidence interval (Student t, R − 1
degrees of freedom) — or within a small absolute tolerance, for the bias of starting
empty, where the interval is narrower than that bias.
"""

from __future__ import annotations

import math
import statistics

import pytest

from hotline.core.kpi import fold_visits
from hotline.core.kpi.records import QueueVisit, VisitOutcome
from hotline.sim.driver import Simulation
from hotline.sim.scenario import parse_scenario

#: Student t quantiles t_{0.995, R−1}, from standard tables
T_995 = {5: 4.604, 7: 3.707, 9: 3.355}
REPLICATIONS = 8  # → 7 degrees of freedom


def erlang_c(n: int, a: float) -> float:
    """Probability of waiting in M/M/n with offered load ``a`` Erlangs (n > a)."""
    b = 1.0
    for k in range(1, n + 1):
        b = a * b / (k + a * b)  # Erlang B recursion: stable for any n
    return n * b / (n - a + a * b)


def erlang_a(n: int, lam: float, mu: float, theta: float) -> tuple[float, float]:
    """``(P(wait > 0), P(abandon))`` of M/M/n+M from its birth–death chain."""
    weights = [1.0]
    state = 0
    while True:
        deaths = min(state + 1, n) * mu + max(state + 1 - n, 0) * theta
        weights.append(weights[-1] * lam / deaths)
        state += 1
        if state > n and weights[-1] < 1e-18 * sum(weights):
            break
    total = sum(weights)
    pi = [w / total for w in weights]
    p_wait = sum(pi[n:])
    mean_queue = sum((k - n) * p for k, p in enumerate(pi) if k > n)
    return p_wait, theta * mean_queue / lam


def replications(yaml: str) -> list[list[QueueVisit]]:
    """The visits (after warm-up) of each replication of a scenario."""
    runs = []
    for seed in range(1, REPLICATIONS + 1):
        sim = Simulation(parse_scenario(yaml.replace("SEED", str(seed))))
        sim.run()
        warmup = float(sim.scenario.warmup or 0)
        runs.append(
            [v for lines in sim.logs.values() for v in fold_visits(lines) if v.arrived_at >= warmup]
        )
    return runs


def assert_agrees(values: list[float], theory: float, floor: float) -> None:
    mean = statistics.fmean(values)
    half = T_995[len(values) - 1] * statistics.stdev(values) / math.sqrt(len(values))
    assert abs(mean - theory) <= max(half, floor), (
        f"simulated {mean:.5f} ± {half:.5f} (99 % CI) vs theory {theory:.5f}"
    )


MMN = """
seed: SEED
duration: 24h
warmup: 1h
answer_within: 20
queues:
  - name: q
    arrivals: {per_hour: 720}
    handle_time: {dist: exponential, mean: 240}
operators:
  - {count: 52, queues: [q]}
"""
# λ = 0.2/s, AHT = 240 s → A = 48 Erlangs on N = 52: a busy center (ρ ≈ 0.92)
N, A, AHT, T = 52, 48.0, 240.0, 20.0


def _answered_waits(visits: list[QueueVisit]) -> list[float]:
    return [v.wait for v in visits if v.outcome is VisitOutcome.ANSWERED and v.wait is not None]


@pytest.fixture(scope="module")
def mmn_waits() -> list[list[float]]:
    return [_answered_waits(visits) for visits in replications(MMN)]


def test_given_mmn_queue_when_simulated_then_p_wait_matches_erlang_c(
    mmn_waits: list[list[float]],
) -> None:
    values = [sum(1 for w in ws if w > 0) / len(ws) for ws in mmn_waits]
    assert_agrees(values, erlang_c(N, A), floor=0.005)


def test_given_mmn_queue_when_simulated_then_service_level_matches_erlang_c(
    mmn_waits: list[list[float]],
) -> None:
    theory = 1 - erlang_c(N, A) * math.exp(-(N - A) * T / AHT)
    values = [sum(1 for w in ws if w <= T) / len(ws) for ws in mmn_waits]
    assert_agrees(values, theory, floor=0.005)


def test_given_mmn_queue_when_simulated_then_asa_matches_erlang_c(
    mmn_waits: list[list[float]],
) -> None:
    theory = erlang_c(N, A) * AHT / (N - A)
    values = [statistics.fmean(ws) for ws in mmn_waits]
    assert_agrees(values, theory, floor=0.5)


MMNM = """
seed: SEED
duration: 24h
warmup: 1h
queues:
  - name: q
    arrivals: {per_hour: 900}
    handle_time: {dist: exponential, mean: 240}
    patience: {dist: exponential, mean: 120}
operators:
  - {count: 55, queues: [q]}
"""
# λ = 0.25/s, AHT 240 s → 60 Erlangs offered to 55 operators: overloaded, only patience
# keeps it stable — Erlang C has no answer here, Erlang A does.


def test_given_impatient_callers_when_simulated_then_abandonment_matches_erlang_a() -> None:
    p_wait, p_abandon = erlang_a(55, 0.25, 1 / 240, 1 / 120)
    assert 0.05 < p_abandon < 0.5  # the scenario really exercises abandonment

    def abandon_rate(visits: list[QueueVisit]) -> float:
        return sum(1 for v in visits if v.outcome is VisitOutcome.ABANDONED) / len(visits)

    def wait_rate(visits: list[QueueVisit]) -> float:
        waited = sum(1 for v in visits if v.wait is not None and v.wait > 0)
        return waited / len(visits)

    runs = replications(MMNM)
    assert_agrees([abandon_rate(visits) for visits in runs], p_abandon, floor=0.005)
    assert_agrees([wait_rate(visits) for visits in runs], p_wait, floor=0.005)


def test_theory_helpers_match_published_values() -> None:
    """Sanity of the reference itself: Erlang C for 10 agents, 8 Erlangs is 0.4092 (the
    classic call-center textbook value, e.g. Koole, "Call Center Optimization", 2013)."""
    assert erlang_c(10, 8.0) == pytest.approx(0.40918, abs=5e-5)
    # Erlang A with patience → ∞ tends to Erlang C
    p_wait, p_abandon = erlang_a(10, 8.0, 1.0, 1e-9)
    assert p_wait == pytest.approx(erlang_c(10, 8.0), rel=1e-5)
    assert p_abandon == pytest.approx(0.0, abs=1e-6)
