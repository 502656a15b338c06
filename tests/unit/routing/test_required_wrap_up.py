"""Engine Rule 8: a queue whose hotline requires the wrap-up holds the operator in
``wrap_up`` past the timer until ``WrapUpCompleted``, at most
``REQUIRED_WRAP_UP_LIMIT_SECONDS`` after the talk ended, then ``not_ready("wrap_up")``.

Timelines in virtual seconds (STYLE §15): the call is answered at 15 and ends at 75, the
queue's wrap-up time is 30 s, so the timer runs out at 105 and the limit is 675.
"""

from __future__ import annotations

import typing

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from routing_timeline import Run

from hotline.core import events as ev
from hotline.core.commands import Log
from hotline.core.model import OperatorState as S
from hotline.core.routing.config import REQUIRED_WRAP_UP_LIMIT_SECONDS, OperatorConfig, QueueConfig

LIMIT = REQUIRED_WRAP_UP_LIMIT_SECONDS
LIMIT_AT = 75 + LIMIT  # 675


def op7() -> OperatorConfig:
    return OperatorConfig(7, frozenset({1}))


def _talked_until_75(required: bool = True, wrap_up: float = 30) -> Run:
    queue = QueueConfig(1, 1, wrap_up_seconds=wrap_up, wrap_up_required=required)
    run = Run([queue], [OperatorConfig(7, frozenset({1})), OperatorConfig(8, frozenset({1}))])
    run.at(0, ev.OperatorWentReady(7))
    run.at(10, ev.InteractionArrived(1, 1))
    run.at(15, ev.OfferAccepted(1, 7))
    run.at(75, ev.InteractionEnded(1))
    return run


def test_the_limit_is_ten_minutes() -> None:
    assert REQUIRED_WRAP_UP_LIMIT_SECONDS == 600


def test_given_a_required_wrap_up_when_the_timer_runs_out_unsaved_then_the_operator_is_held() -> (
    None
):
    run = _talked_until_75()
    assert run.engine.next_deadline() == 105
    run.until(300)
    assert run.states(7)[-1] == (75, "wrap_up", None)  # no change at 105
    assert run.engine.operator_state(7) == (S.WRAP_UP, None)
    assert run.log()[-1] == (75, 1, "wrap_up_started")  # not completed yet
    assert run.engine.next_deadline() == LIMIT_AT
    run.at(300, ev.InteractionArrived(2, 1))
    assert run.offers() == [(10, 1, 7)]  # a held operator takes nothing new


def test_given_a_held_operator_when_the_wrap_up_is_saved_then_ready_and_offered() -> None:
    run = _talked_until_75()
    run.at(200, ev.InteractionArrived(2, 1))
    run.at(300, ev.WrapUpCompleted(7, 1))
    assert run.states(7)[-3:] == [
        (75, "wrap_up", None),
        (300, "ready", None),
        (300, "reserved", None),
    ]
    assert run.log("wrap_up")[4:] == [
        (75, 1, "wrap_up_started"),
        (200, 2, "arrived"),
        (200, 2, "queued"),
        (300, 1, "completed", 225),  # the whole time held counts as wrap-up
        (300, 2, "offered"),
    ]
    assert run.offers() == [(10, 1, 7), (300, 2, 7)]


def test_given_a_save_before_the_timer_runs_out_then_ready_when_it_does() -> None:
    run = _talked_until_75()
    run.at(90, ev.WrapUpCompleted(7, 1))
    assert run.engine.operator_state(7) == (S.WRAP_UP, None)  # the save ends no wrap-up early
    run.until(1000)
    assert run.states(7)[-2:] == [(75, "wrap_up", None), (105, "ready", None)]
    assert run.log("wrap_up")[-1] == (105, 1, "completed", 30)
    assert run.engine.next_deadline() is None


