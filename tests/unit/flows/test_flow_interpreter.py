"""The flow interpreter, node by node, as timelines in virtual time (STYLE §15).

Each test drives one `FlowRun` with the reports call control would make and asserts the
exact action list each report returns, and the deadline the driver would arm.
"""

from __future__ import annotations

from typing import Any

import pytest
from flow_helpers import CALLER, load, log, make_run, play

from hotline.core.flows import FlowRun, FlowRunError, HangupReason, Phase, TransferKind
from hotline.core.flows.actions import (
    CallbackRequested,
    Duration,
    Enqueue,
    Hangup,
    Number,
    RequestCallback,
    RequestWaitEstimate,
    SetTag,
    StartMusic,
    StartVoicemail,
    StopPlayback,
    StopVoicemail,
    SurveyAnswered,
    Transfer,
)
from hotline.core.flows.flow import Flow, HangupNode, SetNode
from hotline.core.hours import BusinessHours

END: dict[str, Any] = {"type": "hangup"}
BYE: dict[str, Any] = {"type": "play", "prompt": "thanks", "next": "end"}
HANGUP = Hangup(HangupReason.FLOW)


def menu_nodes(**menu: Any) -> dict[str, Any]:
    nodes = {
        "menu": {
            "type": "menu",
            "prompt": "menu",
            "options": {"1": "sales", "0": "bye"},
            "timeout": 5,
            "retries": 2,
            "invalid_prompt": "invalid",
            **menu,
        },
        "sales": {"type": "set", "topic": "sales", "next": "bye"},
        "bye": BYE,
        "end": END,
    }
    if menu.get("on_failure") == "fallback":
        nodes["fallback"] = {"type": "play", "prompt": "callback_offer", "next": "bye"}
    return nodes


SURVEY_NODES: dict[str, Any] = {
    "survey": {"type": "survey", "prompt": "survey", "timeout": 8, "next": "bye"},
    "bye": BYE,
    "end": END,
}


def queue_nodes(**queue: Any) -> dict[str, Any]:
    return {
        "q": {
            "type": "queue",
            "queue": 3,
            "announce_every": 60,
            "callback_offer": True,
            "next_after_call": "survey",
            "next_after_callback": "cb_ok",
            **queue,
        },
        "survey": {"type": "survey", "prompt": "survey", "timeout": 8, "next": "bye"},
        "cb_ok": {"type": "play", "prompt": "callback_accepted", "next": "end"},
        "bye": BYE,
        "end": END,
    }


def voicemail_nodes(**voicemail: Any) -> dict[str, Any]:
    return {
        "vm": {
            "type": "voicemail",
            "prompt": "after_hours",
            "max_seconds": 120,
            "ask_callback": True,
            "next": "bye",
            **voicemail,
        },
        "bye": BYE,
        "end": END,
    }


# --- play, set, hangup, transfer ---------------------------------------------------------


def test_play_then_hangup() -> None:
    run = make_run({"greet": {"type": "play", "prompt": "greeting", "next": "end"}, "end": END})
    assert run.start(0) == [log("greet", "play"), play("greeting")]
    assert (run.node, run.phase, run.next_deadline(), run.finished) == (
        "greet",
        Phase.PROMPT,
        None,
        False,
    )
    assert run.on_prompt_finished(3.2) == [log("end", "hangup"), HANGUP]
    assert run.finished
    assert run.next_deadline() is None


def test_play_barge_in_skips_the_rest_of_the_prompt() -> None:
    run = make_run({"greet": {"type": "play", "prompt": "greeting", "next": "end"}, "end": END})
    run.start(0)
    assert run.on_digit("5", 1.0) == [StopPlayback(), log("end", "hangup"), HANGUP]


def test_play_without_barge_in_ignores_digits() -> None:
    nodes = {"greet": {"type": "play", "prompt": "greeting", "next": "end", "barge_in": False}}
    run = make_run({**nodes, "end": END})
    assert run.start(0) == [log("greet", "play"), play("greeting", barge_in=False)]
    assert run.on_digit("5", 1.0) == []
    assert run.on_prompt_finished(3.2) == [log("end", "hangup"), HANGUP]


