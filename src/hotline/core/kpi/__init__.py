"""KPIs of ``shared/KPI.md`` recomputed from interaction event logs (pure: no I/O, no clock).

Two steps: :func:`fold_visits` (or :class:`VisitFold`, line by line) turns the routing
engine's ``Log`` lines into :class:`QueueVisit` records, one per queue entry; then
:func:`compute_kpis`, :func:`group_kpis` or a mergeable :class:`KpiAccumulator` count them.
Operator occupancy comes from time in operator states (:class:`OccupancyAccumulator`).
"""

from hotline.core.kpi.compute import (
    CSAT_SATISFIED,
    KPI_KEYS,
    OCCUPANCY_STATES,
    KpiAccumulator,
    Kpis,
    OccupancyAccumulator,
    compute_kpis,
    group_accumulators,
    group_kpis,
    occupancy,
    operator_occupancy,
)
from hotline.core.kpi.records import (
    KpiError,
    KpiLogError,
    QueueVisit,
    VisitFold,
    VisitOutcome,
    fold_visits,
)

__all__ = [
    "CSAT_SATISFIED",
    "KPI_KEYS",
    "OCCUPANCY_STATES",
    "KpiAccumulator",
    "KpiError",
    "KpiLogError",
    "Kpis",
    "OccupancyAccumulator",
    "QueueVisit",
    "VisitFold",
    "VisitOutcome",
    "compute_kpis",
    "fold_visits",
    "group_accumulators",
    "group_kpis",
    "occupancy",
    "operator_occupancy",
]
