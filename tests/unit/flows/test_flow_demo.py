"""The demo flows validate with the standard prompts and behave as the product brief says."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flow_helpers import CALLER, log, play

from hotline.core.flows import STANDARD_PROMPTS, FlowError, FlowRun, HangupReason, validate_flow
from hotline.core.flows.actions import (
    CallbackRequested,
    Duration,
    Enqueue,
    Hangup,
    Number,
    RequestCallback,
    SetTag,
    StartMusic,
    StartVoicemail,
    StopPlayback,
    StopVoicemail,
    SurveyAnswered,
)
from hotline.core.flows.demo import shop_flow, virtual_secretary_flow
from hotline.core.hours import parse_hours_spec

HOURS = parse_hours_spec(
    {
        "timezone": "Europe/Moscow",
        "weekly": {day: ["09:00-18:00"] for day in ("mon", "tue", "wed", "thu", "fri")},
        "holidays": ["2026-01-01"],
    }
)
MONDAY_NOON = datetime(2026, 3, 2, 9, 0, tzinfo=UTC).timestamp()  # 12:00 MSK
MONDAY_NIGHT = datetime(2026, 3, 2, 20, 0, tzinfo=UTC).timestamp()  # 23:00 MSK
NEW_YEAR = datetime(2026, 1, 1, 9, 0, tzinfo=UTC).timestamp()  # a holiday, Thursday


def validate(document: object, queues: set[int]) -> FlowRun:
    flow = validate_flow(
        document,
        prompt_exists=STANDARD_PROMPTS.__contains__,
        queue_exists=queues.__contains__,
    )
    return FlowRun(flow, hours=HOURS, language="ru", caller=CALLER)


def test_demo_flows_validate_with_only_the_standard_prompts() -> None:
    validate(virtual_secretary_flow(11, 12, 13), {11, 12, 13})
    validate(shop_flow(21), {21})


def test_demo_flows_name_their_queues() -> None:
    with pytest.raises(FlowError) as caught:
        validate(virtual_secretary_flow(11, 12, 13), {11, 13})
    assert [(p.path, p.message) for p in caught.value.problems] == [
        ("nodes.q_hr.queue", "queue 12 does not exist")
    ]


def test_virtual_secretary_in_business_hours_accounting_then_survey() -> None:
    run = validate(virtual_secretary_flow(11, 12, 13), {11, 12, 13})
    t = MONDAY_NOON
    assert run.start(t) == [log("greeting", "play"), play("greeting")]
    assert run.on_prompt_finished(t + 6) == [
        log("hours", "hours", branch="open"),
        log("menu", "menu"),
        play("menu"),
    ]
    run.on_prompt_finished(t + 12)
    assert run.on_digit("1", t + 14) == [
        log("accounting", "set", digit="1"),
        SetTag("topic", "accounting"),
        log("q_accounting", "queue"),
        Enqueue(11),
        StartMusic("moh"),
    ]
    assert run.on_wait_estimate(45, 1, False, t + 14) == [
        play("ewt_intro", Duration(45), "position_intro", Number(1), barge_in=False)
    ]
    assert run.on_answered(t + 40) == [StopPlayback()]
    assert run.on_operator_hung_up(t + 400) == [log("survey", "survey"), play("survey")]
    assert run.on_digit("5", t + 402) == [
        StopPlayback(),
        SurveyAnswered(5),
        log("thanks", "play", digit="5"),
        play("thanks"),
    ]
    assert run.on_prompt_finished(t + 405) == [log("end", "hangup"), Hangup(HangupReason.FLOW)]
    assert run.tags == {"topic": "accounting"}


def test_virtual_secretary_silent_caller_reaches_the_operator() -> None:
    run = validate(virtual_secretary_flow(11, 12, 13), {11, 12, 13})
    t = MONDAY_NOON
    run.start(t)
    run.on_prompt_finished(t + 6)
    run.on_prompt_finished(t + 12)
    assert run.on_timer(t + 17) == [play("invalid", "menu")]
    run.on_prompt_finished(t + 25)
    assert run.on_timer(t + 30) == [play("invalid", "menu")]
    run.on_prompt_finished(t + 38)
    assert run.on_timer(t + 43) == [
        log("operator", "set"),
        SetTag("topic", "general"),
        log("q_general", "queue"),
        Enqueue(13),
        StartMusic("moh"),
    ]


@pytest.mark.parametrize(("now", "branch"), [(MONDAY_NIGHT, "closed"), (NEW_YEAR, "holiday")])
def test_virtual_secretary_after_hours_takes_a_message_and_a_callback_request(
    now: float, branch: str
) -> None:
    run = validate(virtual_secretary_flow(11, 12, 13), {11, 12, 13})
    run.start(now)
    assert run.on_digit("1", now + 1) == [  # pressed during the greeting: must not skip
        StopPlayback(),
        log("hours", "hours", branch=branch),
        log("after_hours", "play"),
        play("after_hours", barge_in=False),
    ]
    assert run.on_prompt_finished(now + 8) == [
        log("voicemail", "voicemail"),
        play("voicemail", barge_in=False),
    ]
    assert run.on_prompt_finished(now + 11) == [StartVoicemail(120)]
    assert run.on_digit("#", now + 40) == [StopVoicemail(), play("callback_confirm")]
    assert run.on_digit("1", now + 42) == [
        StopPlayback(),
        CallbackRequested(CALLER),
        log("thanks", "play", digit="1"),
        play("thanks"),
    ]


def test_shop_queue_offers_a_callback_that_keeps_the_place() -> None:
    run = validate(shop_flow(21), {21})
    t = MONDAY_NOON
    run.start(t)
    assert run.on_prompt_finished(t + 5) == [
        log("hours", "hours", branch="open"),
        log("sales", "queue"),
        Enqueue(21),
        StartMusic("moh"),
    ]
    # Routing's AnnounceWait on entry: 4 minutes > the 180 s threshold.
    assert run.on_wait_estimate(240, 6, True, t + 5) == [
        play("ewt_intro", Duration(240), "position_intro", Number(6), "callback_offer")
    ]
    assert run.on_prompt_finished(t + 15) == [StartMusic("moh")]
    assert run.next_deadline() == t + 65
    assert run.on_digit("1", t + 20) == [
        StopPlayback(),
        RequestCallback(21),
        log("callback_accepted", "play", digit="1"),
        play("callback_accepted"),
    ]
    assert run.on_prompt_finished(t + 24) == [log("end", "hangup"), Hangup(HangupReason.FLOW)]


def test_shop_after_hours_voicemail() -> None:
    run = validate(shop_flow(21), {21})
    run.start(MONDAY_NIGHT)
    assert run.on_prompt_finished(MONDAY_NIGHT + 5) == [
        log("hours", "hours", branch="closed"),
        log("after_hours", "play"),
        play("after_hours", barge_in=False),
    ]