def test_digit_pressed_during_the_greeting_is_kept_for_the_menu() -> None:
    # Rule 3: a caller who knows the menu presses 1 during the greeting.
    nodes = {
        "greet": {"type": "play", "prompt": "greeting", "next": "check"},
        "check": {"type": "hours", "open": "menu", "closed": "end"},
        **menu_nodes(),
    }
    run = make_run(nodes)
    run.start(0)
    assert run.on_digit("1", 1.0) == [
        StopPlayback(),
        log("check", "hours", branch="open"),
        log("menu", "menu"),
        log("sales", "set", digit="1"),
        SetTag("topic", "sales"),
        log("bye", "play"),
        play("thanks"),
    ]


def test_set_tags_and_switches_the_prompt_language() -> None:
    nodes = {
        "tag": {
            "type": "set",
            "topic": "billing",
            "source": "ad_campaign",
            "language": "en",
            "next": "bye",
        },
        "bye": BYE,
        "end": END,
    }
    run = make_run(nodes, language="ru")
    assert run.start(0) == [
        log("tag", "set"),
        SetTag("topic", "billing"),
        SetTag("source", "ad_campaign"),
        SetTag("language", "en"),
        log("bye", "play"),
        play("thanks", language="en"),
    ]
    assert run.tags == {"topic": "billing", "source": "ad_campaign", "language": "en"}
    assert run.language == "en"


@pytest.mark.parametrize(
    ("kind", "value"),
    [("number", "+74951234567"), ("queue", "7"), ("hotline", "matryoshka-support")],
)
def test_transfer_hands_the_call_over_and_finishes(kind: str, value: str) -> None:
    run = make_run({"x": {"type": "transfer", "target": {"kind": kind, "value": value}}})
    assert run.start(0) == [log("x", "transfer"), Transfer(TransferKind(kind), value)]
    assert run.finished
    assert run.on_digit("1", 1) == []
    assert run.on_caller_hung_up(2) == []


# --- menu --------------------------------------------------------------------------------


def test_menu_collects_a_digit_after_the_prompt() -> None:
    run = make_run(menu_nodes())
    assert run.start(0) == [log("menu", "menu"), play("menu")]
    assert run.on_prompt_finished(3.2) == []
    assert run.next_deadline() == pytest.approx(8.2)
    assert run.on_timer(8.0) == []  # early: nothing happens
    assert run.on_digit("1", 4.0) == [
        log("sales", "set", digit="1"),
        SetTag("topic", "sales"),
        log("bye", "play"),
        play("thanks"),
    ]
    assert run.next_deadline() is None


def test_menu_retries_on_silence_and_wrong_digits_then_takes_the_failure_branch() -> None:
    run = make_run(menu_nodes(on_failure="fallback"))
    run.start(0)
    run.on_prompt_finished(3.2)
    # 1st miss: silence -> invalid prompt, then the menu again.
    assert run.on_timer(8.2) == [play("invalid", "menu")]
    assert run.next_deadline() is None  # the timeout restarts when the replay ends
    assert run.on_prompt_finished(12.0) == []
    assert run.next_deadline() == pytest.approx(17.0)
    # 2nd miss: a digit that is no option.
    assert run.on_digit("7", 13.0) == [play("invalid", "menu")]
    run.on_prompt_finished(16.0)
    # 3rd miss: retries (2) are used up -> on_failure.
    assert run.on_timer(21.0) == [log("fallback", "play"), play("callback_offer")]


def test_menu_without_failure_branch_hangs_up() -> None:
    run = make_run(menu_nodes(retries=0))
    run.start(0)
    run.on_prompt_finished(3)
    assert run.on_digit("9", 4) == [Hangup(HangupReason.MENU_FAILED)]
    assert run.finished


def test_menu_replays_without_invalid_prompt_when_none_is_set() -> None:
    nodes = menu_nodes()
    del nodes["menu"]["invalid_prompt"]
    run = make_run(nodes)
    run.start(0)
    run.on_prompt_finished(3)
    assert run.on_timer(8) == [play("menu")]


def test_menu_barge_in_stops_the_prompt() -> None:
    run = make_run(menu_nodes())
    run.start(0)
    assert run.on_digit("0", 1.5) == [
        StopPlayback(),
        log("bye", "play", digit="0"),
        play("thanks"),
    ]


def test_menu_barge_in_with_a_wrong_digit_replays() -> None:
    run = make_run(menu_nodes())
    run.start(0)
    assert run.on_digit("8", 1.5) == [StopPlayback(), play("invalid", "menu")]


