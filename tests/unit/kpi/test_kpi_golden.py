"""Golden KPIs: small history files whose every KPI is computed by hand in the comments.

The logs go through the whole pure path — :func:`parse_history_csv`, :func:`history_visit`,
:func:`group_visits` — so the numbers are what ``hotline report kpis`` prints.  Unless a
test says otherwise T (answer_within) = 20 s and S (short_abandon) = 5 s.
"""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from hotline.core.kpi import KPI_KEYS, KpiAccumulator, QueueVisit, VisitOutcome
from hotline.core.kpi.grouping import (
    Dimension,
    GroupKey,
    Names,
    fill_intervals,
    group_documents,
    group_visits,
)
from hotline.core.kpi.history import HISTORY_COLUMNS, HistoryRow, history_visit, parse_history_csv
from hotline.core.kpi.intervals import Period, Slot, zone

HEADER = ",".join(HISTORY_COLUMNS)

# Queue Q, all arrivals on 2026-03-02 from 10:00:00Z, one minute apart.
#  #  outcome    wait  talk  hold  wrap-up  csat   notes
#  1  answered    10   100    20     30       5    within T
#  2  answered    20   200     0     10       4    wait exactly T: within (≤ T)
#  3  answered    21    60    60      0       2    just over T; hold == talk is allowed
#  4  abandoned    3     -     -      -       -    short (3 < S) and within T
#  5  abandoned    5     -     -      -       -    exactly S: not short (< S is short); ≤ T
#  6  abandoned   20     -     -      -       -    exactly T: an abandon within T
#  7  abandoned   40     -     -      -       -    neither
GOLDEN = [
    HEADER,
    "1,call,H,Q,ann,web,lead,2026-03-02T10:00:00Z,2026-03-02T10:00:10Z,2026-03-02T10:01:50Z,20,30,5",
    "2,call,H,Q,bob,web,,2026-03-02T10:01:00Z,2026-03-02T10:01:20Z,2026-03-02T10:04:40Z,,10,4",
    "3,call,H,Q,ann,tv,,2026-03-02T10:02:00Z,2026-03-02T10:02:21Z,2026-03-02T10:03:21Z,60,0,2",
    "4,call,H,Q,,tv,,2026-03-02T10:03:00Z,,2026-03-02T10:03:03Z,,,",
    "5,call,H,Q,,tv,,2026-03-02T10:04:00Z,,2026-03-02T10:04:05Z,,,",
    "6,call,H,Q,,tv,,2026-03-02T10:05:00Z,,2026-03-02T10:05:20Z,,,",
    "7,call,H,Q,,tv,,2026-03-02T10:06:00Z,,2026-03-02T10:06:40Z,,,",
]

# By hand, T = 20, S = 5:
#   offered 7, answered 3, abandoned 4, short_abandoned 1 (#4), answered_within 2 (#1, #2)
#   abandoned within T: #4, #5, #6 → 3
#   sl_offered 2/7; sl_answered 2/3; sl_excl_short 2/(7−1) = 1/3;
#   sl_excl_abandon_within 2/(7−3) = 1/2
#   asa (10+20+21)/3 = 17; avg_abandon_wait (3+5+20+40)/4 = 17; max_wait 40
#   avg_talk (100+200+60)/3 = 120; avg_hold (20+0+60)/3 = 80/3; avg_wrapup (30+10+0)/3 = 40/3
#   aht = 120 + 40/3 = 400/3
#   abandon_rate 4/7; abandon_rate_excl_short (4−1)/(7−1) = 1/2
#   csat_avg (5+4+2)/3 = 11/3; csat_share_satisfied (5, 4 ≥ 4) 2/3
EXPECTED = {
    "offered": 7,
    "answered": 3,
    "abandoned": 4,
    "short_abandoned": 1,
    "answered_within": 2,
    "callback_requested": 0,
    "overflowed": 0,
    "sl_offered": 2 / 7,
    "sl_answered": 2 / 3,
    "sl_excl_short": 1 / 3,
    "sl_excl_abandon_within": 1 / 2,
    "asa": 17.0,
    "avg_abandon_wait": 17.0,
    "max_wait": 40.0,
    "aht": 400 / 3,
    "avg_talk": 120.0,
    "avg_hold": 80 / 3,
    "avg_wrapup": 40 / 3,
    "abandon_rate": 4 / 7,
    "abandon_rate_excl_short": 1 / 2,
    "csat_avg": 11 / 3,
    "csat_share_satisfied": 2 / 3,
}


