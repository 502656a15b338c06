"""Synthetic workload: when calls arrive.

Arrivals are a Poisson process (independent callers).  A constant rate gives exponential
gaps between calls; an hourly or weekly profile gives a non-homogeneous process, sampled by
thinning (Lewis & Shedler, "Simulation of nonhomogeneous Poisson processes by thinning",
Naval Research Logistics Quarterly 26(3), 1979): draw candidates at the highest rate and
keep each one with probability ``rate(t) / max_rate``.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator

from hotline.sim.scenario import Arrivals

__all__ = ["poisson_arrivals"]


def poisson_arrivals(
    arrivals: Arrivals, rng: random.Random, start: float, end: float
) -> Iterator[float]:
    """Arrival times in ``[start, end)``, increasing, drawn from ``rng``.

    Time is simulated seconds, 0 being Monday 00:00 (where profiles start).  The constant
    case yields several million times a second; thinning costs one more draw per candidate
    and wastes the candidates it drops (``1 - mean rate / max rate`` of them).
    """
    if arrivals.per_hour is not None:
        return _homogeneous(arrivals.per_hour / 3600.0, rng, start, end)
    return _thinned(arrivals, rng, start, end)


def _homogeneous(rate: float, rng: random.Random, start: float, end: float) -> Iterator[float]:
    if rate <= 0:
        return
    # rng.expovariate(rate) inlined (it is ``-log(1 - random()) / rate`` in CPython): the
    # same numbers, without a Python call per arrival.
    uniform, log = rng.random, math.log
    t = start
    while True:
        t -= log(1.0 - uniform()) / rate
        if t >= end:
            return
        yield t


def _thinned(arrivals: Arrivals, rng: random.Random, start: float, end: float) -> Iterator[float]:
    peak = arrivals.max_rate()
    if peak <= 0:
        return
    # arrivals.rate_at(t) inlined: a tuple lookup instead of a method call per candidate
    week, uniform, log = arrivals.hourly_rates(), rng.random, math.log
    t = start
    while True:
        t -= log(1.0 - uniform()) / peak
        if t >= end:
            return
        if uniform() * peak < week[int(t // 3600.0) % 168]:
            yield t