def test_menu_without_barge_in_ignores_digits_during_the_prompt() -> None:
    run = make_run(menu_nodes(barge_in=False))
    assert run.start(0) == [log("menu", "menu"), play("menu", barge_in=False)]
    assert run.on_digit("1", 1.5) == []
    assert run.on_prompt_finished(3) == []
    assert run.on_digit("0", 4) == [log("bye", "play", digit="0"), play("thanks")]


# --- queue -------------------------------------------------------------------------------


def test_queue_announces_the_wait_and_offers_a_callback() -> None:
    run = make_run(queue_nodes())
    assert run.start(0) == [log("q", "queue"), Enqueue(3), StartMusic("moh")]
    assert run.next_deadline() == 60
    # Routing's AnnounceWait on entry: EWT 200.4 s > threshold, so it offers a callback.
    assert run.on_wait_estimate(200.4, 4, True, 0.1) == [
        play("ewt_intro", Duration(201), "position_intro", Number(4), "callback_offer")
    ]
    assert run.on_prompt_finished(9) == [StartMusic("moh")]
    assert run.on_timer(60) == [RequestWaitEstimate()]
    assert run.next_deadline() == 120
    # Shorter now: no offer, and the announcement cannot be interrupted.
    assert run.on_wait_estimate(95, 2, False, 60.2) == [
        play("ewt_intro", Duration(95), "position_intro", Number(2), barge_in=False)
    ]
    assert run.on_digit("1", 62) == []  # the offer is withdrawn
    assert run.on_prompt_finished(66) == [StartMusic("moh")]
    assert run.on_answered(70) == [StopPlayback()]
    assert (run.phase, run.next_deadline()) == (Phase.CONNECTED, None)
    assert run.on_digit("1", 80) == []  # digits during the conversation are not ours
    assert run.on_wait_estimate(10, 1, True, 81) == []
    assert run.on_operator_hung_up(300) == [log("survey", "survey"), play("survey")]


def test_caller_accepts_the_callback_during_the_announcement() -> None:
    run = make_run(queue_nodes())
    run.start(0)
    run.on_wait_estimate(400, 9, True, 0.1)
    assert run.on_digit("1", 5) == [
        StopPlayback(),
        RequestCallback(3),
        log("cb_ok", "play", digit="1"),
        play("callback_accepted"),
    ]
    assert run.next_deadline() is None
    assert run.on_prompt_finished(8) == [log("end", "hangup"), HANGUP]


def test_caller_accepts_the_callback_after_the_announcement_ended() -> None:
    run = make_run(queue_nodes())
    run.start(0)
    run.on_wait_estimate(400, 9, True, 0.1)
    run.on_prompt_finished(9)
    assert run.on_digit("2", 10) == []
    assert run.on_digit("1", 12) == [
        StopPlayback(),  # the music
        RequestCallback(3),
        log("cb_ok", "play", digit="1"),
        play("callback_accepted"),
    ]


def test_queue_without_callback_offer_never_offers() -> None:
    nodes = queue_nodes(callback_offer=False)
    run = make_run(nodes)
    run.start(0)
    assert run.on_wait_estimate(400, 9, True, 0.1) == [
        play("ewt_intro", Duration(400), "position_intro", Number(9), barge_in=False)
    ]
    assert run.on_digit("1", 3) == []


@pytest.mark.parametrize(
    ("ewt", "position", "items"),
    [
        (None, 3, ("position_intro", Number(3))),
        (-1.0, 3, ("position_intro", Number(3))),  # RoutingEngine's "unknown"
        (float("nan"), None, ()),
        (30.0, None, ("ewt_intro", Duration(30))),
        (None, 0, ()),
    ],
)
def test_announcement_says_only_what_is_known(
    ewt: float | None, position: int | None, items: tuple[Any, ...]
) -> None:
    run = make_run(queue_nodes())
    run.start(0)
    expected = [play(*items, barge_in=False)] if items else []
    assert run.on_wait_estimate(ewt, position, False, 1) == expected


def test_queue_without_announce_every_only_announces_on_entry() -> None:
    run = make_run(queue_nodes(announce_every=None))
    run.start(0)
    assert run.next_deadline() is None


def test_operator_hangs_up_and_the_queue_has_no_next_after_call() -> None:
    nodes = queue_nodes()
    del nodes["q"]["next_after_call"]
    del nodes["survey"]
    nodes["q"]["next_after_callback"] = "bye"
    del nodes["cb_ok"]
    run = make_run(nodes)
    run.start(0)
    run.on_answered(10)
    assert run.on_operator_hung_up(100) == [Hangup(HangupReason.OPERATOR_HUNG_UP)]