def visits_of(lines: list[str], names: Names | None = None) -> list[QueueVisit]:
    names = names or Names()
    rows: list[HistoryRow] = parse_history_csv(lines)
    return [
        history_visit(
            row,
            queue_id=names.id_of("queue:" + row.queue),
            interaction_id=n,
            hotline_id=names.id_of("hotline:" + row.hotline),
            operator_id=None if row.agent is None else names.id_of("agent:" + row.agent),
        )
        for n, row in enumerate(rows, start=1)
    ]


def one_group(lines: list[str], *, t: float = 20.0, s: float = 5.0) -> dict[str, object]:
    groups = group_visits(visits_of(lines), (), answer_within=t, short_abandon=s)
    assert list(groups) == [()]
    return dict(groups[()].result())


def assert_kpis(actual: Mapping[str, object], expected: Mapping[str, object]) -> None:
    assert list(actual) == list(KPI_KEYS)
    for key in KPI_KEYS:
        value = expected[key]
        if isinstance(value, float):
            assert actual[key] == pytest.approx(value, rel=1e-12), key
        else:
            assert actual[key] == value, key


def test_given_the_golden_log_when_t20_s5_then_every_kpi_is_the_hand_computed_one() -> None:
    assert_kpis(one_group(GOLDEN), EXPECTED)


def test_given_s_zero_then_no_abandon_is_short_and_the_short_variants_equal_the_plain() -> None:
    # S = 0: wait < 0 never holds → short_abandoned 0; sl_excl_short 2/7 = sl_offered;
    # abandon_rate_excl_short 4/7 = abandon_rate.  Nothing else changes.
    expected = EXPECTED | {
        "short_abandoned": 0,
        "sl_excl_short": 2 / 7,
        "abandon_rate_excl_short": 4 / 7,
    }
    assert_kpis(one_group(GOLDEN, s=0.0), expected)


def test_given_t10_then_only_the_wait_10_answer_is_within_and_two_abandons_are() -> None:
    # T = 10: answered_within 1 (#1, wait exactly 10); abandoned within T: #4 (3), #5 (5) → 2
    # sl_offered 1/7, sl_answered 1/3, sl_excl_short 1/6, sl_excl_abandon_within 1/(7−2) = 1/5
    expected = EXPECTED | {
        "answered_within": 1,
        "sl_offered": 1 / 7,
        "sl_answered": 1 / 3,
        "sl_excl_short": 1 / 6,
        "sl_excl_abandon_within": 1 / 5,
    }
    assert_kpis(one_group(GOLDEN, t=10.0), expected)


def test_given_s_equal_to_an_abandons_wait_then_that_abandon_is_not_short() -> None:
    # S = 3: #4 waited exactly 3 → not short (short is wait < S); S = 3.5 → #4 is short.
    assert one_group(GOLDEN, s=3.0)["short_abandoned"] == 0
    assert one_group(GOLDEN, s=3.5)["short_abandoned"] == 1
    # S = 20: #4 (3), #5 (5) < 20, #6 (20) is not → 2
    assert one_group(GOLDEN, s=20.0)["short_abandoned"] == 2


