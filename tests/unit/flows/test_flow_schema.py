"""The flow document's shape: bounds, strict types, unknown keys, and the JSON Schema."""

from __future__ import annotations

from typing import Any

import pytest
from flow_helpers import load

from hotline.core.flows import FlowError, flow_json_schema
from hotline.core.flows.demo import shop_flow, virtual_secretary_flow
from hotline.core.flows.flow import MenuNode


def single(node: dict[str, Any]) -> dict[str, Any]:
    """A document whose start node is ``node``, with every target it may name."""
    return {
        "start": "x",
        "nodes": {
            "x": node,
            "a": {"type": "play", "prompt": "thanks", "next": "end"},
            "end": {"type": "hangup"},
        },
    }


def problems(node: dict[str, Any]) -> list[tuple[str, str]]:
    """(path, message) of every problem, leaving out the test's own unreachable nodes."""
    with pytest.raises(FlowError) as caught:
        load(single(node))
    return [(p.path, p.message) for p in caught.value.problems if "unreachable" not in p.message]


MENU: dict[str, Any] = {"type": "menu", "prompt": "menu", "options": {"1": "a"}}
QUEUE: dict[str, Any] = {"type": "queue", "queue": 1, "next_after_call": "a"}
VOICEMAIL: dict[str, Any] = {"type": "voicemail", "prompt": "voicemail", "next": "a"}
SURVEY: dict[str, Any] = {"type": "survey", "prompt": "survey", "next": "a"}


@pytest.mark.parametrize(
    ("node", "path", "message"),
    [
        ({**MENU, "timeout": 0}, "nodes.x.timeout", "Input should be greater than or equal to 1"),
        ({**MENU, "timeout": 61}, "nodes.x.timeout", "Input should be less than or equal to 60"),
        ({**MENU, "retries": -1}, "nodes.x.retries", "Input should be greater than or equal to 0"),
        ({**MENU, "retries": 10}, "nodes.x.retries", "Input should be less than or equal to 9"),
        ({**SURVEY, "timeout": 61}, "nodes.x.timeout", "Input should be less than or equal to 60"),
        ({**VOICEMAIL, "max_seconds": 4}, "nodes.x.max_seconds", "greater than or equal to 5"),
        ({**VOICEMAIL, "max_seconds": 601}, "nodes.x.max_seconds", "less than or equal to 600"),
        ({**QUEUE, "announce_every": 19}, "nodes.x.announce_every", "greater than or equal to 20"),
        ({**QUEUE, "announce_every": 3601}, "nodes.x.announce_every", "less than or equal to 3600"),
        ({**QUEUE, "queue": 0}, "nodes.x.queue", "greater than or equal to 1"),
    ],
)
def test_numbers_are_bounded(node: dict[str, Any], path: str, message: str) -> None:
    [(got_path, got_message)] = problems(node)
    assert got_path == path
    assert message in got_message


@pytest.mark.parametrize(
    ("node", "value"),
    [
        ({**MENU, "timeout": 1}, 1),
        ({**MENU, "timeout": 60}, 60),
        ({**MENU, "retries": 0}, 0),
        ({**MENU, "retries": 9}, 9),
    ],
)
def test_bounds_are_inclusive(node: dict[str, Any], value: int) -> None:
    menu = load(single(node)).nodes["x"]
    assert isinstance(menu, MenuNode)
    assert value in (menu.timeout, menu.retries)


def test_announce_every_may_be_null() -> None:
    load(single({**QUEUE, "announce_every": None}))


@pytest.mark.parametrize(
    ("node", "path", "message"),
    [
        ({**MENU, "timeout": "5"}, "nodes.x.timeout", "Input should be a valid integer, got '5'"),
        ({**MENU, "timeout": 5.5}, "nodes.x.timeout", "Input should be a valid integer, got 5.5"),
        ({**MENU, "barge_in": 1}, "nodes.x.barge_in", "Input should be a valid boolean, got 1"),
        ({**QUEUE, "queue": True}, "nodes.x.queue", "Input should be a valid integer, got True"),
        ({**MENU, "prompt": 5}, "nodes.x.prompt", "Input should be a valid string, got 5"),
    ],
)
def test_types_are_strict(node: dict[str, Any], path: str, message: str) -> None:
    assert problems(node) == [(path, message)]


def test_unknown_keys_are_refused_with_the_known_ones() -> None:
    assert problems({"type": "hangup", "prompt": "thanks"}) == [
        ("nodes.x.prompt", "unknown key (expected one of: type)")
    ]
    transfer = {"type": "transfer", "target": {"kind": "number", "value": "112", "via": "sip"}}
    assert problems(transfer) == [
        ("nodes.x.target.via", "unknown key (expected one of: kind, value)")
    ]