# --- voicemail ---------------------------------------------------------------------------


def test_voicemail_with_callback_request() -> None:
    run = make_run(voicemail_nodes())
    assert run.start(0) == [log("vm", "voicemail"), play("after_hours", barge_in=False)]
    assert run.on_digit("#", 1) == []  # the prompt cannot be skipped
    assert run.on_prompt_finished(5) == [StartVoicemail(120)]
    assert run.next_deadline() == 125
    assert run.on_digit("3", 20) == []
    assert run.on_digit("#", 30) == [StopVoicemail(), play("callback_confirm")]
    assert run.on_prompt_finished(33) == []
    assert run.next_deadline() == 38
    assert run.on_digit("1", 34) == [
        CallbackRequested(CALLER),
        log("bye", "play", digit="1"),
        play("thanks"),
    ]


def test_voicemail_ends_at_max_seconds_and_the_callback_is_declined_by_silence() -> None:
    run = make_run(voicemail_nodes(max_seconds=60))
    run.start(0)
    run.on_prompt_finished(5)
    assert run.on_timer(65) == [StopVoicemail(), play("callback_confirm")]
    run.on_prompt_finished(68)
    assert run.on_timer(73) == [log("bye", "play"), play("thanks")]


def test_voicemail_callback_barge_in_and_decline() -> None:
    run = make_run(voicemail_nodes())
    run.start(0)
    run.on_prompt_finished(5)
    run.on_digit("#", 30)
    assert run.on_digit("2", 31) == [StopPlayback(), log("bye", "play", digit="2"), play("thanks")]


def test_recording_ended_by_call_control_without_callback_question() -> None:
    run = make_run(voicemail_nodes(ask_callback=False))
    run.start(0)
    assert run.on_recording_finished(3) == []  # not recording yet
    run.on_prompt_finished(5)
    assert run.on_recording_finished(50) == [log("bye", "play"), play("thanks")]


def test_caller_hangs_up_while_recording_keeps_the_message() -> None:
    run = make_run(voicemail_nodes())
    run.start(0)
    run.on_prompt_finished(5)
    assert run.on_caller_hung_up(40) == [
        StopVoicemail(),
        log("vm", "voicemail", event="caller_hung_up"),
    ]
    assert run.finished
    assert run.next_deadline() is None
    assert run.on_timer(125) == []


# --- survey ------------------------------------------------------------------------------


def test_survey_after_the_call() -> None:
    run = make_run(queue_nodes())
    run.start(0)
    run.on_answered(10)
    assert run.on_operator_hung_up(200) == [log("survey", "survey"), play("survey")]
    assert run.on_digit("9", 201) == []  # not a score: the prompt goes on
    assert run.on_digit("4", 202) == [
        StopPlayback(),
        SurveyAnswered(4),
        log("bye", "play", digit="4"),
        play("thanks"),
    ]


def test_survey_timeout_goes_on_without_a_score() -> None:
    run = make_run(SURVEY_NODES)
    run.start(0)
    run.on_prompt_finished(4)
    assert run.next_deadline() == 12
    assert run.on_digit("0", 5) == []
    assert run.on_timer(12) == [log("bye", "play"), play("thanks")]


def test_survey_score_after_the_prompt() -> None:
    run = make_run(SURVEY_NODES)
    run.start(0)
    run.on_prompt_finished(4)
    assert run.on_digit("5", 6) == [
        SurveyAnswered(5),
        log("bye", "play", digit="5"),
        play("thanks"),
    ]


# --- callback_offer node -----------------------------------------------------------------


def cb_nodes(**offer: Any) -> dict[str, Any]:
    return {
        "cb": {
            "type": "callback_offer",
            "prompt": "callback_offer",
            "accept_digit": "1",
            "next_declined": "q",
            "next_accepted": "bye",
            **offer,
        },
        "q": {"type": "queue", "queue": 2},
        "bye": BYE,
        "end": END,
    }


def test_callback_offer_node_accepted_for_the_declined_branch_queue() -> None:
    run = make_run(cb_nodes())
    assert run.start(0) == [log("cb", "callback_offer"), play("callback_offer")]
    run.on_prompt_finished(4)
    assert run.next_deadline() == 9
    assert run.on_digit("1", 5) == [
        RequestCallback(2),
        log("bye", "play", digit="1"),
        play("thanks"),
    ]


