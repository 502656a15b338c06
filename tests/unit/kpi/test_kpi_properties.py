"""Hypothesis properties of grouped KPIs: intervals add up to the day, any partition's
accumulators merge into one over the whole, and the SL variants are ordered.

Visits have whole-second times, so every sum is exact and results compare with ``==``.
"""

from __future__ import annotations

import random
from collections.abc import Hashable

from hypothesis import given
from hypothesis import strategies as st

from hotline.core.kpi import KpiAccumulator, QueueVisit, VisitOutcome, compute_kpis
from hotline.core.kpi.grouping import Dimension, group_visits, merge_groups
from hotline.core.kpi.intervals import Period, Slot, zone

# the Berlin fall-back weekend, so 25-hour days and repeated slots are in play
WEEKEND = 1_792_800_000  # 2026-10-24T00:00:00Z
ZONES = ["UTC", "Europe/Moscow", "Europe/Berlin", "America/New_York"]
OUTCOMES = list(VisitOutcome)


@st.composite
def visits(draw: st.DrawFn) -> QueueVisit:
    outcome = draw(st.sampled_from(OUTCOMES))
    arrived = WEEKEND + draw(st.integers(0, 3 * 86400))
    wait = draw(st.integers(0, 120))
    common: dict[str, object] = {
        "interaction_id": draw(st.integers(1, 10**6)),
        "queue_id": draw(st.integers(1, 3)),
        "arrived_at": float(arrived),
        "outcome": outcome,
        "hotline_id": draw(st.sampled_from([1, 2, None])),
        "topic": draw(st.sampled_from(["lead", "customer", None])),
        "csat": draw(st.sampled_from([None, 1.0, 3.0, 4.0, 5.0])),
    }
    if outcome is VisitOutcome.ANSWERED:
        talk = draw(st.integers(0, 900))
        return QueueVisit(
            **common,  # type: ignore[arg-type]
            answered_at=float(arrived + wait),
            ended_at=float(arrived + wait + talk),
            operator_id=draw(st.integers(1, 4)),
            hold=float(draw(st.integers(0, talk))),
            wrap_up=float(draw(st.integers(0, 120))),
        )
    if outcome is VisitOutcome.WAITING:
        return QueueVisit(**common)  # type: ignore[arg-type]
    return QueueVisit(**common, ended_at=float(arrived + wait))  # type: ignore[arg-type]


THRESHOLDS = st.tuples(st.sampled_from([0.0, 10.0, 20.0, 30.0]), st.sampled_from([0.0, 5.0]))


@given(
    log=st.lists(visits(), max_size=60),
    tz_name=st.sampled_from(ZONES),
    minutes=st.sampled_from([15, 30, 60]),
    thresholds=THRESHOLDS,
)
def test_property_the_intervals_of_a_day_add_up_to_the_day(
    log: list[QueueVisit], tz_name: str, minutes: int, thresholds: tuple[float, float]
) -> None:
    t, s = thresholds
    tz = zone(tz_name)
    by = (Dimension.QUEUE, Dimension.INTERVAL)
    days = group_visits(
        log, by, period=Period.parse("day"), tz=tz, answer_within=t, short_abandon=s
    )
    slots = group_visits(
        log, by, period=Period(minutes=minutes), tz=tz, answer_within=t, short_abandon=s
    )
    # fold each slot into the day of its start: the day that holds it, found independently
    summed: dict[tuple[Hashable, str], KpiAccumulator] = {}
    for (queue, slot), accumulator in slots.items():
        assert isinstance(slot, Slot)
        day_slot = group_visits(
            [
                QueueVisit(
                    interaction_id=0,
                    queue_id=1,
                    arrived_at=slot.start,
                    outcome=VisitOutcome.WAITING,
                )
            ],
            (Dimension.INTERVAL,),
            period=Period.parse("day"),
            tz=tz,
            answer_within=t,
            short_abandon=s,
        )
        ((day,),) = day_slot.keys()
        assert isinstance(day, Slot)
        summed.setdefault((queue, day.label), KpiAccumulator(t, s)).merge(accumulator)
    expected = {(q, d.label): acc.result() for (q, d), acc in days.items() if isinstance(d, Slot)}
    assert {key: acc.result() for key, acc in summed.items()} == expected
    # and every day's total is the whole log's
    assert sum(acc.offered for acc in days.values()) == len(log)


