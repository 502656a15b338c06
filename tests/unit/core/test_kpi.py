"""KPIs from event logs: hand-computed golden logs, the fold's rules, and properties.

Unless a test says otherwise, T (answer_within) = 20 s and S (short_abandon) = 5 s.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import fields, replace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hotline.core.commands import Log
from hotline.core.kpi import (
    KPI_KEYS,
    KpiAccumulator,
    KpiError,
    KpiLogError,
    Kpis,
    OccupancyAccumulator,
    QueueVisit,
    VisitFold,
    VisitOutcome,
    compute_kpis,
    fold_visits,
    group_accumulators,
    group_kpis,
    occupancy,
    operator_occupancy,
)
from hotline.core.model import Channel, EventType, OperatorState

T = 20.0
S = 5.0
E = EventType
Outcome = VisitOutcome


def line(interaction_id: int, at: float, type: EventType, **data: object) -> Log:
    return Log(interaction_id, type, at, data)


def kpis(visits: Sequence[QueueVisit], *, t: float = T, s: float = S) -> Kpis:
    return compute_kpis(visits, answer_within=t, short_abandon=s)


def visit(outcome: VisitOutcome = Outcome.ANSWERED, wait: float = 0.0) -> QueueVisit:
    """A visit entering queue 1 at 0 that waited ``wait`` (answered: talk 60 s, wrap-up 10 s)."""
    if outcome is Outcome.ANSWERED:
        return QueueVisit(
            interaction_id=1,
            queue_id=1,
            arrived_at=0.0,
            outcome=outcome,
            answered_at=wait,
            ended_at=wait + 60.0,
            wrap_up=10.0,
        )
    return QueueVisit(interaction_id=1, queue_id=1, arrived_at=0.0, outcome=outcome, ended_at=wait)


NO_VISITS: Kpis = {
    "offered": 0,
    "answered": 0,
    "abandoned": 0,
    "short_abandoned": 0,
    "answered_within": 0,
    "callback_requested": 0,
    "overflowed": 0,
    "sl_offered": None,
    "sl_answered": None,
    "sl_excl_short": None,
    "sl_excl_abandon_within": None,
    "asa": None,
    "avg_abandon_wait": None,
    "max_wait": None,
    "aht": None,
    "avg_talk": None,
    "avg_hold": None,
    "avg_wrapup": None,
    "abandon_rate": None,
    "abandon_rate_excl_short": None,
    "csat_avg": None,
    "csat_share_satisfied": None,
}


# --- The golden day ---------------------------------------------------------------------------
# Queue 1 of hotline 1, T = 20 s, S = 5 s.  Waits and handle times by hand:
#
#  id  queue entry  how it ends                                 wait  talk hold wrap  csat
#   1      0        answered 10, held 30-40, talk to 70, wrap 80  10    60   10   10    5
#   2      5        offer missed, answered 25 (= T), talk to 65   20    40    0   10    3 (survey)
#   3     10        abandoned 13: short (3 < S)                    3
#   4     20        abandoned 40: exactly T, within, not short    20
#   5     30        abandoned 35: exactly S, not short (strict)    5
#   6     40        callback accepted at 100                       60 (not a wait KPI)
#   7     50        overflowed at 80 to queue 2 ...                30 (not a wait KPI)
#   7     80        ... queue 2: answered 85, talk to 95, wrap 100  5    10    0    5
#   8     60        answered 90 (> T), talk to 110, wrap 0        30    20    0    0    4
#   9     70        abandoned 130                                  60
GOLDEN_LOG = [
    line(1, 0, E.ARRIVED, hotline_id=1, channel=Channel.CALL, source="+4930", topic="billing"),
    line(1, 0, E.QUEUED, queue_id=1, ewt=15.0, position=1),
    line(1, 8, E.OFFERED, operator_id=7, queue_id=1),
    line(1, 10, E.ANSWERED, operator_id=7, queue_id=1),
    line(1, 30, E.HELD),
    line(1, 40, E.RESUMED),
    line(1, 70, E.WRAP_UP_STARTED, operator_id=7),
    line(1, 80, E.COMPLETED, operator_id=7, csat=5),
    line(2, 5, E.ARRIVED, hotline_id=1, channel="call", topic="billing"),
    line(2, 5, E.QUEUED, queue_id=1, ewt=None, position=2),
    line(2, 5, E.OFFERED, operator_id=8, queue_id=1),
    line(2, 15, E.OFFER_TIMEOUT, operator_id=8),
    line(2, 20, E.OFFERED, operator_id=9, queue_id=1),
    line(2, 25, E.ANSWERED, operator_id=9, queue_id=1),
    line(2, 65, E.WRAP_UP_STARTED, operator_id=9),
    line(2, 75, E.COMPLETED, operator_id=9),
    line(2, 90, E.IVR, csat=3),  # the post-call survey
    line(3, 10, E.QUEUED, queue_id=1),
    line(3, 13, E.ABANDONED, queue_id=1),
    line(4, 20, E.QUEUED, queue_id=1),
    line(4, 40, E.ABANDONED, queue_id=1),
    line(5, 30, E.QUEUED, queue_id=1),
    line(5, 35, E.ABANDONED, queue_id=1),
    line(6, 40, E.QUEUED, queue_id=1),
    line(6, 100, E.CALLBACK_REQUESTED, queue_id=1),
    line(7, 50, E.QUEUED, queue_id=1),
    line(7, 80, E.OVERFLOWED, from_queue=1, to_queue=2),
    line(7, 80, E.QUEUED, queue_id=2),
    line(7, 85, E.ANSWERED, operator_id=9, queue_id=2),
    line(7, 95, E.WRAP_UP_STARTED, operator_id=9),
    line(7, 100, E.COMPLETED, operator_id=9),
    line(8, 60, E.QUEUED, queue_id=1),
    line(8, 90, E.ANSWERED, operator_id=7, queue_id=1),
    line(8, 110, E.WRAP_UP_STARTED, operator_id=7),
    line(8, 110, E.COMPLETED, operator_id=7, csat=4),
    line(9, 70, E.QUEUED, queue_id=1),
    line(9, 130, E.ABANDONED, queue_id=1),
]

GOLDEN_QUEUE_1: Kpis = {
    "offered": 9,  # interactions 1-9
    "answered": 3,  # 1, 2, 8
    "abandoned": 4,  # 3, 4, 5, 9 (not the callback 6 nor the overflow 7)
    "short_abandoned": 1,  # 3
    "answered_within": 2,  # 1 (10 s), 2 (20 s = T)
    "callback_requested": 1,
    "overflowed": 1,
    "sl_offered": 2 / 9,
    "sl_answered": 2 / 3,
    "sl_excl_short": 2 / 8,  # 9 - 1 short
    "sl_excl_abandon_within": 2 / 6,  # 9 - 3 abandoned within T (3, 4 at exactly T, 5)
    "asa": (10 + 20 + 30) / 3,
    "avg_abandon_wait": (3 + 20 + 5 + 60) / 4,
    "max_wait": 60.0,  # interaction 9; the callback's 60 s and the overflow's 30 s are not waits
    "aht": (70 + 50 + 20) / 3,
    "avg_talk": (60 + 40 + 20) / 3,
    "avg_hold": 10 / 3,
    "avg_wrapup": (10 + 10 + 0) / 3,
    "abandon_rate": 4 / 9,
    "abandon_rate_excl_short": (4 - 1) / (9 - 1),
    "csat_avg": (5 + 3 + 4) / 3,
    "csat_share_satisfied": 2 / 3,  # 5 and 4
}

GOLDEN_QUEUE_2: Kpis = NO_VISITS | {
    "offered": 1,
    "answered": 1,
    "answered_within": 1,
    "sl_offered": 1.0,
    "sl_answered": 1.0,
    "sl_excl_short": 1.0,
    "sl_excl_abandon_within": 1.0,
    "asa": 5.0,
    "avg_abandon_wait": None,  # nobody abandoned: a mean over nothing
    "max_wait": 5.0,
    "aht": 15.0,
    "avg_talk": 10.0,
    "avg_hold": 0.0,
    "avg_wrapup": 5.0,
    "abandon_rate": 0.0,  # 0 of 1 offered: a real 0, not None
    "abandon_rate_excl_short": 0.0,
}


def test_golden_day_per_queue() -> None:
    by_queue = group_kpis(
        fold_visits(GOLDEN_LOG), lambda v: v.queue_id, answer_within=T, short_abandon=S
    )
    assert by_queue == {1: pytest.approx(GOLDEN_QUEUE_1), 2: pytest.approx(GOLDEN_QUEUE_2)}
    assert list(by_queue[1]) == list(KPI_KEYS)


def test_golden_day_counts_are_ints_and_the_hotline_sums_the_queue_visits() -> None:
    visits = fold_visits(GOLDEN_LOG)
    by_hotline = group_kpis(visits, lambda v: v.hotline_id, answer_within=T, short_abandon=S)
    assert set(by_hotline) == {1, None}  # interactions 3-9 logged no ARRIVED line
    total = kpis(visits)
    assert total["offered"] == 10  # interaction 7 is offered in queue 1 and again in queue 2
    assert total["answered"] == 4
    assert all(type(total[k]) is int for k in KPI_KEYS[:7])


def test_golden_day_visit_records() -> None:
    first, second, *_ = fold_visits(GOLDEN_LOG)
    assert first == QueueVisit(
        interaction_id=1,
        queue_id=1,
        arrived_at=0,
        outcome=Outcome.ANSWERED,
        answered_at=10,
        ended_at=70,
        operator_id=7,
        hotline_id=1,
        channel="call",
        source="+4930",
        topic="billing",
        hold=10,
        wrap_up=10,
        csat=5,
        ewt=15,
    )
    assert type(first.channel) is str  # not the Channel enum: labels group alike
    assert (first.wait, first.talk) == (10, 60)
    assert (second.wait, second.talk, second.operator_id, second.csat) == (20, 40, 9, 3)


def test_empty_group_gives_zero_counts_and_none_ratios() -> None:
    assert kpis([]) == NO_VISITS
    assert group_kpis([], lambda v: v.queue_id, answer_within=T, short_abandon=S) == {}


# --- Thresholds at their edges ----------------------------------------------------------------


def test_answered_exactly_at_t_is_within_and_just_after_is_not() -> None:
    result = kpis([visit(wait=T), visit(wait=math.nextafter(T, math.inf))])
    assert (result["answered_within"], result["sl_offered"], result["sl_answered"]) == (1, 0.5, 0.5)


def test_abandon_exactly_at_t_is_excluded_by_sl_excl_abandon_within_only() -> None:
    # offered 2: answered within (wait 5), abandoned at exactly T.
    result = kpis([visit(wait=5), visit(Outcome.ABANDONED, wait=T)])
    assert result["sl_offered"] == 1 / 2  # the abandon counts against
    assert result["sl_excl_short"] == 1 / 2  # 20 s is not short
    assert result["sl_excl_abandon_within"] == 1 / 1  # 2 - 1 abandoned within T
    assert result["sl_answered"] == 1.0
    # Just after T the abandon is no longer "within": it counts against every variant.
    late = kpis([visit(wait=5), visit(Outcome.ABANDONED, wait=math.nextafter(T, math.inf))])
    assert late["sl_excl_abandon_within"] == 1 / 2


def test_short_abandon_is_strictly_below_s() -> None:
    # offered 4: answered within, abandoned at 4.999 (short), at S (not short), at 30.
    result = kpis(
        [
            visit(wait=1),
            visit(Outcome.ABANDONED, wait=4.999),
            visit(Outcome.ABANDONED, wait=S),
            visit(Outcome.ABANDONED, wait=30),
        ]
    )
    assert result["short_abandoned"] == 1
    assert result["sl_excl_short"] == 1 / 3
    assert result["abandon_rate"] == 3 / 4
    assert result["abandon_rate_excl_short"] == 2 / 3
    assert result["avg_abandon_wait"] == pytest.approx((4.999 + 5 + 30) / 3)


def test_short_abandon_zero_disables_it() -> None:
    result = kpis([visit(Outcome.ABANDONED, wait=0)], s=0)
    assert result["short_abandoned"] == 0
    assert result["abandon_rate_excl_short"] == 1.0


def test_all_offered_short_abandoned_leaves_excl_short_ratios_undefined() -> None:
    result = kpis([visit(Outcome.ABANDONED, wait=1), visit(Outcome.ABANDONED, wait=2)])
    assert result["sl_offered"] == 0.0
    assert result["sl_excl_short"] is None  # 2 - 2 = 0: null, never 0 or an error
    assert result["abandon_rate_excl_short"] is None
    assert result["sl_answered"] is None


# --- Callbacks, overflows, transfers, holds ---------------------------------------------------


def test_callbacks_and_overflows_are_not_abandoned_and_count_against_sl_offered() -> None:
    log = [
        line(1, 0, E.QUEUED, queue_id=1),
        line(1, 200, E.CALLBACK_REQUESTED, queue_id=1),
        line(1, 900, E.ABANDONED, queue_id=1),  # ignored: the caller is no longer waiting
        line(2, 0, E.QUEUED, queue_id=1),
        line(2, 3, E.OVERFLOWED, from_queue=1, action="voicemail"),
        line(3, 0, E.QUEUED, queue_id=1),
        line(3, 12, E.ANSWERED, operator_id=5, queue_id=1),
    ]
    visits = fold_visits(log)
    assert [v.outcome for v in visits] == [Outcome.CALLBACK, Outcome.OVERFLOWED, Outcome.ANSWERED]
    result = kpis(visits)
    assert result == pytest.approx(
        NO_VISITS
        | {
            "offered": 3,
            "answered": 1,
            "answered_within": 1,
            "callback_requested": 1,
            "overflowed": 1,
            "sl_offered": 1 / 3,
            "sl_answered": 1.0,
            "sl_excl_short": 1 / 3,
            "sl_excl_abandon_within": 1 / 3,
            "asa": 12.0,
            "max_wait": 12.0,  # not the callback's 200 s
            "abandon_rate": 0.0,
            "abandon_rate_excl_short": 0.0,
            # aht and friends stay None: interaction 3 is still talking
        }
    )


def test_transfer_creates_a_second_visit_and_the_first_operator_wraps_up_meanwhile() -> None:
    # Queue 1: waits 4 s, talks 4-30 with a hold 10-16, transferred at 30, op 7 wraps up to 45,
    # after op 8 has answered in queue 2: the COMPLETED is op 7's, found by operator.
    # Queue 2: enters at 30, answered 42 (wait 12), talks to 100, wraps up to 120; csat 2.
    log = [
        line(1, 0, E.ARRIVED, hotline_id=3, channel="chat"),
        line(1, 0, E.QUEUED, queue_id=1),
        line(1, 4, E.ANSWERED, operator_id=7, queue_id=1),
        line(1, 10, E.HELD),
        line(1, 16, E.RESUMED),
        line(1, 30, E.TRANSFERRED, to_queue=2),
        line(1, 30, E.WRAP_UP_STARTED, operator_id=7),  # ignored: talk already ended
        line(1, 30, E.QUEUED, queue_id=2, ewt=40.0),
        line(1, 42, E.ANSWERED, operator_id=8, queue_id=2),
        line(1, 45, E.COMPLETED, operator_id=7),
        line(1, 100, E.WRAP_UP_STARTED, operator_id=8),
        line(1, 120, E.COMPLETED, operator_id=8, csat=2),
    ]
    first, second = fold_visits(log)
    assert first == QueueVisit(
        interaction_id=1,
        outcome=Outcome.ANSWERED,
        hotline_id=3,
        channel="chat",
        queue_id=1,
        arrived_at=0,
        answered_at=4,
        ended_at=30,
        operator_id=7,
        hold=6,
        wrap_up=15,
        transferred_to=2,
    )
    assert second == replace(
        first,
        queue_id=2,
        arrived_at=30,
        answered_at=42,
        ended_at=100,
        operator_id=8,
        wrap_up=20,
        hold=0,
        csat=2,
        ewt=40,
        transferred_to=None,
    )
    by_queue = group_kpis([first, second], lambda v: v.queue_id, answer_within=T, short_abandon=S)
    assert by_queue[1]["answered"] == by_queue[2]["answered"] == 1  # answered in both
    assert (by_queue[1]["aht"], by_queue[1]["avg_hold"], by_queue[1]["csat_avg"]) == (41, 6, None)
    assert (by_queue[2]["aht"], by_queue[2]["asa"], by_queue[2]["csat_avg"]) == (78, 12, 2)


def test_hold_time_sums_holds_and_closes_one_still_open_at_talk_end() -> None:
    # Answered at 10; held 20-25 and 30-32; held again at 50 and talk ends at 60: 5 + 2 + 10.
    log = [
        line(1, 0, E.QUEUED, queue_id=1),
        line(1, 10, E.ANSWERED, operator_id=1, queue_id=1),
        line(1, 20, E.HELD),
        line(1, 25, E.RESUMED),
        line(1, 30, E.HELD),
        line(1, 31, E.HELD),  # already held: changes nothing
        line(1, 32, E.RESUMED),
        line(1, 40, E.RESUMED),  # not held: changes nothing
        line(1, 50, E.HELD),
        line(1, 60, E.WRAP_UP_STARTED, operator_id=1),
        line(1, 90, E.COMPLETED, operator_id=1),
    ]
    (only,) = fold_visits(log)
    assert (only.talk, only.hold, only.wrap_up) == (50, 17, 30)
    result = kpis([only])
    assert (result["aht"], result["avg_talk"], result["avg_hold"], result["avg_wrapup"]) == (
        80,
        50,
        17,
        30,
    )


def test_back_to_back_holds_never_exceed_the_talk() -> None:
    # Found by search: (46.457... - 39.137...) + (133.073... - 46.457...) rounds one ulp above
    # 133.073... - 39.137...; the fold clamps, or the visit would fail its own check.
    answered, resumed, ended = 39.13779859691058, 46.45714048014543, 133.07397621680263
    assert (resumed - answered) + (ended - resumed) > ended - answered
    log = [
        line(1, 0, E.QUEUED, queue_id=1),
        line(1, answered, E.ANSWERED, operator_id=1, queue_id=1),
        line(1, answered, E.HELD),
        line(1, resumed, E.RESUMED),
        line(1, resumed, E.HELD),
        line(1, ended, E.WRAP_UP_STARTED, operator_id=1),
    ]
    (only,) = fold_visits(log)
    assert only.hold == only.talk == ended - answered


def test_ivr_sets_the_topic_and_queued_may_name_another_hotline() -> None:
    log = [
        line(1, 0, E.ARRIVED, hotline_id=1, topic="billing", source=42),
        line(1, 5, E.IVR, topic="sales"),
        line(1, 6, E.IVR, digits="1"),  # no topic: keeps "sales"
        line(1, 9, E.QUEUED, queue_id=1),
        line(1, 9, E.TRANSFERRED, to_queue=2),  # unanswered: moved
        line(1, 9, E.QUEUED, queue_id=2, hotline_id=2),
    ]
    first, second = fold_visits(log)
    assert (first.topic, first.source, first.hotline_id, first.outcome) == (
        "sales",
        "42",
        1,
        Outcome.TRANSFERRED,
    )
    assert (second.topic, second.hotline_id) == ("sales", 2)


def test_completed_without_wrap_up_line_ends_talk_with_zero_wrap_up() -> None:
    log = [
        line(1, 0, E.QUEUED, queue_id=1),
        line(1, 1, E.ANSWERED, operator_id=1, queue_id=1),
        line(1, 9, E.COMPLETED),
    ]
    (only,) = fold_visits(log)
    assert (only.talk, only.wrap_up) == (8, 0)


def test_open_visits_are_offered_and_unsettled() -> None:
    log = [
        line(1, 0, E.QUEUED, queue_id=1),  # still waiting
        line(2, 0, E.QUEUED, queue_id=1),
        line(2, 3, E.ANSWERED, operator_id=1, queue_id=1),
        line(2, 8, E.HELD),  # still talking (and held)
        line(3, 0, E.QUEUED, queue_id=1),
        line(3, 2, E.ANSWERED, operator_id=2, queue_id=1),
        line(3, 5, E.WRAP_UP_STARTED, operator_id=2),  # still in wrap-up
    ]
    waiting, talking, wrapping = fold_visits(log)
    assert (waiting.outcome, waiting.wait, waiting.settled) == (Outcome.WAITING, None, False)
    assert (talking.talk, talking.wrap_up, talking.settled) == (None, None, True)
    assert (wrapping.talk, wrapping.wrap_up) == (3, None)
    result = kpis([waiting, talking, wrapping])
    assert (result["offered"], result["answered"], result["sl_offered"]) == (3, 2, 2 / 3)
    assert result["aht"] is None  # no answered visit has finished its wrap-up yet


def test_lines_outside_a_queue_visit_are_ignored() -> None:
    log = [
        line(1, 0, E.ARRIVED, hotline_id=1),
        line(1, 5, E.IVR, topic="sales"),
        line(1, 9, E.ABANDONED),  # hung up in the IVR: never offered
        line(2, 0, E.ANSWERED, operator_id=4),  # an outbound call
        line(2, 60, E.COMPLETED, operator_id=4, csat=5),
    ]
    assert fold_visits(log) == []


def test_queued_again_without_a_transfer_line_ends_the_previous_visit() -> None:
    log = [
        line(1, 0, E.QUEUED, queue_id=1),
        line(1, 2, E.QUEUED, queue_id=2),  # moved unanswered
        line(1, 4, E.ANSWERED, operator_id=1, queue_id=2),
        line(1, 6, E.QUEUED, queue_id=3),  # implied transfer
    ]
    moved, answered, waiting = fold_visits(log)
    assert (moved.outcome, moved.ended_at) == (Outcome.TRANSFERRED, 2)
    assert (answered.ended_at, answered.transferred_to) == (6, 3)
    assert waiting.outcome is Outcome.WAITING
    assert kpis([moved])["offered"] == 1
    assert kpis([moved])["abandoned"] == 0


def test_csat_goes_to_the_last_answered_visit_once() -> None:
    log = [
        line(1, 0, E.QUEUED, queue_id=1),
        line(1, 1, E.ANSWERED, operator_id=1, queue_id=1),
        line(1, 5, E.TRANSFERRED, to_queue=2),
        line(1, 5, E.QUEUED, queue_id=2),
        line(1, 9, E.ABANDONED, queue_id=2),
        line(1, 9, E.COMPLETED, operator_id=1, csat=4),
    ]
    assert [v.csat for v in fold_visits(log)] == [4, None]
    unanswered = [line(2, 0, E.QUEUED, queue_id=1), line(2, 9, E.ABANDONED, csat=1)]
    assert [v.csat for v in fold_visits(unanswered)] == [1]


def test_visit_fold_gives_snapshots_as_lines_arrive() -> None:
    fold = VisitFold(1)
    fold.add(line(1, 0, E.QUEUED, queue_id=1))
    assert [v.outcome for v in fold.visits()] == [Outcome.WAITING]
    fold.add(line(1, 7, E.ABANDONED, queue_id=1))
    assert [(v.outcome, v.wait) for v in fold.visits()] == [(Outcome.ABANDONED, 7)]


# --- Errors -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (line(1, 0, E.QUEUED), r"line 0 \(queued at 0\): data\['queue_id'\] must be an int"),
        (line(1, 0, E.QUEUED, queue_id="1"), "must be an int id, got '1'"),
        (line(1, 0, E.QUEUED, queue_id=True), "must be an int id, got True"),
        (line(1, 0, E.QUEUED, queue_id=1, ewt="soon"), r"data\['ewt'\] must be a finite number"),
        (line(1, 0, E.COMPLETED, csat=6), r"data\['csat'\] must be between 1 and 5"),
        (line(1, 0, E.ARRIVED, channel=1.5), r"data\['channel'\] must be a string"),
        (line(1, math.nan, E.QUEUED, queue_id=1), "at must be finite"),
        (line(2, 0, E.QUEUED, queue_id=1), "belongs to interaction 2"),
    ],
)
def test_malformed_lines_name_the_interaction_line_and_field(bad: Log, message: str) -> None:
    with pytest.raises(KpiLogError, match=message):
        VisitFold(1).add(bad)


def test_lines_going_back_in_time_are_rejected() -> None:
    fold = VisitFold(1)
    fold.add(line(1, 10, E.QUEUED, queue_id=1))
    with pytest.raises(KpiLogError, match=r"interaction 1, line 1 .*not before"):
        fold.add(line(1, 9, E.ABANDONED))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"answered_at": None}, "answered_at must be set exactly when"),
        ({"outcome": Outcome.ABANDONED}, "answered_at must be set exactly when"),
        ({"answered_at": -1.0}, "before arrived_at"),
        ({"ended_at": 1.0}, "ended_at 1.0 is before 5.0"),
        ({"hold": 61.0}, "hold 61.0 must be between 0 and the talk time 60.0"),
        ({"wrap_up": -1.0}, "wrap_up must be a finite number"),
        ({"ended_at": None}, "wrap_up is known but talk has not ended"),
        ({"csat": 0}, "csat must be between 1 and 5"),
        ({"arrived_at": math.inf}, "arrived_at must be a finite number"),
    ],
)
def test_inconsistent_visits_are_rejected(changes: dict[str, Any], message: str) -> None:
    good = visit(wait=5.0)
    with pytest.raises(KpiError, match=message):
        replace(good, **changes)


def test_unanswered_visits_are_checked_too() -> None:
    with pytest.raises(KpiError, match="ended_at is required for outcome abandoned"):
        QueueVisit(interaction_id=1, queue_id=1, arrived_at=0, outcome=Outcome.ABANDONED)
    with pytest.raises(KpiError, match="a waiting visit has no ended_at"):
        QueueVisit(interaction_id=1, queue_id=1, arrived_at=0, outcome=Outcome.WAITING, ended_at=1)
    with pytest.raises(KpiError, match="hold and wrap_up belong to answered visits"):
        QueueVisit(
            interaction_id=1, queue_id=1, arrived_at=0, outcome=Outcome.CALLBACK, ended_at=1, hold=2
        )


@pytest.mark.parametrize(("t", "s"), [(-1.0, 5.0), (20.0, math.nan), (math.inf, 5.0)])
def test_bad_thresholds_are_rejected(t: float, s: float) -> None:
    with pytest.raises(KpiError, match="must be a finite number of seconds >= 0"):
        kpis([], t=t, s=s)


def test_merging_accumulators_with_different_thresholds_is_refused() -> None:
    with pytest.raises(KpiError, match="different thresholds"):
        KpiAccumulator(20, 5).merge(KpiAccumulator(30, 5))


# --- Occupancy --------------------------------------------------------------------------------


def test_occupancy_is_handling_over_handling_plus_ready_idle() -> None:
    acc = OccupancyAccumulator()
    acc.add_state(1, OperatorState.BUSY, 30)  # talk + hold
    acc.add_state(1, OperatorState.WRAP_UP, 15)
    acc.add_state(1, OperatorState.READY, 10)
    acc.add_state(1, OperatorState.RESERVED, 5)  # ringing counts as idle
    acc.add_state(1, OperatorState.NOT_READY, 600)  # neither
    acc.add_state(2, OperatorState.OFFLINE, 3600)
    acc.add(3, handling_seconds=10, idle_seconds=30)
    assert acc.result() == {1: 45 / 60, 2: None, 3: 0.25}
    assert acc.overall() == (45 + 10) / (60 + 40)  # time-weighted, not the mean of ratios
    other = OccupancyAccumulator()
    other.add(3, 30, 0)
    acc.merge(other)
    assert acc.result()[3] == 40 / 70
    assert occupancy(0, 0) is None
    assert operator_occupancy([(1, 3, 1), (1, 1, 3), (2, 0, 5)]) == {1: 0.5, 2: 0.0}
    with pytest.raises(KpiError, match="operator 4: idle_seconds must be finite and >= 0"):
        acc.add(4, 1, -1)


# --- Properties -------------------------------------------------------------------------------

# Waits land on the thresholds often: that is where the variants differ.
durations = st.one_of(
    st.sampled_from([0.0, S, T, math.nextafter(S, 0), math.nextafter(T, math.inf)]),
    st.floats(min_value=0, max_value=3600, allow_nan=False),
)


@st.composite
def queue_visits(draw: st.DrawFn) -> QueueVisit:
    outcome = draw(st.sampled_from(VisitOutcome))
    arrived_at = draw(st.floats(min_value=0, max_value=86_400, allow_nan=False))
    wait = draw(durations)
    waiting = QueueVisit(
        interaction_id=draw(st.integers(1, 50)),
        queue_id=draw(st.integers(1, 3)),
        arrived_at=arrived_at,
        outcome=Outcome.WAITING,
        csat=draw(st.none() | st.integers(1, 5)),
    )
    if outcome is Outcome.WAITING:
        return waiting
    if outcome is not Outcome.ANSWERED:
        return replace(waiting, outcome=outcome, ended_at=arrived_at + wait)
    answered_at = arrived_at + wait
    ended_at = draw(st.none() | durations.map(lambda talk: answered_at + talk))
    talk = None if ended_at is None else ended_at - answered_at
    return replace(
        waiting,
        outcome=outcome,
        answered_at=answered_at,
        ended_at=ended_at,
        operator_id=draw(st.integers(1, 5)),
        hold=0.0 if talk is None else draw(st.floats(0, 1)) * talk,
        wrap_up=None if talk is None else draw(st.none() | durations),
    )


thresholds = st.tuples(durations, durations)


def defined(*values: float | int | None) -> list[float]:
    return [float(v) for v in values if v is not None]


@given(st.lists(queue_visits(), max_size=40), thresholds)
def test_sl_variants_are_ordered(visits: list[QueueVisit], ts: tuple[float, float]) -> None:
    result = kpis(visits, t=ts[0], s=ts[1])
    ordered = defined(result["sl_offered"], result["sl_excl_short"], result["sl_answered"])
    assert ordered == sorted(ordered)
    assert defined(result["sl_offered"], result["sl_excl_abandon_within"]) == sorted(
        defined(result["sl_offered"], result["sl_excl_abandon_within"])
    )
    counts = [result[k] for k in ("answered", "abandoned", "callback_requested", "overflowed")]
    assert sum(c for c in counts if isinstance(c, int)) <= (result["offered"] or 0)
    for key in ("sl_offered", "sl_answered", "sl_excl_short", "sl_excl_abandon_within"):
        value = result[key]
        assert value is None or 0 <= value <= 1


SUM_FIELDS = {f.name for f in fields(KpiAccumulator) if f.type == "float"} | {"max_wait"}


@given(st.lists(queue_visits(), max_size=40), st.data())
def test_merged_split_equals_one_accumulator_over_the_whole(
    visits: list[QueueVisit], data: st.DataObject
) -> None:
    cut = data.draw(st.integers(0, len(visits)))
    whole = KpiAccumulator(T, S)
    whole.add_all(visits)
    left, right = KpiAccumulator(T, S), KpiAccumulator(T, S)
    left.add_all(visits[:cut])
    right.add_all(visits[cut:])
    right.merge(left)  # merge order does not matter either
    for f in fields(KpiAccumulator):
        merged, single = getattr(right, f.name), getattr(whole, f.name)
        if f.name in SUM_FIELDS and merged is not None and single is not None:
            assert math.isclose(merged, single, rel_tol=1e-9, abs_tol=1e-9), f.name
        else:
            assert merged == single, f.name


@given(st.lists(queue_visits(), max_size=40))
def test_groups_partition_the_counts(visits: list[QueueVisit]) -> None:
    groups = group_accumulators(visits, lambda v: v.queue_id, answer_within=T, short_abandon=S)
    total = KpiAccumulator(T, S)
    for accumulator in groups.values():
        total.merge(accumulator)
    assert total.offered == len(visits)
    assert total.result()["answered"] == kpis(visits)["answered"]


# A scripted interaction: one to three queue visits; every visit but the last is answered and
# transferred, or overflowed to the next queue; the last ends in any way.
Step = tuple[VisitOutcome, float, float, list[float], float]  # outcome, wait, talk, holds, wrap


@st.composite
def scripts(draw: st.DrawFn) -> list[Step]:
    length = draw(st.integers(1, 3))
    steps: list[Step] = []
    for i in range(length):
        last = i == length - 1
        choices = list(VisitOutcome) if last else [Outcome.ANSWERED, Outcome.OVERFLOWED]
        outcome = draw(st.sampled_from([o for o in choices if o is not Outcome.TRANSFERRED]))
        talk = draw(durations)
        holds = sorted(draw(st.lists(st.floats(0, 1), max_size=4)))
        steps.append((outcome, draw(durations), talk, [h * talk for h in holds], draw(durations)))
    return steps


def play(
    interaction_id: int, start: float, script: list[Step]
) -> tuple[list[Log], list[QueueVisit]]:
    """The log the routing engine writes for ``script``, and the visits it must fold into."""
    lines: list[Log] = []
    expected: list[QueueVisit] = []
    at = start
    for index, (outcome, wait, talk, holds, wrap) in enumerate(script):
        queue_id, operator_id = index + 1, 100 + index
        has_next = index < len(script) - 1
        entered = at
        lines.append(line(interaction_id, entered, E.QUEUED, queue_id=queue_id))
        if outcome is Outcome.WAITING:
            expected.append(
                QueueVisit(
                    interaction_id=interaction_id,
                    queue_id=queue_id,
                    arrived_at=entered,
                    outcome=outcome,
                )
            )
            break
        at = entered + wait
        if outcome is not Outcome.ANSWERED:
            event = {
                Outcome.ABANDONED: E.ABANDONED,
                Outcome.CALLBACK: E.CALLBACK_REQUESTED,
                Outcome.OVERFLOWED: E.OVERFLOWED,
            }[outcome]
            lines.append(line(interaction_id, at, event, to_queue=queue_id + 1))
            expected.append(
                QueueVisit(
                    interaction_id=interaction_id,
                    queue_id=queue_id,
                    arrived_at=entered,
                    outcome=outcome,
                    ended_at=at,
                )
            )
            continue
        answered_at = at
        lines.append(line(interaction_id, answered_at, E.ANSWERED, operator_id=operator_id))
        ended_at = answered_at + talk
        hold, held_since = 0.0, None
        for offset in holds:  # alternately hold and resume
            moment = answered_at + offset
            if held_since is None:
                lines.append(line(interaction_id, moment, E.HELD))
                held_since = moment
            else:
                lines.append(line(interaction_id, moment, E.RESUMED))
                hold += moment - held_since
                held_since = None
        if held_since is not None:
            hold += ended_at - held_since
        hold = min(hold, ended_at - answered_at)
        end_type = E.TRANSFERRED if has_next else E.WRAP_UP_STARTED
        lines.append(
            line(interaction_id, ended_at, end_type, operator_id=operator_id, to_queue=queue_id + 1)
        )
        completed_at = ended_at + wrap
        lines.append(line(interaction_id, completed_at, E.COMPLETED, operator_id=operator_id))
        expected.append(
            QueueVisit(
                interaction_id=interaction_id,
                queue_id=queue_id,
                arrived_at=entered,
                outcome=outcome,
                answered_at=answered_at,
                ended_at=ended_at,
                operator_id=operator_id,
                hold=hold,
                wrap_up=completed_at - ended_at,
                transferred_to=queue_id + 1 if has_next else None,
            )
        )
        at = ended_at
    lines.sort(key=lambda log_line: log_line.at)  # stable: same-time lines keep script order
    return lines, expected


@given(st.lists(scripts(), max_size=8), st.lists(st.floats(0, 86_400), min_size=8, max_size=8))
def test_folding_a_scripted_log_recovers_the_script(
    interactions: list[list[Step]], starts: list[float]
) -> None:
    all_lines: list[Log] = []
    all_expected: list[QueueVisit] = []
    for interaction_id, script in enumerate(interactions):
        lines, expected = play(interaction_id, starts[interaction_id], script)
        all_lines += lines
        all_expected += expected
    all_lines.sort(key=lambda log_line: log_line.at)  # interleave the interactions
    folded = fold_visits(all_lines)
    assert sorted(folded, key=repr) == sorted(all_expected, key=repr)
    result = kpis(folded)
    ordered = defined(result["sl_offered"], result["sl_excl_short"], result["sl_answered"])
    assert ordered == sorted(ordered)
