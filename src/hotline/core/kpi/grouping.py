"""KPIs grouped by any of the report dimensions of issue 6, intervals included.

A grouping is a tuple of :class:`Dimension` (``--by queue,interval``); a visit's group key is
the tuple of its values on those dimensions, in that order:

* ``hotline``, ``queue``, ``operator`` — the visit's int ids (``None`` when unknown: an
  unanswered visit has no operator).  Ids, not names, so the same code serves the database,
  whose rows carry ids, and a CSV report, which numbers the names it reads
  (:class:`Names`) and prints the names back;
* ``topic``, ``source``, ``channel`` — the visit's labels (``None`` when unknown);
* ``outcome`` — the :class:`~hotline.core.kpi.records.VisitOutcome` value;
* ``interval`` — the :class:`~hotline.core.kpi.intervals.Slot` of the visit's queue entry in
  the report's time zone (KPI.md: a visit belongs to the interval it arrived in).

Groups are :class:`~hotline.core.kpi.compute.KpiAccumulator` objects, so the groups of
disjoint parts of a log merge into the groups of the whole (:func:`merge_groups`).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from zoneinfo import ZoneInfo

from hotline.core.kpi.compute import KpiAccumulator, Kpis, group_accumulators
from hotline.core.kpi.intervals import Period, Slot, SlotFinder, slots_between
from hotline.core.kpi.records import KpiError, QueueVisit


class Dimension(enum.StrEnum):
    """What a report can group by (issue 6)."""

    HOTLINE = "hotline"
    QUEUE = "queue"
    OPERATOR = "operator"
    TOPIC = "topic"
    OUTCOME = "outcome"
    SOURCE = "source"
    CHANNEL = "channel"
    INTERVAL = "interval"


#: Other words accepted for a dimension: the history CSV calls operators ``agent``.
DIMENSION_ALIASES: Mapping[str, Dimension] = {"agent": Dimension.OPERATOR}

GroupKey = tuple[Hashable, ...]


def parse_by(text: str) -> tuple[Dimension, ...]:
    """``"queue,interval"`` → the dimensions, in order; each at most once."""
    dimensions: list[Dimension] = []
    for word in text.split(","):
        name = word.strip().lower()
        if not name:
            continue
        dimension = DIMENSION_ALIASES.get(name)
        if dimension is None:
            try:
                dimension = Dimension(name)
            except ValueError:
                choices = ", ".join(Dimension)
                raise KpiError(f"cannot group by {word.strip()!r}; one of {choices}") from None
        if dimension in dimensions:
            raise KpiError(f"{dimension} is named twice in the grouping")
        dimensions.append(dimension)
    return tuple(dimensions)


_VALUE: Mapping[Dimension, Callable[[QueueVisit], Hashable]] = {
    Dimension.HOTLINE: lambda visit: visit.hotline_id,
    Dimension.QUEUE: lambda visit: visit.queue_id,
    Dimension.OPERATOR: lambda visit: visit.operator_id,
    Dimension.TOPIC: lambda visit: visit.topic,
    Dimension.OUTCOME: lambda visit: visit.outcome.value,
    Dimension.SOURCE: lambda visit: visit.source,
    Dimension.CHANNEL: lambda visit: visit.channel,
}


def _interval_getter(period: Period, tz: ZoneInfo) -> Callable[[QueueVisit], Hashable]:
    find = SlotFinder(period, tz)

    def interval(visit: QueueVisit) -> Hashable:
        return find(visit.arrived_at)

    return interval


def key_function(
    by: Sequence[Dimension], *, period: Period | None = None, tz: ZoneInfo | None = None
) -> Callable[[QueueVisit], GroupKey]:
    """The group key of a visit for the grouping ``by`` (``period`` and ``tz`` are needed
    when ``by`` holds ``interval``)."""
    getters: list[Callable[[QueueVisit], Hashable]] = []
    for dimension in by:
        if dimension is Dimension.INTERVAL:
            if period is None or tz is None:
                raise KpiError("grouping by interval needs a period and a time zone")
            getters.append(_interval_getter(period, tz))
        else:
            getters.append(_VALUE[dimension])
    return lambda visit: tuple(getter(visit) for getter in getters)


def group_visits(
    visits: Iterable[QueueVisit],
    by: Sequence[Dimension],
    *,
    answer_within: float,
    short_abandon: float,
    period: Period | None = None,
    tz: ZoneInfo | None = None,
    queue_thresholds: Mapping[int, tuple[float, float]] | None = None,
) -> dict[GroupKey, KpiAccumulator]:
    """One accumulator per group key that has visits (the empty grouping is one group).

    ``queue_thresholds`` gives some queues their own ``(T, S)`` (issue 6: thresholds are
    per queue); the others use ``answer_within`` and ``short_abandon``.  Each visit is
    judged against its own queue's thresholds, then the counts are summed, so a group that
    spans queues (a hotline, an operator) mixes them faithfully; its accumulator carries
    the default thresholds as a label only (:meth:`KpiAccumulator.result` does not read
    them).
    """
    key = key_function(by, period=period, tz=tz)
    if not queue_thresholds:
        return group_accumulators(
            visits, key, answer_within=answer_within, short_abandon=short_abandon
        )
    default = (answer_within, short_abandon)
    parts: dict[tuple[float, float], dict[GroupKey, KpiAccumulator]] = {}
    for visit in visits:
        thresholds = queue_thresholds.get(visit.queue_id, default)
        groups = parts.setdefault(thresholds, {})
        group = key(visit)
        accumulator = groups.get(group)
        if accumulator is None:
            accumulator = groups[group] = KpiAccumulator(*thresholds)
        accumulator.add(visit)
    merged: dict[GroupKey, KpiAccumulator] = {}
    for groups in parts.values():
        for group, accumulator in groups.items():
            into = merged.get(group)
            if into is None:
                into = merged[group] = KpiAccumulator(*default)
            # the counts are already judged: relabel to merge across thresholds
            into.merge(
                replace(accumulator, answer_within=answer_within, short_abandon=short_abandon)
            )
    return merged


def merge_groups(
    parts: Iterable[Mapping[GroupKey, KpiAccumulator]],
    *,
    answer_within: float,
    short_abandon: float,
) -> dict[GroupKey, KpiAccumulator]:
    """The groups of the union of disjoint parts (shards, days) of a log."""
    merged: dict[GroupKey, KpiAccumulator] = {}
    for part in parts:
        for key, accumulator in part.items():
            into = merged.get(key)
            if into is None:
                into = merged[key] = KpiAccumulator(answer_within, short_abandon)
            into.merge(accumulator)
    return merged


def fill_intervals(
    groups: dict[GroupKey, KpiAccumulator],
    by: Sequence[Dimension],
    *,
    period: Period,
    tz: ZoneInfo,
    answer_within: float,
    short_abandon: float,
) -> dict[GroupKey, KpiAccumulator]:
    """``groups`` plus an empty accumulator for every interval with no visits.

    For each combination of the other dimensions' values seen, the intervals run from the
    first to the last interval of the whole report, so every series has the same slots; an
    empty group's counts are 0 and its ratios and means ``None`` (KPI.md).
    """
    if Dimension.INTERVAL not in by or not groups:
        return dict(groups)
    where = list(by).index(Dimension.INTERVAL)
    slots = [key[where] for key in groups]
    first = min(slot.start for slot in slots if isinstance(slot, Slot))
    last = max(slot.start for slot in slots if isinstance(slot, Slot))
    every = list(slots_between(first, last, period, tz))
    others = dict.fromkeys(key[:where] + key[where + 1 :] for key in groups)
    filled = dict(groups)
    for other in others:
        for slot in every:
            key = (*other[:where], slot, *other[where:])
            if key not in filled:
                filled[key] = KpiAccumulator(answer_within, short_abandon)
    return filled


def _sort_value(value: object) -> tuple[int, float, str]:
    if value is None:
        return (1, 0.0, "")  # unknown last
    if isinstance(value, Slot):
        return (0, value.start, "")
    if isinstance(value, int | float):
        return (0, float(value), "")
    return (0, 0.0, str(value))


def sorted_keys(keys: Iterable[GroupKey]) -> list[GroupKey]:
    """Group keys in report order: by each dimension in turn, intervals in real time,
    ``None`` (unknown) after every known value."""
    return sorted(keys, key=lambda key: tuple(_sort_value(value) for value in key))


@dataclass(slots=True)
class Names:
    """Names ↔ small int ids, for a report over names (a CSV) through id-keyed visits.

    ``Names().id_of("Sales")`` gives 1, then 2 for the next new name...; :meth:`name_of`
    gives the name back for the report's output.
    """

    ids: dict[str, int] = field(default_factory=dict)
    names: list[str] = field(default_factory=list)

    def id_of(self, name: str) -> int:
        found = self.ids.get(name)
        if found is None:
            self.names.append(name)
            found = self.ids[name] = len(self.names)
        return found

    def name_of(self, id_: int) -> str:
        return self.names[id_ - 1]


def group_documents(
    groups: Mapping[GroupKey, KpiAccumulator],
    by: Sequence[Dimension],
    label: Callable[[Dimension, Hashable], object],
) -> list[dict[str, object]]:
    """``[{"key": {dimension: label}, KPI: value, ...}]`` in :func:`sorted_keys` order — the
    ``groups`` list of ``hotline report kpis --json``; ``label`` names each key value."""
    documents: list[dict[str, object]] = []
    for key in sorted_keys(groups):
        named = {
            str(dimension): label(dimension, value)
            for dimension, value in zip(by, key, strict=True)
        }
        result: Kpis = groups[key].result()
        documents.append({"key": named, **result})
    return documents
