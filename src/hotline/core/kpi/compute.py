"""The KPIs of ``shared/KPI.md`` over queue visits, as mergeable sums and counts.

:class:`KpiAccumulator` keeps only counts, sums and a maximum, so accumulators of disjoint
slices (intervals, shards, days) merge into the accumulator of their union; every mean and
ratio is derived in :meth:`KpiAccumulator.result`.  A ratio or mean whose denominator is 0
is ``None``, never 0 (KPI.md).  :func:`compute_kpis` and :func:`group_kpis` are the
one-shot forms.  How each visit outcome counts is told in :mod:`hotline.core.kpi.records`.

Thresholds, as in KPI.md: ``answer_within`` is the service-level threshold ``T`` (answered
with wait ≤ T is within, inclusive); ``short_abandon`` is ``S`` (abandoned with wait < S is
short, strict, so S = 0 disables it).  Abandons with wait ≤ T are the ones
``sl_excl_abandon_within`` leaves out.

Occupancy is an operator KPI computed from time in operator states rather than from
visits: :class:`OccupancyAccumulator`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Final, TypeVar, assert_never

from hotline.core.kpi.records import KpiError, QueueVisit, VisitOutcome
from hotline.core.model import OperatorState

#: Keys of :meth:`KpiAccumulator.result`, in the order of ``shared/KPI.md``.
KPI_KEYS: tuple[str, ...] = (
    "offered",
    "answered",
    "abandoned",
    "short_abandoned",
    "answered_within",
    "callback_requested",
    "overflowed",
    "sl_offered",
    "sl_answered",
    "sl_excl_short",
    "sl_excl_abandon_within",
    "asa",
    "avg_abandon_wait",
    "max_wait",
    "aht",
    "avg_talk",
    "avg_hold",
    "avg_wrapup",
    "abandon_rate",
    "abandon_rate_excl_short",
    "csat_avg",
    "csat_share_satisfied",
)

#: ``csat_share_satisfied`` counts scores ≥ 4 on the 1–5 scale ("top-2 box", KPI.md).
CSAT_SATISFIED = 4

_ANSWERED: Final = VisitOutcome.ANSWERED
_ABANDONED: Final = VisitOutcome.ABANDONED
_CALLBACK: Final = VisitOutcome.CALLBACK
_OVERFLOWED: Final = VisitOutcome.OVERFLOWED
_TRANSFERRED: Final = VisitOutcome.TRANSFERRED
_WAITING: Final = VisitOutcome.WAITING

Kpis = dict[str, float | int | None]
K = TypeVar("K", bound=Hashable)


def _ratio(numerator: float, denominator: float) -> float | None:
    return None if denominator == 0 else numerator / denominator


def _check_threshold(name: str, value: float) -> None:
    if not (math.isfinite(value) and value >= 0):
        raise KpiError(f"{name} must be a finite number of seconds >= 0, got {value!r}")


@dataclass(slots=True)
class KpiAccumulator:
    """Counts and sums of the visits added so far, for one slice and one pair of thresholds.

    The fields are public so a rollup can be stored and rebuilt (``KpiAccumulator(**row)``).
    ``handled`` counts answered visits whose talk and wrap-up have both ended: the
    handle-time means (``aht``, ``avg_talk``, ``avg_hold``, ``avg_wrapup``) are over those,
    so ``aht == avg_talk + avg_wrapup`` always; on a finished log it equals ``answered``.
    """

    answer_within: float
    short_abandon: float
    offered: int = 0
    answered: int = 0
    answered_within: int = 0
    abandoned: int = 0
    short_abandoned: int = 0
    abandoned_within: int = 0  # abandoned with wait ≤ T
    callback_requested: int = 0
    overflowed: int = 0
    answered_wait_sum: float = 0.0
    abandoned_wait_sum: float = 0.0
    max_wait: float | None = None  # over answered and abandoned visits
    handled: int = 0
    talk_sum: float = 0.0
    hold_sum: float = 0.0
    wrap_up_sum: float = 0.0
    csat_count: int = 0
    csat_sum: float = 0.0
    csat_satisfied: int = 0

    def __post_init__(self) -> None:
        _check_threshold("answer_within", self.answer_within)
        _check_threshold("short_abandon", self.short_abandon)

    def add(self, visit: QueueVisit) -> None:
        """Count one visit."""
        self.offered += 1
        # identity tests on module constants rather than ``match`` on enum values: each
        # ``case VisitOutcome.X`` is a lookup through the enum metaclass and an ``==``
        outcome = visit.outcome
        if outcome is _ANSWERED:
            wait = self._waited(visit)
            self.answered += 1
            self.answered_wait_sum += wait
            if wait <= self.answer_within:
                self.answered_within += 1
            talk = visit.talk
            if talk is not None and visit.wrap_up is not None:
                self.handled += 1
                self.talk_sum += talk
                self.hold_sum += visit.hold
                self.wrap_up_sum += visit.wrap_up
        elif outcome is _ABANDONED:
            wait = self._waited(visit)
            self.abandoned += 1
            self.abandoned_wait_sum += wait
            if wait < self.short_abandon:
                self.short_abandoned += 1
            if wait <= self.answer_within:
                self.abandoned_within += 1
        elif outcome is _CALLBACK:
            self.callback_requested += 1
        elif outcome is _OVERFLOWED:
            self.overflowed += 1
        elif outcome is _TRANSFERRED or outcome is _WAITING:
            pass  # offered only
        else:
            assert_never(outcome)
        if visit.csat is not None:
            self.csat_count += 1
            self.csat_sum += visit.csat
            if visit.csat >= CSAT_SATISFIED:
                self.csat_satisfied += 1

    def add_all(self, visits: Iterable[QueueVisit]) -> None:
        for visit in visits:
            self.add(visit)

    def merge(self, other: KpiAccumulator) -> None:
        """Add another slice's counts and sums into this one (the slices must be disjoint)."""
        if (other.answer_within, other.short_abandon) != (self.answer_within, self.short_abandon):
            raise KpiError(
                "cannot merge KPI accumulators with different thresholds: "
                f"T={self.answer_within}, S={self.short_abandon} vs "
                f"T={other.answer_within}, S={other.short_abandon}; recompute from the visits"
            )
        self.offered += other.offered
        self.answered += other.answered
        self.answered_within += other.answered_within
        self.abandoned += other.abandoned
        self.short_abandoned += other.short_abandoned
        self.abandoned_within += other.abandoned_within
        self.callback_requested += other.callback_requested
        self.overflowed += other.overflowed
        self.answered_wait_sum += other.answered_wait_sum
        self.abandoned_wait_sum += other.abandoned_wait_sum
        if other.max_wait is not None:
            self._see_wait(other.max_wait)
        self.handled += other.handled
        self.talk_sum += other.talk_sum
        self.hold_sum += other.hold_sum
        self.wrap_up_sum += other.wrap_up_sum
        self.csat_count += other.csat_count
        self.csat_sum += other.csat_sum
        self.csat_satisfied += other.csat_satisfied

    def result(self) -> Kpis:
        """Every KPI of KPI.md except occupancy, keyed as :data:`KPI_KEYS`."""
        handled = self.handled
        return {
            "offered": self.offered,
            "answered": self.answered,
            "abandoned": self.abandoned,
            "short_abandoned": self.short_abandoned,
            "answered_within": self.answered_within,
            "callback_requested": self.callback_requested,
            "overflowed": self.overflowed,
            "sl_offered": _ratio(self.answered_within, self.offered),
            "sl_answered": _ratio(self.answered_within, self.answered),
            "sl_excl_short": _ratio(self.answered_within, self.offered - self.short_abandoned),
            "sl_excl_abandon_within": _ratio(
                self.answered_within, self.offered - self.abandoned_within
            ),
            "asa": _ratio(self.answered_wait_sum, self.answered),
            "avg_abandon_wait": _ratio(self.abandoned_wait_sum, self.abandoned),
            "max_wait": self.max_wait,
            "aht": _ratio(self.talk_sum + self.wrap_up_sum, handled),
            "avg_talk": _ratio(self.talk_sum, handled),
            "avg_hold": _ratio(self.hold_sum, handled),
            "avg_wrapup": _ratio(self.wrap_up_sum, handled),
            "abandon_rate": _ratio(self.abandoned, self.offered),
            "abandon_rate_excl_short": _ratio(
                self.abandoned - self.short_abandoned, self.offered - self.short_abandoned
            ),
            "csat_avg": _ratio(self.csat_sum, self.csat_count),
            "csat_share_satisfied": _ratio(self.csat_satisfied, self.csat_count),
        }

    def _waited(self, visit: QueueVisit) -> float:
        wait = visit.wait
        if wait is None:  # QueueVisit guarantees an end for answered/abandoned visits
            raise KpiError(f"visit of interaction {visit.interaction_id} has no wait")
        if self.max_wait is None or wait > self.max_wait:  # _see_wait, inlined
            self.max_wait = wait
        return wait

    def _see_wait(self, wait: float) -> None:
        if self.max_wait is None or wait > self.max_wait:
            self.max_wait = wait


