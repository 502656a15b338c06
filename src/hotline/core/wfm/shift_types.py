"""The values of shift scheduling (:mod:`hotline.core.wfm.shifts`): input, answer, error."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = [
    "DAY",
    "Candidate",
    "Coverage",
    "Operator",
    "Pause",
    "Schedule",
    "ScheduleError",
    "Shift",
    "Template",
]

DAY = 1440


class ScheduleError(ValueError):
    """Bad input, or no schedule meets the hard rules; ``problems`` lists each cause."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True, slots=True)
class Pause:
    """``minutes`` off the phones, starting ``earliest``..``latest`` min into the shift."""

    name: str
    minutes: int
    earliest: int
    latest: int
    paid: bool = True


@dataclass(frozen=True, slots=True)
class Template:
    name: str
    minutes: int
    pauses: tuple[Pause, ...] = ()

    def paid_minutes(self) -> int:
        return self.minutes - sum(p.minutes for p in self.pauses if not p.paid)


@dataclass(frozen=True, slots=True)
class Operator:
    """``available``: ``(start, end)`` minute windows from the grid start."""

    name: str
    skills: frozenset[str]
    hourly_rate: float
    available: tuple[tuple[int, int], ...]
    max_shifts: int = 5
    min_shifts: int = 0


@dataclass(frozen=True, slots=True)
class Shift:
    """One worked shift; minutes from the grid start.  ``pauses``: ``(name, start, end)``;
    ``segments``: ``(start, end, group)`` — what the operator covers, pauses excluded."""

    operator: str
    template: str
    start: int
    end: int
    pauses: tuple[tuple[str, int, int], ...]
    segments: tuple[tuple[int, int, str], ...]
    paid_hours: float
    cost: float


@dataclass(frozen=True, slots=True)
class Coverage:
    required: list[int]
    scheduled: list[int]

    @property
    def under(self) -> list[int]:
        return [max(r - s, 0) for r, s in zip(self.required, self.scheduled, strict=True)]


@dataclass(frozen=True, slots=True)
class Schedule:
    # "optimal"; "feasible": the best found in the time limit; "greedy": the time ran out
    # before the solver had a schedule, this is its starting point (shift_hint.greedy)
    status: str
    cost: float  # paid hours × rates + under-coverage penalty
    bound: float  # the solver's proven lower bound on ``cost``: the gap left at the limit
    paid_cost: float
    shifts: list[Shift]
    coverage: dict[str, Coverage]
    unused: list[str] = field(default_factory=list)  # operators no shift fits


@dataclass(frozen=True, slots=True)
class Candidate:
    """One shift an operator could work: a template started at a minute of the grid."""

    template: Template
    start: int  # minute
    day: int
