"""The engine is a function of its inputs, and its trace is data (STYLE §18).

1. A seeded, reactive workload (callers who hang up, operators who answer, decline or miss,
   take breaks) is run twice into fresh engines: the ``(now, event, commands)`` JSON lines
   are identical, also under other hash seeds, and replaying the events *read back from the
   JSON* into a fresh engine gives the same commands again.
2. A hypothesis state machine throws random sequences of arrivals, readies, breaks,
   accepts, declines, ends, abandons, callbacks, supervisors' moves between queues,
   saved wrap-ups and live configuration changes (queues and operators changed or
   retired, some requiring the wrap-up) at a small center and checks, from the commands
   alone, that nothing raises, offers go only to available operators, one interaction
   never rings at two operators, a required wrap-up left unsaved never ends on a timer
   in ``ready`` nor before its limit (engine Rule 8), and each interaction's log is well
   formed with exactly one terminal outcome once the center is drained.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import heapq
import json
import os
import random
import subprocess
import sys
import typing
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from hotline.core import events as ev
from hotline.core.commands import AnnounceWait, CancelOffer, Command, Log, Offer
from hotline.core.commands import OperatorStateChanged as StateChanged
from hotline.core.kpi.records import VisitFold
from hotline.core.model import Channel, EventType, OverflowAction, RoutingStrategy
from hotline.core.model import OperatorState as S
from hotline.core.routing.config import (
    REQUIRED_WRAP_UP_LIMIT_SECONDS,
    ExpansionStep,
    OperatorConfig,
    QueueConfig,
)
from hotline.core.routing.engine import RoutingConfigError, RoutingEngine
from hotline.core.routing.expr import parse_requirement

# -- a small center that uses every feature -------------------------------------------------

OFFER_TIMEOUT = 15.0
QUEUES = {
    q.id: q
    for q in [
        QueueConfig(
            1,
            1,
            steps=(
                ExpansionStep(0, parse_requirement("english >= 5")),
                ExpansionStep(20, parse_requirement("")),
            ),
            wrap_up_seconds=5,
            offer_timeout_seconds=OFFER_TIMEOUT,
            max_wait_seconds=120,
            overflow_action=OverflowAction.QUEUE,
            overflow_target="2",
        ),
        QueueConfig(
            2,
            1,
            priority=1,
            strategy=RoutingStrategy.RANDOM,
            offer_timeout_seconds=OFFER_TIMEOUT,
            callback_threshold_seconds=30,
        ),
        QueueConfig(
            3,
            1,
            channel=Channel.CHAT,
            strategy=RoutingStrategy.LEAST_OCCUPIED,
            offer_timeout_seconds=OFFER_TIMEOUT,
        ),
        QueueConfig(4, 1, split=((1, 3), (2, 1))),
        QueueConfig(
            5,
            1,
            strategy=RoutingStrategy.BEST_SKILL,
            steps=(ExpansionStep(0, parse_requirement("english")),),
            wrap_up_seconds=10,
            offer_timeout_seconds=OFFER_TIMEOUT,
            max_wait_seconds=60,
            overflow_action=OverflowAction.VOICEMAIL,
            overflow_target="mailbox",
        ),
        QueueConfig(
            6, 2, strategy=RoutingStrategy.ROUND_ROBIN, offer_timeout_seconds=OFFER_TIMEOUT
        ),
    ]
}
CALL, CHAT = Channel.CALL, Channel.CHAT
OPERATORS = {
    o.id: o
    for o in [
        OperatorConfig(1, frozenset({1, 2}), {"english": 7}),
        OperatorConfig(2, frozenset({1}), {}, {CALL: 1, CHAT: 2}),
        OperatorConfig(3, frozenset({1}), {"english": 3}, {CALL: 1, CHAT: 3}, True),
        OperatorConfig(4, frozenset({1, 2}), {}, {CALL: 1, CHAT: 2}),
    ]
}
ARRIVAL_QUEUES = (1, 2, 3, 4, 5, 6)


def channel_of(queue_id: int) -> Channel:
    return QUEUES[queue_id].channel


def new_engine(seed: int = 0) -> RoutingEngine:
    return RoutingEngine(QUEUES.values(), OPERATORS.values(), seed=seed)


# -- the trace as data ----------------------------------------------------------------------


def plain(value: Any) -> Any:
    """A dataclass (event or command) as JSON-ready data, its class under ``"class"``."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return {"class": type(value).__name__, **fields}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def trace_line(now: float, event: ev.Event | None, commands: list[Command]) -> str:
    step = {"now": now, "event": plain(event), "commands": [plain(c) for c in commands]}
    return json.dumps(step, sort_keys=True, allow_nan=False)


