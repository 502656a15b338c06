"""The virtual-time driver: the real routing core, a synthetic workload, no waiting.

Like SimPy's ``peek()``/``step()``: the driver holds the workload's future inputs in one
heap (arrivals, hang-ups of impatient callers, ends of talk), asks the engine for its next
deadline, and jumps to whichever comes first.  Operators answer offers at once; callers
accept an offered callback with the scenario's probability.  Every ``Log`` line the engine
emits is kept per interaction and folded into KPI.md visits at the end, so the simulator's
figures come from the same event log and KPI code as production reports.
"""

from __future__ import annotations

import heapq
import random
import time
from collections.abc import Callable
from typing import Any

from hotline.core import events as ev
from hotline.core.commands import AnnounceWait, Command, Log, Offer
from hotline.core.kpi import fold_visits, group_kpis
from hotline.core.kpi.compute import operator_occupancy
from hotline.core.model import EventType, OverflowAction
from hotline.core.routing.config import ExpansionStep, OperatorConfig, QueueConfig
from hotline.core.routing.engine import RoutingEngine
from hotline.core.routing.expr import parse_requirement
from hotline.sim.scenario import Scenario
from hotline.sim.workload import poisson_arrivals

_ARRIVE, _ABANDON, _END, _CALLBACK = range(4)
#: report progress every this many simulated seconds (cheap, and smooth enough for a bar)
PROGRESS_EVERY = 600.0


def build_engine(scenario: Scenario) -> tuple[RoutingEngine, dict[str, int]]:
    """Queues become one hotline each, so an operator group serves exactly its queues."""
    ids = {q.name: i + 1 for i, q in enumerate(scenario.queues)}
    known = sorted({s for g in scenario.operators for s in g.skills})
    queues = []
    for q in scenario.queues:
        steps = [ExpansionStep(0.0, parse_requirement(q.requires, known_skills=known))]
        steps += [
            ExpansionStep(float(x.after), parse_requirement(x.requires, known_skills=known))
            for x in q.expand
        ]
        queues.append(
            QueueConfig(
                id=ids[q.name],
                hotline_id=ids[q.name],
                name=q.name,
                priority=q.priority,
                strategy=q.strategy,
                steps=tuple(steps),
                wrap_up_seconds=q.wrap_up,
                offer_timeout_seconds=q.offer_timeout,
                callback_threshold_seconds=q.callback_threshold,
                max_wait_seconds=None if q.max_wait is None else float(q.max_wait),
                overflow_action=None if q.overflow is None else OverflowAction.QUEUE,
                overflow_target=None if q.overflow is None else str(ids[q.overflow]),
            )
        )
    operators = []
    next_id = 1
    for group in scenario.operators:
        hotlines = frozenset(ids[name] for name in group.queues)
        for _ in range(group.count):
            operators.append(OperatorConfig(next_id, hotlines, dict(group.skills)))
            next_id += 1
    return RoutingEngine(queues, operators, seed=scenario.seed, report_states=False), ids