def test_given_a_held_operator_when_nothing_is_saved_then_not_ready_at_the_limit() -> None:
    run = _talked_until_75()
    run.until(2000)
    assert run.states(7)[-2:] == [(75, "wrap_up", None), (LIMIT_AT, "not_ready", "wrap_up")]
    assert run.log("wrap_up")[-1] == (LIMIT_AT, 1, "completed", REQUIRED_WRAP_UP_LIMIT_SECONDS)
    assert run.engine.next_deadline() is None
    # a late save changes nothing: the operator goes ready by asking
    run.at(2000, ev.WrapUpCompleted(7, 1))
    assert run.engine.operator_state(7) == (S.NOT_READY, "wrap_up")
    run.at(2001, ev.OperatorWentReady(7))
    assert run.engine.operator_state(7) == (S.READY, None)


def test_given_a_completion_for_another_interaction_then_the_hold_stays() -> None:
    run = _talked_until_75()
    run.at(200, ev.WrapUpCompleted(7, 99))  # not this wrap-up
    run.at(210, ev.WrapUpCompleted(8, 1))  # another operator
    run.at(220, ev.WrapUpCompleted(8, 99))  # an operator not in wrap-up at all
    assert run.engine.operator_state(7) == (S.WRAP_UP, None)
    assert run.engine.operator_state(8) == (S.OFFLINE, None)
    assert run.engine.next_deadline() == LIMIT_AT
    run.until(2000)
    assert run.states(7)[-1] == (LIMIT_AT, "not_ready", "wrap_up")


def test_given_a_break_asked_while_held_when_saved_then_the_break() -> None:
    run = _talked_until_75()
    run.at(200, ev.OperatorWentNotReady(7, "lunch"))
    assert run.engine.operator_state(7) == (S.WRAP_UP, None)  # operator_state Rule 2
    run.at(250, ev.WrapUpCompleted(7, 1))
    assert run.states(7)[-1] == (250, "not_ready", "lunch")


@pytest.mark.parametrize(("asked", "then"), [("lunch", "lunch"), ("logout", "logout")])
def test_given_a_break_or_logout_asked_while_held_when_the_limit_comes_then_that(
    asked: str, then: str
) -> None:
    run = _talked_until_75()
    if asked == "logout":
        run.at(200, ev.OperatorLoggedOut(7))
    else:
        run.at(200, ev.OperatorWentNotReady(7, asked))
    run.until(2000)
    assert run.states(7)[4] == (LIMIT_AT, "not_ready", then)
    expected = S.OFFLINE if asked == "logout" else S.NOT_READY
    assert run.engine.operator_state(7)[0] is expected


def test_going_ready_ends_a_hold_as_it_ends_a_wrap_up() -> None:
    """A supervisor's "ready" (the API refuses the operator's own until the save)."""
    run = _talked_until_75()
    run.at(400, ev.OperatorWentReady(7))
    assert run.states(7)[-1] == (400, "ready", None)
    assert run.log("wrap_up")[-1] == (400, 1, "completed", 325)
    assert run.engine.next_deadline() is None


def test_an_extension_while_held_moves_the_timer_and_the_limit_still_holds() -> None:
    run = _talked_until_75()
    run.at(200, ev.WrapUpExtended(7, 30))
    assert run.engine.next_deadline() == 230
    run.at(220, ev.WrapUpCompleted(7, 1))  # saved before the new timer runs out
    assert run.engine.operator_state(7) == (S.WRAP_UP, None)
    run.until(1000)
    assert run.states(7)[-1] == (230, "ready", None)

    late = _talked_until_75()
    late.at(660, ev.WrapUpExtended(7, 60))  # the timer now ends after the limit
    late.until(2000)
    assert late.states(7)[-1] == (720, "not_ready", "wrap_up")


def test_a_wrap_up_time_longer_than_the_limit_is_kept_then_not_ready() -> None:
    run = _talked_until_75(wrap_up=900)
    run.until(5000)
    assert run.states(7)[-1] == (975, "not_ready", "wrap_up")


def test_a_queue_without_wrap_up_time_holds_at_once() -> None:
    run = _talked_until_75(wrap_up=0)
    assert run.engine.operator_state(7) == (S.WRAP_UP, None)
    run.at(80, ev.WrapUpCompleted(7, 1))
    assert run.states(7)[-2:] == [(75, "wrap_up", None), (80, "ready", None)]


