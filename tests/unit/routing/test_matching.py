"""Who gets which interaction: eligibility, bullseye expansion, strategies, priorities,
callbacks, overflow, weighted splits and transfers, each told as a timeline (STYLE §15)."""

from __future__ import annotations

import itertools
from collections import Counter
from typing import Any

import pytest

# -- timeline helper ----------------------------------------------------------------------
from routing_timeline import Run

from hotline.core import events as ev
from hotline.core.commands import Divert, Offer
from hotline.core.model import OverflowAction, RoutingStrategy
from hotline.core.routing.config import ExpansionStep, OperatorConfig, QueueConfig
from hotline.core.routing.engine import RoutingConfigError, RoutingEngine
from hotline.core.routing.expr import parse_requirement


def req(text: str) -> tuple[ExpansionStep, ...]:
    return (ExpansionStep(0, parse_requirement(text)),)


def op(operator_id: int, hotlines: tuple[int, ...] = (1,), **skills: int) -> OperatorConfig:
    return OperatorConfig(operator_id, frozenset(hotlines), skills)


def ready(run: Run, now: float, *operator_ids: int) -> None:
    run.at(now, *(ev.OperatorWentReady(o) for o in operator_ids))


# -- eligibility ----------------------------------------------------------------------------


def test_an_operator_never_gets_a_queue_of_a_hotline_not_assigned_to_them() -> None:
    run = Run([QueueConfig(1, hotline_id=1), QueueConfig(2, hotline_id=2)], [op(7, (1,))])
    ready(run, 0, 7)
    run.at(10, ev.InteractionArrived(1, 2))  # hotline 2: not 7's
    run.at(20, ev.InteractionArrived(2, 1))
    run.at(21, ev.OfferAccepted(2, 7))
    run.until(10_000)
    assert run.offers() == [(20, 2, 7)]
    assert run.log("ewt") == [
        (10, 1, "arrived"),
        (10, 1, "queued", None),  # nobody staffed for hotline 2: the wait is unknown
        (20, 2, "arrived"),
        (20, 2, "queued", 0.0),
        (20, 2, "offered"),
        (21, 2, "answered"),
    ]
    assert run.engine.position_of(1) == 1


def test_an_operator_with_several_hotlines_serves_them_all() -> None:
    run = Run([QueueConfig(1, 1), QueueConfig(2, 2)], [op(7, (1, 2)), op(8, (2,))])
    ready(run, 0, 7)
    ready(run, 1, 8)
    run.at(10, ev.InteractionArrived(1, 2), ev.InteractionArrived(2, 1))
    assert run.offers() == [(10, 1, 7)]  # call 2 (hotline 1) waits: 8 may not take it
    run.at(11, ev.InteractionArrived(3, 2))
    assert run.offers() == [(10, 1, 7), (11, 3, 8)]


@pytest.mark.parametrize(
    ("requirement", "skills", "eligible"),
    [
        ("english >= 5 and female", {"english": 5, "female": 1}, True),
        ("english >= 5 and female", {"english": 9}, False),
        ("english >= 5 and female", {"english": 4, "female": 1}, False),
        ("medical", {"medical": 1}, True),
        ("medical", {"english": 10}, False),
        ("tech_support >= 3 or senior", {"tech_support": 3}, True),
        ("tech_support >= 3 or senior", {"tech_support": 2, "senior": 1}, True),
        ("tech_support >= 3 or senior", {"tech_support": 2}, False),
        ("not german", {"english": 3}, True),
        ("not german", {"german": 1}, False),
    ],
)
def test_an_operator_gets_the_queue_only_when_they_meet_its_requirement(
    requirement: str, skills: dict[str, int], eligible: bool
) -> None:
    run = Run(
        [QueueConfig(1, 1, steps=req(requirement))], [OperatorConfig(7, frozenset({1}), skills)]
    )
    ready(run, 0, 7)
    run.at(5, ev.InteractionArrived(1, 1))
    run.until(10_000)
    assert run.offers() == ([(5, 1, 7)] if eligible else [])


