"""The flow runs' deadline heap (telephony/flowtimers.py) and the B2BUA's timer over it.

The heap is checked against a plain dict scanned in full (what the B2BUA did before);
the B2BUA is checked end to end on its timer: many calls in menus with different
timeouts each give up at their own deadline, in order, while some press a digit or hang
up in between (their deadlines must not fire).
"""

from __future__ import annotations

import asyncio
import random
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

from hypothesis import given
from hypothesis import strategies as st

from hotline.core import commands as cmd
from hotline.core.flows import FlowRun, validate_flow
from hotline.core.hours import BusinessHours
from hotline.live.directory import HotlineInfo
from hotline.telephony.b2bua import B2bua, TelephonySettings
from hotline.telephony.calls import Call
from hotline.telephony.flowtimers import FlowDeadlines

# --- the heap against a full scan ------------------------------------------------------

KEYS = st.integers(0, 7)
DEADLINES = st.one_of(st.none(), st.integers(0, 50).map(float))
OPS = st.lists(
    st.one_of(
        st.tuples(st.just("set"), KEYS, DEADLINES),
        st.tuples(st.just("discard"), KEYS, st.none()),
        st.tuples(st.just("pop"), st.just(0), st.integers(0, 5).map(float)),
    ),
    max_size=200,
)


@given(OPS)
def test_the_heap_answers_as_a_full_scan_of_every_deadline(ops: list[Any]) -> None:
    heap: FlowDeadlines[int] = FlowDeadlines()
    reference: dict[int, float] = {}
    now = 0.0
    for op, key, value in ops:
        if op == "set":
            heap.set(key, value)
            if value is None:
                reference.pop(key, None)
            else:
                reference[key] = value
        elif op == "discard":
            heap.discard(key)
            reference.pop(key, None)
        else:
            now += value  # time only moves forward, as the loop's does
            due = heap.pop_due(now)
            expected = {k for k, deadline in reference.items() if deadline <= now}
            assert sorted(due) == sorted(expected)  # each due key once
            assert [reference[k] for k in due] == sorted(reference[k] for k in due)
            for k in due:
                del reference[k]
        assert heap.next_deadline() == min(reference.values(), default=None)
        assert len(heap) == len(reference)
        assert all(heap.get(k) == reference.get(k) for k in range(8))


def test_stale_entries_are_compacted_away() -> None:
    heap: FlowDeadlines[str] = FlowDeadlines()
    for step in range(10_000):  # one flow whose deadline keeps moving (a chatty menu)
        heap.set("a", 1000.0 + step)
    heap.set("b", 5.0)
    assert len(heap._heap) <= 4 * len(heap) + 64 + 1
    assert heap.pop_due(2000.0) == ["b"]
    assert heap.pop_due(20_000.0) == ["a"]
    assert heap.next_deadline() is None


# --- the B2BUA's one timer over many calls ----------------------------------------------

HOURS = BusinessHours.always_open("UTC")
RETRIES = 2  # a menu times out RETRIES + 1 times before it gives up


def _menu_flow(timeout: int) -> dict[str, Any]:
    return {
        "start": "menu",
        "nodes": {
            "menu": {
                "type": "menu",
                "prompt": "menu",
                "options": {"1": "chose"},
                "timeout": timeout,
                "retries": RETRIES,
                "invalid_prompt": "invalid",
                "on_failure": "gave_up",
            },
            "chose": {"type": "set", "topic": "chose", "next": "queue"},
            "gave_up": {"type": "set", "topic": "gave_up", "next": "queue"},
            "queue": {"type": "queue", "queue": 1, "music": "moh"},
        },
    }


def _yes(_: object) -> bool:
    return True


class _Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class _Center:
    """What the B2BUA asks of the live center here: it only keeps the log lines."""

    def __init__(self) -> None:
        self.lines: list[cmd.Log] = []
        self.writer = SimpleNamespace(update=lambda *a, **kw: None)

    def subscribe(self, handler: object) -> None:
        pass

    def log(self, line: cmd.Log) -> None:
        self.lines.append(line)

    def handle(self, event: object) -> None:
        pass

    def forget(self, interaction_id: int) -> None:
        pass


class _Media:
    """Nothing to play (prompts render to no file: each ends at once); legs close."""

    async def close_leg(self, leg_id: str) -> None:
        pass


class _Prompts:
    def render(self, items: object, language: str) -> list[Path]:
        return []


