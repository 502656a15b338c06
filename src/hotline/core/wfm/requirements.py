"""Operators required per interval from a forecast: Erlang staffing, shrinkage, supervisors.

Each interval is an independent steady-state queue (the usual WFM assumption: intervals
of 15-60 minutes are long against a handle time of minutes), staffed by
:func:`hotline.core.wfm.erlang_grid.staffing_grid` (Erlang C, all intervals at once,
the scalar's answers) or :func:`hotline.core.wfm.erlang.staffing` (Erlang A with
``patience``).  A week of 15-minute intervals repeats the same (calls, AHT) pairs often
(quiet nights are all 0), so answers are computed once per distinct pair; forecasts are
fractional calls, which staffing takes as a mean rate.  Supervisors are
``⌈scheduled / 10⌉`` per interval (1 per 10 operators on the floor, ``SUPERVISOR_SPAN``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from hotline.core.wfm.erlang import StaffingError, StaffingResult, staffing
from hotline.core.wfm.erlang_grid import staffing_grid

__all__ = ["SUPERVISOR_SPAN", "Requirements", "requirements", "supervisors_for"]

#: operators per supervisor
SUPERVISOR_SPAN = 10

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class Requirements:
    """Per interval: ``agents`` on the phones, ``scheduled`` (with shrinkage) and
    ``supervisors``; ``service_level``/``occupancy`` that ``agents`` give (occupancy nan
    with 0 calls)."""

    agents: IntArray
    scheduled: IntArray
    supervisors: IntArray
    service_level: npt.NDArray[np.float64]
    occupancy: npt.NDArray[np.float64]


def supervisors_for(operators: int) -> int:
    """``⌈operators / 10⌉``: one supervisor per started group of ten operators."""
    return -(-operators // SUPERVISOR_SPAN)


def requirements(
    calls: Sequence[float] | npt.NDArray[np.float64],
    aht: Sequence[float] | npt.NDArray[np.float64],
    interval_seconds: float,
    target_sl: float,
    answer_within: float,
    *,
    patience: float | None = None,
    max_occupancy: float | None = None,
    max_asa: float | None = None,
    shrinkage: float | None = None,
) -> Requirements:
    """Staffing of every interval; raises :class:`~hotline.core.wfm.erlang.StaffingError`
    naming the parameter (``calls[i]`` for a bad interval)."""
    volume = np.asarray(calls, dtype=np.float64)
    handle = np.asarray(aht, dtype=np.float64)
    if volume.shape != handle.shape or volume.ndim != 1:
        raise StaffingError(
            "aht", f"needs one value per interval ({handle.shape} vs {volume.shape})"
        )
    if patience is None:  # Erlang C: the whole week at once (erlang_grid, same answers)
        grid = staffing_grid(
            volume,
            interval_seconds,
            np.where(volume == 0.0, 1.0, handle),  # no calls: the AHT does not matter
            target_sl,
            answer_within,
            max_occupancy=max_occupancy,
            max_asa=max_asa,
            shrinkage=shrinkage,
        )
        scheduled = grid.scheduled_agents
        return Requirements(
            grid.agents,
            scheduled,
            -(-scheduled // SUPERVISOR_SPAN),
            grid.service_level,
            grid.occupancy,
        )
    memo: dict[tuple[float, float], StaffingResult] = {}
    n = len(volume)
    agents = np.zeros(n, dtype=np.int64)
    scheduled = np.zeros(n, dtype=np.int64)
    sl = np.ones(n)
    occ = np.full(n, math.nan)
    for i, (c, h) in enumerate(zip(volume.tolist(), handle.tolist(), strict=True)):
        if c == 0.0:  # no calls: no agents, whatever the (unknown) AHT of the interval
            continue
        key = (c, h)
        result = memo.get(key)
        if result is None:
            try:
                result = staffing(
                    c,
                    interval_seconds,
                    h,
                    target_sl,
                    answer_within,
                    patience=patience,
                    max_occupancy=max_occupancy,
                    max_asa=max_asa,
                    shrinkage=shrinkage,
                )
            except StaffingError as exc:
                name = exc.parameter
                where = f"{name}[{i}]" if name in ("calls", "aht") else name
                raise StaffingError(where, exc.problem) from exc
            memo[key] = result
        agents[i] = result.agents
        scheduled[i] = result.scheduled_agents
        sl[i] = result.service_level
        occ[i] = math.nan if result.occupancy is None else result.occupancy
    supervisors = -(-scheduled // SUPERVISOR_SPAN)
    return Requirements(agents, scheduled, supervisors, sl, occ)