def test_the_matching_operator_gets_it_even_when_others_have_waited_longer() -> None:
    queue = QueueConfig(1, 1, steps=req("english >= 5 and female"))
    run = Run([queue], [op(1, english=9), op(2, english=4, female=1), op(3, english=5, female=1)])
    ready(run, 0, 1)
    ready(run, 1, 2)
    ready(run, 2, 3)
    run.at(10, ev.InteractionArrived(1, 1), ev.InteractionArrived(2, 1))
    assert run.offers() == [(10, 1, 3)]
    assert run.engine.next_deadline() == 30  # only 3's offer timer: call 2 just waits


# -- expansion over time (bullseye) -------------------------------------------------------

BULLSEYE = (
    ExpansionStep(0, parse_requirement("english >= 8")),
    ExpansionStep(30, parse_requirement("english >= 3")),
    ExpansionStep(60, parse_requirement("")),
)


def test_an_operator_with_english_4_gets_the_call_exactly_at_30_s() -> None:
    run = Run([QueueConfig(1, 1, steps=BULLSEYE)], [op(4, english=4)])
    ready(run, 0, 4)
    run.at(100, ev.InteractionArrived(1, 1))
    assert run.engine.next_deadline() == 130  # expansion counts from queue entry
    run.until(129.999)
    assert run.offers() == []
    run.until(130)
    assert run.offers() == [(130, 1, 4)]


def test_an_operator_without_english_gets_the_call_at_60_s() -> None:
    run = Run([QueueConfig(1, 1, steps=BULLSEYE)], [op(5)])
    ready(run, 0, 5)
    run.at(0, ev.InteractionArrived(1, 1))
    run.until(59.999)
    assert run.offers() == []
    run.until(1000)
    assert run.offers() == [(60, 1, 5)]


def test_the_inner_ring_is_served_first_while_the_call_is_young() -> None:
    run = Run([QueueConfig(1, 1, steps=BULLSEYE)], [op(4, english=4), op(9, english=9)])
    ready(run, 0, 4)
    run.at(1, ev.InteractionArrived(1, 1))
    ready(run, 10, 9)  # the expert arrives before the call expands
    run.at(11, ev.OfferAccepted(1, 9))
    run.until(1000)
    assert run.offers() == [(10, 1, 9)]


def test_an_operator_freed_late_takes_the_expanded_call() -> None:
    run = Run([QueueConfig(1, 1, steps=BULLSEYE)], [op(4, english=4)])
    run.at(0, ev.InteractionArrived(1, 1))
    ready(run, 20, 4)  # too early for english 4
    run.until(29.999)
    assert run.offers() == []
    run.until(1000)
    assert run.offers() == [(30, 1, 4)]


def test_a_call_offered_at_once_and_missed_still_expands() -> None:
    steps = (
        ExpansionStep(0, parse_requirement("english >= 8")),
        ExpansionStep(30, BULLSEYE[2].requirement),
    )
    run = Run([QueueConfig(1, 1, steps=steps)], [op(8, english=9), op(5)])
    ready(run, 0, 8, 5)
    run.at(0, ev.InteractionArrived(1, 1))  # rings at 8 until 20, who misses it
    run.until(1000)
    assert run.offers() == [(0, 1, 8), (30, 1, 5)]


def test_an_expansion_step_reached_while_ringing_applies_when_the_offer_is_missed() -> None:
    steps = (
        ExpansionStep(0, parse_requirement("english >= 8")),
        ExpansionStep(10, BULLSEYE[2].requirement),
    )
    run = Run([QueueConfig(1, 1, steps=steps)], [op(8, english=9), op(5)])
    ready(run, 0, 8, 5)
    run.at(0, ev.InteractionArrived(1, 1))
    run.until(1000)
    assert run.offers() == [(0, 1, 8), (20, 1, 5)]


# -- selection strategies -------------------------------------------------------------------


def _three(strategy: RoutingStrategy, seed: int = 0, **kw: Any) -> Run:
    return Run([QueueConfig(1, 1, strategy=strategy, **kw)], [op(1), op(2), op(3)], seed=seed)


