"""Operator presence: the transition table, then the engine walking an operator through it.

Timelines are told in virtual seconds (STYLE §15): each test drives ``handle(event, now)``
and fires every deadline at its own time, as ``hotline simulate`` does, then compares the
interaction log, the offers and the operator's state changes with what the spec says.
"""

from __future__ import annotations

from typing import Any

import pytest
from routing_timeline import Run

from hotline.core import events as ev
from hotline.core.commands import CancelOffer, Offer
from hotline.core.model import Channel
from hotline.core.model import OperatorState as S
from hotline.core.routing.config import OperatorConfig, QueueConfig
from hotline.core.routing.operator_state import TABLE, Transition, TransitionError, next_state

T = Transition

# -- timeline helper ----------------------------------------------------------------------


def op(operator_id: int, **kw: Any) -> OperatorConfig:
    return OperatorConfig(operator_id, frozenset({1}), **kw)


# -- the table ------------------------------------------------------------------------------

# Written out from the diagram in operator_state.py and issue 3, not read from TABLE.
ALLOWED = {
    (S.OFFLINE, T.GO_READY): S.READY,
    (S.OFFLINE, T.GO_NOT_READY): S.NOT_READY,
    (S.OFFLINE, T.LOGOUT): S.OFFLINE,
    (S.READY, T.GO_READY): S.READY,
    (S.READY, T.GO_NOT_READY): S.NOT_READY,
    (S.READY, T.LOGOUT): S.OFFLINE,
    (S.READY, T.OFFER): S.RESERVED,
    (S.NOT_READY, T.GO_READY): S.READY,
    (S.NOT_READY, T.GO_NOT_READY): S.NOT_READY,
    (S.NOT_READY, T.LOGOUT): S.OFFLINE,
    (S.RESERVED, T.ACCEPT): S.BUSY,
    (S.RESERVED, T.MISS): S.NOT_READY,  # Rule 3: an unattended desk stops taking calls
    (S.RESERVED, T.CANCEL): S.READY,
    (S.RESERVED, T.CANCEL_TO_BUSY): S.BUSY,
    (S.BUSY, T.OFFER): S.RESERVED,
    (S.BUSY, T.END): S.WRAP_UP,
    (S.BUSY, T.ANOTHER_ENDS): S.BUSY,
    (S.BUSY, T.ACCEPT_MORE): S.BUSY,
    (S.WRAP_UP, T.END): S.WRAP_UP,
    (S.WRAP_UP, T.WRAP_DONE): S.READY,
    (S.WRAP_UP, T.WRAP_DONE_TO_BREAK): S.NOT_READY,
}
FORBIDDEN = [(s, t) for s in S for t in T if (s, t) not in ALLOWED]


def _ids(pairs: list[tuple[S, Transition]]) -> list[str]:
    return [f"{state.value}-{transition.name}" for state, transition in pairs]


@pytest.mark.parametrize(("state", "transition"), list(ALLOWED), ids=_ids(list(ALLOWED)))
def test_every_allowed_transition_leads_where_the_diagram_says(
    state: S, transition: Transition
) -> None:
    assert next_state(state, transition) is ALLOWED[state, transition]


def test_the_table_holds_exactly_the_allowed_transitions() -> None:
    assert TABLE == ALLOWED


@pytest.mark.parametrize(("state", "transition"), FORBIDDEN, ids=_ids(FORBIDDEN))
def test_a_forbidden_transition_raises_naming_the_state_and_the_input(
    state: S, transition: Transition
) -> None:
    with pytest.raises(TransitionError) as caught:
        next_state(state, transition)
    assert str(caught.value) == f"operator cannot {transition.name} while {state.value}"


def test_an_offer_while_ringing_is_forbidden_with_a_readable_message() -> None:
    with pytest.raises(TransitionError, match="operator cannot OFFER while reserved"):
        next_state(S.RESERVED, T.OFFER)


# -- the engine walks the table -----------------------------------------------------------