def test_node_type_must_be_known_and_present() -> None:
    assert problems({"type": "goto", "next": "a"}) == [
        (
            "nodes.x.type",
            "unknown node type 'goto' (expected one of: play, menu, hours, set, queue, "
            "voicemail, survey, transfer, callback_offer, hangup)",
        )
    ]
    assert problems({"next": "a"})[0][0] == "nodes.x.type"
    assert problems([]) == [("nodes.x", "a node must be an object with a type, got array")]  # type: ignore[arg-type]


def test_node_ids_and_digits() -> None:
    document = single({**MENU, "options": {"1": "a", "x": "a", "12": "a", "*": "a"}})
    document["nodes"]["Main-Menu"] = {"type": "hangup"}
    with pytest.raises(FlowError) as caught:
        load(document)
    assert [(p.path, p.node, p.message) for p in caught.value.problems][:3] == [
        ("nodes.x.options.x", "x", "'x' is not a digit (one of 0-9, *, #)"),
        ("nodes.x.options.12", "x", "'12' is not a digit (one of 0-9, *, #)"),
        (
            "nodes.Main-Menu",
            "Main-Menu",
            "'Main-Menu' is not a node id (1-64 characters of a-z, 0-9, _)",
        ),
    ]
    # Long values are shortened in messages.
    assert problems({**MENU, "options": {"1": "a" * 65}})[0] == (
        "nodes.x.options.1",
        "'" + "a" * 56 + "... is not a node id (1-64 characters of a-z, 0-9, _)",
    )


def test_yaml_integer_digits_are_accepted() -> None:
    flow = load(single({**MENU, "options": {1: "a", 0: "end"}, "on_failure": "a"}))
    menu = flow.nodes["x"]
    assert isinstance(menu, MenuNode)
    assert dict(menu.options) == {"1": "a", "0": "end"}


@pytest.mark.parametrize(
    ("node", "path", "message"),
    [
        (
            {"type": "set", "next": "a"},
            "nodes.x",
            "a set node needs at least one of topic, source, language",
        ),
        (
            {"type": "set", "language": "russian", "next": "a"},
            "nodes.x.language",
            "String should match pattern '^[a-z]{2}(-[A-Z]{2})?$', got 'russian'",
        ),
        (
            {"type": "queue", "queue": 1, "callback_offer": True},
            "nodes.x",
            "callback_offer: true needs next_after_callback (the node that thanks the caller "
            "and hangs up)",
        ),
        (
            {"type": "transfer", "target": {"kind": "number", "value": "call me"}},
            "nodes.x.target",
            "value 'call me' is not a phone number: digits with an optional leading +",
        ),
        (
            {"type": "transfer", "target": {"kind": "queue", "value": "07"}},
            "nodes.x.target",
            "value '07' is not a queue id (decimal digits)",
        ),
        (
            {"type": "transfer", "target": {"kind": "fax", "value": "1"}},
            "nodes.x.target.kind",
            "Input should be 'queue', 'hotline' or 'number', got 'fax'",
        ),
    ],
)
def test_node_rules(node: dict[str, Any], path: str, message: str) -> None:
    assert problems(node) == [(path, message)]


def test_json_schema_describes_every_node_type() -> None:
    schema = flow_json_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["title"] == "Hotline IVR flow"
    assert schema["required"] == ["start", "nodes"]
    assert schema["additionalProperties"] is False
    nodes = schema["properties"]["nodes"]
    assert nodes["propertyNames"] == {"pattern": "^[a-z0-9_]{1,64}$"}
    [node_schema] = nodes["patternProperties"].values()
    assert set(node_schema["discriminator"]["mapping"]) == {
        "play",
        "menu",
        "hours",
        "set",
        "queue",
        "voicemail",
        "survey",
        "transfer",
        "callback_offer",
        "hangup",
    }
    menu = schema["$defs"]["MenuModel"]
    assert menu["properties"]["timeout"]["minimum"] == 1
    assert menu["properties"]["timeout"]["maximum"] == 60
    assert menu["properties"]["options"]["propertyNames"] == {"pattern": "^[0-9*#]$"}


def test_json_schema_accepts_the_demo_flows_and_refuses_bad_shapes() -> None:
    jsonschema_rs = pytest.importorskip("jsonschema_rs")
    validator = jsonschema_rs.validator_for(flow_json_schema())
    assert validator.is_valid(virtual_secretary_flow(1, 2, 3))
    assert validator.is_valid(shop_flow(1))
    bad = shop_flow(1)
    bad["nodes"]["greeting"]["timeout"] = 5  # type: ignore[index]
    assert not validator.is_valid(bad)
    bad = shop_flow(1)
    bad["nodes"]["Bad-Id"] = {"type": "hangup"}  # type: ignore[index]
    assert not validator.is_valid(bad)