def test_longest_idle_operator_gets_the_call() -> None:
    run = _three(RoutingStrategy.LONGEST_IDLE)
    ready(run, 0, 2)
    ready(run, 5, 3)
    ready(run, 10, 1)
    run.at(20, ev.InteractionArrived(1, 1))
    run.serve(21, 1, 9)  # 2 is ready again at 30: now the freshest
    run.at(40, ev.InteractionArrived(2, 1))
    run.at(41, ev.InteractionArrived(3, 1))
    run.at(42, ev.InteractionArrived(4, 1))
    assert run.offers() == [(20, 1, 2), (40, 2, 3), (41, 3, 1), (42, 4, 2)]


def test_least_occupied_operator_gets_the_call() -> None:
    run = _three(RoutingStrategy.LEAST_OCCUPIED)
    ready(run, 0, 1, 2, 3)
    run.at(0, *(ev.InteractionArrived(i, 1) for i in (1, 2, 3)))
    assert run.offers() == [(0, 1, 1), (0, 2, 2), (0, 3, 3)]
    run.at(0, *(ev.OfferAccepted(i, i) for i in (1, 2, 3)))
    run.at(10, ev.InteractionEnded(2), ev.OperatorWentNotReady(2))  # 2 handled 10 s
    run.at(50, ev.InteractionEnded(3))  # 3 handled 50 s
    run.at(100, ev.InteractionEnded(1))  # 1 handled 100 s
    ready(run, 200, 2)  # idle order is now 3, 1, 2; occupancy order 2, 3, 1
    run.at(300, *(ev.InteractionArrived(i, 1) for i in (4, 5, 6)))
    assert run.offers()[3:] == [(300, 4, 2), (300, 5, 3), (300, 6, 1)]
    assert run.engine.operator_times(300)[2] == (10, 100)


def test_best_skill_gets_the_call_by_the_score_of_the_requirement() -> None:
    queue = QueueConfig(
        1, 1, strategy=RoutingStrategy.BEST_SKILL, steps=req("english >= 3 or medical")
    )
    operators = [op(1, english=3), op(2, english=9), op(3, english=6, medical=5), op(4, medical=2)]
    run = Run([queue], operators)
    ready(run, 0, 1, 2, 3, 4)
    run.at(10, *(ev.InteractionArrived(i, 1) for i in (1, 2, 3, 4)))
    # scores: english + medical levels = 3, 9, 11, 2
    assert [o for _, _, o in run.offers()] == [3, 2, 1, 4]


def test_best_skill_ties_go_to_the_longest_idle() -> None:
    queue = QueueConfig(1, 1, strategy=RoutingStrategy.BEST_SKILL, steps=req("english"))
    run = Run([queue], [op(1, english=5), op(2, english=5), op(3, english=2)])
    ready(run, 0, 2)
    ready(run, 1, 1, 3)
    run.at(10, *(ev.InteractionArrived(i, 1) for i in (1, 2, 3)))
    assert [o for _, _, o in run.offers()] == [2, 1, 3]


@pytest.mark.parametrize(
    ("strategy", "next_three"),
    [(RoutingStrategy.ROUND_ROBIN, [2, 3, 1]), (RoutingStrategy.LONGEST_IDLE, [1, 2, 3])],
)
def test_round_robin_goes_to_the_least_recently_offered(
    strategy: RoutingStrategy, next_three: list[int]
) -> None:
    run = _three(strategy)
    ready(run, 0, 1)
    ready(run, 1, 2)
    ready(run, 2, 3)
    run.at(10, ev.InteractionArrived(1, 1))
    run.at(11, ev.CallerAbandoned(1))  # 1 was offered, then is idle again since 0
    run.at(20, *(ev.InteractionArrived(i, 1) for i in (2, 3, 4)))
    assert run.offers()[0] == (10, 1, 1)
    assert [o for _, _, o in run.offers()[1:]] == next_three


def _random_picks(seed: int, calls: int) -> list[int]:
    run = _three(RoutingStrategy.RANDOM, seed=seed)
    engine = run.engine
    for o in (1, 2, 3):
        engine.handle(ev.OperatorWentReady(o), 0)
    picks = []
    for i in range(calls):
        now = 10.0 * (i + 1)
        [offer] = [
            c for c in engine.handle(ev.InteractionArrived(i, 1), now) if isinstance(c, Offer)
        ]
        picks.append(offer.operator_id)
        engine.handle(ev.OfferAccepted(i, offer.operator_id), now + 1)
        engine.handle(ev.InteractionEnded(i), now + 2)
    return picks