def test_given_a_queue_with_only_abandons_then_its_answer_ratios_are_null() -> None:
    # Queue R: two abandons, waits 4 and 30.  offered 2, answered 0, abandoned 2, short 1 (4 < 5)
    # abandoned within T: 4 → 1.  sl_offered 0/2 = 0; sl_answered 0/0 → null;
    # sl_excl_short 0/(2−1) = 0; sl_excl_abandon_within 0/(2−1) = 0; asa, aht, talk, hold,
    # wrap-up: no answered → null; avg_abandon_wait 17; max_wait 30; abandon_rate 1;
    # abandon_rate_excl_short (2−1)/(2−1) = 1; no csat → null.
    lines = [
        HEADER,
        "a,chat,H,R,,,,2026-03-02T10:00:00+03:00,,2026-03-02T10:00:04+03:00,,,",
        "b,chat,H,R,,,,2026-03-02T10:10:00+03:00,,2026-03-02T10:10:30+03:00,,,",
    ]
    expected: dict[str, object] = {
        "offered": 2,
        "answered": 0,
        "abandoned": 2,
        "short_abandoned": 1,
        "answered_within": 0,
        "callback_requested": 0,
        "overflowed": 0,
        "sl_offered": 0.0,
        "sl_answered": None,
        "sl_excl_short": 0.0,
        "sl_excl_abandon_within": 0.0,
        "asa": None,
        "avg_abandon_wait": 17.0,
        "max_wait": 30.0,
        "aht": None,
        "avg_talk": None,
        "avg_hold": None,
        "avg_wrapup": None,
        "abandon_rate": 1.0,
        "abandon_rate_excl_short": 1.0,
        "csat_avg": None,
        "csat_share_satisfied": None,
    }
    assert_kpis(one_group(lines), expected)


def test_given_only_short_abandons_then_the_excl_short_ratios_are_null() -> None:
    # one abandon after 2 s: offered 1, short 1 → offered − short = 0 → sl_excl_short and
    # abandon_rate_excl_short null; sl_offered 0/1 = 0; abandon_rate 1/1
    lines = [HEADER, "a,call,H,Q,,,,2026-03-02T10:00:00Z,,2026-03-02T10:00:02Z,,,"]
    kpis = one_group(lines)
    assert kpis["sl_excl_short"] is None
    assert kpis["abandon_rate_excl_short"] is None
    assert kpis["sl_offered"] == 0.0
    assert kpis["abandon_rate"] == 1.0


def test_given_an_empty_interval_when_filled_then_it_counts_zero_and_its_ratios_are_null() -> None:
    # Two calls on Q at 10:05Z and 11:05Z, hourly slots in UTC: the 10:00 and 11:00 slots have
    # one call each; filling adds nothing (no gap).  Calls at 10:05Z and 12:05Z: the 11:00
    # slot is empty → offered 0, every ratio and mean null, max_wait null.
    lines = [
        HEADER,
        "a,call,H,Q,ann,,,2026-03-02T10:05:00Z,2026-03-02T10:05:10Z,2026-03-02T10:06:10Z,,,",
        "b,call,H,Q,ann,,,2026-03-02T12:05:00Z,2026-03-02T12:05:30Z,2026-03-02T12:06:30Z,,,",
    ]
    by = (Dimension.QUEUE, Dimension.INTERVAL)
    period, utc = Period(minutes=60), zone("UTC")
    groups = group_visits(
        visits_of(lines), by, period=period, tz=utc, answer_within=20, short_abandon=5
    )
    filled = fill_intervals(groups, by, period=period, tz=utc, answer_within=20, short_abandon=5)
    documents = group_documents(filled, by, lambda d, v: v.label if isinstance(v, Slot) else v)
    labels = [doc["key"] for doc in documents]
    assert labels == [
        {"queue": 1, "interval": "2026-03-02T10:00:00+00:00"},
        {"queue": 1, "interval": "2026-03-02T11:00:00+00:00"},
        {"queue": 1, "interval": "2026-03-02T12:00:00+00:00"},
    ]
    empty = documents[1]
    assert empty["offered"] == 0 and empty["answered"] == 0
    ratios = [k for k in KPI_KEYS if k not in {"offered", "answered", "abandoned"}]
    counts = {"short_abandoned", "answered_within", "callback_requested", "overflowed"}
    assert all(empty[k] is None for k in ratios if k not in counts)
    assert all(empty[k] == 0 for k in counts)
    # the 10:00 slot: answered after 10 s ≤ T → sl_offered 1; the 12:00 slot: 30 s > T → 0
    assert documents[0]["sl_offered"] == 1.0 and documents[2]["sl_offered"] == 0.0


