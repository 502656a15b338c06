"""Monthly cost of running the contact center in-house versus outsourcing it.

In-house: operators × monthly salary, supervisors (``⌈operators / 10⌉``, or as given) ×
their salary, a seat (desk, PC, licences) per operator and supervisor, and overhead as a
share on top of all that — a cost that does not move with volume as long as the staff
does not.  Outsourced: a price per handled minute (talk + hold + wrap-up, i.e. AHT) or
per handled interaction, proportional to volume.  The break-even volume is where the two
meet for this staffing: above it, keeping the work in-house is cheaper.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from hotline.core.wfm.requirements import supervisors_for

__all__ = ["CostError", "InHouse", "Outsourced", "compare_costs"]


class CostError(ValueError):
    """An input out of range; ``str()`` names it."""


@dataclass(frozen=True, slots=True)
class InHouse:
    operators: int
    operator_salary: float  # per operator per month, fully loaded
    supervisor_salary: float
    seat_cost: float = 0.0  # per seat per month
    overhead: float = 0.0  # share on top, e.g. 0.15
    supervisors: int | None = None  # default ⌈operators / 10⌉


@dataclass(frozen=True, slots=True)
class Outsourced:
    """Give exactly one price."""

    price_per_minute: float | None = None
    price_per_interaction: float | None = None


def _check(name: str, value: float | None) -> None:
    if value is not None and not (math.isfinite(value) and value >= 0):
        raise CostError(f"{name}: must be a number ≥ 0 (got {value})")


def compare_costs(
    inhouse: InHouse, outsourced: Outsourced, interactions: float, aht: float
) -> dict[str, float | int | str | None]:
    """Both monthly costs for ``interactions`` handled a month with mean handle ``aht`` s,
    cost per interaction, the cheaper option and the break-even monthly volume."""
    for name in ("operator_salary", "supervisor_salary", "seat_cost", "overhead"):
        _check(name, getattr(inhouse, name))
    _check("operators", inhouse.operators)
    _check("supervisors", inhouse.supervisors)
    _check("price_per_minute", outsourced.price_per_minute)
    _check("price_per_interaction", outsourced.price_per_interaction)
    _check("interactions", interactions)
    if not (math.isfinite(aht) and aht > 0):
        raise CostError(f"aht: must be a number > 0 (got {aht})")
    prices = [outsourced.price_per_minute, outsourced.price_per_interaction]
    if sum(p is not None for p in prices) != 1:
        raise CostError("give exactly one of price_per_minute, price_per_interaction")
    supervisors = (
        supervisors_for(inhouse.operators) if inhouse.supervisors is None else inhouse.supervisors
    )
    staff = inhouse.operators * inhouse.operator_salary + supervisors * inhouse.supervisor_salary
    seats = (inhouse.operators + supervisors) * inhouse.seat_cost
    inhouse_total = (staff + seats) * (1.0 + inhouse.overhead)
    if outsourced.price_per_minute is not None:
        unit = outsourced.price_per_minute * aht / 60.0
    else:
        unit = float(outsourced.price_per_interaction or 0.0)
    outsourced_total = unit * interactions
    return {
        "supervisors": supervisors,
        "inhouse_monthly": inhouse_total,
        "inhouse_staff": staff,
        "inhouse_seats": seats,
        "inhouse_overhead": (staff + seats) * inhouse.overhead,
        "outsourced_monthly": outsourced_total,
        "outsourced_per_interaction": unit,
        "inhouse_per_interaction": inhouse_total / interactions if interactions else None,
        "cheaper": "inhouse" if inhouse_total < outsourced_total else "outsourced",
        "break_even_interactions": inhouse_total / unit if unit > 0 else None,
        "savings_monthly": abs(outsourced_total - inhouse_total),
    }
