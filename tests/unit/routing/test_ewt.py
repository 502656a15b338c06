"""Estimated wait time: the formula, the handle-time window, and what the engine announces
and records (``QUEUED`` carries ``ewt`` and ``position`` so reports can score the estimate)."""

from __future__ import annotations

from typing import Any

import pytest
from routing_timeline import Run

from hotline.core import events as ev
from hotline.core.model import DEFAULT_CALLBACK_THRESHOLD_SECONDS
from hotline.core.routing.config import OperatorConfig, QueueConfig
from hotline.core.routing.ewt import WINDOW, HandleTimes, estimate_wait
from hotline.core.routing.runtime import DEFAULT_HANDLE_SECONDS

# -- the formula: k · AHT / N -------------------------------------------------------------


@pytest.mark.parametrize(
    ("position", "staffed", "idle", "aht", "expected"),
    [
        (1, 1, 0, 180.0, 180.0),
        (1, 4, 0, 200.0, 50.0),
        (3, 4, 0, 200.0, 150.0),
        (10, 5, 0, 60.0, 120.0),
        (3, 2, 1, 100.0, 100.0),  # one idle operator takes the first: (3 - 1) · 100 / 2
        (1, 3, 1, 100.0, 0.0),  # an idle operator for the first in line
        (2, 3, 2, 100.0, 0.0),
        (1, 0, 1, 100.0, 0.0),  # idle comes before "nobody staffed"
        (1, 0, 0, 100.0, None),  # nobody staffed: unknown
        (5, -1, 0, 100.0, None),
    ],
)
def test_estimate_wait_is_position_times_aht_over_staffed(
    position: int, staffed: int, idle: int, aht: float, expected: float | None
) -> None:
    assert estimate_wait(position, staffed, idle, aht) == expected


def test_handle_times_mean_is_the_default_until_the_first_handle() -> None:
    times = HandleTimes(default=180.0)
    assert times.mean == 180.0
    times.add(60.0)
    assert times.mean == 60.0
    times.add(120.0)
    assert times.mean == 90.0