def test_given_a_call_across_midnight_then_it_counts_in_the_interval_it_arrived_in() -> None:
    # Moscow (UTC+3, no DST).  a: arrives 23:59:50 on the 2nd, answered 00:00:05 on the 3rd
    # (wait 15 ≤ T), ends 00:04:05.  b: arrives 00:00:10 on the 3rd, abandons after 30 s.
    # 30-min slots: a → 23:30 on the 2nd, b → 00:00 on the 3rd; days: a → 2nd, b → 3rd.
    lines = [
        HEADER,
        "a,call,H,Q,ann,,,2026-03-02T23:59:50+03:00,2026-03-03T00:00:05+03:00,"
        "2026-03-03T00:04:05+03:00,,,",
        "b,call,H,Q,,,,2026-03-03T00:00:10+03:00,,2026-03-03T00:00:40+03:00,,,",
    ]
    moscow = zone("Europe/Moscow")
    visits = visits_of(lines)
    for period, labels in [
        (Period(minutes=30), ["2026-03-02T23:30:00+03:00", "2026-03-03T00:00:00+03:00"]),
        (Period.parse("day"), ["2026-03-02", "2026-03-03"]),
    ]:
        groups = group_visits(
            visits,
            (Dimension.INTERVAL,),
            period=period,
            tz=moscow,
            answer_within=20,
            short_abandon=5,
        )
        by_label = {key[0].label: acc for key, acc in groups.items() if isinstance(key[0], Slot)}
        assert sorted(by_label) == labels
        first, second = (by_label[label].result() for label in labels)
        assert (first["offered"], first["answered"], first["sl_offered"]) == (1, 1, 1.0)
        assert (second["offered"], second["abandoned"], second["sl_offered"]) == (1, 1, 0.0)


def group_labels(visits: list[QueueVisit], period: Period, tz_name: str) -> dict[str, int]:
    groups: dict[GroupKey, KpiAccumulator] = group_visits(
        visits,
        (Dimension.INTERVAL,),
        period=period,
        tz=zone(tz_name),
        answer_within=20,
        short_abandon=5,
    )
    return {str(getattr(key[0], "label", "")): acc.offered for key, acc in groups.items()}


def arrivals(*utc_times: str) -> list[QueueVisit]:
    lines = [HEADER] + [f"{n},call,H,Q,,,,{at},,{at},,," for n, at in enumerate(utc_times, start=1)]
    return visits_of(lines)


def test_given_berlin_spring_forward_then_no_slot_in_the_missing_hour_moscow_unchanged() -> None:
    # 2026-03-29: Berlin goes 02:00 CET (+01) → 03:00 CEST (+02), i.e. at 01:00Z.
    # 00:55Z = 01:55+01:00 → slot 01:30+01:00;  01:05Z = 03:05+02:00 → slot 03:00+02:00;
    # 01:25Z = 03:25+02:00 → the same slot.  Moscow (+03 all year): 03:55, 04:05, 04:25 →
    # slots 03:30, 04:00, 04:00.  Both are one day in both zones.
    visits = arrivals("2026-03-29T00:55:00Z", "2026-03-29T01:05:00Z", "2026-03-29T01:25:00Z")
    half = Period(minutes=30)
    assert group_labels(visits, half, "Europe/Berlin") == {
        "2026-03-29T01:30:00+01:00": 1,
        "2026-03-29T03:00:00+02:00": 2,
    }
    assert group_labels(visits, half, "Europe/Moscow") == {
        "2026-03-29T03:30:00+03:00": 1,
        "2026-03-29T04:00:00+03:00": 2,
    }
    assert group_labels(visits, Period.parse("day"), "Europe/Berlin") == {"2026-03-29": 3}


