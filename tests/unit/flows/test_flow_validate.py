"""Flow validation: every problem at once, each with its path, node and a useful message."""

from __future__ import annotations

import copy
import pickle
from types import MappingProxyType
from typing import Any

import pytest
from flow_helpers import EXAMPLE, PROMPTS, QUEUES, ids, load

from hotline.core.flows import FlowError, FlowProblem, TransferKind, validate_flow
from hotline.core.flows.flow import (
    CallbackOfferNode,
    Flow,
    HangupNode,
    HoursNode,
    MenuNode,
    PlayNode,
    QueueNode,
    SetNode,
    SurveyNode,
    TransferNode,
    VoicemailNode,
)


def problems_of(document: object) -> list[FlowProblem]:
    with pytest.raises(FlowError) as caught:
        load(document)
    return caught.value.problems


def with_nodes(**changes: Any) -> dict[str, Any]:
    """EXAMPLE with nodes replaced (a value of None removes the node)."""
    document = copy.deepcopy(EXAMPLE)
    for node_id, node in changes.items():
        if node is None:
            del document["nodes"][node_id]
        else:
            document["nodes"][node_id] = node
    return document


def test_the_example_becomes_a_frozen_flow() -> None:
    flow = load(EXAMPLE)
    assert flow == Flow(
        "greet",
        {
            "greet": PlayNode("greet", "greeting", "main", barge_in=False),
            "main": HoursNode("main", "menu", "after_hours", "after_hours"),
            "menu": MenuNode(
                "menu",
                "menu",
                {"1": "accounting", "2": "cb", "0": "xfer"},
                5,
                2,
                "invalid",
                "xfer",
            ),
            "accounting": SetNode("accounting", "q_acc", topic="accounting"),
            "q_acc": QueueNode("q_acc", 3, 60, True, "moh", "survey", "bye"),
            "after_hours": VoicemailNode("after_hours", "after_hours", "bye", 120, True),
            "survey": SurveyNode("survey", "survey", "bye", 8),
            "bye": PlayNode("bye", "thanks", "end"),
            "end": HangupNode("end"),
            "xfer": TransferNode("xfer", TransferKind.NUMBER, "+74951234567"),
            # The callback waits in the queue of the declined branch.
            "cb": CallbackOfferNode("cb", "callback_offer", 3, "bye", "q_acc"),
        },
    )
    assert isinstance(flow.nodes, MappingProxyType)
    menu = flow.nodes["menu"]
    assert isinstance(menu, MenuNode)
    assert isinstance(menu.options, MappingProxyType)


def test_every_problem_is_reported_at_once_with_its_path() -> None:
    document = with_nodes(
        # schema: a bound, an unknown key, a wrong type
        menu={
            "type": "menu",
            "prompt": "menu",
            "options": {"1": "accounting", "2": "nowhere", "0": "xfer"},
            "timeout": 0,
            "colour": "red",
        },
        survey={"type": "survey", "prompt": "survey", "timeout": "8", "next": "bye"},
        # graph: a dangling next, a missing prompt and queue, a silent loop, an orphan
        accounting={"type": "set", "topic": "accounting", "next": "q_missing"},
        bye={"type": "play", "prompt": "goodbye", "next": "end"},
        q_acc={**EXAMPLE["nodes"]["q_acc"], "queue": 99},
        loop_a={"type": "play", "prompt": "thanks", "next": "loop_b"},
        loop_b={"type": "hours", "open": "loop_a", "closed": "loop_a"},
    )
    problems = problems_of(document)
    assert ids(problems) == [
        ("nodes.menu.timeout", "menu"),
        ("nodes.menu.colour", "menu"),
        ("nodes.survey.timeout", "survey"),
        ("nodes.menu.options.2", "menu"),
        ("nodes.accounting.next", "accounting"),
        ("nodes.q_acc.queue", "q_acc"),
        ("nodes.bye.prompt", "bye"),
        # reached only through the dangling references above
        ("nodes.q_acc", "q_acc"),
        ("nodes.survey", "survey"),
        ("nodes.cb", "cb"),
        ("nodes.loop_a", "loop_a"),
        ("nodes.loop_b", "loop_b"),
        ("nodes.loop_a", "loop_a"),
    ]
    messages = [problem.message for problem in problems]
    assert messages[0] == "Input should be greater than or equal to 1, got 0"
    assert messages[1].startswith("unknown key (expected one of: type, prompt, options, ")
    assert messages[2] == "Input should be a valid integer, got '8'"
    assert messages[3] == "menu points to 'nowhere', which is not a node"
    assert messages[4] == "accounting points to 'q_missing', which is not a node"
    assert messages[5] == "queue 99 does not exist"
    assert messages[6].startswith("uses prompt 'goodbye', which this hotline does not have")
    assert messages[7] == "is unreachable from start 'greet': link it or remove it"
    assert messages[12] == (
        "loops forever without waiting for the caller (loop_a -> loop_b -> loop_a: only play, "
        "set and hours nodes); route the loop through a menu or another node that waits"
    )
    # str() of the error lists them one per line, path first.
    error = FlowError(problems)
    assert str(error).splitlines()[0] == "nodes.menu.timeout: " + messages[0]