def test_given_a_ready_operator_when_a_call_comes_then_offer_talk_wrap_up_and_ready() -> None:
    run = Run([QueueConfig(1, 1, wrap_up_seconds=30)], [op(7)])
    run.at(0, ev.OperatorWentReady(7))
    run.at(10, ev.InteractionArrived(1, 1))
    run.at(15, ev.OfferAccepted(1, 7))
    run.at(75, ev.InteractionEnded(1))
    assert run.engine.next_deadline() == 105
    run.until(1000)

    assert run.states(7) == [
        (0, "ready", None),
        (10, "reserved", None),
        (15, "busy", None),
        (75, "wrap_up", None),
        (105, "ready", None),
    ]
    assert run.log("operator_id", "wrap_up") == [
        (10, 1, "arrived"),
        (10, 1, "queued"),
        (10, 1, "offered", 7),
        (15, 1, "answered", 7),
        (75, 1, "wrap_up_started", 7),
        (105, 1, "completed", 7, 30),
    ]
    offer = next(c for _, c in run.out if isinstance(c, Offer))
    assert offer == Offer(1, 7, 1, expires_at=30.0, callback=False)
    assert run.engine.operator_state(7) == (S.READY, None)
    assert run.engine.next_deadline() is None


def _talked_until_75(wrap_up: float = 30) -> Run:
    run = Run([QueueConfig(1, 1, wrap_up_seconds=wrap_up)], [op(7)])
    run.at(0, ev.OperatorWentReady(7))
    run.at(10, ev.InteractionArrived(1, 1))
    run.at(15, ev.OfferAccepted(1, 7))
    run.at(75, ev.InteractionEnded(1))
    return run


def test_wrap_up_extended_by_the_operator_ends_later() -> None:
    run = _talked_until_75()
    run.at(90, ev.WrapUpExtended(7, 20))
    assert run.engine.next_deadline() == 125  # 105 + 20
    run.at(110, ev.WrapUpExtended(7, 5))
    run.until(1000)
    assert run.log("wrap_up")[-1] == (130, 1, "completed", 55)
    assert run.states(7)[-2:] == [(75, "wrap_up", None), (130, "ready", None)]


def test_wrap_up_extension_is_ignored_outside_wrap_up() -> None:
    run = _talked_until_75(wrap_up=0)
    run.at(80, ev.WrapUpExtended(7, 20))
    assert run.engine.next_deadline() is None
    assert run.engine.operator_state(7) == (S.READY, None)


def test_going_ready_during_wrap_up_ends_it_early() -> None:
    run = _talked_until_75()
    run.at(80, ev.OperatorWentReady(7))
    assert run.log("wrap_up")[-1] == (80, 1, "completed", 5)
    assert run.states(7)[-1] == (80, "ready", None)
    assert run.engine.next_deadline() is None  # the wrap-up timer is gone
    run.until(1000)
    assert run.log()[-1] == (80, 1, "completed")


def test_given_a_busy_operator_when_a_break_is_asked_then_it_starts_after_wrap_up() -> None:
    run = Run([QueueConfig(1, 1, wrap_up_seconds=30)], [op(7)])
    run.at(0, ev.OperatorWentReady(7))
    run.at(10, ev.InteractionArrived(1, 1))
    run.at(15, ev.OfferAccepted(1, 7))
    run.at(50, ev.OperatorWentNotReady(7, "lunch"))  # Rule 2: nobody leaves a call
    run.at(60, ev.InteractionArrived(2, 1))
    run.at(75, ev.InteractionEnded(1))
    run.until(200)
    assert run.states(7)[2:] == [
        (15, "busy", None),
        (75, "wrap_up", None),
        (105, "not_ready", "lunch"),
    ]
    assert run.offers() == [(10, 1, 7)]  # call 2 is not offered to someone on a break

    run.at(300, ev.OperatorWentReady(7))
    assert run.offers() == [(10, 1, 7), (300, 2, 7)]


def test_a_logout_asked_while_busy_takes_effect_after_wrap_up() -> None:
    run = Run([QueueConfig(1, 1, wrap_up_seconds=30)], [op(7)])
    run.at(0, ev.OperatorWentReady(7))
    run.at(10, ev.InteractionArrived(1, 1))
    run.at(15, ev.OfferAccepted(1, 7))
    run.at(20, ev.OperatorLoggedOut(7))
    run.at(75, ev.InteractionEnded(1))
    run.until(200)
    assert run.states(7)[-2:] == [(105, "not_ready", "logout"), (105, "offline", None)]


