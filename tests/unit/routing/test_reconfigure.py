"""Configuration changes take effect live (engine Rule 6), each told as a timeline:
operators gain or lose hotlines and skills, queues change their rules, operators and
queues are retired, and work in hand and places in line are kept throughout."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pytest
from routing_timeline import Run

from hotline.core import events as ev
from hotline.core.commands import Command, Divert
from hotline.core.model import Channel, OverflowAction
from hotline.core.model import OperatorState as S
from hotline.core.routing.config import ExpansionStep, OperatorConfig, QueueConfig
from hotline.core.routing.engine import RoutingConfigError
from hotline.core.routing.expr import parse_requirement


def req(*steps: tuple[float, str]) -> tuple[ExpansionStep, ...]:
    return tuple(ExpansionStep(after, parse_requirement(text)) for after, text in steps)


def op(operator_id: int, hotlines: tuple[int, ...] = (1,), **skills: int) -> OperatorConfig:
    return OperatorConfig(operator_id, frozenset(hotlines), skills)


def change(run: Run, now: float, apply: Callable[[float], list[Command]]) -> None:
    """Apply a configuration change at ``now`` (after the deadlines due before it)."""
    run.until(now)
    run.out += [(now, c) for c in apply(now)]


def test_an_operator_who_gains_a_hotline_gets_the_waiting_call_at_once() -> None:
    run = Run([QueueConfig(1, 1), QueueConfig(2, 2)], [op(7, (1,))])
    run.at(0, ev.OperatorWentReady(7))
    run.at(10, ev.InteractionArrived(1, 2))  # hotline 2: nobody may take it yet
    assert run.offers() == []
    change(run, 30, lambda now: run.engine.update_operator(op(7, (1, 2)), now))
    assert run.offers() == [(30, 1, 7)]
    # and the hotline it had is still served after the change
    run.serve(31, 1, 20)
    run.at(60, ev.InteractionArrived(2, 1))
    assert run.offers()[-1] == (60, 2, 7)


def test_an_operator_who_loses_a_skill_level_is_no_longer_offered() -> None:
    queues = [QueueConfig(1, 1, steps=req((0, "english >= 5")))]
    run = Run(queues, [op(7, english=6), op(8, english=9)])
    run.at(0, ev.OperatorWentReady(7))  # 7 has been idle longest: first in line
    run.at(1, ev.OperatorWentReady(8))
    change(run, 5, lambda now: run.engine.update_operator(op(7, english=3), now))
    run.at(10, ev.InteractionArrived(1, 1))
    assert run.offers() == [(10, 1, 8)]
    run.serve(11, 1, 30)
    run.at(50, ev.InteractionArrived(2, 1))  # 8 is free again (no wrap-up)
    run.at(51, ev.InteractionArrived(3, 1))  # 7 is ready but below english 5: 3 waits
    assert run.offers() == [(10, 1, 8), (50, 2, 8)]
    assert run.engine.position_of(3) == 1
    assert run.engine.operator_state(7) == (S.READY, None)


def test_a_relaxed_queue_requirement_offers_the_waiting_call_at_once() -> None:
    queues = [QueueConfig(1, 1, steps=req((0, "medical")))]
    run = Run(queues, [op(7, english=5)])
    run.at(0, ev.OperatorWentReady(7))
    run.at(10, ev.InteractionArrived(1, 1))
    assert run.offers() == []
    relaxed = dataclasses.replace(queues[0], steps=req((0, "medical or english")))
    change(run, 40, lambda now: run.engine.update_queue(relaxed, now))
    assert run.offers() == [(40, 1, 7)]
    assert run.engine.queue_config(1) == relaxed


def test_a_changed_wrap_up_time_applies_to_the_next_wrap_up() -> None:
    queue = QueueConfig(1, 1, wrap_up_seconds=10)
    run = Run([queue], [op(7)])
    run.at(0, ev.OperatorWentReady(7), ev.InteractionArrived(1, 1))
    run.serve(1, 1, 20)  # ends at 21: wrap-up 10 s until 31
    run.at(25, ev.InteractionArrived(2, 1))  # waits for the wrap-up
    change(
        run,
        26,
        lambda now: run.engine.update_queue(dataclasses.replace(queue, wrap_up_seconds=60), now),
    )
    run.until(31)
    assert run.offers() == [(0, 1, 7), (31, 2, 7)]  # the running wrap-up kept its 10 s
    run.serve(32, 2, 8)  # ends at 40: the new 60 s wrap-up, until 100
    run.at(41, ev.InteractionArrived(3, 1))
    run.until(99)
    assert run.offers()[-1] == (31, 2, 7)
    run.until(100)
    assert run.offers()[-1] == (100, 3, 7)
    assert [(t, s) for t, s, _ in run.states(7) if s in (S.WRAP_UP, S.READY)] == [
        (0, S.READY),
        (21, S.WRAP_UP),
        (31, S.READY),
        (40, S.WRAP_UP),
        (100, S.READY),
    ]


def test_an_operator_retired_while_talking_finishes_the_call_and_is_never_offered_again() -> None:
    run = Run([QueueConfig(1, 1, wrap_up_seconds=5)], [op(7), op(8)])
    run.at(0, ev.OperatorWentReady(7), ev.InteractionArrived(1, 1))
    run.at(1, ev.OfferAccepted(1, 7))
    change(run, 10, lambda now: run.engine.retire_operator(7, now))
    assert run.engine.operator_state(7) == (S.BUSY, None)  # the call goes on
    assert run.engine.operator_config(7) is None and 7 not in run.engine.operator_ids()
    run.at(20, ev.InteractionEnded(1))
    run.until(25)
    assert run.log("operator_id")[-2:] == [(20, 1, "wrap_up_started", 7), (25, 1, "completed", 7)]
    assert run.engine.operator_state(7) == (S.OFFLINE, None)
    run.at(30, ev.OperatorWentReady(7))  # a desktop still open: ignored
    assert run.engine.operator_state(7) == (S.OFFLINE, None)
    run.at(31, ev.InteractionArrived(2, 1))
    assert run.offers() == [(0, 1, 7)]
    run.at(40, ev.OperatorWentReady(8))
    assert run.offers() == [(0, 1, 7), (40, 2, 8)]


def test_an_idle_retired_operator_is_logged_out_at_once_and_can_come_back() -> None:
    run = Run([QueueConfig(1, 1)], [op(7)])
    run.at(0, ev.OperatorWentReady(7))
    change(run, 5, lambda now: run.engine.retire_operator(7, now))
    assert run.states(7) == [(0, S.READY, None), (5, S.OFFLINE, None)]
    run.at(6, ev.InteractionArrived(1, 1))
    change(run, 10, lambda now: run.engine.update_operator(op(7), now))  # re-activated
    assert run.offers() == []  # logged out: it must say ready first
    run.at(12, ev.OperatorWentReady(7))
    assert run.offers() == [(12, 1, 7)]


def test_an_operator_changed_while_ringing_keeps_the_offer() -> None:
    run = Run([QueueConfig(1, 1), QueueConfig(2, 2)], [op(7, (1,))])
    run.at(0, ev.OperatorWentReady(7), ev.InteractionArrived(1, 1))
    change(run, 2, lambda now: run.engine.update_operator(op(7, (2,)), now))
    run.at(3, ev.OfferAccepted(1, 7))  # still its offer: the change applies to the next
    assert run.log()[-1] == (3, 1, "answered")
    run.at(4, ev.InteractionEnded(1), ev.InteractionArrived(2, 1), ev.InteractionArrived(3, 2))
    assert run.offers() == [(0, 1, 7), (4, 3, 7)]  # hotline 2 now, not 1


def test_waiting_interactions_keep_their_place_when_the_queue_changes() -> None:
    queue = QueueConfig(1, 1, steps=req((0, "medical")))
    run = Run([queue, QueueConfig(2, 1, priority=1)], [op(7)])
    run.at(0, ev.InteractionArrived(1, 1))
    run.at(1, ev.InteractionArrived(2, 1, priority=1))
    run.at(2, ev.InteractionArrived(3, 1))
    run.at(3, ev.InteractionArrived(4, 2, priority=0))  # queue 2's priority 1: before 1, 3
    relaxed = dataclasses.replace(queue, steps=req((0, "")), priority=1)
    change(run, 10, lambda now: run.engine.update_queue(relaxed, now))
    assert [run.engine.position_of(i) for i in (1, 2, 3)] == [2, 1, 3]
    run.at(11, ev.OperatorWentReady(7))
    run.serve(12, 2, 8)  # priority 2 first; free again at 20
    run.serve(20, 1, 8)  # then priority 1 by arrival: 1 (at 0 s), 3 (2 s), 4 (3 s)
    run.serve(28, 3, 8)
    assert run.offers() == [(11, 2, 7), (20, 1, 7), (28, 3, 7), (36, 4, 7)]


def test_new_expansion_steps_apply_to_those_waiting_and_old_ones_are_forgotten() -> None:
    queue = QueueConfig(1, 1, steps=req((0, "medical"), (60, "")))
    run = Run([queue], [op(7)])
    run.at(0, ev.OperatorWentReady(7))
    run.at(10, ev.InteractionArrived(1, 1), ev.InteractionArrived(2, 1))
    slower = dataclasses.replace(queue, steps=req((0, "medical"), (100, "")))
    change(run, 20, lambda now: run.engine.update_queue(slower, now))
    run.until(109)
    assert run.offers() == []  # the old 60 s step (at 70) is forgotten
    run.until(110)
    assert run.offers() == [(110, 1, 7)]
    run.serve(111, 1, 5)  # 2 reached the relaxed step at 110 as well: next when 7 is free
    assert run.offers()[-1] == (116, 2, 7)
    run.at(117, ev.OfferAccepted(2, 7))
    assert run.engine.next_deadline() is None  # no step of either rule set left to fire


def test_a_shortened_step_already_passed_offers_the_waiting_call_at_once() -> None:
    queue = QueueConfig(1, 1, steps=req((0, "medical"), (100, "")))
    run = Run([queue], [op(7)])
    run.at(0, ev.OperatorWentReady(7), ev.InteractionArrived(1, 1))
    faster = dataclasses.replace(queue, steps=req((0, "medical"), (30, "")))
    change(run, 50, lambda now: run.engine.update_queue(faster, now))
    assert run.offers() == [(50, 1, 7)]


def test_a_shorter_max_wait_overflows_those_already_past_it_at_once() -> None:
    queue = QueueConfig(1, 1, steps=req((0, "medical")))
    run = Run([queue], [op(7)])
    run.at(0, ev.InteractionArrived(1, 1))
    run.at(50, ev.InteractionArrived(2, 1))
    limited = dataclasses.replace(
        queue, max_wait_seconds=60, overflow_action=OverflowAction.VOICEMAIL
    )
    change(run, 70, lambda now: run.engine.update_queue(limited, now))
    diverts = [(t, c.interaction_id) for t, c in run.out if isinstance(c, Divert)]
    assert diverts == [(70, 1)]  # waited 70 s > 60 s; 2 waited 20 s
    run.until(109)
    assert len([c for _, c in run.out if isinstance(c, Divert)]) == 1
    run.until(110)  # 2 reaches 60 s at 50 + 60
    assert [(t, c.interaction_id) for t, c in run.out if isinstance(c, Divert)] == [
        (70, 1),
        (110, 2),
    ]


def test_a_queue_retired_with_waiting_calls_serves_them_and_takes_no_new_ones() -> None:
    run = Run([QueueConfig(1, 1), QueueConfig(2, 1)], [op(7)])
    run.at(0, ev.InteractionArrived(1, 1))
    change(run, 5, lambda now: run.engine.retire_queue(1, now))
    assert run.engine.queue_ids() == [2] and run.engine.has_queue(1)
    with pytest.raises(RoutingConfigError, match="queue 1 is retired"):
        run.engine.handle(ev.InteractionArrived(2, 1), 6)
    run.at(10, ev.OperatorWentReady(7))
    assert run.offers() == [(10, 1, 7)]  # the one waiting is still served
    run.serve(11, 1, 10)
    change(run, 30, lambda now: run.engine.update_operator(op(7, english=1), now))
    assert not run.engine.has_queue(1)  # empty: dropped at the next change
    run.at(31, ev.InteractionArrived(3, 2))
    assert run.offers()[-1] == (31, 3, 7)


def test_a_queue_still_named_as_an_overflow_target_cannot_be_retired() -> None:
    source = QueueConfig(
        1, 1, max_wait_seconds=30, overflow_action=OverflowAction.QUEUE, overflow_target="2"
    )
    run = Run([source, QueueConfig(2, 1)], [])
    with pytest.raises(RoutingConfigError, match="still a target of queue 1"):
        run.engine.retire_queue(2, 0)
    change(
        run,
        1,
        lambda now: run.engine.update_queue(
            dataclasses.replace(source, overflow_action=None, max_wait_seconds=None), now
        ),
    )
    change(run, 2, lambda now: run.engine.retire_queue(2, now))
    assert run.engine.queue_ids() == [1]
    # and no queue may name a retired one
    with pytest.raises(RoutingConfigError, match="overflow target '2' unknown"):
        run.engine.update_queue(source, 3)


def test_a_queue_added_live_is_served_by_the_operators_of_its_hotline() -> None:
    run = Run([QueueConfig(1, 1)], [op(7, (1, 2))])
    run.at(0, ev.OperatorWentReady(7))
    change(run, 5, lambda now: run.engine.update_queue(QueueConfig(3, 2), now))
    run.at(6, ev.InteractionArrived(1, 3))
    assert run.offers() == [(6, 1, 7)]


def test_a_changed_channel_is_refused_and_nothing_changes() -> None:
    queue = QueueConfig(1, 1)
    run = Run([queue], [op(7)])
    with pytest.raises(RoutingConfigError, match="cannot change live"):
        run.engine.update_queue(dataclasses.replace(queue, channel=Channel.CHAT), 0)
    assert run.engine.queue_config(1) == queue


def test_more_chat_capacity_takes_a_waiting_chat_while_chatting() -> None:
    chats = QueueConfig(1, 1, channel=Channel.CHAT)
    one = OperatorConfig(7, frozenset({1}), {}, {Channel.CALL: 1, Channel.CHAT: 1})
    run = Run([chats], [one])
    run.at(0, ev.OperatorWentReady(7))
    run.at(1, ev.InteractionArrived(1, 1, Channel.CHAT), ev.InteractionArrived(2, 1, Channel.CHAT))
    run.at(2, ev.OfferAccepted(1, 7))
    assert run.offers() == [(1, 1, 7)]  # room for one chat only
    two = dataclasses.replace(one, capacity={Channel.CALL: 1, Channel.CHAT: 2})
    change(run, 10, lambda now: run.engine.update_operator(two, now))
    assert run.offers() == [(1, 1, 7), (10, 2, 7)]


def test_max_wait_still_overflows_after_an_offer_declined_before_it() -> None:
    """Not a reconfiguration (found by the state machine's reconfigure rules): the max-wait
    deadline must survive an offer that rings across the moment the next deadline is
    asked for, and fire if the offer comes back before it is due."""
    queue = QueueConfig(1, 1, max_wait_seconds=60, overflow_action=OverflowAction.VOICEMAIL)
    run = Run([queue], [op(7)])
    run.at(0, ev.InteractionArrived(1, 1))
    run.at(45, ev.OperatorWentReady(7))  # rings until 65: the max wait (60) is due first
    run.at(46)  # the driver asks for the next deadline while it rings
    run.at(50, ev.OfferDeclined(1, 7))
    run.until(100)
    assert [(t, c.interaction_id) for t, c in run.out if isinstance(c, Divert)] == [(60, 1)]


def test_a_retired_operator_may_end_its_wrap_up_early_and_is_then_logged_out() -> None:
    run = Run([QueueConfig(1, 1, wrap_up_seconds=60)], [op(7)])
    run.at(0, ev.OperatorWentReady(7), ev.InteractionArrived(1, 1))
    run.serve(1, 1, 10)  # wrap-up from 11 until 71
    change(run, 12, lambda now: run.engine.retire_operator(7, now))
    run.at(20, ev.OperatorWentReady(7))  # "ready" in wrap-up ends it, then the logout
    assert run.log("wrap_up")[-1] == (20, 1, "completed", 9.0)
    assert run.states(7)[-2:] == [(20, S.NOT_READY, "logout"), (20, S.OFFLINE, None)]
