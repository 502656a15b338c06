"""``staffing_grid`` against the scalar ``staffing`` (itself tested against mpmath at 1e-9 in
``test_erlang.py``) element by element, plus a few elements against mpmath directly.

Agreement: ``agents`` and ``scheduled_agents`` exact; probabilities and waits 1e-12
relative (the grid runs the scalar's arithmetic, so only ``np.expm1`` vs ``math.expm1``
may differ, by an ulp or two).
"""

from __future__ import annotations

import math

import mpmath as mp  # type: ignore[import-untyped]
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hotline.core.wfm import StaffingError, staffing
from hotline.core.wfm.erlang_grid import GridStaffing, staffing_grid

REL = 1e-12


def optional(value: float) -> float | None:
    return None if math.isnan(value) else value


def assert_matches_scalar(
    result: GridStaffing,
    calls: np.ndarray,
    interval: float,
    aht: np.ndarray,
    target: np.ndarray,
    within: np.ndarray,
    cap: np.ndarray,
    shrink: np.ndarray,
    bound: np.ndarray | None = None,
) -> None:
    bounds = np.full(calls.shape, np.nan) if bound is None else bound
    for i in range(calls.size):
        one = staffing(
            float(calls[i]),
            interval,
            float(aht[i]),
            float(target[i]),
            float(within[i]),
            max_occupancy=optional(float(cap[i])),
            max_asa=optional(float(bounds[i])),
            shrinkage=optional(float(shrink[i])),
        )
        where = f"request {i}: {one}"
        assert result.agents[i] == one.agents, where
        assert result.scheduled_agents[i] == one.scheduled_agents, where
        assert result.traffic_erlangs[i] == one.traffic_erlangs, where
        for mine, theirs in [
            (result.service_level[i], one.service_level),
            (result.p_wait[i], one.p_wait),
            (result.asa[i], one.asa),
        ]:
            assert math.isclose(mine, theirs, rel_tol=REL, abs_tol=1e-300), where
        if one.occupancy is None:
            assert math.isnan(result.occupancy[i]), where
        else:
            assert math.isclose(result.occupancy[i], one.occupancy, rel_tol=REL), where


def test_given_a_random_grid_then_every_answer_is_the_scalar_one() -> None:
    rng = np.random.default_rng(20261123)
    size = 1500
    # log-uniform from 0.2 calls (under 1 Erlang) to 40,000 calls (thousands of Erlangs),
    # a tenth with 0 calls, and every request twice (the grid de-duplicates them)
    calls = np.round(np.exp(rng.uniform(math.log(0.2), math.log(40_000), size)), 1)
    calls[rng.random(size) < 0.1] = 0.0
    aht = rng.choice([20.0, 120.0, 240.0, 300.0, 600.0], size)
    target = rng.choice([0.0, 0.5, 0.8, 0.9, 0.99], size)
    within = rng.choice([0.0, 10.0, 20.0, 60.0], size)
    cap = rng.choice([np.nan, 0.7, 0.85, 0.9, 1.0], size)
    shrink = rng.choice([np.nan, 0.0, 0.25, 0.3, 0.35], size)
    bound = rng.choice([np.nan, np.nan, 5.0, 30.0], size)
    args = [np.concatenate([x, x]) for x in (calls, aht, target, within, cap, shrink, bound)]
    calls, aht, target, within, cap, shrink, bound = args
    result = staffing_grid(
        calls, 900, aht, target, within, max_occupancy=cap, max_asa=bound, shrinkage=shrink
    )
    assert result.agents.shape == (2 * size,)
    assert result.traffic_erlangs.max() > 1000  # the grid reaches thousands of Erlangs
    assert ((result.traffic_erlangs > 0) & (result.traffic_erlangs < 1)).sum() > 10
    assert_matches_scalar(result, calls, 900, aht, target, within, cap, shrink, bound)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.floats(0.0, 5000.0),
            st.floats(1.0, 900.0),
            st.floats(0.0, 0.999),
            st.floats(0.0, 300.0),
            st.one_of(st.just(math.nan), st.floats(0.05, 1.0)),
            st.one_of(st.just(math.nan), st.floats(0.0, 0.9)),
        ),
        min_size=1,
        max_size=20,
    )
)
def test_property_any_grid_answers_as_the_scalar(rows: list[tuple[float, ...]]) -> None:
    calls, aht, target, within, cap, shrink = (
        np.array(column) for column in zip(*rows, strict=True)
    )
    result = staffing_grid(calls, 1800, aht, target, within, max_occupancy=cap, shrinkage=shrink)
    assert_matches_scalar(result, calls, 1800, aht, target, within, cap, shrink)