@given(
    log=st.lists(visits(), max_size=60),
    parts=st.integers(1, 5),
    assignment=st.randoms(use_true_random=False),
    thresholds=THRESHOLDS,
)
def test_property_merging_the_accumulators_of_any_partition_gives_the_whole(
    log: list[QueueVisit],
    parts: int,
    assignment: random.Random,
    thresholds: tuple[float, float],
) -> None:
    t, s = thresholds
    shards: list[list[QueueVisit]] = [[] for _ in range(parts)]
    for visit in log:
        shards[assignment.randrange(parts)].append(visit)
    by = (Dimension.HOTLINE, Dimension.TOPIC)
    groups = [group_visits(shard, by, answer_within=t, short_abandon=s) for shard in shards]
    merged = merge_groups(groups, answer_within=t, short_abandon=s)
    whole = group_visits(log, by, answer_within=t, short_abandon=s)
    assert {k: a.result() for k, a in merged.items()} == {k: a.result() for k, a in whole.items()}
    total = KpiAccumulator(t, s)
    for shard in shards:
        part = KpiAccumulator(t, s)
        part.add_all(shard)
        total.merge(part)
    assert total.result() == compute_kpis(log, answer_within=t, short_abandon=s)


@given(log=st.lists(visits(), max_size=40), thresholds=THRESHOLDS)
def test_property_sl_offered_le_sl_excl_short_le_sl_answered_whenever_defined(
    log: list[QueueVisit], thresholds: tuple[float, float]
) -> None:
    t, s = thresholds
    kpis = compute_kpis(log, answer_within=t, short_abandon=s)
    offered, excl_short, answered = (
        kpis["sl_offered"],
        kpis["sl_excl_short"],
        kpis["sl_answered"],
    )
    for low, high in ((offered, excl_short), (excl_short, answered), (offered, answered)):
        if low is not None and high is not None:
            assert low <= high
    # defined exactly when their denominators are not 0
    assert (offered is None) == (len(log) == 0)
    assert (answered is None) == (kpis["answered"] == 0)


@given(
    log=st.lists(visits(), max_size=60),
    own=st.dictionaries(st.integers(1, 3), THRESHOLDS, max_size=3),
    thresholds=THRESHOLDS,
)
def test_property_per_queue_thresholds_judge_each_visit_by_its_own_queue(
    log: list[QueueVisit], own: dict[int, tuple[float, float]], thresholds: tuple[float, float]
) -> None:
    t, s = thresholds
    by = (Dimension.HOTLINE,)
    mixed = group_visits(log, by, answer_within=t, short_abandon=s, queue_thresholds=own)
    plain = group_visits(log, by, answer_within=t, short_abandon=s)
    assert mixed.keys() == plain.keys()
    for (hotline,), accumulator in mixed.items():
        group = [v for v in log if v.hotline_id == hotline]

        def limits(visit: QueueVisit) -> tuple[float, float]:
            return own.get(visit.queue_id, (t, s))

        waits = [(v, v.wait) for v in group if v.wait is not None]
        answered = VisitOutcome.ANSWERED
        abandoned = VisitOutcome.ABANDONED
        # counted straight from the definitions, each visit with its queue's T and S
        assert accumulator.answered_within == sum(
            v.outcome is answered and w <= limits(v)[0] for v, w in waits
        )
        assert accumulator.short_abandoned == sum(
            v.outcome is abandoned and w < limits(v)[1] for v, w in waits
        )
        assert accumulator.abandoned_within == sum(
            v.outcome is abandoned and w <= limits(v)[0] for v, w in waits
        )
        # what does not depend on thresholds is as without them
        unjudged = ("offered", "answered", "abandoned", "asa", "aht", "max_wait", "csat_avg")
        result, reference = accumulator.result(), plain[(hotline,)].result()
        assert {k: result[k] for k in unjudged} == {k: reference[k] for k in unjudged}