def test_going_ready_while_busy_cancels_a_requested_break() -> None:
    run = Run([QueueConfig(1, 1, wrap_up_seconds=30)], [op(7)])
    run.at(0, ev.OperatorWentReady(7))
    run.at(10, ev.InteractionArrived(1, 1))
    run.at(15, ev.OfferAccepted(1, 7))
    run.at(20, ev.OperatorWentNotReady(7, "lunch"))
    run.at(25, ev.OperatorWentReady(7))
    run.at(75, ev.InteractionEnded(1))
    run.until(200)
    assert run.states(7)[-1] == (105, "ready", None)


def test_offer_timeout_makes_the_operator_not_ready_and_the_call_keeps_its_place() -> None:
    run = Run([QueueConfig(1, 1)], [op(7), op(8)])
    run.at(0, ev.OperatorWentReady(7))
    run.at(10, ev.InteractionArrived(1, 1))  # rings at 7 until 30
    run.at(20, ev.InteractionArrived(2, 1))  # waits behind nobody
    run.at(40, ev.OperatorWentReady(8))
    assert run.states(7)[-1] == (30, "not_ready", "missed")  # Rule 3
    assert run.log("operator_id", "reason") == [
        (10, 1, "arrived"),
        (10, 1, "queued"),
        (10, 1, "offered", 7),
        (20, 2, "arrived"),
        (20, 2, "queued"),
        (30, 1, "offer_timeout", 7, "timeout"),
        (40, 1, "offered", 8),  # call 1 arrived first: it goes before call 2
    ]
    assert run.offers() == [(10, 1, 7), (40, 1, 8)]


def test_offer_timeout_offers_at_once_to_the_next_ready_operator() -> None:
    run = Run([QueueConfig(1, 1, offer_timeout_seconds=15)], [op(7), op(8)])
    run.at(0, ev.OperatorWentReady(7))
    run.at(5, ev.OperatorWentReady(8))
    run.at(10, ev.InteractionArrived(1, 1))
    run.until(100)
    assert run.offers() == [(10, 1, 7), (25, 1, 8)]
    assert run.engine.next_deadline() is None  # 8 rings, then misses too: nobody left
    assert run.states(8)[-1] == (40, "not_ready", "missed")


def test_a_declined_offer_is_a_miss_and_goes_to_the_next_operator() -> None:
    run = Run([QueueConfig(1, 1)], [op(7), op(8)])
    run.at(0, ev.OperatorWentReady(7))
    run.at(5, ev.OperatorWentReady(8))
    run.at(10, ev.InteractionArrived(1, 1))
    run.at(12, ev.OfferDeclined(1, 8))  # not 8's offer: ignored
    run.at(13, ev.OfferDeclined(1, 7))
    assert run.log("operator_id", "reason")[2:] == [
        (10, 1, "offered", 7),
        (13, 1, "offer_timeout", 7, "declined"),
        (13, 1, "offered", 8),
    ]
    assert run.states(7)[-1] == (13, "not_ready", "missed")
    run.at(14, ev.OfferAccepted(1, 7))  # too late: 7 no longer has the offer
    run.at(15, ev.OfferAccepted(1, 8))
    assert run.log("operator_id")[-1] == (15, 1, "answered", 8)


def test_caller_abandons_while_ringing_then_the_operator_gets_the_next_call() -> None:
    run = Run([QueueConfig(1, 1)], [op(7)])
    run.at(0, ev.OperatorWentReady(7))
    run.at(10, ev.InteractionArrived(1, 1))
    run.at(12, ev.InteractionArrived(2, 1))
    run.at(14, ev.CallerAbandoned(1))
    cancels = [(t, c) for t, c in run.out if isinstance(c, CancelOffer)]
    assert cancels == [(14, CancelOffer(1, 7))]
    assert run.states(7) == [
        (0, "ready", None),
        (10, "reserved", None),
        (14, "ready", None),
        (14, "reserved", None),
    ]
    assert run.offers() == [(10, 1, 7), (14, 2, 7)]
    assert run.log()[-2:] == [(14, 2, "offered"), (14, 1, "abandoned")]
    run.until(29)  # the cancelled offer's timer must not fire at 30
    run.at(29, ev.OfferAccepted(2, 7))
    run.until(1000)
    assert "offer_timeout" not in [row[2] for row in run.log()]