def compute_kpis(
    visits: Iterable[QueueVisit], *, answer_within: float, short_abandon: float
) -> Kpis:
    """Every KPI of KPI.md except occupancy over ``visits`` (see :class:`KpiAccumulator`)."""
    accumulator = KpiAccumulator(answer_within, short_abandon)
    accumulator.add_all(visits)
    return accumulator.result()


def group_accumulators(
    visits: Iterable[QueueVisit],
    key: Callable[[QueueVisit], K],
    *,
    answer_within: float,
    short_abandon: float,
) -> dict[K, KpiAccumulator]:
    """One accumulator per value of ``key(visit)`` (queue, operator, interval...).

    For intervals, key on ``visit.arrived_at``: a visit belongs to the interval in which it
    entered the queue (KPI.md).  Only groups that have visits appear.
    """
    groups: dict[K, KpiAccumulator] = {}
    for visit in visits:
        group = key(visit)
        accumulator = groups.get(group)
        if accumulator is None:
            accumulator = groups[group] = KpiAccumulator(answer_within, short_abandon)
        accumulator.add(visit)
    return groups


def group_kpis(
    visits: Iterable[QueueVisit],
    key: Callable[[QueueVisit], K],
    *,
    answer_within: float,
    short_abandon: float,
) -> dict[K, Kpis]:
    """:func:`compute_kpis` per value of ``key(visit)``; only groups with visits appear."""
    groups = group_accumulators(
        visits, key, answer_within=answer_within, short_abandon=short_abandon
    )
    return {group: accumulator.result() for group, accumulator in groups.items()}


