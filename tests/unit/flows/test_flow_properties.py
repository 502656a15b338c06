"""Properties of the interpreter on valid flows, under any sequence of reports.

Whatever call control reports, in any order and at any time (going forward), a run of a
valid flow never raises, emits only catalogued actions that make sense (known prompts and
nodes, a deadline never in the past), never goes silent (a phase that waits for the clock
has a deadline), and ends with a hangup or a transfer, or waits for someone.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, get_args

from flow_helpers import CALLER, EXAMPLE, PROMPTS, load
from hypothesis import given, settings
from hypothesis import strategies as st

from hotline.core.flows import Flow, FlowRun, HangupReason, Phase, TransferKind
from hotline.core.flows.actions import (
    FlowAction,
    Hangup,
    LogIvr,
    Play,
    Prompt,
    Transfer,
)
from hotline.core.flows.demo import shop_flow, virtual_secretary_flow
from hotline.core.hours import parse_hours_spec

FLOWS: dict[str, Flow] = {
    "example": load(EXAMPLE),
    "secretary": load(virtual_secretary_flow(1, 2, 3)),
    "shop": load(shop_flow(7)),
}
HOURS = parse_hours_spec(
    {
        "timezone": "Europe/Berlin",
        "weekly": {"mon": ["09:00-18:00"], "tue": ["22:00-02:00"]},
        "holidays": ["2026-03-30"],
    }
)
WEEK_OF_THE_DST_CHANGE = datetime(2026, 3, 26, tzinfo=UTC).timestamp()  # Thursday
ACTION_TYPES = get_args(FlowAction)
CLOCK_PHASES = {Phase.COLLECT, Phase.CONFIRM_COLLECT, Phase.RECORD}

reports = st.one_of(
    st.tuples(st.just("digit"), st.sampled_from("0123456789*#")),
    st.tuples(st.just("prompt_finished")),
    st.tuples(st.just("timer")),
    st.tuples(
        st.just("estimate"),
        st.none() | st.floats(-1, 3600, allow_nan=False),
        st.none() | st.integers(0, 50),
        st.booleans(),
    ),
    st.tuples(st.just("recording_finished")),
    st.tuples(st.just("answered")),
    st.tuples(st.just("operator_hung_up")),
    st.tuples(st.just("caller_hung_up")),
)


def report(run: FlowRun, event: tuple[Any, ...], now: float) -> list[FlowAction]:
    match event:
        case ("digit", digit):
            return run.on_digit(digit, now)
        case ("prompt_finished",):
            return run.on_prompt_finished(now)
        case ("timer",):
            return run.on_timer(now)
        case ("estimate", ewt, position, offer):
            return run.on_wait_estimate(ewt, position, offer, now)
        case ("recording_finished",):
            return run.on_recording_finished(now)
        case ("answered",):
            return run.on_answered(now)
        case ("operator_hung_up",):
            return run.on_operator_hung_up(now)
        case ("caller_hung_up",):
            return run.on_caller_hung_up(now)
    raise AssertionError(event)


def check(run: FlowRun, flow: Flow, actions: list[FlowAction], now: float) -> None:
    for action in actions:
        assert isinstance(action, ACTION_TYPES)
        if isinstance(action, Play):
            assert action.items
            assert all(item.name in PROMPTS for item in action.items if isinstance(item, Prompt))
        if isinstance(action, LogIvr):
            assert action.node in flow.nodes
    deadline = run.next_deadline()
    assert deadline is None or deadline >= now
    if run.finished:
        assert deadline is None
    else:
        assert run.node in flow.nodes
        assert run.phase is not Phase.NEW
        assert run.phase not in CLOCK_PHASES or deadline is not None


@settings(max_examples=300, deadline=None)
@given(
    name=st.sampled_from(sorted(FLOWS)),
    start=st.floats(0, 7 * 86400),
    steps=st.lists(st.tuples(reports, st.floats(0, 120)), max_size=60),
)
def test_any_reports_on_a_valid_flow(
    name: str, start: float, steps: list[tuple[tuple[Any, ...], float]]
) -> None:
    flow = FLOWS[name]
    run = FlowRun(flow, hours=HOURS, language="ru", caller=CALLER)
    now = WEEK_OF_THE_DST_CHANGE + start
    actions = run.start(now)
    check(run, flow, actions, now)
    for event, pause in steps:
        now += pause
        deadline = run.next_deadline()
        if event == ("timer",) and deadline is not None:
            now = max(now, deadline)
        # A driver fires what fell due before it reports anything (the timer "event" above
        # jumps to the deadline; the other pauses may pass one or more).
        while (deadline := run.next_deadline()) is not None and deadline <= now:
            step(run, flow, ("timer",), deadline)
        step(run, flow, event, now)


def step(run: FlowRun, flow: Flow, event: tuple[Any, ...], now: float) -> None:
    was_finished = run.finished
    actions = report(run, event, now)
    check(run, flow, actions, now)
    if was_finished:
        assert actions == []
    elif run.finished and event[0] != "caller_hung_up":
        assert isinstance(actions[-1], Hangup | Transfer)


@settings(max_examples=100, deadline=None)
@given(name=st.sampled_from(sorted(FLOWS)), start=st.floats(0, 7 * 86400))
def test_a_silent_caller_is_hung_up_on_or_waits_for_an_operator(name: str, start: float) -> None:
    """Nobody presses anything: prompts end and timers fire until the run hangs up or the
    caller waits in a queue (where only an operator can move things on)."""
    flow = FLOWS[name]
    run = FlowRun(flow, hours=HOURS, language="en", caller=CALLER)
    now = WEEK_OF_THE_DST_CHANGE + start
    actions = run.start(now)
    for _ in range(200):
        if run.finished or run.phase is Phase.QUEUED:
            break
        deadline = run.next_deadline()
        if deadline is not None:
            now = deadline
            actions = run.on_timer(now)
        else:
            now += 3
            actions = run.on_prompt_finished(now)
    assert run.finished or run.phase is Phase.QUEUED
    if run.finished:  # the example flow transfers a caller who never chooses
        assert actions[-1] in (
            Hangup(HangupReason.FLOW),
            Transfer(TransferKind.NUMBER, "+74951234567"),
        )