def _call(iid: int, flow: FlowRun) -> Call:
    hotline = HotlineInfo(
        id=1, tenant_id=1, tenant_name="t", name="h", language="en", hours=HOURS,
        greeting_template="", recording_enabled=False, flow_document=None, queue_ids=(1,),
    )  # fmt: skip
    return Call(
        interaction_id=iid,
        hotline=hotline,
        dialog=cast(Any, SimpleNamespace(call_id=f"call-{iid}", local_tag="tag")),
        leg_id=f"c{iid}",
        invite_key=cast(Any, None),
        source=("192.0.2.1", 5060),
        transport="udp",
        caller="",
        flow=flow,
    )


async def _settle(b2bua: B2bua) -> None:
    """Let the play tasks the B2BUA started run to their end (each ends the prompt)."""
    while b2bua._tasks:
        await asyncio.wait(list(b2bua._tasks))


class _VirtualTimeLoop(asyncio.SelectorEventLoop):
    """A loop whose clock is the test's: a timer armed for a deadline reads it back
    exactly (nothing here waits for real time: every task ends without I/O)."""

    def __init__(self, clock: _Clock) -> None:
        super().__init__()
        self._virtual = clock

    def time(self) -> float:
        return self._virtual.now


def test_given_many_menus_with_their_own_timeouts_then_each_gives_up_at_its_deadline_in_order(
    tmp_path: Path,
) -> None:
    t0 = 1_800_000_000.0
    clock = _Clock(t0)
    with asyncio.Runner(loop_factory=lambda: _VirtualTimeLoop(clock)) as runner:
        runner.run(_many_menus(tmp_path, clock))


async def _many_menus(tmp_path: Path, clock: _Clock) -> None:
    rng = random.Random(4)
    t0 = clock.now
    center = _Center()
    b2bua = B2bua(
        TelephonySettings(data_dir=tmp_path, advertised_host="127.0.0.1", secret=b"k"),
        cast(Any, center),
        cast(Any, _Media()),
        cast(Any, _Prompts()),
        clock=clock,
    )
    timeouts = rng.sample(range(1, 61), 40)  # 40 calls, 40 different menu timeouts
    flows = {
        t: validate_flow(_menu_flow(t), prompt_exists=_yes, queue_exists=_yes) for t in timeouts
    }
    calls: dict[int, Call] = {}
    for iid, timeout in enumerate(timeouts, start=1):
        run = FlowRun(flows[timeout], hours=HOURS, language="en", caller="")
        call = calls[iid] = _call(iid, run)
        b2bua.calls[iid] = call
        b2bua._by_leg[call.leg_id] = call
        clock.now = t0 + iid * 0.01  # staggered starts, 10 ms apart
        b2bua._perform(call, run.start(clock.now))
        await _settle(b2bua)  # its menu prompt ends at once: the timeout runs from here
    started = {iid: t0 + iid * 0.01 for iid in calls}
    # Before any first timeout (the shortest is 1 s), three calls press 1 and two hang
    # up: their deadlines are gone and must not fire.
    chose, left = [1, 2, 3], [4, 5]
    clock.now = t0 + 0.5
    for iid in chose:
        b2bua.on_dtmf(f"c{iid}", "1")
    for iid in left:
        b2bua._caller_left(calls[iid])
    b2bua.flush()
    await _settle(b2bua)

    # Fire the loop's timer by hand, the clock set to the time it is armed for.
    fired = 0
    while (timer := b2bua._timer) is not None:
        clock.now = max(clock.now, timer.when())
        timer.cancel()
        b2bua._on_timer()
        await _settle(b2bua)
        fired += 1
        assert fired < 1000, "the timer keeps firing"

    gave_up = [
        (line.at, line.interaction_id)
        for line in center.lines
        if line.data.get("node") == "gave_up"
    ]
    expected = sorted(
        (started[iid] + (RETRIES + 1) * timeouts[iid - 1], iid)
        for iid in calls
        if iid not in chose + left
    )
    assert [iid for _, iid in gave_up] == [iid for _, iid in expected]
    for (at, iid), (want, _) in zip(gave_up, expected, strict=True):
        assert abs(at - want) < 1e-6, (iid, at - t0, want - t0)
    chose_logged = {
        line.interaction_id for line in center.lines if line.data.get("node") == "chose"
    }
    assert chose_logged == set(chose)
    # Every deadline served; ended calls left nothing behind.
    assert b2bua._flow_deadlines.next_deadline() is None
    assert len(b2bua._flow_deadlines) == 0
