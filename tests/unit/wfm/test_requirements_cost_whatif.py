"""Requirements per interval, the cost model and the what-if, against values computed
here independently: Erlang C from its factorial formula (``math.factorial``, exact
rationals below 170 agents), costs by hand."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

from hotline.core.wfm.cost import CostError, InHouse, Outsourced, compare_costs
from hotline.core.wfm.erlang import StaffingError
from hotline.core.wfm.requirements import requirements, supervisors_for
from hotline.core.wfm.whatif import (
    Change,
    QueueCase,
    ScenarioChange,
    change_scenario,
    compare_kpis,
    queue_whatif,
)


def erlang_c_sl(n: int, a: float, aht: float, t: float) -> float:
    """1 − C·e^{−(n−a)t/aht} with C from the textbook formula, summed exactly."""
    if n <= a:
        return 0.0
    q = Fraction(a)
    top = q**n / math.factorial(n) * Fraction(n) / (n - q)
    c = top / (sum(q**k / math.factorial(k) for k in range(n)) + top)
    return 1.0 - float(c) * math.exp(-(n - a) * t / aht)


def fewest(calls: float, interval: float, aht: float, target: float, t: float) -> int:
    a = calls * aht / interval
    n = math.floor(a) + 1
    while erlang_c_sl(n, a, aht, t) < target:
        n += 1
    return n


def test_given_a_day_of_intervals_then_each_gets_the_fewest_agents_meeting_the_target() -> None:
    calls = [0.0, 12.0, 55.5, 360.0, 120.0, 12.0]
    aht = [np.nan, 180.0, 240.0, 240.0, 300.0, 180.0]  # no AHT where there are no calls
    r = requirements(calls, aht, 1800, 0.8, 20, shrinkage=0.3)
    expected = [0] + [fewest(c, 1800, h, 0.8, 20) for c, h in zip(calls[1:], aht[1:], strict=True)]
    assert r.agents.tolist() == expected
    assert 48 < expected[3] < 60  # 48 Erlangs: a few agents above the traffic
    assert r.scheduled.tolist() == [math.ceil(n / 0.7 - 1e-9) for n in expected]
    assert r.supervisors.tolist() == [math.ceil(s / 10) for s in r.scheduled.tolist()]
    assert r.service_level[0] == 1.0 and math.isnan(r.occupancy[0])
    assert r.service_level[3] == pytest.approx(erlang_c_sl(expected[3], 48.0, 240, 20), rel=1e-9)


@pytest.mark.parametrize(("operators", "supervisors"), [(0, 0), (1, 1), (10, 1), (11, 2), (95, 10)])
def test_supervisors_are_one_per_started_ten(operators: int, supervisors: int) -> None:
    assert supervisors_for(operators) == supervisors


def test_given_a_bad_interval_then_the_error_names_its_index() -> None:
    with pytest.raises(StaffingError, match=r"aht\[1\]"):
        requirements([1.0, 5.0], [100.0, -3.0], 900, 0.8, 20)
    with pytest.raises(StaffingError, match="aht: needs one value per interval"):
        requirements([1.0, 5.0], [100.0], 900, 0.8, 20)


def test_costs_by_hand() -> None:
    # 25 operators × 3,000 + ⌈25/10⌉ = 3 supervisors × 4,000 = 87,000; seats 28 × 200 =
    # 5,600; overhead 10 % of 92,600 = 9,260 → 101,860 a month.  Outsourced at 0.9 a
    # handled minute, AHT 300 s = 4.5 a call; 20,000 calls → 90,000; break-even
    # 101,860 / 4.5 = 22,635.6 calls.
    result = compare_costs(
        InHouse(25, 3000, 4000, seat_cost=200, overhead=0.1),
        Outsourced(price_per_minute=0.9),
        interactions=20_000,
        aht=300,
    )
    assert result["supervisors"] == 3
    assert result["inhouse_monthly"] == pytest.approx(101_860)
    assert result["outsourced_monthly"] == pytest.approx(90_000)
    assert result["cheaper"] == "outsourced"
    assert result["break_even_interactions"] == pytest.approx(101_860 / 4.5)
    per_contact = compare_costs(
        InHouse(25, 3000, 4000, supervisors=2), Outsourced(price_per_interaction=5), 30_000, 300
    )
    assert per_contact["inhouse_monthly"] == pytest.approx(83_000)
    assert per_contact["outsourced_monthly"] == pytest.approx(150_000)
    assert per_contact["cheaper"] == "inhouse"


def test_cost_errors_name_the_input() -> None:
    with pytest.raises(CostError, match="exactly one of"):
        compare_costs(InHouse(1, 1, 1), Outsourced(), 10, 60)
    with pytest.raises(CostError, match="operator_salary"):
        compare_costs(InHouse(1, -1, 1), Outsourced(price_per_minute=1), 10, 60)


def test_given_a_queue_when_changed_then_before_and_after_are_erlang_c() -> None:
    base = QueueCase(calls=360, interval=1800, aht=240, agents=54, answer_within=20)
    result = queue_whatif(base, Change(volume_pct=20, agents_delta=8))
    before, after = result["before"], result["after"]
    assert before["service_level"] == pytest.approx(erlang_c_sl(54, 48.0, 240, 20), rel=1e-9)
    assert after["calls"] == pytest.approx(432)
    assert after["agents"] == 62
    assert after["service_level"] == pytest.approx(erlang_c_sl(62, 57.6, 240, 20), rel=1e-9)
    assert before["agents_for_target"] == fewest(360, 1800, 240, 0.8, 20)
    assert after["agents_for_target"] == fewest(432, 1800, 240, 0.8, 20)
    assert before["p_abandon"] is None and after["occupancy"] == pytest.approx(57.6 / 62)
    # too few agents: Erlang C has no steady state, ASA is unbounded (null)
    short = queue_whatif(base, Change(agents=40))["after"]
    assert short["service_level"] == 0.0 and short["asa"] is None


def test_given_patience_when_changed_then_abandonment_is_reported_and_falls_with_staff() -> None:
    base = QueueCase(360, 1800, 240, 46, 20, patience=120)
    result = queue_whatif(base, Change(agents_delta=3))
    assert 0 < result["after"]["p_abandon"] < result["before"]["p_abandon"]
    assert result["after"]["service_level"] > result["before"]["service_level"]


SCENARIO = {
    "duration": "8h",
    "queues": [
        {
            "name": "en",
            "arrivals": {"profile": [10.0] * 24},
            "handle_time": {"dist": "lognormal", "mean": 300, "sd": 100},
        },
        {
            "name": "ru",
            "arrivals": {"per_hour": 40},
            "handle_time": {"dist": "exponential", "mean": 200},
        },
    ],
    "operators": [{"name": "all", "count": 5, "queues": ["en", "ru"]}],
}


def test_given_a_scenario_when_changed_then_rates_times_and_staff_change_as_asked() -> None:
    changed = change_scenario(
        SCENARIO, ScenarioChange({"*": 50, "ru": -25}, {"en": 10}, {"all": 7}, answer_within=30)
    )
    en, ru = changed["queues"]
    assert en["arrivals"]["profile"] == [15.0] * 24
    assert ru["arrivals"]["per_hour"] == 30.0  # the queue's own change wins over "*"
    assert en["handle_time"] == {
        "dist": "lognormal",
        "mean": pytest.approx(330),
        "sd": pytest.approx(110),
    }
    assert ru["handle_time"]["mean"] == 200
    assert changed["operators"][0]["count"] == 7 and changed["answer_within"] == 30
    assert SCENARIO["operators"][0]["count"] == 5  # the original is left alone
    with pytest.raises(ValueError, match="queue xx: not in the scenario"):
        change_scenario(SCENARIO, ScenarioChange({"xx": 1}, {}, {}))
    with pytest.raises(ValueError, match="operator group nobody"):
        change_scenario(SCENARIO, ScenarioChange({}, {}, {"nobody": 1}))


def test_compare_kpis_pairs_queues() -> None:
    before = {"queues": {"en": {"sl_offered": 0.7, "asa": 30.0}}, "operators": {"occupancy": 0.9}}
    after = {"queues": {"en": {"sl_offered": 0.9, "asa": 5.0}}, "operators": {"occupancy": 0.8}}
    result = compare_kpis(before, after)
    assert result["queues"]["en"]["sl_offered"] == {"before": 0.7, "after": 0.9}
    assert result["queues"]["en"]["abandon_rate"] == {"before": None, "after": None}
    assert result["occupancy"] == {"before": 0.9, "after": 0.8}
