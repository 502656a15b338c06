"""A supervisor moves a waiting interaction to another queue (engine Rule 7), told as
timelines: the place in line is kept by seniority, a ringing offer is cancelled first,
the wait is announced again, and the log folds into the visits KPIs count."""

from __future__ import annotations

import pytest
from routing_timeline import Run

from hotline.core import events as ev
from hotline.core.commands import CancelOffer, Log
from hotline.core.kpi import VisitOutcome, compute_kpis, fold_visits
from hotline.core.model import Channel, EventType, OverflowAction
from hotline.core.model import OperatorState as S
from hotline.core.routing.config import ExpansionStep, OperatorConfig, QueueConfig
from hotline.core.routing.engine import RoutingConfigError
from hotline.core.routing.expr import parse_requirement

#: queue 1 on hotline 1 (operator 7), queue 2 on hotline 2 (operator 8), queue 3 a chat
QUEUES = [QueueConfig(1, 1), QueueConfig(2, 2), QueueConfig(3, 2, channel=Channel.CHAT)]


def op(operator_id: int, *hotlines: int) -> OperatorConfig:
    return OperatorConfig(operator_id, frozenset(hotlines))


def logs(run: Run) -> list[Log]:
    return [c for _, c in run.out if isinstance(c, Log)]


def test_a_moved_caller_keeps_seniority_in_the_new_queue() -> None:
    """Caller 1 waits in queue 1 from 0 s; callers 2 and 3 wait in queue 2 from 10 s and
    20 s.  Moved at 30 s, caller 1 goes ahead of both: it has waited longest."""
    run = Run(QUEUES, [op(8, 2)])
    run.at(0, ev.InteractionArrived(1, 1))
    run.at(10, ev.InteractionArrived(2, 2))
    run.at(20, ev.InteractionArrived(3, 2))
    run.at(30, ev.MoveWaiting(1, 2, by=42))
    assert run.log("queue_id", "from_queue", "to_queue", "moved_by", "position")[-2:] == [
        (30, 1, EventType.TRANSFERRED, 1, 2, 42),
        (30, 1, EventType.QUEUED, 2, 1),
    ]
    assert [run.engine.position_of(i) for i in (1, 2, 3)] == [1, 2, 3]
    assert [iid for iid, _, _ in run.engine.waiting_in(2)] == [1, 2, 3]
    assert run.engine.waiting_in(1) == []
    assert run.engine.interaction_queue(1) == (2, "waiting")
    # the next operator of queue 2 takes the senior caller first
    run.at(40, ev.OperatorWentReady(8))
    assert run.offers() == [(40, 1, 8)]


def test_a_move_announces_the_new_place_and_estimate() -> None:
    """With nobody staffed in queue 2 the estimate is unknown (-1): the caller is offered
    a callback, as on any entry to a queue."""
    run = Run(QUEUES, [op(7, 1)])
    run.at(0, ev.OperatorWentReady(7), ev.InteractionArrived(1, 1))  # 7 takes caller 1
    run.at(5, ev.InteractionArrived(2, 1))  # caller 2 waits for 7
    assert run.announced() == [(5, 2, 180.0, 1, False)]  # 1 x the default AHT / 1 staffed
    run.at(10, ev.MoveWaiting(2, 2))
    assert run.announced()[-1] == (10, 2, -1.0, 1, True)
    assert run.queued()[-1] == (10, 2, 1, None)


def test_a_ringing_offer_is_cancelled_before_the_move() -> None:
    run = Run(QUEUES, [op(7, 1), op(8, 2)])
    run.at(0, ev.OperatorWentReady(7), ev.InteractionArrived(1, 1))
    assert run.offers() == [(0, 1, 7)]
    run.at(3, ev.OperatorWentReady(8), ev.MoveWaiting(1, 2))
    commands = [c for t, c in run.out if t == 3]
    cancel = commands.index(CancelOffer(1, 7))
    moved = next(
        i for i, c in enumerate(commands) if isinstance(c, Log) and c.type == "transferred"
    )
    assert cancel < moved  # cancelled first
    assert run.offers() == [(0, 1, 7), (3, 1, 8)]  # and offered in the new queue at once
    # 7 is back to ready without losing its idle time, and nothing rings twice
    assert run.states(7)[-1] == (3, S.READY, None)
    # the late answer from 7 is ignored; 8 answers
    run.at(4, ev.OfferAccepted(1, 7))
    assert run.engine.interaction_queue(1) == (2, "ringing")
    run.at(5, ev.OfferAccepted(1, 8))
    assert run.engine.interaction_queue(1) == (2, "answered")
    # the old offer's timeout (20 s) lapses: nothing more happens
    run.at(60)
    assert [c for t, c in run.out if t > 5] == []


def test_a_released_operator_who_serves_both_queues_may_get_the_moved_call_again() -> None:
    run = Run(QUEUES, [op(7, 1, 2)])
    run.at(0, ev.OperatorWentReady(7), ev.InteractionArrived(1, 1))
    run.at(2, ev.MoveWaiting(1, 2))
    assert run.offers() == [(0, 1, 7), (2, 1, 7)]