def test_given_berlin_fall_back_then_the_repeated_hour_has_two_slots_by_offset() -> None:
    # 2026-10-25: Berlin goes 03:00 CEST (+02) → 02:00 CET (+01), at 01:00Z.
    # 00:10Z = 02:10+02:00 and 01:10Z = 02:10+01:00: the same wall-clock time, different
    # slots, for 30 and 60 minutes alike; 00:40Z = 02:40+02:00 → slot 02:30+02:00.
    # Moscow: 03:10, 03:40, 04:10 → three slots of 30 min, two of 60 (03:00 ×2, 04:00).
    visits = arrivals("2026-10-25T00:10:00Z", "2026-10-25T00:40:00Z", "2026-10-25T01:10:00Z")
    assert group_labels(visits, Period(minutes=30), "Europe/Berlin") == {
        "2026-10-25T02:00:00+02:00": 1,
        "2026-10-25T02:30:00+02:00": 1,
        "2026-10-25T02:00:00+01:00": 1,
    }
    assert group_labels(visits, Period(minutes=60), "Europe/Berlin") == {
        "2026-10-25T02:00:00+02:00": 2,
        "2026-10-25T02:00:00+01:00": 1,
    }
    assert group_labels(visits, Period(minutes=60), "Europe/Moscow") == {
        "2026-10-25T03:00:00+03:00": 2,
        "2026-10-25T04:00:00+03:00": 1,
    }
    assert group_labels(visits, Period.parse("day"), "Europe/Berlin") == {"2026-10-25": 3}


def test_given_labels_and_outcomes_then_groups_are_keyed_by_them_unknown_last() -> None:
    # GOLDEN by source and outcome: web → #1, #2 answered; tv → #3 answered, #4–#7 abandoned
    by = (Dimension.SOURCE, Dimension.OUTCOME)
    groups = group_visits(visits_of(GOLDEN), by, answer_within=20, short_abandon=5)
    documents = group_documents(groups, by, lambda d, v: v)
    assert [(d["key"], d["offered"]) for d in documents] == [
        ({"source": "tv", "outcome": "abandoned"}, 4),
        ({"source": "tv", "outcome": "answered"}, 1),
        ({"source": "web", "outcome": "answered"}, 2),
    ]
    # by topic: only #1 has one ("lead"); the six others have none and come last
    by_topic = group_documents(
        group_visits(visits_of(GOLDEN), (Dimension.TOPIC,), answer_within=20, short_abandon=5),
        (Dimension.TOPIC,),
        lambda d, v: v,
    )
    assert [(d["key"], d["offered"]) for d in by_topic] == [
        ({"topic": "lead"}, 1),
        ({"topic": None}, 6),
    ]


def test_given_a_callback_and_an_overflow_then_they_are_offered_but_not_abandoned() -> None:
    # KPI.md: callbacks accepted in the queue and overflows are counted apart from abandons.
    # One answer after 10 s, one callback after 30 s, one overflow after 60 s:
    # offered 3, answered 1, abandoned 0, callback_requested 1, overflowed 1,
    # sl_offered 1/3 (both count against it), sl_answered 1, abandon_rate 0,
    # max_wait 10 (over answered and abandoned visits only)
    base = 1_772_445_600.0  # 2026-03-02T10:00:00Z
    visits = [
        QueueVisit(
            interaction_id=1,
            queue_id=1,
            arrived_at=base,
            outcome=VisitOutcome.ANSWERED,
            answered_at=base + 10,
            ended_at=base + 70,
            wrap_up=0.0,
        ),
        QueueVisit(
            interaction_id=2,
            queue_id=1,
            arrived_at=base,
            outcome=VisitOutcome.CALLBACK,
            ended_at=base + 30,
        ),
        QueueVisit(
            interaction_id=3,
            queue_id=1,
            arrived_at=base,
            outcome=VisitOutcome.OVERFLOWED,
            ended_at=base + 60,
        ),
    ]
    (total,) = group_visits(visits, (), answer_within=20, short_abandon=5).values()
    kpis = total.result()
    assert (kpis["offered"], kpis["answered"], kpis["abandoned"]) == (3, 1, 0)
    assert (kpis["callback_requested"], kpis["overflowed"]) == (1, 1)
    assert kpis["sl_offered"] == pytest.approx(1 / 3)
    assert (kpis["sl_answered"], kpis["abandon_rate"], kpis["max_wait"]) == (1.0, 0.0, 10.0)
    by_outcome = group_visits(visits, (Dimension.OUTCOME,), answer_within=20, short_abandon=5)
    assert sorted(str(key[0]) for key in by_outcome) == ["answered", "callback", "overflowed"]
