"""The routing engine (ACD): ``handle(event, now) -> commands`` and ``next_deadline()``.

Theory of operation:
Rule 1 (match on change): a decision is taken only when something changes: an interaction
        enters a queue (find the best available operator), an operator becomes available
        (find the best waiting interaction), or a waiting interaction reaches a new
        expansion step.  Between changes nothing can match, so nothing is scanned.
Rule 2 (order): interactions are served by ``(priority desc, ordered_at, seq)`` across all
        the queues an operator serves; ``ordered_at`` is kept through offer timeouts,
        callbacks, overflows and moves (Rule 7), so nobody loses their place.
Rule 3 (eligibility): an operator may take a queue's interaction if the queue's hotline is
        assigned to them and they match the requirement of the interaction's expansion
        step or of an earlier one.  Requirements are parsed before they get here.
Rule 4 (strategy): among eligible available operators the queue's strategy decides:
        longest idle (default), least occupied, best skill, round robin, random.
Rule 5 (time): offer timeouts, expansion steps, max-wait overflow and wrap-up ends are
        deadlines in one heap; ``next_deadline()`` gives the earliest, and any call with a
        later ``now`` fires the due ones first.
Rule 6 (reconfiguration): a configuration change (``update_queue``, ``update_operator``,
        ``retire_queue``, ``retire_operator``) is a decision point like any other (Rule 1)
        and takes nothing away from anyone:
        - work in hand is kept: a ringing offer still rings, a call still runs and its
          wrap-up is the one configured when it ends; a change applies to the next offer;
        - waiting interactions keep their place in line (``ordered_at`` and ``seq`` stay;
          a change of the queue's priority moves them all alike), are re-evaluated at
          once against the new eligibility and expansion steps and, if nobody may serve
          them now, keep waiting (or overflow at once if a shortened max wait has passed);
        - only the indexes of what changed are rebuilt: an operator's idle entries are
          forgotten by bumping its version, a changed queue's heaps and pools are refilled;
          expansion and max-wait deadlines are checked against the queue's current rules,
          so those scheduled under the old ones lapse;
        - a retired operator finishes its work and is then logged out, never offered again
          (its ``ready`` is ignored, except that it ends a wrap-up early);
        - a retired queue keeps serving the interactions already in it and takes no new
          ones: arrivals and transfers to it raise RoutingConfigError, and no queue may
          split or overflow to it; once empty it is dropped at the next change.
        Configuring a retired id again (a re-activated operator) brings it back.
Rule 7 (moves): a supervisor may move an interaction that is not yet answered to another
        queue of the same channel (``MoveWaiting``).  A ringing offer is cancelled first
        (``CancelOffer``; the operator is released as when a caller hangs up while it
        rings).  The interaction keeps its seniority: the new queue orders it by its
        original ``ordered_at`` and ``seq`` (as Genesys and most ACDs do on a transfer to
        queue), so a caller moved to a better-staffed queue is not punished for the
        supervisor's decision by going to the back of the line; the priority difference
        it had over its old queue is kept too, as on overflow.  What counts from entry
        into a queue (expansion steps, max wait) starts again at the move, since those
        are the new queue's rules.  The log gets ``TRANSFERRED`` (``from_queue``,
        ``to_queue``, ``moved_by``) then ``QUEUED`` in the new queue with the exact place
        in line and a new EWT, which is also announced (``AnnounceWait``).  For KPIs the
        old visit ends as ``transferred`` (offered there, neither answered nor
        abandoned) and a new visit starts in the new queue at the move, exactly as for a
        transfer (``kpi/records.py`` Rules 1 and 3).  A callback already promised is not
        moved (its caller is no longer on the line); a move to the queue it is in, or of
        an interaction answered or gone, does nothing.
Rule 8 (required wrap-up): a queue with ``wrap_up_required`` (its hotline's
        ``topic_required``) wants the wrap-up of each interaction saved before its operator
        takes more work.  Until the wrap-up time runs out nothing differs: the timer, its
        extensions (``WrapUpExtended``) and ending it early by going ready are as
        elsewhere, and a ``WrapUpCompleted`` meanwhile only notes the save.  When the
        timer runs out with the save still missing, the operator is *held* in
        ``wrap_up`` (no new state, no ``OperatorStateChanged``):
        - ``WrapUpCompleted(operator, interaction)`` for that wrap-up ends the hold at
          once: ready, or the break or logout asked for meanwhile (operator_state Rule 2);
        - ``OperatorWentReady`` still ends it (a supervisor may put the operator to work;
          the API refuses the operator's own "ready" until the save, wrap_up_rule Rule 2);
        - otherwise the hold ends ``REQUIRED_WRAP_UP_LIMIT_SECONDS`` (10 min) after the
          talk ended, or when the timer runs out if that is later: then
          ``not_ready("wrap_up")`` -- never ready on its own -- or the break or logout
          asked for meanwhile.
        ``COMPLETED`` is logged when the hold ends, with the whole wrap-up time held.  A
        completion for another interaction, another operator, an operator not in wrap-up
        or a queue that does not require it changes nothing.  Whether a wrap-up is
        required is decided when the talk ends (Rule 6: a change of the flag applies to
        the next one).  A chat that ends while others stay open has no wrap-up of its own
        (it completes at once) and so is never held.
Every change appends a ``Log`` command: the interaction event log of KPI.md.
"""

from __future__ import annotations

import heapq
import itertools
import random
from collections.abc import Iterable
from typing import Any, assert_never

from hotline.core import events as ev
from hotline.core.commands import (
    AnnounceWait,
    CancelOffer,
    Command,
    Divert,
    Log,
    Offer,
    OperatorStateChanged,
)
from hotline.core.model import Channel, EventType, OperatorState, OverflowAction, RoutingStrategy
from hotline.core.routing.config import (
    REQUIRED_WRAP_UP_LIMIT_SECONDS,
    OperatorConfig,
    QueueConfig,
)
from hotline.core.routing.ewt import estimate_wait
from hotline.core.routing.operator_state import TABLE, Transition, next_state
from hotline.core.routing.runtime import (
    DONE,
    OFFERED,
    TALKING,
    WAITING,
    Eligibility,
    OperatorRuntime,
    QueueRuntime,
    Waiting,
    compact_waiting,
)

_EXPAND, _MAX_WAIT, _OFFER_TIMEOUT, _WRAP_END = range(4)
_SERVING = frozenset(
    {OperatorState.READY, OperatorState.RESERVED, OperatorState.BUSY, OperatorState.WRAP_UP}
)
_IDLE_STATES = frozenset({OperatorState.READY, OperatorState.RESERVED})