def test_a_break_asked_for_while_ringing_is_taken_when_the_move_releases_the_operator() -> None:
    run = Run(QUEUES, [op(7, 1)])
    run.at(0, ev.OperatorWentReady(7), ev.InteractionArrived(1, 1))
    run.at(1, ev.OperatorWentNotReady(7, "lunch"))
    run.at(2, ev.MoveWaiting(1, 2))
    assert run.states(7)[-1] == (2, S.NOT_READY, "lunch")


def test_expansion_and_max_wait_count_from_the_move() -> None:
    queues = [
        QueueConfig(1, 1),
        QueueConfig(
            2,
            1,
            steps=(
                ExpansionStep(0, parse_requirement("medical")),
                ExpansionStep(30, parse_requirement("")),
            ),
            max_wait_seconds=100,
            overflow_action=OverflowAction.VOICEMAIL,
        ),
    ]
    run = Run(queues, [op(7, 1)])
    run.at(0, ev.InteractionArrived(1, 1))
    run.at(50, ev.MoveWaiting(1, 2))
    run.at(60, ev.OperatorWentReady(7))  # not medical: the expansion step comes at 80 s
    assert run.offers() == []
    run.at(79)
    assert run.offers() == []
    run.at(80)
    assert run.offers() == [(80, 1, 7)]
    # max wait counts from the move too: had 7 not taken it, it would overflow at 150 s
    assert run.engine.next_deadline() == 80 + 20  # the offer's timeout, nothing earlier


def test_moves_that_do_nothing() -> None:
    run = Run(QUEUES, [op(7, 1)])
    run.at(0, ev.OperatorWentReady(7), ev.InteractionArrived(1, 1))
    run.at(1, ev.OfferAccepted(1, 7))
    before = len(run.out)
    run.at(2, ev.MoveWaiting(1, 2))  # answered already
    run.at(2, ev.MoveWaiting(99, 2))  # unknown
    run.at(3, ev.InteractionArrived(2, 1))
    before = len(run.out)
    run.at(4, ev.MoveWaiting(2, 1))  # the queue it is in
    assert len(run.out) == before
    run.at(5, ev.CallbackAccepted(2, "+4930"))
    before = len(run.out)
    run.at(6, ev.MoveWaiting(2, 2))  # a promised callback stays
    assert len(run.out) == before
    assert run.engine.interaction_queue(2) == (1, "callback")
    assert run.engine.waiting_in(1) == []  # callbacks are not listed as waiting callers


def test_a_move_to_another_channel_or_an_unknown_or_retired_queue_is_refused() -> None:
    run = Run(QUEUES, [op(7, 1)])
    run.at(0, ev.InteractionArrived(1, 1))
    with pytest.raises(RoutingConfigError, match="serves chat"):
        run.at(1, ev.MoveWaiting(1, 3))
    with pytest.raises(RoutingConfigError, match="unknown queue"):
        run.at(1, ev.MoveWaiting(1, 9))
    run.at(1, ev.InteractionArrived(2, 2))  # someone in queue 2: retired, not dropped
    run.engine.retire_queue(2, 1)
    with pytest.raises(RoutingConfigError, match="retired"):
        run.at(1, ev.MoveWaiting(1, 2))
    assert run.engine.interaction_queue(1) == (1, "waiting")  # still where it was


def test_a_moved_caller_counts_as_offered_in_both_queues_and_answered_in_the_new_one() -> None:
    """KPIs (records.py Rules 1 and 3): the old visit ends ``transferred`` at the move
    (offered there, neither answered nor abandoned); the new visit starts at the move,
    so its wait, ASA and service level count from there."""
    run = Run(QUEUES, [op(8, 2)])
    run.at(0, ev.InteractionArrived(1, 1))
    run.at(30, ev.MoveWaiting(1, 2))
    run.at(35, ev.OperatorWentReady(8))
    run.serve(40, 1, 60)
    visits = fold_visits(logs(run))
    assert [(v.queue_id, v.outcome, v.arrived_at, v.wait) for v in visits] == [
        (1, VisitOutcome.TRANSFERRED, 0, 30),
        (2, VisitOutcome.ANSWERED, 30, 10),
    ]
    old = compute_kpis([visits[0]], answer_within=20, short_abandon=5)
    new = compute_kpis([visits[1]], answer_within=20, short_abandon=5)
    assert (old["offered"], old["answered"], old["abandoned"], old["sl_offered"]) == (1, 0, 0, 0)
    assert (new["offered"], new["answered"], new["asa"], new["sl_offered"]) == (1, 1, 10, 1)


def test_a_caller_moved_away_and_back_is_served_in_its_old_place() -> None:
    run = Run(QUEUES, [op(7, 1)])
    run.at(0, ev.InteractionArrived(1, 1))
    run.at(5, ev.InteractionArrived(2, 1))
    run.at(10, ev.MoveWaiting(1, 2), ev.MoveWaiting(1, 1))
    assert [iid for iid, _, _ in run.engine.waiting_in(1)] == [1, 2]
    run.at(20, ev.OperatorWentReady(7))
    assert run.offers() == [(20, 1, 7)]
