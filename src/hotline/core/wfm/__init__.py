"""Workforce management: pure math for staffing (Erlang C and Erlang A).

See :mod:`hotline.core.wfm.erlang` for the models and how they are computed.  Planning
lives in submodules imported by name, so that staffing alone stays stdlib-only and quick
to import: :mod:`~hotline.core.wfm.forecast` (numpy/scipy/statsmodels),
:mod:`~hotline.core.wfm.requirements`, :mod:`~hotline.core.wfm.shifts` (OR-Tools CP-SAT),
:mod:`~hotline.core.wfm.whatif` and :mod:`~hotline.core.wfm.cost`.
"""

from hotline.core.wfm.erlang import (
    ErlangAResult,
    StaffingError,
    StaffingResult,
    asa,
    erlang_a,
    erlang_b,
    erlang_c,
    occupancy,
    service_level,
    staffing,
    traffic,
)

__all__ = [
    "ErlangAResult",
    "StaffingError",
    "StaffingResult",
    "asa",
    "erlang_a",
    "erlang_b",
    "erlang_c",
    "occupancy",
    "service_level",
    "staffing",
    "traffic",
]
