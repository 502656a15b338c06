"""The virtual-time driver: the real routing core, a synthetic workload, no waiting.

Like SimPy's ``peek()``/``step()``: the driver holds the workload's future inputs (the
arrivals, drawn up front and read in order, and a heap of hang-ups of impatient callers,
ends of talk and accepted callbacks), asks the engine for its next deadline, and jumps to
whichever comes first.  Operators answer offers at once; callers accept an offered callback
with the scenario's probability.  Every ``Log`` line the engine emits is folded into its
interaction's KPI.md visits as it comes (``VisitFold.add_trusted``: the same rules as for
a stored log, without checking again what this process's engine wrote), so the simulator's
figures come from the same event log and KPI code as production reports.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable
from heapq import heappop, heappush
from operator import attrgetter
from typing import Any

from hotline.core import events as ev
from hotline.core.commands import AnnounceWait, Command, Log, Offer
from hotline.core.kpi import VisitFold, group_kpis
from hotline.core.kpi.compute import operator_occupancy
from hotline.core.model import EventType, OverflowAction
from hotline.core.routing.config import ExpansionStep, OperatorConfig, QueueConfig
from hotline.core.routing.engine import RoutingEngine
from hotline.core.routing.expr import parse_requirement
from hotline.sim.scenario import Scenario
from hotline.sim.workload import poisson_arrivals

_ABANDON, _END, _CALLBACK = range(3)
_ANSWERED = EventType.ANSWERED
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
    """One run of a scenario; :meth:`run` returns the KPI document of ``hotline simulate``.

    Log lines are folded into queue visits as they come (:meth:`VisitFold.add_trusted`:
    the engine in this process wrote them).  With ``keep_logs`` the lines are also kept in
    :attr:`logs`, per interaction, for tests that fold them again; ``run_scenario`` does not
    keep them (a simulated day holds millions).
    """

    def __init__(self, scenario: Scenario, *, keep_logs: bool = True) -> None:
        self.scenario = scenario
        self.rng = random.Random(scenario.seed)
        self.engine, self.queue_ids = build_engine(scenario)
        self.keep_logs = keep_logs
        self.logs: dict[int, list[Log]] = {}
        self.events = 0
        self._folds: dict[int, VisitFold] = {}
        by_id = {self.queue_ids[q.name]: q for q in scenario.queues}
        self._handle = {qid: q.handle_time.sampler(self.rng) for qid, q in by_id.items()}
        self._patience = {
            qid: (q.patience.sampler(self.rng) if q.patience is not None else None)
            for qid, q in by_id.items()
        }
        self._callback_accept = {qid: q.callback_accept for qid, q in by_id.items()}

    def run(self, progress: Callable[[float], None] | None = None) -> dict[str, Any]:
        started = time.perf_counter()
        scenario = self.scenario
        end = float(scenario.duration)
        arrivals: list[tuple[float, int]] = []
        for q in scenario.queues:
            qid = self.queue_ids[q.name]
            arrivals.extend((t, qid) for t in poisson_arrivals(q.arrivals, self.rng, 0.0, end))
        arrivals.sort()
        # Interaction i (from 1) is arrivals[i - 1]; arrivals are read in order, beside the
        # heap of the other inputs (hang-ups, ends of talk, callbacks), whose entries are
        # (at, seq, kind, interaction).  At equal times an arrival goes first, as it would
        # in one heap where arrivals were pushed first.
        queue_of = [0] + [qid for _t, qid in arrivals]
        arrivals.append((math.inf, 0))  # a sentinel: no more arrivals
        next_arrival = arrivals[0][0]
        iid = 0
        heap: list[tuple[float, int, int, int]] = []
        seq = len(arrivals)
        engine = self.engine
        handle, on_timer, next_deadline = engine.handle, engine.on_timer, engine.next_deadline
        answered: set[int] = set()
        handle_time, patience_of, callback_accept = (
            self._handle,
            self._patience,
            self._callback_accept,
        )
        folds = self._folds
        logs = self.logs if self.keep_logs else None
        uniform = self.rng.random
        events = 0
        inf = math.inf
        next_report = PROGRESS_EVERY
        now = 0.0
        # Everyone starts ready; nobody is waiting yet, so this decides nothing.
        pending: list[Command] = []
        for op_id in range(1, sum(g.count for g in scenario.operators) + 1):
            pending += handle(ev.OperatorWentReady(op_id), 0.0)
        while True:
            # -- perform the commands of the last step (offers are answered at once) --
            while pending:
                more: list[Command] = []
                for command in pending:
                    if isinstance(command, Log):
                        events += 1
                        ref = command.interaction_id
                        fold = folds.get(ref)
                        if fold is None:
                            fold = folds[ref] = VisitFold(ref)
                        fold.add_trusted(command)
                        if logs is not None:
                            logs.setdefault(ref, []).append(command)
                        if command.type is _ANSWERED:
                            answered.add(ref)
                            seq += 1
                            sample = handle_time[command.data["queue_id"]]  # type: ignore[index]
                            heappush(heap, (now + sample(), seq, _END, ref))
                    elif isinstance(command, Offer):
                        more += handle(
                            ev.OfferAccepted(command.interaction_id, command.operator_id), now
                        )
                    elif isinstance(command, AnnounceWait) and command.offer_callback:
                        ref = command.interaction_id
                        p = callback_accept[queue_of[ref]]
                        if p > 0 and uniform() < p:
                            seq += 1
                            heappush(heap, (now, seq, _CALLBACK, ref))
                pending = more
            if progress is not None and now >= next_report:
                progress(min(now / end, 1.0))
                next_report = now + PROGRESS_EVERY
            # -- the next input: the workload's or the engine's deadline, the earliest --
            deadline = next_deadline()
            at = heap[0][0] if heap and heap[0][0] < next_arrival else next_arrival
            if deadline is not None and deadline <= at:
                now = deadline
                pending = on_timer(now)
            elif at == inf:
                break
            elif at == next_arrival:  # ties with the heap's head go to the arrival
                now = at
                iid += 1
                next_arrival = arrivals[iid][0]
                qid = queue_of[iid]
                patience = patience_of[qid]
                if patience is not None:
                    seq += 1
                    heappush(heap, (now + patience(), seq, _ABANDON, iid))
                pending = handle(ev.InteractionArrived(iid, qid), now)
            else:
                now, _seq, kind, ref = heappop(heap)
                if kind == _END:
                    pending = handle(ev.InteractionEnded(ref), now)
                elif ref in answered:
                    pending = []  # the caller's patience ran out after the answer: no-op
                elif kind == _ABANDON:
                    pending = handle(ev.CallerAbandoned(ref), now)
                else:
                    pending = handle(ev.CallbackAccepted(ref), now)
        self.events = events
        if progress is not None:
            progress(1.0)
        return self._report(now, time.perf_counter() - started)

    def _report(self, now: float, wall: float) -> dict[str, Any]:
        scenario = self.scenario
        warmup = float(scenario.warmup or 0)
        names = {qid: name for name, qid in self.queue_ids.items()}
        visits = [
            v for fold in self._folds.values() for v in fold.visits() if v.arrived_at >= warmup
        ]
        per_queue = group_kpis(
            visits,
            attrgetter("queue_id"),
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
            "interactions": len(self._folds),
            "events": self.events,
            "simulated_seconds": now,
            "wall_seconds": wall,
        }


def run_scenario(
    scenario: Scenario, *, progress: Callable[[float], None] | None = None
) -> dict[str, Any]:
    """Run ``scenario`` and return ``{"queues": {NAME: KPIs}, "operators": …, "events": N,
    "wall_seconds": …}`` (the ``hotline simulate --json`` document)."""
    return Simulation(scenario, keep_logs=False).run(progress)