# Enum members as module globals: ``OperatorState.READY`` is a lookup through the enum
# metaclass, several times slower than a global, and the hot paths read them per event.
_READY = OperatorState.READY
_RESERVED = OperatorState.RESERVED
_BUSY = OperatorState.BUSY
_WRAP_UP = OperatorState.WRAP_UP
_NOT_READY = OperatorState.NOT_READY
_OFFLINE = OperatorState.OFFLINE
_ARRIVED = EventType.ARRIVED
_QUEUED = EventType.QUEUED
_OFFERED = EventType.OFFERED
_ANSWERED = EventType.ANSWERED
_WRAP_UP_STARTED = EventType.WRAP_UP_STARTED
_COMPLETED = EventType.COMPLETED
_ABANDONED = EventType.ABANDONED
_IDLE_CLOCK, _HANDLING_CLOCK = "idle", "handling"


def _step(old: OperatorState, new: OperatorState) -> tuple[OperatorState, str | None, bool, int]:
    """What ``_set_state`` does on ``old → new``, worked out once per table entry: the new
    state, the clock the time spent in ``old`` counts on (occupancy), whether ``new`` starts
    an idle period (longest-idle order; not when an offer is cancelled back to ready) and
    the change of the staffed count of the operator's queues."""
    clock = _IDLE_CLOCK if old in _IDLE_STATES else _HANDLING_CLOCK if old in _SERVING else None
    resets_idle = new is OperatorState.READY and old is not OperatorState.RESERVED
    staffed = (new in _SERVING) - (old in _SERVING)
    return new, clock, resets_idle, staffed


_STEPS = {(old, transition): _step(old, new) for (old, transition), new in TABLE.items()}
_LONGEST_IDLE = RoutingStrategy.LONGEST_IDLE
_RANDOM = RoutingStrategy.RANDOM
_T_OFFER = Transition.OFFER
_T_ACCEPT = Transition.ACCEPT
_T_END = Transition.END
_T_WRAP_DONE = Transition.WRAP_DONE
_T_CANCEL = Transition.CANCEL
_T_CANCEL_TO_BUSY = Transition.CANCEL_TO_BUSY
#: a split may point at another split; deeper chains are a configuration error
MAX_SPLIT_DEPTH = 8


class RoutingConfigError(ValueError):
    """The routing configuration is inconsistent (the administrator's to fix)."""


def _check_steps(config: QueueConfig) -> None:
    if not config.steps or config.steps[0].after_seconds != 0:
        raise RoutingConfigError(f"queue {config.id}: the first step must start at 0 s")
    if any(a.after_seconds >= b.after_seconds for a, b in itertools.pairwise(config.steps)):
        raise RoutingConfigError(f"queue {config.id}: expansion steps must be increasing")


def _eligibility(config: OperatorConfig, q: QueueRuntime) -> Eligibility | None:
    """Rule 3 for one queue: the first step whose requirement the operator meets."""
    for i, step in enumerate(q.config.steps):
        if step.requirement.matches(config.skills):
            return Eligibility(q, i, step.requirement.score(config.skills))
    return None


def _step_after(config: QueueConfig, waited: float) -> int:
    """The expansion step reached after waiting ``waited`` seconds."""
    step = 0
    for i, s in enumerate(config.steps):
        if s.after_seconds <= waited:
            step = i
    return step


