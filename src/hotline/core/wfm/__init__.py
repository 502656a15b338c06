"""Workforce management: pure math for staffing (Erlang C and Erlang A).

See :mod:`hotline.core.wfm.erlang` for the models and how they are computed.
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
