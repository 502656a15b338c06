"""Every report of :mod:`hotline.core.kpi.reports` over one set of visits, as one JSON-ready
document (``hotline report overview --json``; a page or an export can take it as is).

Ids stay ids in the reports; the document names them through ``name(kind, id)``, with
``kind`` one of ``"hotline"``, ``"queue"``, ``"operator"`` — a CSV report gives back the
names it read, a database report its rows' names.  ``None`` (unknown) stays ``null``.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import asdict
from zoneinfo import ZoneInfo

from hotline.core.kpi.records import QueueVisit
from hotline.core.kpi.reports import (
    abandonment,
    arrivals_by_hour,
    arrivals_by_weekday,
    arrivals_by_weekday_hour,
    billing,
    callbacks_requested,
    conversion,
    ewt_accuracy,
    operator_table,
    talk_distribution,
    topic_counts,
)

#: ``name(kind, id)``: the display name of a hotline, queue or operator id.
Namer = Callable[[str, int], object]


def _named(name: Namer, kind: str, value: Hashable) -> object:
    return name(kind, value) if isinstance(value, int) else value


def overview_document(
    visits: list[QueueVisit],
    *,
    tz: ZoneInfo,
    answer_within: float,
    short_abandon: float,
    name: Namer,
) -> dict[str, object]:
    """The seeds' reports over ``visits``, thresholds ``T`` and ``S``, times in ``tz``."""
    heat = arrivals_by_weekday_hour(visits, tz)
    by_source = conversion(visits, by="source")
    by_operator = conversion(visits, by="operator_id")
    operators = operator_table(visits, answer_within=answer_within)
    abandon = abandonment(visits, short_abandon=short_abandon)
    return {
        "time_zone": tz.key,
        "answer_within": answer_within,
        "short_abandon": short_abandon,
        "arrivals": {
            "by_weekday_hour": [
                {"weekday": weekday, "hour": hour, "count": count}
                for (weekday, hour), count in sorted(heat.items())
            ],
            "by_hour": arrivals_by_hour(visits, tz),
            "by_weekday": arrivals_by_weekday(visits, tz),
        },
        "talk_distribution": [asdict(bucket) for bucket in talk_distribution(visits)],
        "topics": [{"topic": topic, "count": n} for topic, n in topic_counts(visits).items()],
        "conversion": {
            "by_source": [
                {"source": source, **asdict(value)}
                for source, value in sorted(
                    by_source.items(), key=lambda i: (i[0] is None, str(i[0]))
                )
            ],
            "by_operator": [
                {"operator": _named(name, "operator", op), **asdict(value)}
                for op, value in sorted(
                    by_operator.items(), key=lambda i: (i[0] is None, i[0] or 0)
                )
            ],
        },
        "operators": [
            {"operator": _named(name, "operator", row.operator_id), **asdict(row)}
            for row in operators
        ],
        "abandonment": asdict(abandon),
        "ewt_accuracy": asdict(ewt_accuracy(visits)),
        "callbacks_requested": [
            {"queue": _named(name, "queue", queue), "requested": requested, "offered": offered}
            for queue, (requested, offered) in sorted(
                callbacks_requested(visits).items(), key=lambda i: (i[0] is None, i[0] or 0)
            )
        ],
        "billing": [
            {"hotline": _named(name, "hotline", row.hotline_id), **asdict(row)}
            for row in billing(visits, tz)
        ],
    }
