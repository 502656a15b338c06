"""The engine's live state: waiting interactions, operators, queues, and their indexes.

Plain mutable records owned by one engine (one asyncio task or one simulation), never
shared.  Everything here can be rebuilt by replaying the events that produced it.

Indexes (so that no decision scans every operator):
- ``QueueRuntime.waiting[step]``: heap of interactions at that expansion step, ordered by
  ``(-priority, ordered_at, seq)`` (STYLE §10: queue order is one key).
- ``QueueRuntime.idle[step]``: an :class:`IdlePool` of available operators whose first
  eligible step for this queue is ``step``, ordered by the queue strategy's key.
Heaps are lazy: an entry is valid only while its version matches the record's; stale
entries are dropped when they surface and the heap is compacted when they pile up.
"""

from __future__ import annotations

import heapq
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from hotline.core.model import Channel, OperatorState, RoutingStrategy
from hotline.core.routing.config import OperatorConfig, QueueConfig
from hotline.core.routing.ewt import HandleTimes

#: default AHT for EWT before a queue has any history: 3 minutes, a typical inbound call
DEFAULT_HANDLE_SECONDS = 180.0

WAITING, OFFERED, TALKING, DONE = 0, 1, 2, 3


@dataclass(slots=True, eq=False)
class Waiting:
    """One visit of an interaction to a queue, from entry to the end of its wrap-up."""

    interaction_id: int
    queue: QueueRuntime
    channel: Channel
    priority: int
    ordered_at: float  # keeps the place in line across offer timeouts and overflows
    seq: int
    queued_at: float  # entry into this queue: waits and expansion count from here
    step: int = 0
    callback: bool = False
    status: int = WAITING
    version: int = 0  # bumped whenever its heap entries must be forgotten
    offered_to: OperatorRuntime | None = None
    offer_token: int = 0
    answered_at: float = 0.0

    def heap_entry(self) -> tuple[int, float, int, int, Waiting]:
        return (-self.priority, self.ordered_at, self.seq, self.version, self)


@dataclass(slots=True, eq=False)
class Eligibility:
    queue: QueueRuntime
    first_step: int
    score: int


@dataclass(slots=True, eq=False)
class OperatorRuntime:
    config: OperatorConfig
    id: int = field(init=False)
    state: OperatorState = OperatorState.OFFLINE
    reason: str | None = None
    pending: str | None = None  # a break or logout asked for while busy
    state_since: float = 0.0
    idle_since: float = 0.0
    last_offer_at: float = 0.0
    version: int = 0
    load: dict[Channel, int] = field(default_factory=dict)
    total_load: int = 0
    reserved_for: Waiting | None = None
    wrap_token: int = 0
    wrap_until: float = 0.0
    wrap_items: list[Waiting] = field(default_factory=list)
    #: interactions of the current wrap-up whose queue requires it and whose
    #: ``WrapUpCompleted`` has not come yet (engine Rule 8)
    wrap_unsaved: set[int] = field(default_factory=set)
    handling_seconds: float = 0.0
    idle_seconds: float = 0.0
    eligible: list[Eligibility] = field(default_factory=list)
    channels: set[Channel] = field(default_factory=set)  # of the queues it is eligible for
    multitasks: bool = field(init=False)  # may hold several interactions at once
    #: removed from the configuration: finishes its work, is never offered any more
    retired: bool = False

    def __post_init__(self) -> None:
        self.id = self.config.id
        config = self.config
        self.multitasks = config.call_while_chatting or any(n > 1 for n in config.capacity.values())

    def reconfigure(self, config: OperatorConfig) -> None:
        """Adopt ``config`` (same id); the engine rebuilds the eligibility around it."""
        self.config = config
        self.multitasks = config.call_while_chatting or any(n > 1 for n in config.capacity.values())

    def available_for(self, channel: Channel) -> bool:
        """Rule 1 of ``operator_state``: may this operator be offered ``channel`` now?"""
        state = self.state
        capacity = self.config.capacity.get(channel, 0)
        if state is OperatorState.READY and self.total_load == 0:
            return capacity > 0
        # READY with open chats happens after a missed offer (not_ready "missed") while
        # chatting: the open chats limit what may be offered, as when BUSY.
        if state is not OperatorState.BUSY and state is not OperatorState.READY:
            return False
        load = self.load
        if channel is Channel.CALL:
            return (
                self.config.call_while_chatting and load.get(Channel.CALL, 0) == 0 and capacity > 0
            )
        return load.get(Channel.CALL, 0) == 0 and load.get(channel, 0) < capacity