def test_handle_times_forget_all_but_the_last_window() -> None:
    times = HandleTimes(default=0.0)
    for _ in range(WINDOW):
        times.add(10.0)
    assert times.mean == 10.0
    for _ in range(WINDOW // 2):
        times.add(20.0)
    assert times.mean == pytest.approx(15.0)
    for _ in range(WINDOW // 2):
        times.add(20.0)
    assert times.mean == pytest.approx(20.0)
    times.add(120.0)  # one new value moves the mean by its difference over the window
    assert times.mean == pytest.approx(21.0)


# -- the engine's announcements -----------------------------------------------------------


def busy_center(operators: int = 2, **queue: Any) -> Run:
    """Queue 1 with ``operators`` operators, each on a call (ids 900…) from t = 0."""
    run = Run(
        [QueueConfig(1, 1, **queue)],
        [OperatorConfig(i, frozenset({1})) for i in range(1, operators + 1)],
    )
    for i in range(1, operators + 1):
        run.at(0, ev.OperatorWentReady(i), ev.InteractionArrived(900 + i, 1))
        run.at(0, ev.OfferAccepted(900 + i, i))
    run.out.clear()
    return run


def test_queued_log_records_position_and_ewt_and_the_caller_hears_them() -> None:
    run = busy_center(2)
    for i in (1, 2, 3):
        run.at(10 * i, ev.InteractionArrived(i, 1))
    aht = DEFAULT_HANDLE_SECONDS  # no history yet
    assert run.queued() == [(10, 1, 1, aht / 2), (20, 2, 2, aht), (30, 3, 3, 3 * aht / 2)]
    # the callback is offered above the 180 s threshold, not at it
    assert DEFAULT_CALLBACK_THRESHOLD_SECONDS == 180
    assert run.announced() == [
        (10, 1, 90.0, 1, False),
        (20, 2, 180.0, 2, False),
        (30, 3, 270.0, 3, True),
    ]


def test_callback_threshold_is_per_queue() -> None:
    run = busy_center(2, callback_threshold_seconds=60)
    run.at(10, ev.InteractionArrived(1, 1))
    assert run.announced() == [(10, 1, 90.0, 1, True)]


def test_an_interaction_offered_at_once_waits_zero_at_position_one() -> None:
    run = Run([QueueConfig(1, 1)], [OperatorConfig(1, frozenset({1}))])
    run.at(0, ev.OperatorWentReady(1))
    run.at(5, ev.InteractionArrived(1, 1))
    assert run.queued() == [(5, 1, 1, 0.0)]
    assert run.announced() == []  # nothing to announce: it rings already


def test_nobody_staffed_means_unknown_wait_and_a_callback_offer() -> None:
    run = Run([QueueConfig(1, 1)], [OperatorConfig(1, frozenset({1}))])
    run.at(5, ev.InteractionArrived(1, 1))  # operator 1 is offline
    assert run.queued() == [(5, 1, 1, None)]
    assert run.announced() == [(5, 1, -1.0, 1, True)]
    assert run.engine.estimate_wait(1) is None


def test_operators_on_a_break_are_not_staffed_but_those_in_wrap_up_are() -> None:
    run = busy_center(3, wrap_up_seconds=60)
    run.at(10, ev.OperatorWentNotReady(3))  # taken after its wrap-up
    run.at(20, *(ev.InteractionEnded(900 + i) for i in (1, 2, 3)))  # wrap-ups until 80
    run.at(30, ev.InteractionArrived(1, 1))
    assert run.queued() == [(30, 1, 1, DEFAULT_HANDLE_SECONDS / 3)]  # 3 staffed, in wrap-up
    run.at(90, ev.InteractionArrived(2, 1))  # at 80: 1 took call 1, 2 ready, 3 on a break
    run.at(91, ev.InteractionArrived(3, 1))
    assert run.engine.operator_state(3) == ("not_ready", "break")
    # 2 staffed (1 and 2 ringing); AHT is now 80: 20 s of talk + 60 s of wrap-up, 3 times
    assert run.queued()[1:] == [(90, 2, 1, 0.0), (91, 3, 1, 40.0)]


def test_ewt_follows_the_recent_handle_times() -> None:
    run = busy_center(1, wrap_up_seconds=10)  # operator 1 on call 901 since 0
    run.at(5, ev.InteractionArrived(1, 1))
    run.at(50, ev.InteractionEnded(901))  # handle time 50 + 10 of wrap-up
    run.at(61, ev.OfferAccepted(1, 1))  # call 1 offered at 60 when the wrap-up ended
    run.at(70, ev.InteractionArrived(2, 1))
    assert run.queued() == [(5, 1, 1, DEFAULT_HANDLE_SECONDS), (70, 2, 1, 60.0)]
    assert run.engine.estimate_wait(1) == 120.0  # a new arrival would be second


def test_priority_decides_the_announced_position() -> None:
    run = busy_center(1)
    run.at(10, ev.InteractionArrived(1, 1))
    run.at(20, ev.InteractionArrived(2, 1))
    run.at(30, ev.InteractionArrived(3, 1, priority=1))  # ahead of both
    run.at(40, ev.InteractionArrived(4, 1))
    assert [(iid, pos) for _, iid, pos, _ in run.queued()] == [(1, 1), (2, 2), (3, 1), (4, 4)]
    assert [run.engine.position_of(i) for i in (1, 2, 3, 4)] == [2, 3, 1, 4]
    assert run.engine.estimate_wait(1, priority=1) == 2 * DEFAULT_HANDLE_SECONDS


def test_position_of_after_abandons() -> None:
    run = busy_center(1)
    for i in (1, 2, 3, 4):
        run.at(i, ev.InteractionArrived(i, 1))
    assert [run.engine.position_of(i) for i in (1, 2, 3, 4)] == [1, 2, 3, 4]
    run.at(10, ev.CallerAbandoned(2))
    assert [run.engine.position_of(i) for i in (1, 2, 3, 4)] == [1, None, 2, 3]
    run.at(11, ev.CallerAbandoned(1))
    assert [run.engine.position_of(i) for i in (1, 2, 3, 4)] == [None, None, 1, 2]
    assert run.engine.waiting_count(1) == 2
    run.at(12, ev.InteractionArrived(5, 1))
    assert run.queued()[-1] == (12, 5, 3, 3 * DEFAULT_HANDLE_SECONDS)
    assert run.engine.position_of(99) is None  # unknown


def test_position_of_ringing_or_talking_is_none() -> None:
    run = busy_center(1)
    run.at(1, ev.InteractionArrived(1, 1))
    assert run.engine.position_of(901) is None  # talking
    run.at(2, ev.InteractionEnded(901))  # operator 1 free: call 1 rings
    assert run.engine.position_of(1) is None


def test_estimate_wait_for_a_new_arrival_is_zero_with_an_idle_operator() -> None:
    run = Run([QueueConfig(1, 1)], [OperatorConfig(1, frozenset({1}))])
    run.at(0, ev.OperatorWentReady(1))
    assert run.engine.estimate_wait(1) == 0.0
    run.at(1, ev.InteractionArrived(1, 1))  # now ringing: one staffed, none idle
    assert run.engine.estimate_wait(1) == DEFAULT_HANDLE_SECONDS
