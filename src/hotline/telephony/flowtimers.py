"""The flow runs' deadlines, kept in one heap so a SIP event costs O(log n), not O(calls).

Why: the B2BUA's one loop timer (b2bua.py, Rule 1) must fire at the earliest deadline
among the transaction layer and every call's IVR flow (a menu's timeout, a queue's next
announcement).  Scanning every call's flow on each SIP message made each message cost
O(calls); at hundreds of concurrent calls that scan dominated signalling.

Theory of operation (lazy invalidation, as ``core/routing/engine.py`` keeps its own
deadlines):

Rule 1. :meth:`FlowDeadlines.set` records a key's new deadline by pushing
        ``(deadline, seq, key)``; the key's current entry is the one whose ``seq`` is in
        ``_current``.  Setting the same deadline again pushes nothing; ``None`` (or
        :meth:`discard`) just forgets the current entry.
Rule 2. An entry that is no longer current (superseded or discarded) stays in the heap
        until it reaches the top, where :meth:`next_deadline` and :meth:`pop_due` drop
        it.  So a change costs one push, never a search.
Rule 3. When stale entries outnumber live ones four to one the heap is rebuilt from the
        live ones, so a flow whose deadline changes often cannot grow it without bound.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Hashable
from typing import Final, Generic, TypeVar

__all__ = ["FlowDeadlines"]

K = TypeVar("K", bound=Hashable)

#: Rule 3: below this size a heap is never compacted (not worth a rebuild).
_COMPACT_MIN: Final = 64


class FlowDeadlines(Generic[K]):
    """Deadlines by key (a call), earliest first (Rules 1-3)."""

    __slots__ = ("_current", "_heap", "_seq")

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, K]] = []
        self._current: dict[K, tuple[float, int]] = {}
        self._seq = itertools.count()

    def __len__(self) -> int:
        """Keys with a deadline."""
        return len(self._current)

    def get(self, key: K) -> float | None:
        """The key's deadline, ``None`` when it has none."""
        current = self._current.get(key)
        return None if current is None else current[0]

    def set(self, key: K, deadline: float | None) -> None:
        """Make ``deadline`` the key's only deadline (``None``: it has none)."""
        current = self._current.get(key)
        if deadline is None:
            if current is not None:
                del self._current[key]
            return
        if current is not None and current[0] == deadline:
            return
        seq = next(self._seq)
        self._current[key] = (deadline, seq)
        heap = self._heap
        heapq.heappush(heap, (deadline, seq, key))
        if len(heap) > _COMPACT_MIN and len(heap) > 4 * len(self._current):
            self._compact()

    def discard(self, key: K) -> None:
        """Forget the key's deadline (the call ended)."""
        self._current.pop(key, None)

    def next_deadline(self) -> float | None:
        """The earliest deadline of any key, ``None`` when no key has one."""
        heap = self._heap
        current = self._current
        while heap:
            deadline, seq, key = heap[0]
            if current.get(key) == (deadline, seq):
                return deadline
            heapq.heappop(heap)  # Rule 2: superseded or discarded
        return None

    def pop_due(self, now: float) -> list[K]:
        """The keys whose deadline is ``now`` or earlier, earliest first, each once;
        their deadlines are forgotten (the caller sets the next ones)."""
        heap = self._heap
        current = self._current
        due: list[K] = []
        while heap and heap[0][0] <= now:
            deadline, seq, key = heapq.heappop(heap)
            if current.get(key) == (deadline, seq):
                del current[key]
                due.append(key)
        return due

    def _compact(self) -> None:
        """Rule 3: keep only the current entries."""
        self._heap = [(deadline, seq, key) for key, (deadline, seq) in self._current.items()]
        heapq.heapify(self._heap)