def test_callback_offer_node_with_its_own_queue_declined_by_another_digit() -> None:
    run = make_run(cb_nodes(queue=7))
    run.start(0)
    assert run.on_digit("2", 1) == [
        StopPlayback(),
        log("q", "queue", digit="2"),
        Enqueue(2),
        StartMusic("moh"),
    ]


def test_callback_offer_node_declined_by_silence() -> None:
    run = make_run(cb_nodes(queue=7, accept_digit=9))
    run.start(0)
    run.on_prompt_finished(4)
    assert run.on_timer(9) == [log("q", "queue"), Enqueue(2), StartMusic("moh")]


# --- caller hangs up, misuse, restore ------------------------------------------------------


def test_caller_hangs_up_in_the_menu() -> None:
    run = make_run(menu_nodes())
    run.start(0)
    run.on_prompt_finished(3)
    assert run.on_caller_hung_up(4) == [log("menu", "menu", event="caller_hung_up")]
    assert run.finished
    for report in (run.on_prompt_finished, run.on_timer, run.on_answered, run.on_caller_hung_up):
        assert report(10) == []
    assert run.on_digit("1", 10) == []
    assert run.on_wait_estimate(1, 1, True, 10) == []


def test_caller_hangs_up_before_start() -> None:
    run = make_run(menu_nodes())
    assert run.on_caller_hung_up(0) == []
    assert run.finished


def test_reports_before_start_do_nothing() -> None:
    run = make_run(menu_nodes())
    assert run.on_digit("1", 0) == []
    assert run.on_prompt_finished(0) == []
    assert run.phase is Phase.NEW


def test_misuse_raises() -> None:
    run = make_run(menu_nodes())
    run.start(0)
    with pytest.raises(FlowRunError, match="called twice"):
        run.start(1)
    with pytest.raises(FlowRunError, match="digit must be one of"):
        run.on_digit("12", 1)


def test_a_run_restored_from_its_state_goes_on_identically() -> None:
    flow = load({"start": "q", "nodes": queue_nodes()})
    hours = BusinessHours.always_open("Europe/Moscow")
    original = FlowRun(flow, hours=hours, language="en", caller=CALLER)
    original.start(0)
    original.on_wait_estimate(400, 9, True, 0.1)
    restored = FlowRun.restore(flow, original.state, hours=hours)
    for run in (original, restored):
        assert run.on_digit("1", 5) == [
            StopPlayback(),
            RequestCallback(3),
            log("cb_ok", "play", digit="1"),
            play("callback_accepted", language="en"),
        ]
    assert original.state == restored.state


# --- loop guard --------------------------------------------------------------------------


def test_loop_guard_on_a_hand_built_flow() -> None:
    # Validation refuses this loop; a Flow built by hand still cannot spin forever.
    nodes = {"a": SetNode("a", "b", topic="x"), "b": SetNode("b", "a", topic="y")}
    run = FlowRun(
        Flow("a", {**nodes, "end": HangupNode("end")}),
        hours=BusinessHours.always_open("UTC"),
        language="ru",
        caller=CALLER,
    )
    actions = run.start(0)
    assert actions[-1] == Hangup(HangupReason.FLOW_LOOP)
    assert sum(1 for a in actions if a.__class__.__name__ == "LogIvr") == 100
    assert run.finished


def test_loop_guard_on_a_menu_that_fails_into_itself() -> None:
    nodes = menu_nodes(retries=0, on_failure="again")
    nodes["again"] = {"type": "play", "prompt": "invalid", "next": "menu"}
    run = make_run(nodes)
    now = 0.0
    actions = run.start(now)
    entries = 1
    while not run.finished:
        now += 1
        deadline = run.next_deadline()
        out = run.on_timer(deadline) if deadline is not None else run.on_prompt_finished(now)
        entries += sum(1 for a in out if a.__class__.__name__ == "LogIvr")
        actions = out
    assert actions == [Hangup(HangupReason.FLOW_LOOP)]
    assert entries == 100


def test_a_digit_resets_the_loop_guard() -> None:
    nodes = menu_nodes(retries=0, on_failure="again")
    nodes["again"] = {"type": "play", "prompt": "invalid", "next": "menu"}
    run = make_run(nodes)
    run.start(0)
    for step in range(1, 300):
        if step % 50 == 0:
            run.on_digit("7", step)  # wrong digit: still failing, but the caller is there
        elif (deadline := run.next_deadline()) is not None:
            run.on_timer(deadline)
        else:
            run.on_prompt_finished(step)
    assert not run.finished
