"""What-if: change volume, handle time, staff or targets and compare before with after.

One queue: Erlang C (or Erlang A with a patience) gives the service level, ASA, waiting
and abandonment probabilities and occupancy of a staffing, and the staff a target needs —
closed form, instant.  Several queues sharing multi-skilled operators are what Erlang
cannot do: there the simulator answers.  This module stays pure: it rewrites a scenario
*document* (the mapping ``hotline simulate`` reads from YAML, see
:mod:`hotline.sim.scenario`) with the changes and compares two KPI documents; the
caller (``hotline wfm whatif --scenario``) validates and runs both with the simulator.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hotline.core.wfm.erlang import StaffingError, erlang_a, staffing

__all__ = [
    "Change",
    "QueueCase",
    "ScenarioChange",
    "change_scenario",
    "compare_kpis",
    "queue_whatif",
]

#: the KPIs of a simulated queue compared before and after (KPI.md names)
SIM_KPIS = ("sl_offered", "asa", "abandon_rate", "answered", "offered", "aht")


@dataclass(frozen=True, slots=True)
class QueueCase:
    """One queue in one interval: ``calls`` per ``interval`` s, ``aht`` s, ``agents`` on
    the phones; ``answer_within`` T s and ``target_sl``; ``patience`` s for Erlang A."""

    calls: float
    interval: float
    aht: float
    agents: int
    answer_within: float
    target_sl: float = 0.8
    patience: float | None = None


@dataclass(frozen=True, slots=True)
class Change:
    """``volume_pct``: +60 is 60 % more calls; ``aht``/``agents``/``answer_within``/
    ``target_sl``: new values (None keeps), ``agents_delta`` adds to the staff."""

    volume_pct: float = 0.0
    aht: float | None = None
    aht_pct: float = 0.0
    agents: int | None = None
    agents_delta: int = 0
    answer_within: float | None = None
    target_sl: float | None = None
    patience: float | None = None


def _performance(case: QueueCase) -> dict[str, Any]:
    lam = case.calls / case.interval
    patience = math.inf if case.patience is None else case.patience
    r = erlang_a(case.agents, lam, case.aht, patience, case.answer_within)
    needed: int | None
    try:
        needed = staffing(
            case.calls,
            case.interval,
            case.aht,
            case.target_sl,
            case.answer_within,
            patience=case.patience,
        ).agents
    except StaffingError:
        needed = None  # e.g. a target of 1: reported as unreachable

    def finite(x: float) -> float | None:
        return x if math.isfinite(x) else None  # inf/nan are null in JSON (KPI.md)

    return {
        "calls": case.calls,
        "aht": case.aht,
        "agents": case.agents,
        "traffic_erlangs": lam * case.aht,
        "service_level": r.service_level,
        "asa": finite(r.asa),
        "p_wait": r.p_wait,
        "p_abandon": r.p_abandon if case.patience is not None else None,
        "occupancy": finite(r.occupancy),
        "answer_within": case.answer_within,
        "target_sl": case.target_sl,
        "agents_for_target": needed,
    }


def queue_whatif(base: QueueCase, change: Change) -> dict[str, dict[str, Any]]:
    """``{"before": …, "after": …}``: the KPIs of the staffing before and after."""
    aht = change.aht if change.aht is not None else base.aht
    aht *= 1.0 + change.aht_pct / 100.0
    agents = change.agents if change.agents is not None else base.agents
    agents += change.agents_delta
    if change.volume_pct <= -100.0:
        raise StaffingError("volume_pct", f"must be above -100 (got {change.volume_pct:g})")
    if agents < 0:
        raise StaffingError("agents", f"must be ≥ 0 after the change (got {agents})")
    after = QueueCase(
        calls=base.calls * (1.0 + change.volume_pct / 100.0),
        interval=base.interval,
        aht=aht,
        agents=agents,
        answer_within=base.answer_within if change.answer_within is None else change.answer_within,
        target_sl=base.target_sl if change.target_sl is None else change.target_sl,
        patience=base.patience if change.patience is None else change.patience,
    )
    return {"before": _performance(base), "after": _performance(after)}


@dataclass(frozen=True, slots=True)
class ScenarioChange:
    """Changes to a simulator scenario: percentages by queue name (``"*"``: all queues),
    operator group counts by group name, and the answer-within threshold."""

    volume_pct: Mapping[str, float]
    aht_pct: Mapping[str, float]
    operators: Mapping[str, int]
    answer_within: float | None = None


def _scale(value: Any, factor: float) -> Any:
    if isinstance(value, list):
        return [_scale(v, factor) for v in value]
    if isinstance(value, dict):
        return {k: _scale(v, factor) for k, v in value.items()}
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value * factor
    return value


def change_scenario(document: Mapping[str, Any], change: ScenarioChange) -> dict[str, Any]:
    """A copy of the scenario ``document`` with the changes applied: arrival rates
    (``per_hour``, ``profile``, ``weekly``) × (1 + volume %), the handle-time
    distribution's ``mean``/``sd``/``min``/``max`` × (1 + AHT %) (its shape kept), the
    ``count`` of named operator groups.  Raises :class:`ValueError` naming an unknown
    queue or group; the result is validated by the caller (``parse``/``model_validate``
    of :class:`hotline.sim.scenario.Scenario`), which reports what the change broke."""
    doc: dict[str, Any] = copy.deepcopy(dict(document))
    queues: dict[str, dict[str, Any]] = {
        str(q.get("name")): q for q in doc.get("queues") or [] if isinstance(q, dict)
    }
    groups = {g.get("name"): g for g in doc.get("operators") or [] if isinstance(g, dict)}
    problems = [
        f"queue {name}: not in the scenario (queues: {', '.join(map(str, queues))})"
        for name in [*change.volume_pct, *change.aht_pct]
        if name != "*" and name not in queues
    ]
    problems += [
        f"operator group {name}: not in the scenario (named groups: "
        f"{', '.join(str(n) for n in groups if n is not None) or 'none'})"
        for name in change.operators
        if name not in groups
    ]
    if problems:
        raise ValueError("; ".join(problems))
    for name, queue in queues.items():
        volume = change.volume_pct.get(name, change.volume_pct.get("*", 0.0))
        if volume and isinstance(queue.get("arrivals"), dict):
            queue["arrivals"] = _scale(queue["arrivals"], 1.0 + volume / 100.0)
        aht = change.aht_pct.get(name, change.aht_pct.get("*", 0.0))
        handle = queue.get("handle_time")
        if aht and isinstance(handle, dict):
            for key in ("mean", "sd", "min", "max"):
                if key in handle:
                    handle[key] = _scale(handle[key], 1.0 + aht / 100.0)
    for name, count in change.operators.items():
        groups[name]["count"] = count
    if change.answer_within is not None:
        doc["answer_within"] = change.answer_within
    return doc


def compare_kpis(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, Any]:
    """Per queue, the main KPIs of two ``hotline simulate`` documents side by side, and
    the operators' occupancy."""
    queues: dict[str, Any] = {}
    for name in before.get("queues", {}):
        b, a = before["queues"][name], after.get("queues", {}).get(name, {})
        queues[name] = {k: {"before": b.get(k), "after": a.get(k)} for k in SIM_KPIS}
    occupancy = {
        "before": before.get("operators", {}).get("occupancy"),
        "after": after.get("operators", {}).get("occupancy"),
    }
    return {"queues": queues, "occupancy": occupancy}
