"""The reports the seeds ask for (issue 6), as pure functions over queue visits.

Each takes :class:`~hotline.core.kpi.records.QueueVisit` records (POSIX-second times, see
:mod:`hotline.core.kpi.history`) and returns plain data for a page, a CSV or a table;
times of day, weekdays and months are read in the report's time zone.

Conventions shared by the reports
---------------------------------
* **Distributions** count values in half-open buckets ``[lower, upper)``; the last bucket
  has no upper bound.  A value exactly on an edge goes to the bucket that starts there.
* **Lead → customer conversion.** The history and the IVR mark what an interaction was
  about with its ``topic``.  A topic in ``lead_topics`` (default ``{"lead"}``) marks a
  prospect that did not buy (yet); a topic in ``customer_topics`` (default
  ``{"customer"}``) marks a prospect that became a customer on that interaction.
  ``conversion = customers / (leads + customers)``; other topics are not sales contacts and
  count in neither.  An interaction with several visits counts once, for the operator of
  its last answered visit (else its last visit) — who closed it.
* **EWT accuracy** compares the estimated wait announced at queue entry (``ewt``) with the
  actual wait of **answered** visits only: an abandon's wait is cut short by the caller, so
  it says nothing about the estimate.  ``error = announced − actual`` (positive: the caller
  was told a longer wait than they had).
* **Billing** for outsourcing: per hotline and calendar month of the queue entry, the
  answered interactions and their handled minutes (talk, holds included, plus wrap-up) —
  what the client is charged for; talk minutes are given too.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections import Counter
from collections.abc import Collection, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise
from zoneinfo import ZoneInfo

from hotline.core.kpi.compute import KpiAccumulator
from hotline.core.kpi.intervals import Calendar, Period, slot_of
from hotline.core.kpi.records import KpiError, QueueVisit, VisitOutcome

#: Default bucket edges, seconds.  Talk: the usual 30 s / 1 / 2 / 5 / 10 / 20 min marks.
DURATION_EDGES: tuple[float, ...] = (0, 30, 60, 120, 300, 600, 1200)
#: Waits: fine below a minute, where short abandons (S ≈ 5 s) and SL thresholds (T ≈ 20 s) lie.
WAIT_EDGES: tuple[float, ...] = (0, 5, 10, 20, 30, 60, 120, 300)
#: EWT accuracy: "within ±30 s" (issue 6).
EWT_TOLERANCE = 30.0
LEAD_TOPICS = frozenset({"lead"})
CUSTOMER_TOPICS = frozenset({"customer"})


@dataclass(frozen=True, slots=True)
class Bucket:
    """Values in ``[lower, upper)``; ``upper`` is ``None`` for the last, open bucket."""

    lower: float
    upper: float | None
    count: int


def distribution(values: Iterable[float], edges: Sequence[float]) -> list[Bucket]:
    """Counts of ``values`` per bucket of ``edges`` (increasing; the first is the floor).

    A value below the first edge is an error: durations and waits are never negative.
    """
    if not edges or any(b <= a for a, b in pairwise(edges)):
        raise KpiError(f"bucket edges must be increasing, got {list(edges)}")
    counts = [0] * len(edges)
    for value in values:
        if not value >= edges[0]:
            raise KpiError(f"value {value} is below the first bucket edge {edges[0]}")
        counts[bisect_right(edges, value) - 1] += 1
    uppers: list[float | None] = [*edges[1:], None]
    return [Bucket(lower, upper, n) for lower, upper, n in zip(edges, uppers, counts, strict=True)]


# --- when people call ---------------------------------------------------------------------


def arrivals_by_weekday_hour(
    visits: Iterable[QueueVisit], tz: ZoneInfo
) -> Counter[tuple[int, int]]:
    """Queue entries per ``(weekday, hour)`` of local time (weekday 0 = Monday).

    The heat map of "calls by time of day and weekday"; sum over one index for either
    alone.  On a fall-back day the repeated hour counts both of its passes.
    """
    counts: Counter[tuple[int, int]] = Counter()
    for visit in visits:
        local = datetime.fromtimestamp(visit.arrived_at, tz)
        counts[(local.weekday(), local.hour)] += 1
    return counts


def arrivals_by_hour(visits: Iterable[QueueVisit], tz: ZoneInfo) -> list[int]:
    """Queue entries per local hour of day, 24 values."""
    hours = [0] * 24
    for (_, hour), count in arrivals_by_weekday_hour(visits, tz).items():
        hours[hour] += count
    return hours


def arrivals_by_weekday(visits: Iterable[QueueVisit], tz: ZoneInfo) -> list[int]:
    """Queue entries per local weekday, Monday first, 7 values."""
    days = [0] * 7
    for (weekday, _), count in arrivals_by_weekday_hour(visits, tz).items():
        days[weekday] += count
    return days


# --- durations, topics, waits ---------------------------------------------------------------


def _answered(visits: Iterable[QueueVisit]) -> Iterable[QueueVisit]:
    return (v for v in visits if v.outcome is VisitOutcome.ANSWERED)


def talk_distribution(
    visits: Iterable[QueueVisit], edges: Sequence[float] = DURATION_EDGES
) -> list[Bucket]:
    """Talk time (answer → end, holds included) of answered visits whose talk has ended."""
    return distribution((t for v in _answered(visits) if (t := v.talk) is not None), edges)


def topic_counts(visits: Iterable[QueueVisit]) -> dict[str | None, int]:
    """Visits per topic, most frequent first (``None``: no topic known)."""
    counts = Counter(visit.topic for visit in visits)
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0] is None, item[0] or "")))


@dataclass(frozen=True, slots=True)
class Abandonment:
    """Abandons over offered visits, and how long the callers waited before hanging up."""

    offered: int
    abandoned: int
    short_abandoned: int
    abandon_rate: float | None
    waits: list[Bucket]


def abandonment(
    visits: Iterable[QueueVisit],
    *,
    short_abandon: float,
    edges: Sequence[float] = WAIT_EDGES,
) -> Abandonment:
    """The abandonment report: counts as KPI.md (``short`` is wait < S) and the wait
    distribution of the abandoned visits."""
    accumulator = KpiAccumulator(0.0, short_abandon)  # T plays no part here
    waits: list[float] = []
    for visit in visits:
        accumulator.add(visit)
        if visit.outcome is VisitOutcome.ABANDONED and visit.wait is not None:
            waits.append(visit.wait)
    kpis = accumulator.result()
    return Abandonment(
        offered=accumulator.offered,
        abandoned=accumulator.abandoned,
        short_abandoned=accumulator.short_abandoned,
        abandon_rate=kpis["abandon_rate"],
        waits=distribution(waits, edges),
    )


@dataclass(frozen=True, slots=True)
class EwtAccuracy:
    """Announced vs actual wait of answered visits that had an announcement."""

    count: int
    mean_error: float | None  # announced − actual, seconds
    mean_absolute_error: float | None
    share_within: float | None  # |error| ≤ tolerance
    tolerance: float


def ewt_accuracy(visits: Iterable[QueueVisit], *, tolerance: float = EWT_TOLERANCE) -> EwtAccuracy:
    """How good the estimated waits were (module docstring: answered visits only)."""
    errors = [
        v.ewt - wait
        for v in _answered(visits)
        if v.ewt is not None and (wait := v.wait) is not None
    ]
    n = len(errors)
    return EwtAccuracy(
        count=n,
        mean_error=math.fsum(errors) / n if n else None,
        mean_absolute_error=math.fsum(abs(e) for e in errors) / n if n else None,
        share_within=sum(abs(e) <= tolerance for e in errors) / n if n else None,
        tolerance=tolerance,
    )


def callbacks_requested(
    visits: Iterable[QueueVisit], *, by: str = "queue_id"
) -> dict[Hashable, tuple[int, int]]:
    """``{value of by: (callbacks requested, offered)}`` — by ``queue_id`` or ``hotline_id``.

    A callback accepted in the queue ends the visit as ``CALLBACK`` (KPI.md counts it apart
    from abandons); the share of offered visits is ``requested / offered``.
    """
    if by not in ("queue_id", "hotline_id"):
        raise KpiError(f"callbacks_requested groups by queue_id or hotline_id, not {by!r}")
    counts: dict[Hashable, list[int]] = {}
    for visit in visits:
        pair = counts.setdefault(getattr(visit, by), [0, 0])
        pair[0] += visit.outcome is VisitOutcome.CALLBACK
        pair[1] += 1
    return {key: (requested, offered) for key, (requested, offered) in counts.items()}


# --- sales and operators --------------------------------------------------------------------


def _closing_visits(visits: Iterable[QueueVisit]) -> list[QueueVisit]:
    """One visit per interaction: its last answered visit, else its last visit."""
    closing: dict[int, QueueVisit] = {}
    for visit in sorted(visits, key=lambda v: v.arrived_at):
        held = closing.get(visit.interaction_id)
        if (
            held is None
            or visit.outcome is VisitOutcome.ANSWERED
            or held.outcome is not VisitOutcome.ANSWERED
        ):
            closing[visit.interaction_id] = visit
    return list(closing.values())


@dataclass(frozen=True, slots=True)
class Conversion:
    leads: int  # prospects that did not buy
    customers: int  # prospects that bought
    rate: float | None  # customers / (leads + customers)


def conversion(
    visits: Iterable[QueueVisit],
    *,
    by: str,
    lead_topics: Collection[str] = LEAD_TOPICS,
    customer_topics: Collection[str] = CUSTOMER_TOPICS,
) -> dict[Hashable, Conversion]:
    """Lead → customer conversion per ``by`` = ``"source"`` or ``"operator_id"``.

    Groups with no sales contact do not appear.  The module docstring has the definition.
    """
    if by not in ("source", "operator_id"):
        raise KpiError(f"conversion is by source or operator_id, not {by!r}")
    counts: dict[Hashable, list[int]] = {}
    for visit in _closing_visits(visits):
        if visit.topic in lead_topics:
            counts.setdefault(getattr(visit, by), [0, 0])[0] += 1
        elif visit.topic in customer_topics:
            counts.setdefault(getattr(visit, by), [0, 0])[1] += 1
    return {
        key: Conversion(leads, customers, customers / (leads + customers))
        for key, (leads, customers) in counts.items()
    }


@dataclass(frozen=True, slots=True)
class OperatorRow:
    """One line of the per-operator table."""

    operator_id: int
    handled: int  # answered visits whose talk and wrap-up have ended
    aht: float | None
    sl_answered: float | None  # of the visits this operator answered, share within T
    conversion: float | None
    csat_avg: float | None
    occupancy: float | None


def operator_table(
    visits: Iterable[QueueVisit],
    *,
    answer_within: float,
    occupancy: Mapping[int, float | None] | None = None,
    lead_topics: Collection[str] = LEAD_TOPICS,
    customer_topics: Collection[str] = CUSTOMER_TOPICS,
) -> list[OperatorRow]:
    """Per operator who answered a visit, by operator id.  ``occupancy`` comes from operator
    states (:class:`~hotline.core.kpi.compute.OccupancyAccumulator`), not from visits.

    The service level is ``sl_answered``: an operator is offered only what they answer, so
    the calls abandoned in the queue are nobody's.
    """
    visits = list(visits)
    accumulators: dict[int, KpiAccumulator] = {}
    for visit in _answered(visits):
        if visit.operator_id is not None:
            accumulator = accumulators.get(visit.operator_id)
            if accumulator is None:
                accumulator = accumulators[visit.operator_id] = KpiAccumulator(answer_within, 0)
            accumulator.add(visit)
    sales = conversion(
        visits, by="operator_id", lead_topics=lead_topics, customer_topics=customer_topics
    )
    rows = []
    for operator_id in sorted(accumulators):
        kpis = accumulators[operator_id].result()
        sold = sales.get(operator_id)
        rows.append(
            OperatorRow(
                operator_id=operator_id,
                handled=accumulators[operator_id].handled,
                aht=kpis["aht"],
                sl_answered=kpis["sl_answered"],
                conversion=None if sold is None else sold.rate,
                csat_avg=kpis["csat_avg"],
                occupancy=None if occupancy is None else occupancy.get(operator_id),
            )
        )
    return rows


# --- outsourcing billing --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BillingRow:
    hotline_id: int | None
    month: str  # "2026-03", local to the report's time zone
    interactions: int  # distinct answered interactions
    handled_minutes: float  # (talk + wrap-up) / 60 over answered visits
    talk_minutes: float


def billing(visits: Iterable[QueueVisit], tz: ZoneInfo) -> list[BillingRow]:
    """Handled minutes and interactions per hotline and month (module docstring), ordered
    by hotline id (unknown last), then month."""
    month = Period(calendar=Calendar.MONTH)
    sums: dict[tuple[int | None, str], tuple[set[int], list[float], list[float]]] = {}
    for visit in _answered(visits):
        talk = visit.talk
        if talk is None:
            continue  # still talking: billed when it ends
        key = (visit.hotline_id, slot_of(visit.arrived_at, month, tz).label)
        interactions, handled, talked = sums.setdefault(key, (set(), [], []))
        interactions.add(visit.interaction_id)
        handled.append(talk + (visit.wrap_up or 0.0))
        talked.append(talk)
    return [
        BillingRow(hotline, label, len(ids), math.fsum(handled) / 60, math.fsum(talked) / 60)
        for (hotline, label), (ids, handled, talked) in sorted(
            sums.items(), key=lambda item: (item[0][0] is None, item[0][0] or 0, item[0][1])
        )
    ]