def test_random_is_deterministic_for_a_seed() -> None:
    assert _random_picks(7, 50) == _random_picks(7, 50)
    assert len({tuple(_random_picks(seed, 50)) for seed in range(4)}) > 1


def test_random_gives_each_of_three_operators_about_a_third_at_every_decision() -> None:
    picks = _random_picks(3, 3000)
    counts = Counter(picks)
    # binomial(3000, 1/3): sd ≈ 26, so ±100 is ~4 sd
    assert all(900 <= counts[o] <= 1100 for o in (1, 2, 3)), counts
    # every decision is a fresh draw among the three: the last one wins again about 1/3
    repeats = sum(a == b for a, b in itertools.pairwise(picks)) / (len(picks) - 1)
    assert 0.28 < repeats < 0.39, repeats


def test_random_only_picks_among_the_available() -> None:
    run = _three(RoutingStrategy.RANDOM, seed=11)
    ready(run, 0, 1, 2, 3)
    run.at(1, ev.InteractionArrived(100, 1))
    [(_, _, busy)] = run.offers()
    run.at(2, ev.OfferAccepted(100, busy))
    for i in range(1000, 1200):
        run.at(i, ev.InteractionArrived(i, 1))
        [(_, iid, o)] = run.offers()[-1:]
        assert iid == i and o != busy
        run.at(i, ev.CallerAbandoned(i))
    assert {o for _, _, o in run.offers()[1:]} == {1, 2, 3} - {busy}


# -- priorities and order -------------------------------------------------------------------


def _one_busy_operator(queues: list[QueueConfig]) -> Run:
    """Operator 7, serving every queue given, is on call 99 from 0 to 100."""
    run = Run([QueueConfig(9, 1), *queues], [op(7)])
    ready(run, 0, 7)
    run.at(0, ev.InteractionArrived(99, 9))
    run.at(0, ev.OfferAccepted(99, 7))
    return run


def _served_order(run: Run) -> list[int]:
    """End call 99 at 100, then answer each offer at once and talk 10 s, until nobody waits;
    the interactions in the order the operator was offered them."""
    run.at(100, ev.InteractionEnded(99))
    served = 1
    while len(run.offers()) > served:
        at, iid, _ = run.offers()[served]
        run.serve(at, iid, 10)
        served += 1
    return [i for _, i, _ in run.offers()[1:]]


def test_a_higher_priority_queue_is_served_first_even_if_its_call_came_later() -> None:
    run = _one_busy_operator([QueueConfig(1, 1, priority=0), QueueConfig(2, 1, priority=5)])
    run.at(10, ev.InteractionArrived(1, 1))
    run.at(20, ev.InteractionArrived(2, 2))
    assert _served_order(run) == [2, 1]


def test_fifo_within_a_priority_across_two_queues() -> None:
    run = _one_busy_operator([QueueConfig(1, 1), QueueConfig(2, 1)])
    run.at(10, ev.InteractionArrived(1, 2))
    run.at(20, ev.InteractionArrived(2, 1))
    run.at(30, ev.InteractionArrived(3, 2))
    run.at(40, ev.InteractionArrived(4, 1))
    assert _served_order(run) == [1, 2, 3, 4]


def test_a_priority_boost_on_arrival_goes_ahead_of_earlier_calls() -> None:
    run = _one_busy_operator([QueueConfig(1, 1)])
    run.at(10, ev.InteractionArrived(1, 1))
    run.at(20, ev.InteractionArrived(2, 1, priority=3))  # a VIP
    run.at(30, ev.InteractionArrived(3, 1, priority=3))
    assert _served_order(run) == [2, 3, 1]


# -- callbacks (virtual hold) ---------------------------------------------------------------