def event_from(data: dict[str, Any]) -> ev.Event:
    """The inverse of :func:`plain` for events: the class by name, enums by their type."""
    fields = dict(data)
    cls = getattr(ev, fields.pop("class"))
    hints = typing.get_type_hints(cls)
    for name, value in fields.items():
        hint = hints[name]
        if isinstance(hint, type) and issubclass(hint, enum.Enum):
            fields[name] = hint(value)
    return typing.cast(ev.Event, cls(**fields))


def simulate(seed: int, engine_seed: int = 0, duration: float = 1800.0) -> list[str]:
    """A reactive workload driven like ``hotline simulate``; returns the trace lines."""
    rng = random.Random(seed)
    engine = new_engine(engine_seed)
    pending: list[tuple[float, int, ev.Event]] = []
    order = iter(range(10**9))

    def later(at: float, event: ev.Event) -> None:
        heapq.heappush(pending, (at, next(order), event))

    for o in OPERATORS:
        later(rng.uniform(0, 30), ev.OperatorWentReady(o))
        later(rng.uniform(200, 400), ev.OperatorWentNotReady(o, "break"))
        later(rng.uniform(400, 500), ev.OperatorWentReady(o))
    t, iid = 0.0, 0
    while (t := t + rng.expovariate(1 / 15)) < duration:
        iid += 1
        queue_id = rng.choice(ARRIVAL_QUEUES)
        later(t, ev.InteractionArrived(iid, queue_id, channel_of(queue_id), rng.choice((0, 0, 1))))
        later(t + rng.expovariate(1 / 100), ev.CallerAbandoned(iid))

    def react(now: float, commands: list[Command]) -> None:
        for c in commands:
            if isinstance(c, Offer):
                luck = rng.random()
                if luck < 0.7:
                    later(
                        now + rng.uniform(1, 5), ev.OfferAccepted(c.interaction_id, c.operator_id)
                    )
                elif luck < 0.85:
                    later(now + 2, ev.OfferDeclined(c.interaction_id, c.operator_id))
            elif isinstance(c, AnnounceWait) and c.offer_callback and rng.random() < 0.3:
                later(now + 3, ev.CallbackAccepted(c.interaction_id, "+4930"))
            elif isinstance(c, Log) and c.type == "answered":
                talk = rng.expovariate(1 / 40)
                if rng.random() < 0.2:
                    later(now + talk / 3, ev.InteractionHeld(c.interaction_id))
                    later(now + talk / 2, ev.InteractionResumed(c.interaction_id))
                if rng.random() < 0.1 and c.data["queue_id"] != 3:  # chats stay put
                    later(now + talk, ev.InteractionTransferred(c.interaction_id, 2))
                else:
                    later(now + talk, ev.InteractionEnded(c.interaction_id))
            elif isinstance(c, StateChanged) and c.state == "wrap_up" and rng.random() < 0.2:
                later(now + 1, ev.WrapUpExtended(c.operator_id, 10))

    lines = []
    while True:
        deadline = engine.next_deadline()
        if pending and (deadline is None or pending[0][0] < deadline):
            now, _, event = heapq.heappop(pending)
            commands = engine.handle(event, now)
            lines.append(trace_line(now, event, commands))
        elif deadline is not None:
            now = deadline
            commands = engine.on_timer(now)
            lines.append(trace_line(now, None, commands))
        else:
            return lines
        react(now, commands)