class RoutingEngine:
    """One ACD over a set of queues and operators; see the module docstring for its rules."""

    def __init__(
        self,
        queues: Iterable[QueueConfig],
        operators: Iterable[OperatorConfig],
        *,
        seed: int = 0,
        report_states: bool = True,
    ) -> None:
        self._seq = itertools.count()
        self._rng = random.Random(seed)  # noqa: S311 - routing, not cryptography
        self._queues: dict[int, QueueRuntime] = {}
        self._by_hotline: dict[int, list[QueueRuntime]] = {}
        self._operators: dict[int, OperatorRuntime] = {}
        self._interactions: dict[int, Waiting] = {}
        self._deadlines: list[tuple[float, int, int, Any, int]] = []
        self.decisions = 0
        #: emit OperatorStateChanged (desktops and wallboards need it; the simulator not)
        self.report_states = report_states
        for q in queues:
            self.configure_queue(q)
        self._check_targets()
        for o in operators:
            self.configure_operator(o)

    # -- configuration ----------------------------------------------------------------------

    def configure_queue(self, config: QueueConfig) -> None:
        """Add a queue.  Operators already configured become eligible for it at once (a
        queue added live); its split and overflow targets are checked by the caller
        (``__init__`` once all are known, :meth:`update_queue` for one added live)."""
        _check_steps(config)
        if config.id in self._queues:
            raise RoutingConfigError(f"queue {config.id} configured twice")
        runtime = QueueRuntime.build(config)
        self._queues[config.id] = runtime
        if not config.split:
            self._by_hotline.setdefault(config.hotline_id, []).append(runtime)
            self._link_queue(runtime)

    def _check_targets(self) -> None:
        for q in self._queues.values():
            self._check_queue_targets(q.config)

    def _check_queue_targets(self, config: QueueConfig) -> None:
        """Split and overflow targets must be queues that take new interactions."""
        for target_id, weight in config.split:
            target = self._queues.get(target_id)
            if target is None or target.retired or weight <= 0:
                raise RoutingConfigError(
                    f"queue {config.id}: bad split target {target_id}/{weight}"
                )
        if config.overflow_action is OverflowAction.QUEUE:
            name = config.overflow_target
            target = self._queues.get(int(name)) if name is not None and name.isdigit() else None
            if target is None or target.retired:
                raise RoutingConfigError(f"queue {config.id}: overflow target {name!r} unknown")

    def configure_operator(self, config: OperatorConfig) -> None:
        if config.id in self._operators:
            raise RoutingConfigError(f"operator {config.id} configured twice")
        op = OperatorRuntime(config=config)
        self._link_operator(op)
        self._operators[config.id] = op

    def _link_operator(self, op: OperatorRuntime) -> None:
        """Rule 3: fill ``op.eligible`` (empty before) from its hotlines and skills."""
        config = op.config
        serving = op.state in _SERVING
        for hotline_id in config.hotline_ids:
            for q in self._by_hotline.get(hotline_id, ()):
                el = _eligibility(config, q)
                if el is not None:
                    op.eligible.append(el)
                    op.channels.add(q.channel)
                    q.eligible_operators += 1
                    q.staffed += serving

    def has_queue(self, queue_id: int) -> bool:
        return queue_id in self._queues

    def has_operator(self, operator_id: int) -> bool:
        return operator_id in self._operators

    # -- live reconfiguration (Rule 6) -------------------------------------------------------

    def queue_config(self, queue_id: int) -> QueueConfig | None:
        """The configuration a queue routes by, or None if unknown or retired."""
        q = self._queues.get(queue_id)
        return None if q is None or q.retired else q.config

    def operator_config(self, operator_id: int) -> OperatorConfig | None:
        """The configuration an operator is offered work by, or None if unknown or retired."""
        op = self._operators.get(operator_id)
        return None if op is None or op.retired else op.config

    def queue_ids(self) -> list[int]:
        """The queues taking new interactions (not retired)."""
        return [q.id for q in self._queues.values() if not q.retired]

    def operator_ids(self) -> list[int]:
        """The operators who may be offered work (not retired)."""
        return [op.id for op in self._operators.values() if not op.retired]

    def update_operator(self, config: OperatorConfig, now: float) -> list[Command]:
        """Adopt an operator's new hotlines, skills or capacity (Rule 6); a new id is added."""
        out: list[Command] = []
        op = self._operators.get(config.id)
        if op is None:
            self.configure_operator(config)
            return out
        if config == op.config and not op.retired:
            return out
        self._fire_due(now, out)
        op.retired = False
        self._relink_operator(op, config, now, out)
        self._sweep_retired()
        return out

    def retire_operator(self, operator_id: int, now: float) -> list[Command]:
        """Remove an operator (Rule 6): it finishes its work and is then logged out."""
        out: list[Command] = []
        op = self._operators.get(operator_id)
        if op is None or op.retired:
            return out
        self._fire_due(now, out)
        self._go_not_ready(op, "logout", now, out)  # at once if idle, after its work if not
        op.retired = True
        self._relink_operator(op, op.config, now, out)
        self._sweep_retired()
        return out

    def _relink_operator(
        self, op: OperatorRuntime, config: OperatorConfig, now: float, out: list[Command]
    ) -> None:
        serving = op.state in _SERVING
        for el in op.eligible:
            el.queue.eligible_operators -= 1
            el.queue.staffed -= serving
        op.eligible = []
        op.channels = set()
        op.reconfigure(config)
        if not op.retired:
            self._link_operator(op)
        op.version += 1  # forget its idle-pool entries everywhere; re-indexed just below
        if op.pending is None and (op.state is _READY or op.state is _BUSY):
            self._operator_free(op, now, out)  # take what it may serve now, or wait indexed

    def update_queue(self, config: QueueConfig, now: float) -> list[Command]:
        """Adopt a queue's new routing rules (Rule 6); a new id is added.  A queue cannot
        change its channel nor become (or stop being) a split live: RoutingConfigError."""
        out: list[Command] = []
        _check_steps(config)
        q = self._queues.get(config.id)
        if q is None:
            self._check_queue_targets(config)
            self.configure_queue(config)
            return out
        old = q.config
        if config == old and not q.retired:
            return out
        if config.channel is not old.channel or bool(config.split) != bool(old.split):
            raise RoutingConfigError(
                f"queue {config.id}: the channel and being a split cannot change live"
            )
        self._check_queue_targets(config)
        self._fire_due(now, out)
        # who is in the queue, waiting or ringing (talking ones keep their operator)
        visits = [
            w
            for w in self._interactions.values()
            if w.queue is q and (w.status == WAITING or w.status == OFFERED)
        ]
        if not old.split:
            self._by_hotline[old.hotline_id].remove(q)
            self._unlink_queue(q)
        q.reset(config)
        q.retired = False
        if not config.split:
            self._by_hotline.setdefault(config.hotline_id, []).append(q)
            self._link_queue(q)
        shift = config.priority - old.priority
        boost = config.callback_priority_boost - old.callback_priority_boost
        for w in visits:
            w.priority += shift + (boost if w.callback else 0)
        visits.sort(key=lambda w: (-w.priority, w.ordered_at, w.seq))
        for w in visits:
            w.step = _step_after(config, now - w.queued_at)
            if w.step + 1 < len(config.steps):
                at = w.queued_at + config.steps[w.step + 1].after_seconds
                self._schedule(at, _EXPAND, w, w.step)
            if config.max_wait_seconds is not None and config.overflow_action is not None:
                at = w.queued_at + config.max_wait_seconds
                if at > now and not w.callback:  # else: overflow now (below) or on coming back
                    self._schedule(at, _MAX_WAIT, w, w.seq)
            if w.status != WAITING:
                continue  # ringing: the new rules apply if the offer comes back (_requeue)
            self._requeue(w, now, out)  # offer at once, or wait (or overflow if past max)
        self._sweep_retired()
        return out

    def retire_queue(self, queue_id: int, now: float) -> list[Command]:
        """Remove a queue (Rule 6): it serves who is in it and takes nobody new."""
        out: list[Command] = []
        q = self._queues.get(queue_id)
        if q is None or q.retired:
            return out
        for other in self._queues.values():
            config = other.config
            if (
                other is not q
                and not other.retired
                and (
                    any(target == queue_id for target, _ in config.split)
                    or (
                        config.overflow_action is OverflowAction.QUEUE
                        and config.overflow_target == str(queue_id)
                    )
                )
            ):
                raise RoutingConfigError(f"queue {queue_id} is still a target of queue {other.id}")
        self._fire_due(now, out)
        q.retired = True
        self._sweep_retired()
        return out

    def _link_queue(self, q: QueueRuntime) -> None:
        """Rule 3 for a queue added or changed: eligibility of every operator, and the free
        ones into its idle pools (they are idle: nothing they may take is waiting)."""
        hotline_id = q.config.hotline_id
        for op in self._operators.values():
            if op.retired or hotline_id not in op.config.hotline_ids:
                continue
            el = _eligibility(op.config, q)
            if el is None:
                continue
            op.eligible.append(el)
            op.channels.add(q.channel)
            q.eligible_operators += 1
            if op.state in _SERVING:
                q.staffed += 1
            if (
                op.pending is None
                and (op.state is _READY or op.state is _BUSY)
                and op.available_for(q.channel)
            ):
                key = self._strategy_key(q, op, el.score)
                q.idle[el.first_step].push((key, op.id, op.version, op))

    def _unlink_queue(self, q: QueueRuntime) -> None:
        for op in self._operators.values():
            if any(el.queue is q for el in op.eligible):
                op.eligible = [el for el in op.eligible if el.queue is not q]
                op.channels = {el.queue.channel for el in op.eligible}

    def _sweep_retired(self) -> None:
        """Drop the retired queues nobody is in any more."""
        retired = [q for q in self._queues.values() if q.retired]
        if not retired:
            return
        busy = {id(w.queue) for w in self._interactions.values()}
        for q in retired:
            if id(q) in busy:
                continue
            del self._queues[q.id]
            if not q.config.split:
                self._by_hotline[q.config.hotline_id].remove(q)
                self._unlink_queue(q)

    # -- the driver's interface -------------------------------------------------------------

    def next_deadline(self) -> float | None:
        heap = self._deadlines
        valid = self._deadline_valid
        while heap:
            entry = heap[0]
            if valid(entry):
                return entry[0]
            heapq.heappop(heap)
        return None

    def on_timer(self, now: float) -> list[Command]:
        out: list[Command] = []
        self._fire_due(now, out)
        return out

    def handle(self, event: ev.Event, now: float) -> list[Command]:
        out: list[Command] = []
        if self._deadlines and self._deadlines[0][0] <= now:
            self._fire_due(now, out)
        # the cases most frequent first: each case is one isinstance check
        match event:
            case ev.InteractionArrived():
                self._arrive(event, now, out)
            case ev.OfferAccepted():
                self._accept(event.interaction_id, event.operator_id, now, out)
            case ev.InteractionEnded():
                self._end(event.interaction_id, now, out)
            case ev.CallerAbandoned():
                self._abandon(event.interaction_id, now, out)
            case ev.OperatorWentReady():
                self._go_ready(self._op(event.operator_id), now, out)
            case ev.OperatorWentNotReady():
                self._go_not_ready(self._op(event.operator_id), event.reason, now, out)
            case ev.OperatorLoggedOut():
                self._go_not_ready(self._op(event.operator_id), "logout", now, out)
            case ev.OfferDeclined():
                w = self._interactions.get(event.interaction_id)
                if (
                    w is not None
                    and w.status == OFFERED
                    and w.offered_to is not None
                    and w.offered_to.id == event.operator_id
                ):
                    self._miss(w, "declined", now, out)
            case ev.CallbackAccepted():
                self._callback(event.interaction_id, event.number, now, out)
            case ev.InteractionHeld():
                self._log_talking(event.interaction_id, EventType.HELD, now, out)
            case ev.InteractionResumed():
                self._log_talking(event.interaction_id, EventType.RESUMED, now, out)
            case ev.InteractionTransferred():
                self._transfer(event.interaction_id, event.queue_id, now, out)
            case ev.MoveWaiting():
                self._move(event, now, out)
            case ev.WrapUpExtended():
                self._extend_wrap(self._op(event.operator_id), event.seconds, now)
            case ev.WrapUpCompleted():
                self._wrap_saved(self._op(event.operator_id), event.interaction_id, now, out)
            case _:
                assert_never(event)
        return out

    # -- queries ----------------------------------------------------------------------------

    def operator_state(self, operator_id: int) -> tuple[OperatorState, str | None]:
        op = self._op(operator_id)
        return op.state, op.reason

    def operator_times(self, now: float) -> dict[int, tuple[float, float]]:
        """Per operator ``(handling_seconds, idle_seconds)`` up to ``now`` (occupancy)."""
        result = {}
        for op in self._operators.values():
            handling, idle = op.handling_seconds, op.idle_seconds
            if op.state in _IDLE_STATES:
                idle += now - op.state_since
            elif op.state in _SERVING:
                handling += now - op.state_since
            result[op.id] = (handling, idle)
        return result

    def waiting_count(self, queue_id: int) -> int:
        return sum(self._queues[queue_id].live_by_priority.values())

    def estimate_wait(self, queue_id: int, priority: int = 0) -> float | None:
        """EWT for a new arrival of ``priority`` in the queue (see ``ewt``)."""
        q = self._queue(queue_id)
        position = q.live_ahead_of(q.config.priority + priority) + 1
        if position == 1 and self._best_idle(q, len(q.config.steps) - 1) is not None:
            return 0.0
        return estimate_wait(position, q.staffed, 0, q.handle_times.mean)

    def announcement_for(self, interaction_id: int) -> AnnounceWait | None:
        """What to tell a caller still waiting now (periodic announcements): the same
        estimate as on entry (``ewt``), for the caller's current place in line."""
        position = self.position_of(interaction_id)
        if position is None:
            return None
        q = self._interactions[interaction_id].queue
        ewt = estimate_wait(position, q.staffed, 0, q.handle_times.mean)
        return AnnounceWait(
            interaction_id,
            ewt if ewt is not None else -1.0,
            position,
            ewt is None or ewt > q.config.callback_threshold_seconds,
        )

    def position_of(self, interaction_id: int) -> int | None:
        """1-based place in line of a waiting interaction (O(queue length): for announcements)."""
        w = self._interactions.get(interaction_id)
        if w is None or w.status != WAITING:
            return None
        return self._place_in_line(w.queue, (-w.priority, w.ordered_at, w.seq))

    @staticmethod
    def _place_in_line(q: QueueRuntime, key: tuple[int, float, int]) -> int:
        """1 + the live waiting entries of ``q`` ordered before ``key``."""
        return 1 + sum(
            1
            for heap in q.waiting
            for e in heap
            if e[4].status == WAITING and e[4].version == e[3] and e[:3] < key
        )

    def interaction_queue(self, interaction_id: int) -> tuple[int, str] | None:
        """Where an interaction the engine holds is: ``(queue_id, status)`` with status
        ``waiting``, ``ringing``, ``callback`` (a promised callback waiting its turn, or
        its offer ringing) or ``answered`` (talking or in wrap-up); None if unknown."""
        w = self._interactions.get(interaction_id)
        if w is None or w.status == DONE:
            return None
        if w.callback and w.status != TALKING:
            return w.queue.id, "callback"
        status = w.status
        name = "waiting" if status == WAITING else "ringing" if status == OFFERED else "answered"
        return w.queue.id, name

    def waiting_in(self, queue_id: int) -> list[tuple[int, float, bool]]:
        """The interactions not yet answered in a queue, callbacks left out, in the order
        they will be served (Rule 2): ``(interaction_id, ordered_at, ringing)``.  A ringing
        one keeps its place (the offer may come back)."""
        return self.waiting_lists().get(queue_id, [])

    def waiting_lists(self) -> dict[int, list[tuple[int, float, bool]]]:
        """:meth:`waiting_in` for every queue with someone in it, in one pass over the
        interactions held (O(n log n): for the wallboard, not for routing)."""
        found: dict[int, list[Waiting]] = {}
        for w in self._interactions.values():
            if not w.callback and (w.status == WAITING or w.status == OFFERED):
                found.setdefault(w.queue.id, []).append(w)
        lists = {}
        for queue_id, ws in found.items():
            ws.sort(key=lambda w: (-w.priority, w.ordered_at, w.seq))
            lists[queue_id] = [(w.interaction_id, w.ordered_at, w.status == OFFERED) for w in ws]
        return lists

    # -- arrivals ---------------------------------------------------------------------------

    def _arrive(self, event: ev.InteractionArrived, now: float, out: list[Command]) -> None:
        iid = event.interaction_id
        if iid in self._interactions:
            return  # a duplicate delivery: the interaction is already in the engine
        q = self._queues.get(event.queue_id) or self._queue(event.queue_id)
        if q.retired:
            raise RoutingConfigError(f"queue {q.id} is retired: it takes no new interactions")
        if q.config.split:
            q = self._resolve_split(q, 0)
        out.append(Log(iid, _ARRIVED, now, {"queue_id": event.queue_id}))
        # Waiting(interaction_id, queue, channel, priority, ordered_at, seq, queued_at)
        w = Waiting(
            iid, q, event.channel, q.config.priority + event.priority, now, next(self._seq), now
        )
        self._enter(w, now, out, None)

    def _resolve_split(self, q: QueueRuntime, depth: int) -> QueueRuntime:
        """Smooth weighted round robin (nginx): exact proportions, evenly interleaved."""
        split = q.config.split
        if not split:
            return q
        if depth >= MAX_SPLIT_DEPTH:
            raise RoutingConfigError(f"queue {q.id}: split chain deeper than {MAX_SPLIT_DEPTH}")
        total = 0
        best = 0
        for i, (_target, weight) in enumerate(split):
            q.split_current[i] += weight
            total += weight
            if q.split_current[i] > q.split_current[best]:
                best = i
        q.split_current[best] -= total
        return self._resolve_split(self._queue(split[best][0]), depth + 1)

    def _enter(
        self,
        w: Waiting,
        now: float,
        out: list[Command],
        extra: dict[str, object] | None,
        *,
        exact: bool = False,
    ) -> None:
        """``w`` enters its queue: offer at once if someone is free, else wait.  ``exact``
        counts the place in line from the order key (a moved interaction keeps its
        seniority, so it may go ahead of others of its priority) instead of assuming it
        goes last among them."""
        q = w.queue
        config = q.config
        iid = w.interaction_id
        self._interactions[iid] = w
        # Deadlines first: an interaction offered at once may be missed and wait after all,
        # and it must still expand and overflow on time.
        if len(config.steps) > 1:
            self._schedule(w.queued_at + config.steps[1].after_seconds, _EXPAND, w, 0)
        if config.max_wait_seconds is not None and config.overflow_action is not None:
            self._schedule(w.queued_at + config.max_wait_seconds, _MAX_WAIT, w, w.seq)
        op = self._best_idle(q, w.step, True)
        if op is not None:
            data: dict[str, object] = {"queue_id": q.id, "ewt": 0.0, "position": 1}
            if extra:
                data.update(extra)
            out.append(Log(iid, _QUEUED, now, data))
            self._offer(w, op, now, out)
            return
        if exact:
            position = self._place_in_line(q, (-w.priority, w.ordered_at, w.seq))
        else:
            position = q.live_ahead_of(w.priority) + 1
        ewt = estimate_wait(position, q.staffed, 0, q.handle_times.mean)
        data = {"queue_id": q.id, "ewt": ewt, "position": position}
        if extra:
            data.update(extra)
        out.append(Log(iid, _QUEUED, now, data))
        self._push_waiting(w)
        out.append(
            AnnounceWait(
                w.interaction_id,
                ewt if ewt is not None else -1.0,
                position,
                ewt is None or ewt > config.callback_threshold_seconds,
            )
        )

    def _push_waiting(self, w: Waiting) -> None:
        q = w.queue
        w.status = WAITING
        w.version += 1
        heap = q.waiting[w.step]
        heapq.heappush(heap, w.heap_entry())
        q.count_live(w.priority, 1)
        if len(heap) > 64 and len(heap) > 4 * sum(q.live_by_priority.values()):
            compact_waiting(heap)

    def _leave_waiting(self, w: Waiting) -> None:
        w.queue.count_live(w.priority, -1)
        w.version += 1

    # -- matching ---------------------------------------------------------------------------

    def _best_idle(self, q: QueueRuntime, step: int, claim: bool = False) -> OperatorRuntime | None:
        """The available operator the strategy prefers; ``claim`` when it gets the offer."""
        channel = q.channel
        idle = q.idle
        best = idle[0].top(channel)
        for s in range(1, step + 1):
            entry = idle[s].top(channel)
            if entry is not None and (best is None or entry[:2] < best[:2]):
                best = entry
        if best is None:
            return None
        if claim and q.strategy is _RANDOM:
            q.random_clock = max(q.random_clock, best[0])
        return best[3]

    def _best_waiting(self, op: OperatorRuntime, available: dict[Channel, bool]) -> Waiting | None:
        """The waiting interaction ``op`` should take next (Rule 2), or None.

        The hot path of an operator becoming free: queues with nobody waiting are skipped
        on one integer, and heap entries are compared as they are (their first three
        fields are the order key; ``seq`` is unique, so the record is never compared).
        ``available`` caches ``op.available_for`` per channel (filled as needed).
        """
        best: tuple[int, float, int, int, Waiting] | None = None
        heappop = heapq.heappop
        for el in op.eligible:
            q = el.queue
            if not q.live:
                continue
            free = available.get(q.channel)
            if free is None:
                free = available[q.channel] = op.available_for(q.channel)
            if not free:
                continue
            waiting = q.waiting
            for s in range(el.first_step, len(waiting)):
                heap = waiting[s]
                while heap:
                    entry = heap[0]
                    w = entry[4]
                    if w.status == WAITING and w.version == entry[3]:
                        if best is None or entry < best:
                            best = entry
                        break
                    heappop(heap)  # stale: answered, abandoned or moved on
        return None if best is None else best[4]

    def _strategy_key(self, q: QueueRuntime, op: OperatorRuntime, score: int) -> Any:
        strategy = q.config.strategy
        if strategy is RoutingStrategy.LONGEST_IDLE:
            return op.idle_since
        if strategy is RoutingStrategy.LEAST_OCCUPIED:
            return (op.handling_seconds, op.idle_since)
        if strategy is RoutingStrategy.BEST_SKILL:
            return (-score, op.idle_since)
        if strategy is RoutingStrategy.ROUND_ROBIN:
            return op.last_offer_at
        if strategy is RoutingStrategy.RANDOM:
            # An exponential race: each key is the queue's clock (the last winning key) plus
            # Exp(1).  By memorylessness, the keys of those still waiting are, past the
            # clock, fresh Exp(1) draws as well, so each decision is uniform over the
            # available operators.  A uniform key drawn once per push is not: the losers
            # keep their high keys and whoever was just freed wins again most of the time.
            return q.random_clock + self._rng.expovariate(1.0)
        assert_never(strategy)

    def _operator_free(self, op: OperatorRuntime, now: float, out: list[Command]) -> None:
        """``op`` can take (more) work: take the best waiting one, or wait in the indexes."""
        op.version += 1
        available: dict[Channel, bool] = {}
        w = self._best_waiting(op, available)
        if w is not None:
            self._leave_waiting(w)
            self._offer(w, op, now, out)
            return
        version = op.version
        op_id = op.id
        idle_since = op.idle_since
        for el in op.eligible:
            q = el.queue
            free = available.get(q.channel)
            if free is None:
                free = available[q.channel] = op.available_for(q.channel)
            if free:
                pool = q.idle[el.first_step]
                key = (
                    idle_since
                    if q.strategy is _LONGEST_IDLE
                    else self._strategy_key(q, op, el.score)
                )
                # (key, operator id, version) is unique per heap: the record is never compared
                pool.push((key, op_id, version, op))
                size = len(pool)
                if size > 64 and size > 4 * q.eligible_operators:
                    pool.compact(q.channel)

    def _offer(self, w: Waiting, op: OperatorRuntime, now: float, out: list[Command]) -> None:
        self.decisions += 1
        w.status = OFFERED
        w.offered_to = op
        w.offer_token += 1
        self._set_state(op, _T_OFFER, now, out)
        op.reserved_for = w
        op.version += 1
        op.last_offer_at = now
        q = w.queue
        iid, op_id, queue_id, callback = w.interaction_id, op.id, q.id, w.callback
        expires = now + q.config.offer_timeout_seconds
        out.append(
            Log(
                iid,
                _OFFERED,
                now,
                {"operator_id": op_id, "queue_id": queue_id, "callback": callback},
            )
        )
        out.append(Offer(iid, op_id, queue_id, expires, callback))
        heapq.heappush(
            self._deadlines, (expires, next(self._seq), _OFFER_TIMEOUT, w, w.offer_token)
        )

    # -- interaction life -------------------------------------------------------------------

    def _accept(self, iid: int, operator_id: int, now: float, out: list[Command]) -> None:
        w = self._interactions.get(iid)
        if w is None or w.status != OFFERED or w.offered_to is None:
            return  # late or duplicate: the offer already timed out or was cancelled
        op = w.offered_to
        if op.id != operator_id:
            return
        op.reserved_for = None
        self._set_state(op, _T_ACCEPT, now, out)
        load = op.load
        load[w.channel] = load.get(w.channel, 0) + 1
        op.total_load += 1
        w.status = TALKING
        w.answered_at = now
        out.append(
            Log(
                iid,
                _ANSWERED,
                now,
                {"operator_id": operator_id, "queue_id": w.queue.id, "callback": w.callback},
            )
        )
        if op.multitasks and op.pending is None and any(map(op.available_for, op.channels)):
            self._operator_free(op, now, out)  # room for another chat

    def _miss(self, w: Waiting, why: str, now: float, out: list[Command]) -> None:
        """Offer timed out or declined: the operator goes not ready, the interaction goes
        back to its original place in line and is offered to the next best operator."""
        op = w.offered_to
        assert op is not None  # noqa: S101 - status OFFERED implies an operator
        out.append(
            Log(
                w.interaction_id,
                EventType.OFFER_TIMEOUT,
                now,
                {"operator_id": op.id, "queue_id": w.queue.id, "reason": why},
            )
        )
        op.reserved_for = None
        self._set_state(op, Transition.MISS, now, out, reason="missed")
        w.offered_to = None
        self._requeue(w, now, out)

    def _requeue(self, w: Waiting, now: float, out: list[Command]) -> None:
        op = self._best_idle(w.queue, w.step, True)
        if op is not None:
            w.version += 1
            self._offer(w, op, now, out)
            return
        self._push_waiting(w)
        config = w.queue.config
        if (
            config.max_wait_seconds is not None
            and config.overflow_action is not None
            and not w.callback
            and now >= w.queued_at + config.max_wait_seconds
        ):
            # the max-wait deadline came while the offer rang (and was dropped then)
            self._overflow(w, now, out)

    def _abandon(self, iid: int, now: float, out: list[Command]) -> None:
        w = self._interactions.get(iid)
        if w is None or w.callback or w.status not in (WAITING, OFFERED):
            return  # answered already (the end comes as InteractionEnded) or unknown
        if w.status == WAITING:
            self._leave_waiting(w)
        else:
            op = w.offered_to
            assert op is not None  # noqa: S101
            out.append(CancelOffer(iid, op.id))
            op.reserved_for = None
            w.offered_to = None
            cancel = _T_CANCEL_TO_BUSY if op.total_load else _T_CANCEL
            self._set_state(op, cancel, now, out)
            self._after_release(op, now, out)
        w.status = DONE
        del self._interactions[iid]
        out.append(Log(iid, _ABANDONED, now, {"queue_id": w.queue.id}))

    def _callback(self, iid: int, number: str, now: float, out: list[Command]) -> None:
        w = self._interactions.get(iid)
        if w is None or w.status != WAITING or w.callback:
            return
        self._leave_waiting(w)
        w.callback = True
        w.priority += w.queue.config.callback_priority_boost
        out.append(
            Log(iid, EventType.CALLBACK_REQUESTED, now, {"queue_id": w.queue.id, "number": number})
        )
        self._push_waiting(w)  # same ordered_at and seq: the place in line is kept

    def _log_talking(self, iid: int, kind: EventType, now: float, out: list[Command]) -> None:
        w = self._interactions.get(iid)
        if w is not None and w.status == TALKING and w.offered_to is not None:
            out.append(Log(iid, kind, now, {"operator_id": w.offered_to.id}))

    def _end(self, iid: int, now: float, out: list[Command]) -> None:
        w = self._interactions.get(iid)
        if w is None:
            return
        status = w.status
        if status == TALKING:
            self._finish_talk(w, now, out)
            del self._interactions[iid]
        elif status in (WAITING, OFFERED):
            self._abandon(iid, now, out)  # ended before an answer: that is an abandon

    def _finish_talk(self, w: Waiting, now: float, out: list[Command]) -> None:
        op = w.offered_to
        assert op is not None  # noqa: S101
        w.status = DONE
        op.load[w.channel] -= 1
        op.total_load -= 1
        out.append(Log(w.interaction_id, _WRAP_UP_STARTED, now, {"operator_id": op.id}))
        wrap = w.queue.config.wrap_up_seconds
        if op.total_load > 0 or op.state is not _BUSY:
            # other chats still open (or a ringing offer): no separate wrap-up for this one
            self._complete(w, op, now, 0.0, out)
            if (op.state is _BUSY or op.state is _READY) and op.pending is None:
                self._operator_free(op, now, out)  # READY: back from "missed" while chatting
            return
        self._set_state(op, _T_END, now, out)
        op.wrap_items.append(w)
        if w.queue.config.wrap_up_required:
            op.wrap_unsaved.add(w.interaction_id)  # Rule 8: decided when the talk ends
        op.wrap_token += 1
        op.wrap_until = now + wrap
        if wrap <= 0:
            self._wrap_timed_out(op, now, out)
        else:
            self._schedule(op.wrap_until, _WRAP_END, op, op.wrap_token)

    def _complete(
        self, w: Waiting, op: OperatorRuntime, now: float, wrap: float, out: list[Command]
    ) -> None:
        talk_end = now - wrap
        q = w.queue
        q.handle_times.add(talk_end - w.answered_at + wrap)
        out.append(
            Log(
                w.interaction_id,
                _COMPLETED,
                now,
                {"operator_id": op.id, "queue_id": q.id, "wrap_up": wrap},
            )
        )

    def _wrap_timed_out(self, op: OperatorRuntime, now: float, out: list[Command]) -> None:
        """The wrap-up timer (or Rule 8's limit) ran out: end the wrap-up, or hold it."""
        if not op.wrap_unsaved:
            self._end_wrap(op, now, out)
            return
        limit = op.state_since + REQUIRED_WRAP_UP_LIMIT_SECONDS
        if now >= limit:
            self._end_wrap(op, now, out, unsaved="wrap_up")  # never ready on its own
            return
        op.wrap_token += 1  # held until saved, or until the limit
        self._schedule(limit, _WRAP_END, op, op.wrap_token)

    def _wrap_saved(self, op: OperatorRuntime, iid: int, now: float, out: list[Command]) -> None:
        """Rule 8: ``WrapUpCompleted``; it ends a hold, and changes nothing else."""
        if op.state is not _WRAP_UP or iid not in op.wrap_unsaved:
            return
        op.wrap_unsaved.discard(iid)
        if not op.wrap_unsaved and now >= op.wrap_until:
            self._end_wrap(op, now, out)

    def _end_wrap(
        self, op: OperatorRuntime, now: float, out: list[Command], unsaved: str | None = None
    ) -> None:
        """End the wrap-up: ready, or the break asked for, or (``unsaved``: Rule 8's
        limit) not ready with that reason."""
        started = op.state_since
        for w in op.wrap_items:
            self._complete(w, op, now, now - started, out)
        op.wrap_items.clear()
        op.wrap_unsaved.clear()
        op.wrap_token += 1
        if op.pending is None and unsaved is not None:
            op.pending = unsaved
        if op.pending is not None:
            reason, op.pending = op.pending, None
            self._set_state(op, Transition.WRAP_DONE_TO_BREAK, now, out, reason=reason)
            if reason == "logout":
                self._set_state(op, Transition.LOGOUT, now, out)
            return
        self._set_state(op, _T_WRAP_DONE, now, out)
        self._operator_free(op, now, out)

    def _extend_wrap(self, op: OperatorRuntime, seconds: float, now: float) -> None:
        if op.state is not OperatorState.WRAP_UP or seconds <= 0:
            return
        op.wrap_until = max(op.wrap_until, now) + seconds
        op.wrap_token += 1
        self._schedule(op.wrap_until, _WRAP_END, op, op.wrap_token)

    def _transfer(self, iid: int, queue_id: int, now: float, out: list[Command]) -> None:
        w = self._interactions.get(iid)
        if w is None or w.status != TALKING:
            return
        target = self._queue(queue_id)
        if target.retired:
            raise RoutingConfigError(f"queue {queue_id} is retired: it takes no new interactions")
        target = self._resolve_split(target, 0)
        out.append(Log(iid, EventType.TRANSFERRED, now, {"to_queue": target.id}))
        self._finish_talk(w, now, out)
        new = Waiting(iid, target, w.channel, target.config.priority, now, next(self._seq), now)
        self._enter(new, now, out, {"transferred_from": w.queue.id})

    def _move(self, event: ev.MoveWaiting, now: float, out: list[Command]) -> None:
        """Rule 7: a supervisor moves an unanswered interaction to another queue."""
        iid = event.interaction_id
        w = self._interactions.get(iid)
        if w is None or w.callback or (w.status != WAITING and w.status != OFFERED):
            return  # answered, gone, or a promised callback: nothing to move
        target = self._queue(event.queue_id)
        if target.retired:
            raise RoutingConfigError(f"queue {target.id} is retired: it takes no new interactions")
        target = self._resolve_split(target, 0)
        source = w.queue
        if target is source:
            return
        if target.channel is not w.channel:
            raise RoutingConfigError(
                f"queue {target.id} serves {target.channel.value}, "
                f"not {w.channel.value}: interaction {iid} cannot move there"
            )
        released = None
        if w.status == OFFERED:
            released = w.offered_to
            assert released is not None  # noqa: S101 - status OFFERED implies an operator
            out.append(CancelOffer(iid, released.id))
            released.reserved_for = None
            w.offered_to = None
            cancel = _T_CANCEL_TO_BUSY if released.total_load else _T_CANCEL
            self._set_state(released, cancel, now, out)
        else:
            self._leave_waiting(w)
        w.status = DONE
        out.append(
            Log(
                iid,
                EventType.TRANSFERRED,
                now,
                {"from_queue": source.id, "to_queue": target.id, "moved_by": event.by},
            )
        )
        moved = Waiting(
            iid,
            target,
            w.channel,
            target.config.priority + (w.priority - source.config.priority),
            w.ordered_at,  # seniority kept: the place in line is by original entry
            w.seq,
            now,  # the new queue's expansion steps and max wait count from here
            # (ordered_at, seq) is kept, so its entries must differ by version from those
            # it may have left in that queue before (moved away and back): continue it
            version=w.version,
        )
        self._enter(moved, now, out, {"moved_from": source.id}, exact=True)
        if released is not None:
            self._after_release(released, now, out)  # may take the moved one, if eligible
        self._sweep_retired()

    # -- operators --------------------------------------------------------------------------

    def _go_ready(self, op: OperatorRuntime, now: float, out: list[Command]) -> None:
        if op.retired:  # removed from the configuration: stays away (Rule 6)
            if op.state is _WRAP_UP:
                self._end_wrap(op, now, out)  # ends it early; the logout due follows
            return
        called_off = op.pending is not None
        op.pending = None
        if op.state is OperatorState.WRAP_UP:
            self._end_wrap(op, now, out)  # "ready" during wrap-up ends it early
            return
        if op.state in (OperatorState.OFFLINE, OperatorState.NOT_READY):
            self._set_state(op, Transition.GO_READY, now, out)
            self._operator_free(op, now, out)
        elif called_off and op.state is OperatorState.BUSY:
            self._operator_free(op, now, out)  # the break is called off: room for more chats

    def _go_not_ready(
        self, op: OperatorRuntime, reason: str, now: float, out: list[Command]
    ) -> None:
        if op.state in (OperatorState.READY, OperatorState.NOT_READY, OperatorState.OFFLINE):
            if reason == "logout":
                self._set_state(op, Transition.LOGOUT, now, out)
            else:
                self._set_state(op, Transition.GO_NOT_READY, now, out, reason=reason)
            op.version += 1  # forget its idle-index entries
        else:
            op.pending = reason  # Rule 2 of operator_state: taken when the work is done
            op.version += 1  # and no new work meanwhile (a chatting operator is indexed)

    def _after_release(self, op: OperatorRuntime, now: float, out: list[Command]) -> None:
        if op.pending is not None and op.total_load == 0 and op.state is OperatorState.READY:
            reason, op.pending = op.pending, None
            self._go_not_ready(op, reason, now, out)
        elif op.pending is None and op.state in (OperatorState.READY, OperatorState.BUSY):
            self._operator_free(op, now, out)  # no new work once a break is due (Rule 2)

    def _set_state(
        self,
        op: OperatorRuntime,
        transition: Transition,
        now: float,
        out: list[Command],
        reason: str | None = None,
    ) -> None:
        old = op.state
        try:
            new, clock, resets_idle, staffed = _STEPS[old, transition]
        except KeyError:
            next_state(old, transition)  # raises TransitionError
            raise
        if clock is _IDLE_CLOCK:
            op.idle_seconds += now - op.state_since
        elif clock is _HANDLING_CLOCK:
            op.handling_seconds += now - op.state_since
        op.state_since = now
        if resets_idle:
            op.idle_since = now
        if staffed:
            for el in op.eligible:
                el.queue.staffed += staffed
        op.state = new
        op.reason = reason if new is _NOT_READY else None
        if self.report_states and (new is not old or reason is not None):
            out.append(OperatorStateChanged(op.id, new, op.reason))

    # -- deadlines --------------------------------------------------------------------------

    def _schedule(self, at: float, kind: int, obj: Any, token: int) -> None:
        heapq.heappush(self._deadlines, (at, next(self._seq), kind, obj, token))

    @staticmethod
    def _deadline_valid(entry: tuple[float, int, int, Any, int]) -> bool:
        at, _seq, kind, obj, token = entry
        if kind == _OFFER_TIMEOUT:
            return bool(obj.status == OFFERED and obj.offer_token == token)
        # Expansion and max-wait deadlines are also checked against the queue's current
        # configuration: after update_queue, those scheduled under the old one are stale.
        if kind == _EXPAND:
            if obj.status not in (WAITING, OFFERED) or obj.step != token:
                return False
            steps = obj.queue.config.steps
            return bool(
                token + 1 < len(steps) and at == obj.queued_at + steps[token + 1].after_seconds
            )
        if kind == _MAX_WAIT:
            # still valid while ringing: ``next_deadline`` drops invalid entries from the top
            # of the heap before their time, and one dropped while the offer rang would be
            # lost if the offer came back before it was due (_requeue checks only past ones)
            if obj.status not in (WAITING, OFFERED) or obj.callback or obj.seq != token:
                return False
            config = obj.queue.config
            return bool(
                config.max_wait_seconds is not None
                and config.overflow_action is not None
                and at == obj.queued_at + config.max_wait_seconds
            )
        return bool(obj.state is OperatorState.WRAP_UP and obj.wrap_token == token)

    def _fire_due(self, now: float, out: list[Command]) -> None:
        heap = self._deadlines
        while heap and heap[0][0] <= now:
            entry = heapq.heappop(heap)
            if not self._deadline_valid(entry):
                continue
            at, _seq, kind, obj, _token = entry
            if kind == _OFFER_TIMEOUT:
                self._miss(obj, "timeout", at, out)
            elif kind == _EXPAND:
                self._expand(obj, at, out)
            elif kind == _MAX_WAIT:
                if obj.status == WAITING:  # ringing: _requeue overflows it if it comes back
                    self._overflow(obj, at, out)
            else:
                self._wrap_timed_out(obj, at, out)

    def _expand(self, w: Waiting, now: float, out: list[Command]) -> None:
        steps = w.queue.config.steps
        w.step += 1
        if w.step + 1 < len(steps):
            self._schedule(w.queued_at + steps[w.step + 1].after_seconds, _EXPAND, w, w.step)
        if w.status != WAITING:
            return  # ringing: the new step applies if it comes back
        self._leave_waiting(w)
        op = self._best_idle(w.queue, w.step, True)
        if op is not None:
            self._offer(w, op, now, out)
        else:
            self._push_waiting(w)

    def _overflow(self, w: Waiting, now: float, out: list[Command]) -> None:
        q = w.queue
        config = q.config
        action = config.overflow_action
        assert action is not None  # noqa: S101 - scheduled only with an action
        self._leave_waiting(w)
        if action is OverflowAction.QUEUE:
            target = self._resolve_split(self._queue(int(config.overflow_target or 0)), 0)
            out.append(
                Log(
                    w.interaction_id,
                    EventType.OVERFLOWED,
                    now,
                    {"from_queue": q.id, "to_queue": target.id},
                )
            )
            moved = Waiting(
                w.interaction_id,
                target,
                w.channel,
                target.config.priority + (w.priority - config.priority),
                w.ordered_at,
                w.seq,
                now,
                version=w.version,  # unique heap entries if it comes back (see _move)
            )
            w.status = DONE
            self._enter(moved, now, out, {"overflow_from": q.id})
            return
        w.status = DONE
        del self._interactions[w.interaction_id]
        out.append(
            Log(
                w.interaction_id,
                EventType.OVERFLOWED,
                now,
                {"from_queue": q.id, "action": action.value},
            )
        )
        out.append(Divert(w.interaction_id, q.id, action, config.overflow_target))

    # -- lookups ----------------------------------------------------------------------------

    def _op(self, operator_id: int) -> OperatorRuntime:
        try:
            return self._operators[operator_id]
        except KeyError:
            raise RoutingConfigError(f"unknown operator {operator_id}") from None

    def _queue(self, queue_id: int) -> QueueRuntime:
        try:
            return self._queues[queue_id]
        except KeyError:
            raise RoutingConfigError(f"unknown queue {queue_id}") from None