def test_given_a_queue_by_day_and_interval_then_arguments_broadcast() -> None:
    calls = np.array([[0, 10, 360], [5, 120, 0]], dtype=float)  # 2 days × 3 intervals
    aht = np.array([180.0, 240.0, 300.0])  # per interval
    result = staffing_grid(calls, 1800, aht, 0.8, 20, shrinkage=[[0.3], [np.nan]])
    assert result.agents.shape == (2, 3)
    for day in range(2):
        for slot in range(3):
            one = staffing(
                calls[day, slot], 1800, aht[slot], 0.8, 20, shrinkage=0.3 if day == 0 else None
            )
            assert result.agents[day, slot] == one.agents
            assert result.scheduled_agents[day, slot] == one.scheduled_agents
    assert result.agents[0, 0] == 0 and result.service_level[0, 0] == 1.0
    assert math.isnan(result.occupancy[0, 0]) and result.p_wait[0, 0] == 0.0


def test_optional_arguments_take_none_for_not_given() -> None:
    result = staffing_grid([17.85 * 4, 17.85 * 4], 900, 225, 0.0, 20, max_occupancy=[None, 0.85])
    # target 0: the first N > A = 17.85; the cap 0.85 asks 17.85 / 0.85 = 21 (not 22)
    assert result.agents.tolist() == [18, 21]


def ref_sl(n: int, a: float, aht: float, t: float) -> mp.mpf:
    """Erlang C service level from the factorial formulas at 50 digits (no recursion)."""
    with mp.workdps(50):
        a_ = mp.mpf(a)
        terms = [a_**k / mp.factorial(k) for k in range(n)]
        top = a_**n / mp.factorial(n) * n / (n - a_)
        c = top / (mp.fsum(terms) + top)
        return 1 - c * mp.exp(-(n - a_) * t / aht)


@pytest.mark.parametrize(
    ("calls", "aht", "target", "t"),
    [(0.5, 180.0, 0.8, 20.0), (360.0, 240.0, 0.8, 20.0), (2000.0, 300.0, 0.9, 15.0)],
)
def test_given_a_few_requests_then_agents_are_the_fewest_by_mpmath(
    calls: float, aht: float, target: float, t: float
) -> None:
    a = calls * aht / 1800
    result = staffing_grid([calls], 1800, [aht], target, t)
    n = int(result.agents[0])
    assert ref_sl(n, a, aht, t) >= target
    if n - 1 > a:  # one agent fewer (still stable) misses the target
        assert ref_sl(n - 1, a, aht, t) < target
    assert math.isclose(result.service_level[0], float(ref_sl(n, a, aht, t)), rel_tol=1e-9)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"aht": [100.0, -3.0]}, r"aht\[1\]: must be a finite number > 0"),
        ({"calls": [[1.0, math.nan]]}, r"calls\[0, 1\]: must be a finite number"),
        ({"target_sl": 1.5}, r"target_sl: must be a finite number ≥ 0 and ≤ 1"),
        ({"target_sl": 1.0}, r"target_sl: 1 cannot be met with calls > 0"),
        ({"max_occupancy": [0.9, 1.2]}, r"max_occupancy\[1\]"),
        ({"shrinkage": 1.0}, r"shrinkage: must be a finite number ≥ 0 and < 1"),
        ({"max_asa": ["x", 1.0]}, r"max_asa: must be numbers"),
        ({"calls": [2e9, 1.0]}, r"calls\[0\]: traffic of .* Erlangs is beyond"),
        ({"calls": [1.0, 2.0, 3.0]}, r"do not broadcast"),
        ({"calls": 2e9}, r"^calls: traffic of"),
        ({"target_sl": [[1.0], [0.8]]}, r"target_sl \(request \[0, 0\]\): 1 cannot be met"),
    ],
)
def test_given_bad_input_then_the_error_names_the_argument_and_element(
    kwargs: dict[str, object], message: str
) -> None:
    args: dict[str, object] = {
        "calls": [1.0, 5.0],
        "interval": 900,
        "aht": [100.0, 100.0],
        "target_sl": 0.8,
        "answer_within": 20,
    }
    args |= kwargs
    with pytest.raises(StaffingError, match=message):
        staffing_grid(**args)  # type: ignore[arg-type]


def test_zero_calls_with_target_one_need_no_agents() -> None:
    result = staffing_grid([0.0, 0.0], 900, 240, 1.0, 0)  # the scalar allows this too
    assert result.agents.tolist() == [0, 0] == [staffing(0.0, 900, 240, 1.0, 0).agents] * 2


def test_an_empty_grid_gives_empty_answers() -> None:
    result = staffing_grid(np.zeros((0, 3)), 900, 240, 0.8, 20, shrinkage=0.3)
    assert result.agents.shape == result.occupancy.shape == (0, 3)