def replay(lines: list[str], engine: RoutingEngine) -> list[str]:
    out = []
    for line in lines:
        step = json.loads(line)
        now, event = step["now"], step["event"]
        if event is None:
            out.append(trace_line(now, None, engine.on_timer(now)))
        else:
            decoded = event_from(event)
            out.append(trace_line(now, decoded, engine.handle(decoded, now)))
    return out


def digest(lines: list[str]) -> str:
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def kinds(lines: list[str]) -> set[str]:
    """Class names of the commands, with the event type of log lines (``Log:queued``)."""
    return {
        c["class"] + (":" + c["type"] if c["class"] == "Log" else "")
        for line in lines
        for c in json.loads(line)["commands"]
    }


def test_the_same_inputs_give_the_same_trace() -> None:
    first = simulate(seed=3)
    assert first == simulate(seed=3)
    assert len(first) > 300


def test_the_workload_exercises_every_command_and_log_line() -> None:
    logged = {f"Log:{t}" for t in EventType if t is not EventType.IVR}  # IVR: flows, not ACD
    commands = {"Offer", "CancelOffer", "AnnounceWait", "Divert", "OperatorStateChanged"}
    assert kinds(simulate(seed=3)) == logged | commands


def test_a_trace_read_back_from_json_replays_to_the_same_commands() -> None:
    lines = simulate(seed=2)
    assert replay(lines, new_engine()) == lines


def test_the_engine_seed_changes_random_routing() -> None:
    assert simulate(seed=1, engine_seed=1) == simulate(seed=1, engine_seed=1)
    assert simulate(seed=1, engine_seed=1) != simulate(seed=1, engine_seed=2)


def test_the_trusted_fold_gives_the_same_visits_as_the_checked_fold() -> None:
    """``VisitFold.add_trusted`` (the simulator's fast path) restates the rules of
    ``add``; over a log with every line type (transfers, holds, callbacks, misses,
    overflows) both must give the same visits, interaction by interaction."""
    by_interaction: dict[int, list[Log]] = {}
    for line in simulate(seed=3):
        for c in json.loads(line)["commands"]:
            if c["class"] == "Log":
                log = Log(c["interaction_id"], EventType(c["type"]), c["at"], c["data"])
                by_interaction.setdefault(log.interaction_id, []).append(log)
    assert len(by_interaction) > 100
    for iid, lines in by_interaction.items():
        checked, trusted = VisitFold(iid), VisitFold(iid)
        for log in lines:
            checked.add(log)
            trusted.add_trusted(log)
        assert trusted.visits() == checked.visits(), f"interaction {iid}"