def test_a_callback_keeps_its_place_in_line() -> None:
    run = _one_busy_operator([QueueConfig(1, 1)])
    run.at(10, ev.InteractionArrived(1, 1))  # A
    run.at(20, ev.InteractionArrived(2, 1))  # B
    run.at(30, ev.InteractionArrived(3, 1))  # C
    run.at(40, ev.CallbackAccepted(1, "+4930123"))
    run.at(45, ev.CallerAbandoned(1))  # A hung up to wait for the call: not an abandon
    assert _served_order(run) == [1, 2, 3]
    offer = next(c for _, c in run.out if isinstance(c, Offer) and c.interaction_id == 1)
    assert offer.callback is True
    assert [row for row in run.log("number", "callback") if row[1] == 1] == [
        (10, 1, "arrived"),
        (10, 1, "queued"),
        (40, 1, "callback_requested", "+4930123"),
        (100, 1, "offered", True),
        (100, 1, "answered", True),
        (110, 1, "wrap_up_started"),
        (110, 1, "completed"),
    ]


def test_a_callback_boost_moves_it_ahead_of_later_arrivals() -> None:
    run = _one_busy_operator([QueueConfig(1, 1, callback_priority_boost=1)])
    run.at(10, ev.InteractionArrived(1, 1))
    run.at(20, ev.InteractionArrived(2, 1))
    run.at(30, ev.CallbackAccepted(2))
    assert _served_order(run) == [2, 1]


def test_a_callback_is_not_overflowed_at_max_wait() -> None:
    queue = QueueConfig(1, 1, max_wait_seconds=60, overflow_action=OverflowAction.VOICEMAIL)
    run = _one_busy_operator([queue])
    run.at(10, ev.InteractionArrived(1, 1))
    run.at(20, ev.CallbackAccepted(1))
    run.until(99)
    assert not any(isinstance(c, Divert) for _, c in run.out)
    assert _served_order(run) == [1]


def test_a_callback_is_only_taken_from_a_waiting_caller() -> None:
    run = Run([QueueConfig(1, 1)], [op(7)])
    ready(run, 0, 7)
    run.at(1, ev.InteractionArrived(1, 1))
    run.at(2, ev.CallbackAccepted(1))  # ringing: too late for a callback
    assert "callback_requested" not in [row[2] for row in run.log()]


# -- max wait and overflow -----------------------------------------------------------------


def test_max_wait_overflows_to_another_queue_keeping_the_place_in_line() -> None:
    queues = [
        QueueConfig(
            1,
            1,
            steps=req("english"),
            max_wait_seconds=60,
            overflow_action=OverflowAction.QUEUE,
            overflow_target="2",
        ),
        QueueConfig(2, 1),
    ]
    run = Run(queues, [op(8)])  # 8 has no English: only queue 2
    run.at(0, ev.InteractionArrived(1, 1))
    run.at(30, ev.InteractionArrived(2, 2))
    assert run.engine.next_deadline() == 60
    run.until(60)
    ready(run, 100, 8)
    assert run.log("from_queue", "to_queue", "queue_id", "overflow_from") == [
        (0, 1, "arrived", 1),
        (0, 1, "queued", 1),
        (30, 2, "arrived", 2),
        (30, 2, "queued", 2),
        (60, 1, "overflowed", 1, 2),
        (60, 1, "queued", 2, 1),
        (100, 1, "offered", 2),  # it waited since 0: ahead of call 2
    ]
    assert run.engine.position_of(2) == 1


def test_max_wait_overflows_to_voicemail_with_a_divert() -> None:
    queue = QueueConfig(
        1,
        1,
        max_wait_seconds=90,
        overflow_action=OverflowAction.VOICEMAIL,
        overflow_target="mailbox-3",
    )
    run = Run([queue], [op(7)])
    run.at(5, ev.InteractionArrived(1, 1))
    run.until(95)
    ready(run, 96, 7)
    assert run.log("from_queue", "action") == [
        (5, 1, "arrived"),
        (5, 1, "queued"),
        (95, 1, "overflowed", 1, "voicemail"),
    ]
    diverts = [(t, c) for t, c in run.out if isinstance(c, Divert)]
    assert diverts == [(95, Divert(1, 1, OverflowAction.VOICEMAIL, "mailbox-3"))]
    assert run.offers() == []  # gone from the queue
    assert run.engine.position_of(1) is None


