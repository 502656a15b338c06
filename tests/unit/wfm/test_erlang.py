"""Erlang C and Erlang A against references computed here, independently, with mpmath.

* Erlang B/C: the exact factorial formulas (``A^k/k!`` summed term by term) at 50 digits —
  no recursion, no late start, no rearranged ``1 − C``.
* Erlang A: the birth–death chain summed state by state at 40 digits; the probability that
  a caller finding ``j`` queued ahead is answered within ``T`` by *uniformization* of the
  caller's own Markov chain (``j`` ahead → ``j − 1`` at rate ``Nμ + jθ``, abandonment at
  rate ``θ``): a sum of non-negative terms that uses nothing of the Beta / negative-binomial
  derivation in ``erlang.py``.  A second reference evaluates that derivation's closed form
  (a negative-binomial tail, summed plainly at 40 digits), cheap enough for large and
  extreme cases (underflowing terms, ``T`` tiny or long, patience near infinite).
* ``agents``: the smallest ``N`` whose reference service level meets the target.

Agreement: 1e-9 relative on probabilities and waits (values below 1e-300 compare as 0).
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from typing import Any

import mpmath as mp  # type: ignore[import-untyped]
import pytest

from hotline.core.wfm import (
    StaffingError,
    asa,
    erlang_a,
    erlang_b,
    erlang_c,
    occupancy,
    service_level,
    staffing,
    traffic,
)

REL = 1e-9
TINY = 1e-300


def close(ours: float, reference: Any) -> bool:
    return math.isclose(ours, float(reference), rel_tol=REL, abs_tol=TINY)


# --- references ---------------------------------------------------------------------------


def ref_erlang(n: int, a: float, aht: float = 240.0, t: float = 20.0) -> dict[str, mp.mpf]:
    """Erlang B, C, service level and ASA from the factorial formulas, 50 digits."""
    with mp.workdps(50):
        a_ = mp.mpf(a)
        terms = [mp.mpf(1)]
        for k in range(1, n + 1):
            terms.append(terms[-1] * a_ / k)  # a^k / k!
        below = mp.fsum(terms[:n])
        b = terms[n] / (below + terms[n])
        out = {"b": +b}
        if n > a_:
            top = terms[n] * n / (n - a_)
            c = top / (below + top)
            out["c"] = +c
            out["sl"] = 1 - c * mp.exp(-(n - a_) * mp.mpf(t) / aht)
            out["asa"] = c * aht / (n - a_)
        return out


def ref_chain(n: int, lam: float, aht: float, patience: float) -> tuple[list[mp.mpf], int]:
    """Unnormalised stationary weights of M/M/N+M, states 0..K, and the count of queued
    states ``K − N + 1`` (the chain is cut where the weights fall below 1e-40)."""
    lam_, mu, theta = mp.mpf(lam), 1 / mp.mpf(aht), 1 / mp.mpf(patience)
    w = [mp.mpf(1)]
    peak = w[0]
    k = 0
    while True:
        k += 1
        death = k * mu if k <= n else n * mu + (k - n) * theta
        w.append(w[-1] * lam_ / death)
        peak = max(peak, w[-1])
        if k > n and w[-1] < peak * mp.mpf(10) ** -40 and lam_ < death:
            return w, len(w) - n


def ref_erlang_a(
    n: int, lam: float, aht: float, patience: float, t: float, *, uniformize: bool
) -> dict[str, mp.mpf]:
    """p_wait, p_abandon, sl_offered and asa of M/M/N+M (see the module docstring)."""
    with mp.workdps(40):
        w, queued = ref_chain(n, lam, aht, patience)
        mu, theta, t_ = 1 / mp.mpf(aht), 1 / mp.mpf(patience), mp.mpf(t)
        rates = [n * mu + i * theta for i in range(queued)]  # the line moves, i ahead
        answered = []  # P(answered | j ahead) = Π_{i ≤ j} r_i / (r_i + θ)
        mean_wait = []  # E[wait · 1{answered} | j]: −d/ds of Π r_i/(r_i + s) at s = θ
        product, hazard = mp.mpf(1), mp.mpf(0)
        for r in rates:
            product *= r / (r + theta)
            hazard += 1 / (r + theta)
            answered.append(product)
            mean_wait.append(product * hazard)
        if uniformize:
            within = _uniformized(rates, theta, t_)
        else:
            within = [
                answered[j] * tail
                for j, tail in enumerate(ref_nb_tails(n * mu / theta + 1, theta * t_, queued))
            ]
        total = mp.fsum(w)
        now = mp.fsum(w[:n])
        late = mp.fsum(w[n + j] * answered[j] for j in range(queued))
        return {
            "p_wait": mp.fsum(w[n:]) / total,
            "p_abandon": mp.fsum(w[n + j] * (1 - answered[j]) for j in range(queued)) / total,
            "sl": (now + mp.fsum(w[n + j] * within[j] for j in range(queued))) / total,
            "asa": mp.fsum(w[n + j] * mean_wait[j] for j in range(queued)) / (now + late),
        }


def ref_nb_tails(r: mp.mpf, theta_t: mp.mpf, count: int) -> list[mp.mpf]:
    """P(X ≥ j + 1), j < count, for X ~ NB(r, e^{−θT}) as 1 − CDF at working precision
    (the closed form of erlang.py's Rule 4; its identity with the regularized incomplete
    beta function is checked on its own below)."""
    x = mp.exp(-theta_t)
    p = x**r  # P(X = 0)
    cdf, tails = mp.mpf(0), []
    for b in range(count):
        cdf += p
        tails.append(1 - cdf)
        p *= (r + b) / (b + 1) * (1 - x)
    return tails


def _uniformized(rates: list[mp.mpf], theta: mp.mpf, t: mp.mpf) -> list[mp.mpf]:
    """P(answered within t | j ahead) for every j: e^{Qt} by uniformization, where from
    "j ahead" the caller moves to "j − 1 ahead" (or to an agent, j = 0) at rate
    ``rates[j]`` and leaves at rate θ."""
    top = rates[-1] + theta
    rt = top * t
    v = [mp.mpf(0)] * len(rates)  # P(answered within m uniformized steps | j)
    weight = mp.exp(-rt)  # Poisson(m; rt)
    result = [mp.mpf(0)] * len(rates)
    m = 0
    while m <= rt or weight > mp.mpf(10) ** -45:
        for j, value in enumerate(v):
            result[j] += weight * value
        v = [
            rates[j] / top * (v[j - 1] if j else 1) + (1 - (rates[j] + theta) / top) * v[j]
            for j in range(len(rates))
        ]
        m += 1
        weight *= rt / m
    return result


# --- Erlang B and C over a grid -----------------------------------------------------------


def grid() -> Iterator[tuple[int, float]]:
    """N = 1..200 with A from 0.1 to N − 0.1: fixed fractions and one random A per N."""
    rng = random.Random(7)
    for n in range(1, 201):
        values = {0.1, n - 0.1, n * 0.5, n * 0.85, n - 0.5, rng.uniform(0.1, n - 0.1)}
        for a in sorted(v for v in values if 0.1 <= v <= n - 0.1):
            yield n, a


def test_erlang_b_c_service_level_asa_match_the_factorial_formulas_over_the_grid() -> None:
    checked = 0
    for n, a in grid():
        ref = ref_erlang(n, a, aht=240.0, t=20.0)
        assert close(erlang_b(n, a), ref["b"]), (n, a)
        assert close(erlang_c(n, a), ref["c"]), (n, a)
        assert close(service_level(n, a, 240.0, 20.0), ref["sl"]), (n, a)
        assert close(asa(n, a, 240.0), ref["asa"]), (n, a)
        checked += 1
    assert checked > 1000


@pytest.mark.parametrize("a", [2999.9, 3000.0, 3000.5, 10_000.3])
@pytest.mark.parametrize("above", [1, 10, 55, 150, 400])
def test_huge_traffic_is_exact_with_no_overflow(a: float, above: int) -> None:
    n = math.floor(a) + above
    ref = ref_erlang(n, a, aht=180.0, t=15.0)
    assert close(erlang_b(n, a), ref["b"])
    assert close(erlang_c(n, a), ref["c"])
    assert close(service_level(n, a, 180.0, 15.0), ref["sl"])
    assert close(asa(n, a, 180.0), ref["asa"])


@pytest.mark.parametrize("below", [1, 30, 500, 2990])
def test_erlang_b_below_huge_traffic(below: int) -> None:
    a = 3000.0
    assert close(erlang_b(3000 - below, a), ref_erlang(3000 - below, a)["b"])


@pytest.mark.parametrize("a", [1e-9, 1e-3, 0.1, 0.5, 0.999])
@pytest.mark.parametrize("n", [1, 2, 5, 40])
def test_traffic_below_one_erlang(a: float, n: int) -> None:
    ref = ref_erlang(n, a, aht=300.0, t=10.0)
    assert close(erlang_c(n, a), ref["c"])
    assert close(service_level(n, a, 300.0, 10.0), ref["sl"])
    assert close(asa(n, a, 300.0), ref["asa"])


def test_edges_no_traffic_and_unstable_queue() -> None:
    assert erlang_b(0, 0.0) == 1.0
    assert erlang_b(3, 0.0) == 0.0
    assert erlang_c(3, 0.0) == 0.0
    assert erlang_c(0, 0.0) == 1.0  # no agent: a call would wait
    assert service_level(3, 0.0, 240.0, 20.0) == 1.0
    assert asa(3, 0.0, 240.0) == 0.0
    assert occupancy(3, 0.0) == 0.0
    for n, a in [(5, 5.0), (5, 7.5), (0, 1.0)]:  # n ≤ a: the queue grows without bound
        assert erlang_c(n, a) == 1.0
        assert service_level(n, a, 240.0, 20.0) == 0.0
        assert asa(n, a, 240.0) == math.inf
        assert occupancy(n, a) == 1.0
    assert erlang_b(4, 2.0) == pytest.approx((2**4 / 24) / (1 + 2 + 2 + 8 / 6 + 16 / 24))
    assert traffic(360, 1800, 240) == 48.0


def test_service_level_is_stable_just_above_the_traffic() -> None:
    # 1 − C·e^{…} with C → 1: computed as (1 − C) + C·(1 − e^{…}), both exact
    for n, a in [(50, 50 - 1e-6), (200, 200 - 1e-9), (3, 3 - 1e-12)]:
        ref = ref_erlang(n, a, aht=240.0, t=20.0)
        assert close(service_level(n, a, 240.0, 20.0), ref["sl"])
        assert close(asa(n, a, 240.0), ref["asa"])


# --- Erlang C staffing --------------------------------------------------------------------


def ref_agents(a: float, aht: float, target: float, t: float) -> int:
    n = math.floor(a) + 1
    while ref_erlang(n, a, aht, t)["sl"] < target:
        n += 1
    return n


STAFFING_GRID = [
    (calls, interval, aht, target, t)
    for calls, interval in [(1, 1800), (7, 900), (40, 900), (360, 1800), (1234, 3600)]
    for aht in (45.0, 240.0, 610.0)
    for target, t in [(0.8, 20.0), (0.9, 15.0), (0.5, 0.0), (0.95, 60.0)]
]


@pytest.mark.parametrize(("calls", "interval", "aht", "target", "t"), STAFFING_GRID)
def test_staffing_agents_are_the_smallest_meeting_the_target(
    calls: int, interval: int, aht: float, target: float, t: float
) -> None:
    result = staffing(calls, interval, aht, target, t)
    a = calls * aht / interval
    n = ref_agents(a, aht, target, t)
    ref = ref_erlang(n, a, aht, t)
    assert result.agents == n
    assert result.scheduled_agents == n
    assert result.traffic_erlangs == a
    assert close(result.service_level, ref["sl"])
    assert close(result.p_wait, ref["c"])
    assert close(result.asa, ref["asa"])
    assert result.occupancy == a / n
    assert result.p_abandon is None


def test_staffing_huge_traffic() -> None:
    result = staffing(45_000, 3600, 240.0, 0.8, 20.0)  # 3,000 Erlangs
    assert result.agents == ref_agents(3000.0, 240.0, 0.8, 20.0)
    assert close(result.service_level, ref_erlang(result.agents, 3000.0)["sl"])


def test_worked_example_westbay_erlang_c_formula() -> None:
    # "The Erlang-C formula" step by step (Westbay Engineers / erlang.com, reproduced in
    # many WFM primers): 360 calls per half hour, 4-minute calls, 55 agents, 15 s target.
    # Its printed figures are not reproduced here; they are recomputed at 50 digits.
    a = traffic(360, 1800, 240)
    assert a == 48.0
    assert occupancy(55, a) == pytest.approx(0.8727, abs=1e-4)
    ref = ref_erlang(55, a, aht=240.0, t=15.0)
    assert close(erlang_c(55, a), ref["c"])
    assert close(service_level(55, a, 240.0, 15.0), ref["sl"])
    assert close(asa(55, a, 240.0), ref["asa"])
    # The same load at 80/20 needs 54 agents (not 14: that is the 10-Erlang example below).
    result = staffing(360, 1800, 240, 0.8, 20)
    assert result.agents == 54
    assert ref_erlang(53, a)["sl"] < 0.8 <= ref_erlang(54, a)["sl"]


def test_worked_example_pyworkforce_readme() -> None:
    # pyworkforce 0.5.1 README (github.com/rodrigo-arenas/pyworkforce), "Queue systems":
    # ErlangC(transactions=100, asa=20/60, aht=3, interval=30, shrinkage=0.3)
    # .required_positions(service_level=0.8, max_occupancy=0.85) prints raw_positions 14,
    # positions 20, service_level 0.8883500191794669, occupancy 0.7142857142857143,
    # waiting_probability 0.1741319335950498 ("asa" there is the answer-within threshold).
    result = staffing(100, 1800, 180, 0.8, 20, max_occupancy=0.85, shrinkage=0.3)
    assert (result.agents, result.scheduled_agents) == (14, 20)
    assert result.traffic_erlangs == 10.0
    assert result.service_level == pytest.approx(0.8883500191794669, rel=1e-12)
    assert result.p_wait == pytest.approx(0.1741319335950498, rel=1e-12)
    assert result.occupancy == pytest.approx(0.7142857142857143, rel=1e-15)
    assert ref_agents(10.0, 180.0, 0.8, 20.0) == 14


def test_zero_calls_need_no_agents() -> None:
    for patience in (None, 90.0):
        result = staffing(0, 1800, 240, 0.8, 20, patience=patience, shrinkage=0.3)
        assert (result.agents, result.scheduled_agents) == (0, 0)
        assert (result.traffic_erlangs, result.service_level, result.asa) == (0.0, 1.0, 0.0)
        assert result.p_wait == 0.0
        assert result.occupancy is None
        assert result.p_abandon == (None if patience is None else 0.0)


def test_traffic_below_one_erlang_needs_one_agent() -> None:
    a = 1 / 3  # 2 calls of 300 s in 30 minutes
    # one agent: C = A, SL = 1 − A·e^{−(1 − A)·T/AHT} = 0.681
    one = 1 - a * math.exp(-(1 - a) * 20 / 300)
    result = staffing(2, 1800, 300, 0.6, 20)
    assert result.agents == 1
    assert result.service_level == pytest.approx(one, rel=1e-14)
    assert result.p_wait == pytest.approx(a, rel=1e-14)
    assert staffing(2, 1800, 300, 0.8, 20).agents == 2


def test_occupancy_cap_and_shrinkage() -> None:
    # 48 Erlangs: 80/20 alone needs 54 (occupancy 0.889); capped at 0.85 → ceil(48/0.85)
    result = staffing(360, 1800, 240, 0.8, 20, max_occupancy=0.85, shrinkage=0.3)
    assert result.agents == 57
    assert result.occupancy is not None and result.occupancy <= 0.85
    assert result.scheduled_agents == math.ceil(57 / 0.7)  # 81.43 → 82
    assert result.service_level == pytest.approx(ref_erlang(57, 48.0)["sl"], rel=REL)
    # whole ratios are not rounded up by binary noise: in floats 17.85 / 0.85 is
    # 21.000000000000004 and 21 / (1 − 0.3) is 30.000000000000004
    assert 17.85 / 0.85 > 21
    assert staffing(357, 3600, 180, 0.1, 20, max_occupancy=0.85).agents == 21
    assert 21 / (1 - 0.3) > 30
    shrunk = staffing(125, 1800, 240, 0.8, 20, shrinkage=0.3)
    assert (shrunk.agents, shrunk.scheduled_agents) == (21, 30)
    assert staffing(360, 1800, 240, 0.8, 20, shrinkage=0.0).scheduled_agents == 54


def test_max_asa() -> None:
    result = staffing(360, 1800, 240, 0.8, 20, max_asa=5.0)
    assert result.asa <= 5.0
    assert asa(result.agents - 1, 48.0, 240.0) > 5.0
    assert result.service_level >= 0.8
    # any positive ASA can be met: C underflows to 0 far enough above A
    assert staffing(360, 1800, 240, 0.8, 20, max_asa=1e-300).asa <= 1e-300
    with_patience = staffing(360, 1800, 240, 0.8, 20, patience=120.0, max_asa=2.0)
    assert with_patience.asa <= 2.0
    assert erlang_a(with_patience.agents - 1, 0.2, 240.0, 120.0, 20.0).asa > 2.0


@pytest.mark.parametrize(
    ("kwargs", "parameter", "words"),
    [
        ({"target_sl": 1.0, "answer_within": 0.0}, "target_sl", "cannot be met"),
        ({"target_sl": 1.0}, "target_sl", "cannot be met"),
        ({"target_sl": 1.0, "patience": 60.0}, "target_sl", "cannot be met"),
        ({"target_sl": 1.2}, "target_sl", "between 0 and 1"),
        ({"target_sl": -0.1}, "target_sl", "≥ 0"),
        ({"target_sl": math.nan}, "target_sl", "a number"),
        ({"calls": -1.0}, "calls", "≥ 0"),
        ({"calls": math.inf}, "calls", "finite"),
        ({"interval": 0.0}, "interval", "> 0"),
        ({"aht": -240.0}, "aht", "> 0"),
        ({"answer_within": -1.0}, "answer_within", "≥ 0"),
        ({"patience": 0.0}, "patience", "> 0"),
        ({"max_occupancy": 0.0}, "max_occupancy", "> 0"),
        ({"max_occupancy": 1.5}, "max_occupancy", "at most 1"),
        ({"shrinkage": 1.0}, "shrinkage", "below 1"),
        ({"shrinkage": -0.2}, "shrinkage", "≥ 0"),
        ({"max_asa": 0.0}, "max_asa", "> 0"),
        ({"calls": 1e12}, "calls", "beyond"),
    ],
)
def test_impossible_or_invalid_requests_name_the_parameter(
    kwargs: dict[str, float], parameter: str, words: str
) -> None:
    request: dict[str, float] = {
        "calls": 360.0,
        "interval": 1800.0,
        "aht": 240.0,
        "target_sl": 0.8,
        "answer_within": 20.0,
    }
    request.update(kwargs)
    with pytest.raises(StaffingError) as caught:
        staffing(**request)
    assert caught.value.parameter == parameter
    assert words in caught.value.problem
    assert str(caught.value).startswith(f"{parameter}: ")


def test_low_level_functions_reject_bad_arguments() -> None:
    with pytest.raises(StaffingError, match=r"^n: "):
        erlang_c(-1, 2.0)
    with pytest.raises(StaffingError, match=r"^a: "):
        erlang_b(3, -2.0)
    with pytest.raises(StaffingError, match=r"^patience_mean: "):
        erlang_a(3, 0.1, 240.0, -5.0, 20.0)


# --- Erlang A -----------------------------------------------------------------------------

#: (N, λ per second, AHT, mean patience, T) — small enough to uniformize at 40 digits
SMALL_A = [
    (1, 0.002, 240.0, 120.0, 20.0),
    (5, 0.02, 240.0, 60.0, 20.0),
    (10, 0.05, 180.0, 300.0, 30.0),
    (30, 0.2, 240.0, 90.0, 60.0),
    (49, 0.2, 240.0, 120.0, 20.0),
    (40, 0.2, 240.0, 120.0, 1.0),  # overloaded (A = 48), T short: tails summed from above
    (8, 0.03, 240.0, 600.0, 0.0),
]

#: larger or extreme cases against the closed form
LARGE_A = [
    (55, 0.25, 240.0, 120.0, 20.0),
    (200, 0.8, 240.0, 200.0, 20.0),
    (150, 0.8, 240.0, 200.0, 20.0),  # 192 Erlangs on 150 agents
    (20, 0.05, 300.0, 30.0, 3600.0),  # T long: tails from below
    (60, 0.2, 300.0, 50.0, 0.01),  # T tiny
    (100, 9.5, 10.0, 3000.0, 100.0),  # x^(c+1) = e^{−1001} underflows
    (3000, 12.4, 240.0, 300.0, 20.0),  # about 3,000 Erlangs
    (55, 0.2, 240.0, 1e10, 20.0),  # patience 300 years: r ≈ 2.3e9
]


@pytest.mark.parametrize(
    ("r", "theta_t", "j"), [(28.5, 1 / 6, 0), (28.5, 1 / 6, 7), (3.2, 2.5, 40)]
)
def test_negative_binomial_tail_is_the_incomplete_beta(r: float, theta_t: float, j: int) -> None:
    """Rule 4: P(S' ≤ T) = 1 − I_x(c + 1, j + 1) = P(NB(c + 1, x) ≥ j + 1), x = e^{−θT}."""
    with mp.workdps(40):
        x = mp.exp(-mp.mpf(theta_t))
        beta = 1 - mp.betainc(r, j + 1, 0, x, regularized=True)
        assert mp.almosteq(ref_nb_tails(mp.mpf(r), mp.mpf(theta_t), j + 1)[j], beta, 1e-30)


@pytest.mark.parametrize("case", SMALL_A)
def test_erlang_a_matches_the_uniformized_chain(
    case: tuple[int, float, float, float, float],
) -> None:
    ours = erlang_a(*case)
    ref = ref_erlang_a(*case, uniformize=True)
    assert close(ours.p_wait, ref["p_wait"])
    assert close(ours.p_abandon, ref["p_abandon"])
    assert close(ours.service_level, ref["sl"])
    assert close(ours.asa, ref["asa"])
    n, lam, aht, _, _ = case
    assert close(ours.occupancy, lam * aht * (1 - ref["p_abandon"]) / n)


@pytest.mark.parametrize("case", LARGE_A)
def test_erlang_a_matches_the_closed_form(case: tuple[int, float, float, float, float]) -> None:
    ours = erlang_a(*case)
    ref = ref_erlang_a(*case, uniformize=False)
    assert close(ours.p_wait, ref["p_wait"])
    assert close(ours.p_abandon, ref["p_abandon"])
    assert close(ours.service_level, ref["sl"])
    assert close(ours.asa, ref["asa"])


def test_erlang_a_limits() -> None:
    n, lam, aht = 55, 0.2, 240.0  # 48 Erlangs
    patient = erlang_a(n, lam, aht, 1e12, 20.0)  # patience → ∞: Erlang C
    assert patient.p_abandon < 1e-9
    assert patient.p_wait == pytest.approx(erlang_c(n, 48.0), rel=1e-7)
    assert patient.service_level == pytest.approx(service_level(n, 48.0, aht, 20.0), rel=1e-7)
    assert patient.asa == pytest.approx(asa(n, 48.0, aht), rel=1e-6)
    exact = erlang_a(n, lam, aht, math.inf, 20.0)
    assert exact.p_wait == erlang_c(n, 48.0)
    assert exact.p_abandon == 0.0
    forever = erlang_a(n, lam, aht, 120.0, 1e9)  # T → ∞: SL = share answered
    assert forever.service_level == pytest.approx(1 - forever.p_abandon, rel=1e-12)
    now = erlang_a(n, lam, aht, 120.0, 0.0)  # T = 0: SL = share not waiting
    assert now.service_level == pytest.approx(1 - now.p_wait, rel=1e-12)
    assert erlang_a(3, 0.0, aht, 120.0, 20.0).service_level == 1.0
    nobody = erlang_a(0, lam, aht, 120.0, 20.0)
    assert (nobody.p_wait, nobody.p_abandon, nobody.service_level) == (1.0, 1.0, 0.0)
    unstable = erlang_a(40, lam, aht, math.inf, 20.0)
    assert (unstable.service_level, unstable.asa) == (0.0, math.inf)


ERLANG_A_STAFFING = [
    (360, 1800, 240.0, 0.8, 20.0, 120.0),
    (7, 900, 240.0, 0.8, 20.0, 60.0),
    (1, 1800, 300.0, 0.9, 10.0, 30.0),
    (500, 900, 400.0, 0.9, 30.0, 200.0),
    (100, 1800, 180.0, 0.5, 0.0, 100.0),
]


@pytest.mark.parametrize(("calls", "interval", "aht", "target", "t", "patience"), ERLANG_A_STAFFING)
def test_erlang_a_staffing_is_the_smallest_meeting_the_target(
    calls: int, interval: int, aht: float, target: float, t: float, patience: float
) -> None:
    result = staffing(calls, interval, aht, target, t, patience=patience)
    lam = calls / interval
    n = result.agents
    ref = ref_erlang_a(n, lam, aht, patience, t, uniformize=False)
    assert ref["sl"] >= target
    assert n == 1 or ref_erlang_a(n - 1, lam, aht, patience, t, uniformize=False)["sl"] < target
    assert close(result.service_level, ref["sl"])
    assert result.p_abandon is not None and close(result.p_abandon, ref["p_abandon"])
    assert close(result.asa, ref["asa"])
    assert result.occupancy is not None
    assert close(result.occupancy, lam * aht * (1 - ref["p_abandon"]) / n)


def test_erlang_a_staffing_equals_a_linear_scan() -> None:
    """Bisection assumes the service level grows with N: a scan from 1 agrees."""
    for calls, patience, target, t in [
        (40, 60.0, 0.8, 20.0),
        (360, 120.0, 0.85, 20.0),
        (360, 30.0, 0.6, 5.0),
        (900, 600.0, 0.9, 30.0),
    ]:
        lam = calls / 1800
        result = staffing(calls, 1800, 240.0, target, t, patience=patience, max_occupancy=0.9)
        n = 1
        while True:
            r = erlang_a(n, lam, 240.0, patience, t)
            if r.service_level >= target and r.occupancy <= 0.9:
                break
            n += 1
        assert result.agents == n, (calls, patience, target, t)


def test_erlang_a_can_staff_below_the_traffic() -> None:
    # impatient callers: 48 Erlangs at 50/20 with 30 s patience need fewer than 48 agents
    result = staffing(360, 1800, 240.0, 0.5, 20.0, patience=30.0)
    assert result.agents < 48
    assert result.p_abandon is not None and result.p_abandon > 0.0