def test_the_trace_does_not_depend_on_the_hash_seed() -> None:
    """Set iteration order must not leak into routing: another process, another hash seed."""
    result = subprocess.run(  # noqa: S603 - our interpreter, our file
        [sys.executable, str(Path(__file__))],
        env={**os.environ, "PYTHONHASHSEED": "4242"},
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert result.stdout.strip() == digest(simulate(seed=3))


if __name__ == "__main__":  # for the hash-seed test: print the digest of seed 3's trace
    print(digest(simulate(seed=3)))


# -- random sequences: the rules hold whatever happens ------------------------------------

TERMINAL = {"completed", "abandoned"}
#: what may follow each point of an interaction's life (transfers are not generated)
NEXT = {
    "start": {"arrived"},
    "arrived": {"queued"},
    "waiting": {"offered", "callback_requested", "abandoned", "overflowed", "transferred"},
    "overflowing": {"queued"},
    "moving": {"queued"},
    "offered": {"answered", "offer_timeout", "abandoned", "transferred"},
    "talking": {"held", "resumed", "wrap_up_started"},
    "wrapping": {"completed"},
    "done": set(),
}
AFTER = {
    "arrived": "arrived",
    "queued": "waiting",
    "callback_requested": "waiting",
    "offered": "offered",
    "offer_timeout": "waiting",
    "answered": "talking",
    "held": "talking",
    "resumed": "talking",
    "wrap_up_started": "wrapping",
    "completed": "done",
    "abandoned": "done",
    "transferred": "moving",  # a supervisor's move (operators' transfers are not generated)
}


class Observer:
    """Rebuilds the center from the commands alone and checks each against the rules."""

    def __init__(self) -> None:
        #: the configuration the engine was last given (a retired operator: no hotlines)
        self.queues = dict(CENTER)
        self.operators = dict(OPERATORS)
        self.state = dict.fromkeys(OPERATORS, S.OFFLINE)
        self.before_offer: dict[int, S] = {}
        self.ringing: dict[int, int] = {}  # interaction -> operator
        self.open: dict[int, dict[int, Channel]] = {o: {} for o in OPERATORS}
        self.channel: dict[int, Channel] = {}
        self.point: dict[int, str] = {}
        self.entered: dict[int, tuple[int, float]] = {}  # interaction -> (queue, since)
        self.callback: set[int] = set()
        self.outcomes: dict[int, list[str]] = {}
        self.last_at: dict[int, float] = {}
        self.pending: set[int] = set()  # operators with a break asked for while working
        #: interactions in wrap-up whose queue required it when the talk ended -> operator
        self.required: dict[int, int] = {}
        self.saved: set[int] = set()  # of those, the ones whose WrapUpCompleted was sent

    def see(self, now: float, commands: list[Command]) -> None:
        for c in commands:
            if isinstance(c, StateChanged):
                if c.state is S.RESERVED:
                    self.before_offer[c.operator_id] = self.state[c.operator_id]
                self.state[c.operator_id] = c.state
                if c.state in (S.NOT_READY, S.OFFLINE):
                    self.pending.discard(c.operator_id)
                assert (c.reason is not None) == (c.state is S.NOT_READY), c
            elif isinstance(c, Offer):
                self._offer(now, c)
            elif isinstance(c, CancelOffer):
                assert self.ringing.pop(c.interaction_id) == c.operator_id, c
            elif isinstance(c, Log):
                self._log(now, c)

    def _offer(self, now: float, c: Offer) -> None:
        iid, o = c.interaction_id, c.operator_id
        assert iid not in self.ringing, f"{iid} offered to {o} while ringing elsewhere"
        assert o not in self.ringing.values(), f"operator {o} offered two at once"
        assert self.state[o] is S.RESERVED and self.before_offer[o] in (S.READY, S.BUSY), c
        assert o not in self.pending, f"operator {o} offered work with a break due"
        assert self.fits(o, iid, now), f"{c} at {now}: not eligible, or no room ({self.open[o]})"
        queue, _since = self.entered[iid]
        assert c.queue_id == queue
        assert c.expires_at == now + self.queues[queue].offer_timeout_seconds
        assert c.callback == (iid in self.callback)
        self.ringing[iid] = o

    def fits(self, o: int, iid: int, now: float) -> bool:
        """May operator ``o`` take ``iid`` at ``now``: hotline, skill step reached, room."""
        queue, since = self.entered[iid]
        config, operator = self.queues[queue], self.operators[o]
        steps = [s for s in config.steps if s.after_seconds <= now - since]
        channels = list(self.open[o].values())
        capacity = operator.capacity
        if CALL in channels:
            room = False  # nothing else while on a call
        elif self.channel[iid] is CALL:
            room = capacity.get(CALL, 0) > 0 and (operator.call_while_chatting or not channels)
        else:
            room = channels.count(CHAT) < capacity.get(CHAT, 0)
        return (
            room
            and config.hotline_id in operator.hotline_ids
            and any(s.requirement.matches(operator.skills) for s in steps)
        )

    def check_waiting(self, now: float) -> None:
        """Nobody waits past max wait, nor while an operator who may take them is free."""
        for iid, point in self.point.items():
            if point != "waiting" or iid in self.ringing:
                continue
            queue, since = self.entered[iid]
            config = self.queues[queue]
            max_wait = config.max_wait_seconds if config.overflow_action is not None else None
            if max_wait is not None and iid not in self.callback:
                assert now - since < max_wait, f"{iid} waits past max wait"
            for o, state in self.state.items():
                if state in (S.READY, S.BUSY) and o not in self.pending:
                    assert not self.fits(o, iid, now), f"{iid} waits while {o} could take it"

    def _log(self, now: float, c: Log) -> None:
        iid, kind = c.interaction_id, c.type
        assert c.at == now and c.at >= self.last_at.get(iid, c.at), c
        self.last_at[iid] = c.at
        point = self.point.get(iid, "start")
        assert kind in NEXT[point], f"{iid}: {kind} after {point}"
        after = AFTER.get(kind)
        if kind == "overflowed":
            after = "overflowing" if "to_queue" in c.data else "done"
        assert after is not None, c
        self.point[iid] = after
        if after == "done":
            self.outcomes.setdefault(iid, []).append(kind)
        if kind == "completed":
            self.required.pop(iid, None)  # check_timer saw it first if a timer ended it
        if kind == "queued":
            self.entered[iid] = (int(typing.cast(int, c.data["queue_id"])), now)
        elif kind == "callback_requested":
            self.callback.add(iid)
        elif kind == "transferred":
            assert iid not in self.callback, "a promised callback is never moved"
            assert iid not in self.ringing, "a move while ringing cancels the offer first"
            assert c.data["from_queue"] == self.entered[iid][0] != c.data["to_queue"], c
        elif kind == "abandoned":
            assert iid not in self.callback, "a callback is never abandoned"
            assert iid not in self.ringing, "an abandon while ringing cancels the offer first"
        elif kind == "offer_timeout":
            assert self.ringing.pop(iid) == c.data["operator_id"]
        elif kind == "answered":
            o = typing.cast(int, c.data["operator_id"])
            assert self.ringing.pop(iid) == o
            self.open[o][iid] = self.channel[iid]
        elif kind == "wrap_up_started":
            o = typing.cast(int, c.data["operator_id"])
            del self.open[o][iid]
            if self.queues[self.entered[iid][0]].wrap_up_required:
                self.required[iid] = o

    def save(self, operator_id: int, iid: int) -> None:
        """``WrapUpCompleted(operator_id, iid)`` is sent: it counts for that wrap-up only."""
        if self.point.get(iid) == "wrapping" and self.required.get(iid) == operator_id:
            self.saved.add(iid)

    def check_timer(self, commands: list[Command]) -> None:
        """Rule 8: a timer never ends a required wrap-up left unsaved in ``ready``, nor
        before its limit."""
        for i, c in enumerate(commands):
            if not (isinstance(c, Log) and c.type == "completed"):
                continue
            o = self.required.pop(c.interaction_id, None)
            if o is None or c.interaction_id in self.saved:
                continue
            wrap_up = typing.cast(float, c.data["wrap_up"])
            assert wrap_up >= REQUIRED_WRAP_UP_LIMIT_SECONDS - 1e-6, c
            after = next(
                x for x in commands[i + 1 :] if isinstance(x, StateChanged) and x.operator_id == o
            )
            assert after.state is S.NOT_READY, (c, after)

    def talking(self) -> list[int]:
        return sorted(i for ops in self.open.values() for i in ops)


#: the state machine's center: every queue requires the wrap-up (engine Rule 8); the
#: variants below switch it off again (``QUEUES``) and on
CENTER = {i: dataclasses.replace(q, wrap_up_required=True) for i, q in QUEUES.items()}
#: live configuration changes: each queue and operator changed, then back to the original
QUEUE_VARIANTS = [
    dataclasses.replace(
        QUEUES[1],
        priority=2,
        steps=(ExpansionStep(0, parse_requirement("english >= 2")),),
        wrap_up_seconds=12,
        max_wait_seconds=40,
    ),
    dataclasses.replace(
        QUEUES[1],
        steps=(
            ExpansionStep(0, parse_requirement("english >= 8")),
            ExpansionStep(10, parse_requirement("english")),
            ExpansionStep(50, parse_requirement("")),
        ),
    ),
    dataclasses.replace(
        QUEUES[2], priority=0, strategy=RoutingStrategy.LONGEST_IDLE, callback_priority_boost=2
    ),
    dataclasses.replace(
        QUEUES[3],
        strategy=RoutingStrategy.BEST_SKILL,
        steps=(ExpansionStep(0, parse_requirement("english")),),
    ),
    dataclasses.replace(QUEUES[4], split=((1, 1), (2, 1))),
    dataclasses.replace(
        QUEUES[5], max_wait_seconds=20, steps=(ExpansionStep(0, parse_requirement("")),)
    ),
    dataclasses.replace(QUEUES[6], hotline_id=1, wrap_up_seconds=30),
    *QUEUES.values(),  # engine Rule 8 switched off
    *CENTER.values(),
]
OPERATOR_VARIANTS = [
    dataclasses.replace(OPERATORS[1], hotline_ids=frozenset({2})),
    dataclasses.replace(OPERATORS[2], skills={"english": 9}),
    dataclasses.replace(OPERATORS[3], capacity={CALL: 1, CHAT: 1}, call_while_chatting=False),
    dataclasses.replace(OPERATORS[4], capacity={CHAT: 3}),
    *OPERATORS.values(),
]
#: queues no other queue splits or overflows to
RETIRABLE_QUEUES = (3, 5, 6)

CALLER_EVENTS: list[Callable[[int], ev.Event]] = [
    ev.InteractionEnded,
    ev.CallerAbandoned,
    ev.CallbackAccepted,
    ev.InteractionHeld,
    ev.InteractionResumed,
]


class CenterMachine(RuleBasedStateMachine):
    """Random inputs to the small center, every command checked by an :class:`Observer`."""

    @initialize()
    def start(self) -> None:
        self.engine = RoutingEngine(CENTER.values(), OPERATORS.values(), seed=5)
        self.seen = Observer()
        self.now = 0.0
        self.ids = 0
        self.retired_queues: set[int] = set()
        self.retired_operators: set[int] = set()

    def until(self, now: float) -> None:
        while (deadline := self.engine.next_deadline()) is not None and deadline <= now:
            commands = self.engine.on_timer(deadline)
            self.seen.check_timer(commands)
            self.seen.see(deadline, commands)
        self.now = now

    def send(self, event: ev.Event) -> None:
        self.until(self.now)
        self.seen.see(self.now, self.engine.handle(event, self.now))

    @rule(seconds=st.sampled_from([0, 1, 3, 10, 16, 25, 70, 600]))
    def wait(self, seconds: float) -> None:
        self.until(self.now + seconds)

    @rule(queue_id=st.sampled_from(ARRIVAL_QUEUES), priority=st.integers(0, 2))
    def arrive(self, queue_id: int, priority: int) -> None:
        if queue_id in self.retired_queues:
            self.until(self.now)
            with pytest.raises(RoutingConfigError, match=r"retired|unknown queue"):  # or dropped
                self.engine.handle(ev.InteractionArrived(self.ids + 1, queue_id), self.now)
            return
        self.ids += 1
        channel = channel_of(queue_id)
        self.seen.channel[self.ids] = channel
        self.send(ev.InteractionArrived(self.ids, queue_id, channel, priority))

    @rule(operator_id=st.sampled_from(sorted(OPERATORS)))
    def ready(self, operator_id: int) -> None:
        if operator_id not in self.retired_operators:  # a retired one's ``ready`` is ignored
            self.seen.pending.discard(operator_id)
        self.send(ev.OperatorWentReady(operator_id))

    @rule(operator_id=st.sampled_from(sorted(OPERATORS)), logout=st.booleans())
    def away(self, operator_id: int, logout: bool) -> None:
        if self.seen.state[operator_id] in (S.RESERVED, S.BUSY, S.WRAP_UP):
            self.seen.pending.add(operator_id)  # Rule 2: taken when the work is done
        if logout:
            self.send(ev.OperatorLoggedOut(operator_id))
        else:
            self.send(ev.OperatorWentNotReady(operator_id, "break"))

    @precondition(lambda self: bool(self.seen.ringing))
    @rule(data=st.data(), decline=st.booleans())
    def answer(self, data: st.DataObject, decline: bool) -> None:
        iid, o = data.draw(st.sampled_from(sorted(self.seen.ringing.items())))
        self.send(ev.OfferDeclined(iid, o) if decline else ev.OfferAccepted(iid, o))

    @precondition(lambda self: self.ids > 0)
    @rule(data=st.data(), operator_id=st.sampled_from(sorted(OPERATORS)))
    def stray_answer(self, data: st.DataObject, operator_id: int) -> None:
        """An answer from an operator the offer is not (or no longer) for."""
        iid = data.draw(st.integers(1, self.ids))
        if self.seen.ringing.get(iid) != operator_id:
            self.send(ev.OfferAccepted(iid, operator_id))

    @precondition(lambda self: self.ids > 0)
    @rule(data=st.data(), kind=st.sampled_from(CALLER_EVENTS))
    def caller(self, data: st.DataObject, kind: Callable[[int], ev.Event]) -> None:
        """The caller (or the operator) ends, hangs up, asks for a callback or is held."""
        talking = self.seen.talking()
        if kind is ev.InteractionEnded and talking:
            iid = data.draw(st.sampled_from(talking))
        else:
            iid = data.draw(st.integers(1, self.ids))
        self.send(kind(iid))

    @precondition(lambda self: bool(self.seen.talking()))
    @rule(data=st.data())
    def hang_up(self, data: st.DataObject) -> None:
        """A talk ends: wrap-up starts (the busiest path to engine Rule 8)."""
        self.send(ev.InteractionEnded(data.draw(st.sampled_from(self.seen.talking()))))

    @precondition(lambda self: self.ids > 0)
    @rule(data=st.data(), queue_id=st.sampled_from(ARRIVAL_QUEUES))
    def move(self, data: st.DataObject, queue_id: int) -> None:
        """A supervisor moves an interaction (waiting, ringing, or not movable at all)."""
        iid = data.draw(st.integers(1, self.ids))
        self.until(self.now)
        where = self.engine.interaction_queue(iid)
        movable = where is not None and where[1] in ("waiting", "ringing")
        if movable and (
            queue_id in self.retired_queues or channel_of(queue_id) is not self.seen.channel[iid]
        ):
            with pytest.raises(RoutingConfigError, match=r"retired|unknown queue|serves"):
                self.engine.handle(ev.MoveWaiting(iid, queue_id, by=1), self.now)
            assert self.engine.interaction_queue(iid) == where  # left where it was
            return
        self.send(ev.MoveWaiting(iid, queue_id, by=1))

    @rule(operator_id=st.sampled_from(sorted(OPERATORS)))
    def extend_wrap_up(self, operator_id: int) -> None:
        self.send(ev.WrapUpExtended(operator_id, 15))

    @precondition(lambda self: bool(self.seen.required))
    @rule(data=st.data())
    def save_wrap_up(self, data: st.DataObject) -> None:
        """The desktop saves a required wrap-up, within its timer or after (Rule 8)."""
        iid, o = data.draw(st.sampled_from(sorted(self.seen.required.items())))
        self.seen.save(o, iid)
        self.send(ev.WrapUpCompleted(o, iid))

    @precondition(lambda self: self.ids > 0)
    @rule(data=st.data(), operator_id=st.sampled_from(sorted(OPERATORS)))
    def stray_save(self, data: st.DataObject, operator_id: int) -> None:
        """A save the engine has no wrap-up waiting for (another operator's, an earlier
        interaction's, one that required none): it changes nothing."""
        iid = data.draw(st.integers(1, self.ids))
        self.seen.save(operator_id, iid)
        self.send(ev.WrapUpCompleted(operator_id, iid))

    @precondition(lambda self: bool(self.seen.required))
    @rule()
    def forget_the_wrap_up(self) -> None:
        """Nobody saves: the limit of Rule 8 comes."""
        self.until(self.now + REQUIRED_WRAP_UP_LIMIT_SECONDS)

    def configure(self, apply: Callable[[float], list[Command]]) -> None:
        self.until(self.now)
        self.seen.see(self.now, apply(self.now))

    @rule(config=st.sampled_from(QUEUE_VARIANTS))
    def reconfigure_queue(self, config: QueueConfig) -> None:
        self.seen.queues[config.id] = config
        self.retired_queues.discard(config.id)
        self.configure(lambda now: self.engine.update_queue(config, now))

    @rule(config=st.sampled_from(OPERATOR_VARIANTS))
    def reconfigure_operator(self, config: OperatorConfig) -> None:
        self.seen.operators[config.id] = config
        self.retired_operators.discard(config.id)
        self.configure(lambda now: self.engine.update_operator(config, now))

    @rule(queue_id=st.sampled_from(RETIRABLE_QUEUES))
    def retire_queue(self, queue_id: int) -> None:
        """The queue keeps serving who is in it (its configuration stays in the observer)."""
        self.retired_queues.add(queue_id)
        self.configure(lambda now: self.engine.retire_queue(queue_id, now))

    @rule(operator_id=st.sampled_from(sorted(OPERATORS)))
    def retire_operator(self, operator_id: int) -> None:
        if self.seen.state[operator_id] in (S.RESERVED, S.BUSY, S.WRAP_UP):
            self.seen.pending.add(operator_id)  # logged out when the work is done
        no_hotlines = dataclasses.replace(self.seen.operators[operator_id], hotline_ids=frozenset())
        self.seen.operators[operator_id] = no_hotlines
        self.retired_operators.add(operator_id)
        self.configure(lambda now: self.engine.retire_operator(operator_id, now))

    @invariant()
    def states_agree(self) -> None:
        if hasattr(self, "engine"):
            for o, state in self.seen.state.items():
                assert self.engine.operator_state(o)[0] is state

    @invariant()
    def nobody_waits_for_nothing(self) -> None:
        if hasattr(self, "engine"):
            self.seen.check_waiting(self.now)

    def teardown(self) -> None:
        """Drain: everyone ready, every offer taken, every talk ended; then all are done."""
        if not hasattr(self, "engine"):
            return
        for queue in CENTER.values():  # back to the original configuration
            self.reconfigure_queue(queue)
        for operator in OPERATORS.values():
            self.reconfigure_operator(operator)
        for _ in range(50):
            if all(p == "done" for p in self.seen.point.values()):
                break
            for o in OPERATORS:
                self.ready(o)
            for iid, o in sorted(self.seen.ringing.items()):
                self.send(ev.OfferAccepted(iid, o))
            for iid in self.seen.talking():
                self.send(ev.InteractionEnded(iid))
            self.until(self.now + 100)
        assert set(self.seen.point) == set(range(1, self.ids + 1))
        unfinished = {i: p for i, p in self.seen.point.items() if p != "done"}
        assert not unfinished
        assert all(len(v) == 1 for v in self.seen.outcomes.values())
        assert self.engine.next_deadline() is None


CenterMachine.TestCase.settings = settings(max_examples=150, stateful_step_count=40, deadline=None)
test_random_inputs_keep_the_rules = CenterMachine.TestCase