def test_start_must_exist() -> None:
    document = copy.deepcopy(EXAMPLE)
    document["start"] = "welcome"
    problems = problems_of(document)
    # Reachability is not judged without a start: every node would be "unreachable".
    assert ids(problems) == [("start", None)]
    assert problems[0].message == "start node 'welcome' is not a node"


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            {"main": {"type": "hours", "open": "menu", "closed": "closed_msg"}},
            [
                ("nodes.main.closed", "main", "main points to 'closed_msg', which is not a node"),
                (
                    "nodes.after_hours",
                    "after_hours",
                    "is unreachable from start 'greet': link it or remove it",
                ),
            ],
        ),
        (
            {"xfer": {"type": "transfer", "target": {"kind": "queue", "value": 42}}},
            [("nodes.xfer.target.value", "xfer", "queue 42 does not exist")],
        ),
        (
            {"cb": {**EXAMPLE["nodes"]["cb"], "next_declined": "bye"}},
            [
                (
                    "nodes.cb.queue",
                    "cb",
                    "is required unless next_declined is a queue node (the callback must "
                    "wait in some queue)",
                )
            ],
        ),
        (
            {"cb": {**EXAMPLE["nodes"]["cb"], "queue": 5}},
            [("nodes.cb.queue", "cb", "queue 5 does not exist")],
        ),
        (
            {"end": {"type": "play", "prompt": "thanks", "next": "end"}},
            [
                (
                    "nodes.end",
                    "end",
                    "loops forever without waiting for the caller (end -> end: only play, "
                    "set and hours nodes); route the loop through a menu or another node "
                    "that waits",
                )
            ],
        ),
        (
            {"menu": {"type": "menu", "prompt": "menu", "options": {}}},
            [
                (
                    "nodes.menu.options",
                    "menu",
                    'a menu needs at least one option, e.g. {"1": node_id}',
                )
            ]
            # the nodes only the menu led to are now unreachable
            + [
                (f"nodes.{n}", n, "is unreachable from start 'greet': link it or remove it")
                for n in ("accounting", "q_acc", "survey", "xfer", "cb")
            ],
        ),
    ],
)
def test_graph_problems(changes: dict[str, Any], expected: list[tuple[str, str, str]]) -> None:
    problems = problems_of(with_nodes(**changes))
    assert [(p.path, p.node, p.message) for p in problems] == expected


def test_standard_prompts_the_interpreter_plays_must_exist() -> None:
    missing = {"ewt_intro", "callback_offer", "callback_confirm", "moh"}
    with pytest.raises(FlowError) as caught:
        validate_flow(
            EXAMPLE,
            prompt_exists=lambda name: name in PROMPTS - missing,
            queue_exists=QUEUES.__contains__,
        )
    assert [(p.path, p.message.split(",")[0]) for p in caught.value.problems] == [
        ("nodes.q_acc.music", "uses the standard prompt 'moh'"),
        ("nodes.q_acc", "uses the standard prompt 'ewt_intro'"),
        ("nodes.q_acc.callback_offer", "uses the standard prompt 'callback_offer'"),
        ("nodes.after_hours.ask_callback", "uses the standard prompt 'callback_confirm'"),
        ("nodes.cb.prompt", "uses the standard prompt 'callback_offer'"),
    ]


def test_each_prompt_and_queue_is_asked_once() -> None:
    asked: list[object] = []

    def prompt_exists(name: str) -> bool:
        asked.append(name)
        return True

    def queue_exists(queue: int) -> bool:
        asked.append(queue)
        return True

    validate_flow(EXAMPLE, prompt_exists=prompt_exists, queue_exists=queue_exists)
    assert len(asked) == len(set(asked))
    assert 3 in asked
    assert {"greeting", "menu", "invalid", "moh", "ewt_intro", "callback_confirm"} <= set(asked)


def test_a_faulted_value_is_not_reported_twice() -> None:
    document = with_nodes(
        accounting={"type": "set", "topic": "accounting", "next": "Q-ACC"},
        bye={"type": "play", "prompt": "../etc/passwd", "next": "end"},
    )
    problems = problems_of(document)
    assert [(p.path, p.message) for p in problems] == [
        ("nodes.accounting.next", "'Q-ACC' is not a node id (1-64 characters of a-z, 0-9, _)"),
        (
            "nodes.bye.prompt",
            "'../etc/passwd' is not a prompt name (letters, digits, _ . -; not starting "
            "with . or -)",
        ),
    ]


def test_a_broken_node_still_leads_somewhere_for_reachability() -> None:
    # The menu fails its schema, but its options still count as links: no node behind it
    # is reported unreachable.
    menu = {**EXAMPLE["nodes"]["menu"], "retries": 10}
    problems = problems_of(with_nodes(menu=menu))
    assert ids(problems) == [("nodes.menu.retries", "menu")]


def test_not_an_object() -> None:
    problems = problems_of(["start", "nodes"])
    assert [(p.path, p.node, p.message) for p in problems] == [
        ("", None, "expected an object with start and nodes, got array")
    ]


def test_top_level_problems() -> None:
    problems = problems_of({"start": "a", "nodes": [], "version": 2})
    assert [(p.path, p.message) for p in problems] == [
        ("nodes", "Input should be a valid dictionary, got array"),
        ("version", "unknown key (expected one of: start, nodes)"),
    ]
    problems = problems_of({"nodes": {"a": {"type": "hangup"}}})
    assert [(p.path, p.message) for p in problems] == [("start", "is required")]


def test_flow_error_pickles() -> None:
    problems = problems_of(with_nodes(bye=None))
    error = pickle.loads(pickle.dumps(FlowError(problems)))  # noqa: S301 - our own bytes
    assert error.problems == problems
    assert str(error) == str(FlowError(problems))