def test_max_wait_is_cancelled_by_an_answer() -> None:
    queue = QueueConfig(1, 1, max_wait_seconds=60, overflow_action=OverflowAction.VOICEMAIL)
    run = Run([queue], [op(7)])
    run.at(0, ev.InteractionArrived(1, 1))
    ready(run, 30, 7)
    run.at(31, ev.OfferAccepted(1, 7))
    run.until(1000)
    assert not any(isinstance(c, Divert) for _, c in run.out)


def test_max_wait_reached_while_ringing_overflows_when_the_offer_is_missed() -> None:
    queue = QueueConfig(1, 1, max_wait_seconds=60, overflow_action=OverflowAction.VOICEMAIL)
    run = Run([queue], [op(7)])
    run.at(0, ev.InteractionArrived(1, 1))
    ready(run, 50, 7)  # rings 50..70 across the max wait at 60, then is missed
    run.until(1000)
    assert [(t, c.interaction_id) for t, c in run.out if isinstance(c, Divert)] == [(70, 1)]


def test_max_wait_applies_to_a_call_offered_at_once_and_missed() -> None:
    queue = QueueConfig(1, 1, max_wait_seconds=60, overflow_action=OverflowAction.VOICEMAIL)
    run = Run([queue], [op(7)])
    ready(run, 0, 7)
    run.at(0, ev.InteractionArrived(1, 1))  # rings at once, missed at 20
    run.until(1000)
    assert [(t, c.interaction_id) for t, c in run.out if isinstance(c, Divert)] == [(60, 1)]


# -- weighted split -------------------------------------------------------------------------


def test_a_weighted_split_sends_exactly_80_of_100_one_way_and_never_two_in_a_row_the_other() -> (
    None
):
    queues = [QueueConfig(1, 1, split=((2, 80), (3, 20))), QueueConfig(2, 1), QueueConfig(3, 1)]
    run = Run(queues, [])
    for i in range(100):
        run.at(i, ev.InteractionArrived(i, 1))
    targets = [q for _, _, kind, q in run.log("queue_id") if kind == "queued"]
    assert Counter(targets) == {2: 80, 3: 20}
    assert (3, 3) not in set(itertools.pairwise(targets))
    assert targets[:5] == [2, 2, 3, 2, 2]  # smooth: spread evenly, not 80 then 20
    arrived = {q for _, _, kind, q in run.log("queue_id") if kind == "arrived"}
    assert arrived == {1}  # the log keeps the routing point the call came in on


def test_a_split_can_point_at_another_split() -> None:
    queues = [
        QueueConfig(1, 1, split=((2, 1), (3, 1))),
        QueueConfig(2, 1, split=((4, 1), (5, 1))),
        QueueConfig(3, 1),
        QueueConfig(4, 1),
        QueueConfig(5, 1),
    ]
    run = Run(queues, [])
    for i in range(8):
        run.at(i, ev.InteractionArrived(i, 1))
    targets = [q for _, _, kind, q in run.log("queue_id") if kind == "queued"]
    assert Counter(targets) == {3: 4, 4: 2, 5: 2}


# -- transfers, duplicates, late answers ----------------------------------------------------


def test_a_transfer_logs_transferred_and_requeues_in_the_target_queue() -> None:
    queues = [QueueConfig(1, 1, wrap_up_seconds=10), QueueConfig(2, 1, steps=req("billing"))]
    run = Run(queues, [op(7), op(8, billing=5)])
    ready(run, 0, 7)
    run.at(1, ev.InteractionArrived(1, 1))
    run.at(2, ev.OfferAccepted(1, 7))
    run.at(30, ev.InteractionTransferred(1, 2))
    ready(run, 40, 8)
    run.at(41, ev.OfferAccepted(1, 8))
    assert run.log("to_queue", "queue_id", "transferred_from", "operator_id")[3:] == [
        (2, 1, "answered", 1, 7),
        (30, 1, "transferred", 2),
        (30, 1, "wrap_up_started", 7),
        (30, 1, "queued", 2, 1),
        (40, 1, "completed", 1, 7),  # 7's wrap-up of the first leg
        (40, 1, "offered", 2, 8),
        (41, 1, "answered", 2, 8),
    ]
    assert run.offers() == [(1, 1, 7), (40, 1, 8)]