def test_abandon_while_ringing_with_a_break_pending_takes_the_break() -> None:
    run = Run([QueueConfig(1, 1)], [op(7)])
    run.at(0, ev.OperatorWentReady(7))
    run.at(10, ev.InteractionArrived(1, 1))
    run.at(11, ev.OperatorWentNotReady(7, "lunch"))
    run.at(12, ev.InteractionArrived(2, 1))
    run.at(14, ev.CallerAbandoned(1))
    assert run.states(7)[-2:] == [(14, "ready", None), (14, "not_ready", "lunch")]
    assert run.offers() == [(10, 1, 7)]


def test_a_chat_abandoned_while_ringing_does_not_bring_more_work_when_a_break_is_due() -> None:
    run = Run([CHAT_Q], [op(7, capacity={Channel.CHAT: 3})])
    run.at(0, ev.OperatorWentReady(7))
    run.at(0, ev.InteractionArrived(1, 1, Channel.CHAT))
    run.at(1, ev.OfferAccepted(1, 7))
    run.at(2, ev.InteractionArrived(2, 1, Channel.CHAT))  # rings while chat 1 is open
    run.at(3, ev.OperatorWentNotReady(7, "lunch"))
    run.at(4, ev.InteractionArrived(3, 1, Channel.CHAT))
    run.at(5, ev.CallerAbandoned(2))
    assert run.offers() == [(0, 1, 7), (2, 2, 7)]  # chat 3 waits: the break is due
    run.at(9, ev.InteractionEnded(1))
    assert run.states(7)[-1] == (9, "not_ready", "lunch")
    assert run.offers() == [(0, 1, 7), (2, 2, 7)]


def test_a_chatting_operator_with_a_break_due_gets_no_new_chat() -> None:
    run = Run([CHAT_Q], [op(7, capacity={Channel.CHAT: 2})])
    run.at(0, ev.OperatorWentReady(7))
    run.at(0, ev.InteractionArrived(1, 1, Channel.CHAT))
    run.at(1, ev.OfferAccepted(1, 7))  # room for one more chat
    run.at(2, ev.OperatorWentNotReady(7, "lunch"))
    run.at(3, ev.InteractionArrived(2, 1, Channel.CHAT))
    assert run.offers() == [(0, 1, 7)]
    run.at(9, ev.InteractionEnded(1))
    assert run.states(7)[-2:] == [(9, "wrap_up", None), (9, "not_ready", "lunch")]
    assert run.offers() == [(0, 1, 7)]


def test_calling_off_a_break_while_chatting_brings_chats_again() -> None:
    run = Run([CHAT_Q], [op(7, capacity={Channel.CHAT: 2})])
    run.at(0, ev.OperatorWentReady(7))
    run.at(0, ev.InteractionArrived(1, 1, Channel.CHAT))
    run.at(1, ev.OfferAccepted(1, 7))
    run.at(2, ev.OperatorWentNotReady(7, "lunch"))
    run.at(3, ev.InteractionArrived(2, 1, Channel.CHAT))
    run.at(4, ev.OperatorWentReady(7))  # never mind the lunch
    assert run.offers() == [(0, 1, 7), (4, 2, 7)]


# -- capacity per channel -------------------------------------------------------------------

CHAT_Q = QueueConfig(1, 1, channel=Channel.CHAT)
CALL_Q = QueueConfig(2, 1, channel=Channel.CALL)
MULTI = {Channel.CALL: 1, Channel.CHAT: 3}


def _accept_each_offer(run: Run, at: float) -> None:
    """Accept, one second after it, every offer not accepted yet (up to ``at``)."""
    done: set[int] = set()
    while True:
        pending = [(t, i, o) for t, i, o in run.offers() if i not in done and t + 1 <= at]
        if not pending:
            return
        t, iid, operator_id = pending[0]
        done.add(iid)
        run.at(t + 1, ev.OfferAccepted(iid, operator_id))


def test_three_chats_at_once_but_no_call_while_chatting() -> None:
    run = Run([CHAT_Q, CALL_Q], [op(7, capacity=MULTI)])
    for i in range(4):
        run.at(i, ev.InteractionArrived(1 + i, 1, Channel.CHAT))
    run.at(4, ev.InteractionArrived(5, 2, Channel.CALL))
    run.at(10, ev.OperatorWentReady(7))
    _accept_each_offer(run, 19)
    assert run.offers() == [(10, 1, 7), (11, 2, 7), (12, 3, 7)]  # chat 4 and call 5 wait
    assert run.engine.operator_state(7) == (S.BUSY, None)

    run.at(20, ev.InteractionEnded(1))  # a chat ends: room for chat 4, still no call
    run.at(21, ev.OfferAccepted(4, 7))
    run.at(30, ev.InteractionEnded(2), ev.InteractionEnded(3))
    assert run.offers()[-1] == (20, 4, 7)
    run.at(32, ev.InteractionEnded(4))  # the last chat ends: now the call
    assert run.offers()[-1] == (32, 5, 7)

    run.at(33, ev.OfferAccepted(5, 7))
    run.at(34, ev.InteractionArrived(6, 1, Channel.CHAT))  # no chat while on a call
    assert run.offers()[-1] == (32, 5, 7)
    run.at(40, ev.InteractionEnded(5))
    assert run.offers()[-1] == (40, 6, 7)