class Simulation:
    """One run of a scenario; :meth:`run` returns the KPI document of ``hotline simulate``."""

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self.rng = random.Random(scenario.seed)
        self.engine, self.queue_ids = build_engine(scenario)
        self.logs: dict[int, list[Log]] = {}
        self.events = 0
        self._heap: list[tuple[float, int, int, int]] = []
        self._seq = 0
        self._queue_of: dict[int, int] = {}
        self._answered: set[int] = set()
        by_id = {self.queue_ids[q.name]: q for q in scenario.queues}
        self._handle = {qid: q.handle_time.sampler(self.rng) for qid, q in by_id.items()}
        self._patience = {
            qid: (q.patience.sampler(self.rng) if q.patience is not None else None)
            for qid, q in by_id.items()
        }
        self._callback_accept = {qid: q.callback_accept for qid, q in by_id.items()}

    def _push(self, at: float, kind: int, ref: int) -> None:
        self._seq += 1
        heapq.heappush(self._heap, (at, self._seq, kind, ref))

    def run(self, progress: Callable[[float], None] | None = None) -> dict[str, Any]:
        started = time.perf_counter()
        scenario = self.scenario
        end = float(scenario.duration)
        arrivals: list[tuple[float, int]] = []
        for q in scenario.queues:
            qid = self.queue_ids[q.name]
            arrivals.extend((t, qid) for t in poisson_arrivals(q.arrivals, self.rng, 0.0, end))
        arrivals.sort()
        for iid, (t, qid) in enumerate(arrivals, start=1):
            self._queue_of[iid] = qid
            self._push(t, _ARRIVE, iid)
        engine = self.engine
        for op_id in range(1, sum(g.count for g in scenario.operators) + 1):
            self._process(engine.handle(ev.OperatorWentReady(op_id), 0.0), 0.0)
        heap = self._heap
        next_report = PROGRESS_EVERY
        now = 0.0
        while True:
            deadline = engine.next_deadline()
            if heap and (deadline is None or heap[0][0] < deadline):
                now, _seq, kind, iid = heapq.heappop(heap)
                commands = self._input(kind, iid, now)
            elif deadline is not None:
                now = deadline
                commands = engine.on_timer(now)
            else:
                break
            if commands:
                self._process(commands, now)
            if progress is not None and now >= next_report:
                progress(min(now / end, 1.0))
                next_report = now + PROGRESS_EVERY
        if progress is not None:
            progress(1.0)
        return self._report(now, time.perf_counter() - started)

    def _input(self, kind: int, iid: int, now: float) -> list[Command]:
        engine = self.engine
        if kind == _ARRIVE:
            qid = self._queue_of[iid]
            patience = self._patience[qid]
            if patience is not None:
                self._push(now + patience(), _ABANDON, iid)
            return engine.handle(ev.InteractionArrived(iid, qid), now)
        if kind == _END:
            return engine.handle(ev.InteractionEnded(iid), now)
        if iid in self._answered:
            return []  # the caller's patience ran out after the answer: nothing happens
        if kind == _ABANDON:
            return engine.handle(ev.CallerAbandoned(iid), now)
        return engine.handle(ev.CallbackAccepted(iid), now)

    def _process(self, commands: list[Command], now: float) -> None:
        engine = self.engine
        logs = self.logs
        pending = commands
        while pending:
            more: list[Command] = []
            for command in pending:
                kind = type(command)
                if kind is Log:
                    assert isinstance(command, Log)  # noqa: S101 - narrowing for mypy
                    self.events += 1
                    lines = logs.get(command.interaction_id)
                    if lines is None:
                        logs[command.interaction_id] = [command]
                    else:
                        lines.append(command)
                    if command.type is EventType.ANSWERED:
                        iid = command.interaction_id
                        self._answered.add(iid)
                        qid = command.data["queue_id"]
                        assert isinstance(qid, int)  # noqa: S101
                        self._push(now + self._handle[qid](), _END, iid)
                elif kind is Offer:
                    assert isinstance(command, Offer)  # noqa: S101
                    more.extend(
                        engine.handle(
                            ev.OfferAccepted(command.interaction_id, command.operator_id), now
                        )
                    )
                elif kind is AnnounceWait:
                    assert isinstance(command, AnnounceWait)  # noqa: S101
                    if command.offer_callback:
                        qid = self._queue_of[command.interaction_id]
                        p = self._callback_accept[qid]
                        if p > 0 and self.rng.random() < p:
                            self._push(now, _CALLBACK, command.interaction_id)
            pending = more

    def _report(self, now: float, wall: float) -> dict[str, Any]:
        scenario = self.scenario
        warmup = float(scenario.warmup or 0)
        names = {qid: name for name, qid in self.queue_ids.items()}
        visits = [
            v for lines in self.logs.values() for v in fold_visits(lines) if v.arrived_at >= warmup
        ]
        per_queue = group_kpis(
            visits,
            lambda v: v.queue_id,
            answer_within=scenario.answer_within,
            short_abandon=scenario.short_abandon,
        )
        times = self.engine.operator_times(now)
        per_operator = operator_occupancy((op, h, i) for op, (h, i) in times.items())
        handling = sum(h for h, _ in times.values())
        idle = sum(i for _, i in times.values())
        return {
            "queues": {names[qid]: dict(kpis) for qid, kpis in sorted(per_queue.items())},
            "operators": {
                "count": len(times),
                "occupancy": handling / (handling + idle) if handling + idle > 0 else None,
                "by_operator": {str(k): v for k, v in sorted(per_operator.items())},
            },
            "interactions": len(self.logs),
            "events": self.events,
            "simulated_seconds": now,
            "wall_seconds": wall,
        }


def run_scenario(
    scenario: Scenario, *, progress: Callable[[float], None] | None = None
) -> dict[str, Any]:
    """Run ``scenario`` and return ``{"queues": {NAME: KPIs}, "operators": …, "events": N,
    "wall_seconds": …}`` (the ``hotline simulate --json`` document)."""
    return Simulation(scenario).run(progress)