# --- Occupancy ------------------------------------------------------------------------------

#: Which operator states count as handling and which as ready-idle time for occupancy
#: (KPI.md: talk + hold + wrap-up over that plus ready idle).  RESERVED (an offer ringing)
#: is idle: ringing is not in the handle time, and this keeps the measure comparable with
#: the Erlang C occupancy A / N, whose service time is AHT.  NOT_READY and OFFLINE count
#: in neither.
OCCUPANCY_STATES: Mapping[OperatorState, bool | None] = {
    OperatorState.BUSY: True,
    OperatorState.WRAP_UP: True,
    OperatorState.READY: False,
    OperatorState.RESERVED: False,
    OperatorState.NOT_READY: None,
    OperatorState.OFFLINE: None,
}


def _check_seconds(operator_id: int, name: str, seconds: float) -> None:
    if not (math.isfinite(seconds) and seconds >= 0):
        raise KpiError(f"operator {operator_id}: {name} must be finite and >= 0, got {seconds!r}")


def occupancy(handling_seconds: float, idle_seconds: float) -> float | None:
    """``handling / (handling + idle)``; ``None`` when both are 0."""
    return _ratio(handling_seconds, handling_seconds + idle_seconds)


@dataclass(slots=True)
class OccupancyAccumulator:
    """Handling and ready-idle seconds per operator; mergeable like :class:`KpiAccumulator`."""

    handling: dict[int, float] = field(default_factory=dict)
    idle: dict[int, float] = field(default_factory=dict)

    def add(self, operator_id: int, handling_seconds: float, idle_seconds: float) -> None:
        """Add time spent handling interactions and time spent ready and idle."""
        _check_seconds(operator_id, "handling_seconds", handling_seconds)
        _check_seconds(operator_id, "idle_seconds", idle_seconds)
        self.handling[operator_id] = self.handling.get(operator_id, 0.0) + handling_seconds
        self.idle[operator_id] = self.idle.get(operator_id, 0.0) + idle_seconds

    def add_state(self, operator_id: int, state: OperatorState, seconds: float) -> None:
        """Add ``seconds`` spent in ``state``, classified by :data:`OCCUPANCY_STATES`."""
        _check_seconds(operator_id, "seconds", seconds)
        handling = OCCUPANCY_STATES[state]
        self.add(
            operator_id,
            seconds if handling is True else 0.0,
            seconds if handling is False else 0.0,
        )

    def merge(self, other: OccupancyAccumulator) -> None:
        for operator_id in other.handling:
            self.add(operator_id, other.handling[operator_id], other.idle[operator_id])

    def result(self) -> dict[int, float | None]:
        """Occupancy per operator (``None`` for one with neither handling nor idle time)."""
        return {op: occupancy(self.handling[op], self.idle[op]) for op in self.handling}

    def overall(self) -> float | None:
        """Occupancy of all operators together (time-weighted, not a mean of ratios)."""
        return occupancy(sum(self.handling.values()), sum(self.idle.values()))


def operator_occupancy(times: Iterable[tuple[int, float, float]]) -> dict[int, float | None]:
    """Occupancy per operator from ``(operator_id, handling_seconds, idle_seconds)`` rows."""
    accumulator = OccupancyAccumulator()
    for operator_id, handling_seconds, idle_seconds in times:
        accumulator.add(operator_id, handling_seconds, idle_seconds)
    return accumulator.result()