def test_given_a_queue_not_requiring_it_then_ready_at_the_timer_and_completion_is_ignored() -> None:
    run = _talked_until_75(required=False)
    run.at(90, ev.WrapUpCompleted(7, 1))
    run.until(1000)
    assert run.states(7)[-2:] == [(75, "wrap_up", None), (105, "ready", None)]
    assert run.log("wrap_up")[-1] == (105, 1, "completed", 30)


def test_the_flag_is_read_when_the_talk_ends() -> None:
    """Rule 6: a change applies to the next wrap-up, not to the one running."""
    run = _talked_until_75(required=True)
    run.until(80)
    run.engine.update_queue(QueueConfig(1, 1, wrap_up_seconds=30, wrap_up_required=False), 80)
    run.until(300)
    assert run.engine.operator_state(7) == (S.WRAP_UP, None)  # still held
    run.at(300, ev.WrapUpCompleted(7, 1))
    assert run.engine.operator_state(7) == (S.READY, None)


# -- whatever happens: a timer never readies an unsaved required wrap-up ------------------

WRAP_UP = 30.0
ACTIONS = st.lists(
    st.one_of(
        st.tuples(st.just("wait"), st.sampled_from([1.0, 10.0, 29.0, 60.0, 300.0, 700.0])),
        st.tuples(st.sampled_from(["call", "save", "stray_save", "ready", "break"]), st.just(0.0)),
        st.tuples(st.just("extend"), st.sampled_from([5.0, 30.0, 600.0])),
    ),
    max_size=30,
)


@settings(max_examples=300, deadline=None)
@given(actions=ACTIONS)
def test_a_timer_never_readies_an_unsaved_required_wrap_up(
    actions: list[tuple[str, float]],
) -> None:
    """One operator on one required queue; calls, saves (own or stray), readies, breaks,
    extensions and waits in any order.  From the commands alone: a wrap-up ended by a
    timer while unsaved lasted at least the limit and ends not ready; a save after the
    timer ends it at once; no wrap-up outlasts both its timer and the limit."""
    run = Run([QueueConfig(1, 1, wrap_up_seconds=WRAP_UP, wrap_up_required=True)], [op7()])
    run.at(0, ev.OperatorWentReady(7))
    iid, wrapping, saved, timer_ends = 0, None, False, 0.0
    for kind, value in actions:
        now = run.now
        seen = len(run.out)
        if kind == "wait":
            run.until(now + value)
        elif kind == "call":
            iid += 1
            run.at(now, ev.InteractionArrived(iid, 1))
            if run.engine.operator_state(7)[0] is S.RESERVED:
                run.at(now, ev.OfferAccepted(iid, 7))
                run.at(now + 5, ev.InteractionEnded(iid))
                wrapping, saved, timer_ends = iid, False, now + 5 + WRAP_UP
        elif kind == "save" and wrapping is not None:
            held = run.now >= timer_ends
            run.at(now, ev.WrapUpCompleted(7, wrapping))
            saved = True
            if held:  # the hold ends at once
                assert run.engine.operator_state(7)[0] is not S.WRAP_UP
        elif kind == "stray_save":
            run.at(now, ev.WrapUpCompleted(7, iid + 1))
        elif kind == "ready":
            run.at(now, ev.OperatorWentReady(7))
        elif kind == "break":
            run.at(now, ev.OperatorWentNotReady(7, "break"))
        elif kind == "extend":
            if run.engine.operator_state(7)[0] is S.WRAP_UP:
                timer_ends = max(timer_ends, now) + value
            run.at(now, ev.WrapUpExtended(7, value))
        for at, c in run.out[seen:]:
            if isinstance(c, Log) and c.type == "completed" and c.interaction_id == wrapping:
                wrap_up = typing.cast(float, c.data["wrap_up"])
                assert wrap_up <= max(timer_ends - (at - wrap_up), LIMIT) + 1e-6
                if not saved and kind == "wait":  # ended by a timer, unsaved
                    assert wrap_up >= LIMIT - 1e-6
                    assert run.engine.operator_state(7)[0] is not S.READY
                wrapping = None
    run.at(run.now, ev.OperatorWentReady(7))
    run.until(run.now + 10_000)
    assert run.engine.next_deadline() is None