def test_a_call_while_chatting_when_the_operator_is_configured_for_it() -> None:
    run = Run([CHAT_Q, CALL_Q], [op(7, capacity=MULTI, call_while_chatting=True)])
    run.at(0, ev.OperatorWentReady(7))
    run.at(1, ev.InteractionArrived(1, 1, Channel.CHAT))
    run.at(2, ev.OfferAccepted(1, 7))
    run.at(3, ev.InteractionArrived(2, 2, Channel.CALL))
    run.at(4, ev.OfferAccepted(2, 7))
    run.at(5, ev.InteractionArrived(3, 1, Channel.CHAT))  # on a call: no new chat
    run.at(6, ev.InteractionArrived(4, 2, Channel.CALL))  # one call at a time
    assert run.offers() == [(1, 1, 7), (3, 2, 7)]
    run.at(10, ev.InteractionEnded(2))
    assert run.offers()[-1] == (10, 3, 7)  # the chat arrived before the second call


def test_a_chat_only_operator_never_gets_a_call() -> None:
    run = Run([CHAT_Q, CALL_Q], [op(7, capacity={Channel.CHAT: 2})])
    run.at(0, ev.OperatorWentReady(7))
    run.at(1, ev.InteractionArrived(1, 2, Channel.CALL))
    run.at(2, ev.InteractionArrived(2, 1, Channel.CHAT))
    assert run.offers() == [(2, 2, 7)]


def test_a_missed_chat_while_chatting_then_ready_does_not_bring_a_call() -> None:
    run = Run([CHAT_Q, CALL_Q], [op(7, capacity={Channel.CALL: 1, Channel.CHAT: 2})])
    run.at(0, ev.OperatorWentReady(7))
    run.at(0, ev.InteractionArrived(1, 1, Channel.CHAT))
    run.at(1, ev.OfferAccepted(1, 7))
    run.at(2, ev.InteractionArrived(2, 2, Channel.CALL))  # waits: 7 is chatting
    run.at(3, ev.InteractionArrived(3, 1, Channel.CHAT))  # rings at 7 until 23
    run.at(30, ev.OperatorWentReady(7))  # back from "missed" with chat 1 still open
    assert run.states(7)[3:] == [
        (3, "reserved", None),
        (23, "not_ready", "missed"),
        (30, "ready", None),
        (30, "reserved", None),
    ]
    assert run.offers() == [(0, 1, 7), (3, 3, 7), (30, 3, 7)]  # the chat, not the call
    run.at(31, ev.OfferAccepted(3, 7))
    run.at(40, ev.InteractionEnded(1), ev.InteractionEnded(3))
    assert run.offers()[-1] == (40, 2, 7)  # once the chats are done, the call


def test_the_last_chat_ending_while_ready_frees_the_operator_for_a_call() -> None:
    run = Run([CHAT_Q, CALL_Q], [op(7, capacity={Channel.CALL: 1, Channel.CHAT: 2})])
    run.at(0, ev.OperatorWentReady(7))
    run.at(0, ev.InteractionArrived(1, 1, Channel.CHAT))
    run.at(1, ev.OfferAccepted(1, 7))
    run.at(2, ev.InteractionArrived(2, 2, Channel.CALL))
    run.at(3, ev.InteractionArrived(3, 1, Channel.CHAT))
    run.at(25, ev.CallerAbandoned(3))  # missed at 23, then the chat closed
    run.at(30, ev.OperatorWentReady(7))  # ready, with chat 1 still open
    assert run.offers() == [(0, 1, 7), (3, 3, 7)]
    run.at(40, ev.InteractionEnded(1))
    assert run.offers()[-1] == (40, 2, 7)