def test_a_transfer_of_an_unanswered_interaction_is_ignored() -> None:
    run = Run([QueueConfig(1, 1), QueueConfig(2, 1)], [op(7)])
    run.at(1, ev.InteractionArrived(1, 1))
    assert run.engine.handle(ev.InteractionTransferred(1, 2), 2) == []


def test_a_duplicate_arrival_is_ignored() -> None:
    run = Run([QueueConfig(1, 1), QueueConfig(2, 1)], [op(7)])
    run.at(1, ev.InteractionArrived(1, 1))
    assert run.engine.handle(ev.InteractionArrived(1, 1), 2) == []
    assert run.engine.handle(ev.InteractionArrived(1, 2), 3) == []
    assert run.engine.waiting_count(1) == 1
    assert run.engine.waiting_count(2) == 0


def test_a_late_accept_after_the_offer_timed_out_is_ignored() -> None:
    run = Run([QueueConfig(1, 1)], [op(7)])
    ready(run, 0, 7)
    run.at(1, ev.InteractionArrived(1, 1))
    run.until(21)
    assert run.engine.handle(ev.OfferAccepted(1, 7), 22) == []
    assert run.engine.operator_state(7) == ("not_ready", "missed")
    assert run.engine.position_of(1) == 1


def test_held_and_resumed_are_logged_while_talking_only() -> None:
    run = Run([QueueConfig(1, 1)], [op(7)])
    ready(run, 0, 7)
    run.at(1, ev.InteractionArrived(1, 1), ev.InteractionHeld(1))
    run.at(2, ev.OfferAccepted(1, 7), ev.InteractionHeld(1))
    run.at(9, ev.InteractionResumed(1))
    assert run.log("operator_id")[-2:] == [(2, 1, "held", 7), (9, 1, "resumed", 7)]


# -- configuration errors -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("queues", "message"),
    [
        ([QueueConfig(1, 1, split=((2, 50),))], "queue 1: bad split target 2/50"),
        (
            [QueueConfig(1, 1, split=((2, 0),)), QueueConfig(2, 1)],
            "queue 1: bad split target 2/0",
        ),
        (
            [QueueConfig(1, 1, steps=(ExpansionStep(5, parse_requirement("")),))],
            "queue 1: the first step must start at 0 s",
        ),
        ([QueueConfig(1, 1, steps=())], "queue 1: the first step must start at 0 s"),
        (
            [
                QueueConfig(
                    1,
                    1,
                    steps=(
                        ExpansionStep(0, parse_requirement("a")),
                        ExpansionStep(30, parse_requirement("b")),
                        ExpansionStep(30, parse_requirement("")),
                    ),
                )
            ],
            "queue 1: expansion steps must be increasing",
        ),
        (
            [QueueConfig(1, 1, overflow_action=OverflowAction.QUEUE, overflow_target="7")],
            "queue 1: overflow target '7' unknown",
        ),
        (
            [QueueConfig(1, 1, overflow_action=OverflowAction.QUEUE, overflow_target="two")],
            "queue 1: overflow target 'two' unknown",
        ),
        (
            [QueueConfig(1, 1, overflow_action=OverflowAction.QUEUE)],
            "queue 1: overflow target None unknown",
        ),
        ([QueueConfig(1, 1), QueueConfig(1, 2)], "queue 1 configured twice"),
    ],
)
def test_bad_configuration_is_refused_with_the_queue_named(
    queues: list[QueueConfig], message: str
) -> None:
    with pytest.raises(RoutingConfigError) as caught:
        RoutingEngine(queues, [])
    assert str(caught.value) == message


def test_unknown_operators_and_queues_in_events_are_configuration_errors() -> None:
    engine = RoutingEngine([QueueConfig(1, 1)], [op(7)])
    with pytest.raises(RoutingConfigError, match="unknown operator 8"):
        engine.handle(ev.OperatorWentReady(8), 0)
    with pytest.raises(RoutingConfigError, match="unknown queue 2"):
        engine.handle(ev.InteractionArrived(1, 2), 0)
    with pytest.raises(RoutingConfigError, match="operator 7 configured twice"):
        engine.configure_operator(op(7))
