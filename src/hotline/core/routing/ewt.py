"""Estimated wait time (EWT) for a queue position.

Method: with every eligible staffed operator busy, FIFO service, and handle times that are
roughly exponential, completions arrive at rate ``N / AHT``, so the caller at position
``k`` (1 = next) waits on average ``k · AHT / N`` (the conditional wait of M/M/N given
``k − 1`` ahead: Gans, Koole & Mandelbaum, "Telephone call centers: tutorial, review and
research prospects", 2003, §4.2).  AHT is the mean of the queue's recent handle times
(talk + wrap-up), so the estimate follows the day.  With an idle eligible operator the
estimate is 0; with nobody staffed it is ``None`` (unknown: the IVR offers a callback).
"""

from __future__ import annotations

from collections import deque

#: handle times remembered per queue: enough to smooth noise, few enough to follow the day
WINDOW = 100


class HandleTimes:
    """A sliding window of recent handle times with an O(1) mean."""

    __slots__ = ("_total", "_window", "default")

    def __init__(self, default: float) -> None:
        self.default = default
        self._window: deque[float] = deque(maxlen=WINDOW)
        self._total = 0.0

    def add(self, seconds: float) -> None:
        if len(self._window) == self._window.maxlen:
            self._total -= self._window[0]
        self._window.append(seconds)
        self._total += seconds

    @property
    def mean(self) -> float:
        return self._total / len(self._window) if self._window else self.default


def estimate_wait(position: int, staffed: int, idle: int, aht: float) -> float | None:
    """Seconds until the caller at ``position`` (1-based) is expected to be answered."""
    if idle >= position:
        return 0.0
    if staffed <= 0:
        return None
    return max(0, position - idle) * aht / staffed