@dataclass(slots=True, eq=False)
class QueueRuntime:
    config: QueueConfig
    id: int = field(init=False)
    channel: Channel = field(init=False)
    strategy: RoutingStrategy = field(init=False)
    handle_times: HandleTimes
    waiting: list[list[tuple[int, float, int, int, Waiting]]]
    idle: list[IdlePool]
    live_by_priority: dict[int, int] = field(default_factory=dict)
    live: int = 0  # waiting interactions (all priorities): lets matching skip empty queues
    staffed: int = 0
    eligible_operators: int = 0
    split_current: list[int] = field(default_factory=list)
    random_clock: float = 0.0  # the random strategy's race clock (engine._strategy_key)
    #: removed from the configuration: serves who is already in it, takes nobody new
    retired: bool = False

    @classmethod
    def build(cls, config: QueueConfig) -> QueueRuntime:
        steps = len(config.steps)
        return cls(
            config=config,
            handle_times=HandleTimes(DEFAULT_HANDLE_SECONDS),
            waiting=[[] for _ in range(steps)],
            idle=[IdlePool() for _ in range(steps)],
            split_current=[0] * len(config.split),
        )

    def __post_init__(self) -> None:
        self.id = self.config.id
        self.channel = self.config.channel
        self.strategy = self.config.strategy

    def reset(self, config: QueueConfig) -> None:
        """Adopt ``config`` (same id) with empty indexes; the engine refills them.  The
        handle-time history stays: it is the queue's, not its configuration's."""
        self.config = config
        self.channel = config.channel
        self.strategy = config.strategy
        self.waiting = [[] for _ in config.steps]
        self.idle = [IdlePool() for _ in config.steps]
        self.live_by_priority = {}
        self.live = 0
        self.staffed = 0
        self.eligible_operators = 0
        if len(self.split_current) != len(config.split):
            self.split_current = [0] * len(config.split)

    def live_ahead_of(self, priority: int) -> int:
        """Waiting interactions that would be served before a new one of ``priority``."""
        ahead = 0
        for p, n in self.live_by_priority.items():
            if p >= priority:
                ahead += n
        return ahead

    def count_live(self, priority: int, delta: int) -> None:
        self.live_by_priority[priority] = self.live_by_priority.get(priority, 0) + delta
        self.live += delta


IdleEntry = tuple[Any, int, int, OperatorRuntime]  # (strategy key, operator id, version, op)


class IdlePool:
    """Available operators of one queue step, lowest strategy key first.

    Most keys arrive in increasing order (longest idle: operators become idle at ``now``,
    which only grows), so in-order entries go to a deque (O(1) in and out) and only the
    out-of-order ones to a heap; the pool's head is the smaller of the two heads.  Entries
    are lazy like the waiting heaps: stale ones are dropped when they surface.
    """

    __slots__ = ("_heap", "_run")

    def __init__(self) -> None:
        self._run: deque[IdleEntry] = deque()
        self._heap: list[IdleEntry] = []

    def __len__(self) -> int:
        return len(self._run) + len(self._heap)

    def push(self, entry: IdleEntry) -> None:
        run = self._run
        if not run or run[-1] <= entry:
            run.append(entry)
        else:
            heapq.heappush(self._heap, entry)

    def top(self, channel: Channel) -> IdleEntry | None:
        """The first entry still valid and available for ``channel``."""
        run, heap = self._run, self._heap
        while run:
            entry = run[0]
            op = entry[3]
            if op.version == entry[2] and op.available_for(channel):
                break
            run.popleft()
        while heap:
            entry = heap[0]
            op = entry[3]
            if op.version == entry[2] and op.available_for(channel):
                break
            heapq.heappop(heap)
        if not heap:
            return run[0] if run else None
        if not run:
            return heap[0]
        return run[0] if run[0] < heap[0] else heap[0]

    def compact(self, channel: Channel) -> None:
        def valid(e: IdleEntry) -> bool:
            return e[3].version == e[2] and e[3].available_for(channel)

        self._run = deque(e for e in self._run if valid(e))
        self._heap = [e for e in self._heap if valid(e)]
        heapq.heapify(self._heap)


def compact_waiting(heap: list[tuple[int, float, int, int, Waiting]]) -> None:
    heap[:] = [e for e in heap if e[4].status == WAITING and e[4].version == e[3]]
    heapq.heapify(heap)
