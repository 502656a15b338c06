"""Simulation scenarios: the YAML that ``hotline simulate`` reads, validated line by line.

A scenario says how long to simulate, which queues receive calls and how (arrival rate,
handle time, patience, skill requirement and its expansion, overflow, callbacks), and which
operators staff them (``examples/scenarios/support.yaml``)::

    seed: 42
    duration: 8h
    answer_within: 20      # T of the service level (KPI.md)
    short_abandon: 5       # S of the short abandons (KPI.md)
    queues:
      - name: support
        arrivals: {per_hour: 720}
        handle_time: {dist: exponential, mean: 240}
        patience: {dist: exponential, mean: 120}
        requires: "english >= 5"
    operators:
      - {count: 25, queues: [support], skills: {english: 7}}

Times.  Every time field (``duration``, ``warmup``, ``answer_within``, ``wrap_up``,
``max_wait``, ``expand[].after``…) takes a number of seconds or a duration with units:
``90s``, ``30m``, ``8h``, ``2d``, ``1w``, or a sum such as ``1h30m``.  Distribution
parameters (``mean``, ``sd``, ``min``, ``max``) are plain seconds.  Simulated time 0 is a
Monday, 00:00, which is where hourly and weekly arrival profiles start.

Errors.  `parse_scenario` and `load_scenario` check everything at once (types, ranges,
unknown or duplicate keys, references between queues and operators, skill expressions) and
raise one `ScenarioError` that lists every problem, one a line, compiler style::

    support.yaml:14: queues[1].handle_time.mean: must be > 0

The line comes from the YAML node tree (``yaml.compose``), so it points at the key that is
wrong, or at the mapping that misses a key.
"""

from __future__ import annotations

import difflib
import functools
import itertools
import math
import random
import re
import types
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    model_validator,
)

from hotline.core.model import (
    DEFAULT_CALLBACK_THRESHOLD_SECONDS,
    MAX_SKILL_LEVEL,
    MIN_SKILL_LEVEL,
    RoutingStrategy,
)
from hotline.core.routing.config import DEFAULT_OFFER_TIMEOUT_SECONDS
from hotline.core.routing.expr import RequirementError, parse_requirement

__all__ = [
    "WEEKDAYS",
    "Arrivals",
    "Distribution",
    "ExpandStep",
    "OperatorGroup",
    "Problem",
    "Scenario",
    "ScenarioError",
    "ScenarioQueue",
    "load_scenario",
    "parse_duration",
    "parse_scenario",
]

HOUR = 3600.0
_UNIT_SECONDS = {"w": 7 * 86400.0, "d": 86400.0, "h": HOUR, "m": 60.0, "s": 1.0}
_DURATION_PART = re.compile(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*([wdhms])\s*")
_DURATION_HINT = "write seconds (90) or a duration such as 90s, 30m, 8h, 2d, 1w, 1h30m"


def parse_duration(value: object) -> object:
    """A duration in seconds from a number or text like ``8h``, ``30m``, ``1h30m``.

    Anything else is returned unchanged for the field's own type check to refuse, except a
    boolean or malformed text, which raises ``ValueError`` with a hint.
    """
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a duration: {_DURATION_HINT}")
    if not isinstance(value, str):
        return value
    text = value.strip().lower()
    try:
        return float(text)
    except ValueError:
        pass
    pos, total = 0, 0.0
    while pos < len(text):
        match = _DURATION_PART.match(text, pos)
        if match is None:
            raise ValueError(f"{value!r} is not a duration: {_DURATION_HINT}")
        total += float(match[1]) * _UNIT_SECONDS[match[2]]
        pos = match.end()
    if not text:
        raise ValueError(f"empty duration: {_DURATION_HINT}")
    return total


Seconds = Annotated[float, BeforeValidator(parse_duration), Field(ge=0)]
PositiveSeconds = Annotated[float, BeforeValidator(parse_duration), Field(gt=0)]
Rate = Annotated[float, Field(ge=0)]

_SKILL = re.compile(r"[a-z][a-z0-9_]*")
_QUEUE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")


def _skill_name(name: str) -> str:
    # Requirements are case-insensitive and lower-cased by the parser (expr.py), so the
    # operators' skills are too, or "English: 7" would never match "english >= 5".
    lowered = name.lower()
    if not _SKILL.fullmatch(lowered) or lowered in {"and", "or", "not"}:
        raise ValueError(
            f"{name!r} is not a skill name: use latin letters, digits and '_', "
            "starting with a letter (and not 'and', 'or', 'not')"
        )
    return lowered


def _queue_name(name: str) -> str:
    if not _QUEUE_NAME.fullmatch(name):
        raise ValueError(
            f"{name!r} is not a queue name: use letters, digits, '_', '-' and '.', "
            "starting with a letter or '_'"
        )
    return name


def _requirement_syntax(text: str) -> str:
    # Only the syntax here; that every skill exists is checked against the operators in
    # `_cross_check`, where the whole scenario is known.
    try:
        parse_requirement(text)
    except RequirementError as exc:
        raise ValueError(str(exc)) from None
    return text


def _hourly_rates(rates: list[float]) -> list[float]:
    if len(rates) != 24:
        raise ValueError(f"needs 24 hourly rates (hours 0 to 23), got {len(rates)}")
    return rates


SkillName = Annotated[str, AfterValidator(_skill_name)]
SkillLevel = Annotated[int, Field(ge=MIN_SKILL_LEVEL, le=MAX_SKILL_LEVEL)]
QueueName = Annotated[str, AfterValidator(_queue_name)]
RequirementText = Annotated[str, AfterValidator(_requirement_syntax)]
HourlyRates = Annotated[list[Rate], AfterValidator(_hourly_rates)]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
#: The days of ``Arrivals.weekly`` in the order of simulated time (time 0 is Monday 00:00).
WEEKDAYS: tuple[Weekday, ...] = get_args(Weekday)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Arrivals(_Model):
    """When calls arrive: a Poisson process with a constant or an hourly-profiled rate.

    Give exactly one of:

    * ``per_hour``: a constant rate, calls per hour;
    * ``profile``: 24 rates, calls per hour for each hour of the day (0-23), every day;
    * ``weekly``: for some of ``mon`` … ``sun``, 24 rates each; days left out get no calls.
    """

    per_hour: Rate | None = None
    profile: HourlyRates | None = None
    weekly: dict[Weekday, HourlyRates] | None = None
    # 168 rates in calls per second, one per hour of the week (profiles only)
    _week: tuple[float, ...] = PrivateAttr(default=())

    @model_validator(mode="after")
    def _exactly_one(self) -> Arrivals:
        given = [n for n in ("per_hour", "profile", "weekly") if getattr(self, n) is not None]
        if len(given) != 1:
            which = f"got {' and '.join(given)}" if given else "got none"
            raise ValueError(f"give exactly one of per_hour, profile, weekly ({which})")
        if self.weekly is not None and not self.weekly:
            raise ValueError("weekly: give the rates of at least one day (mon … sun)")
        return self

    def model_post_init(self, context: Any) -> None:
        if self.profile is not None:
            self._week = tuple(r / HOUR for r in self.profile) * 7
        elif self.weekly is not None:
            closed = [0.0] * 24
            self._week = tuple(r / HOUR for day in WEEKDAYS for r in self.weekly.get(day, closed))

    def rate_at(self, t: float) -> float:
        """The arrival rate in calls per second at simulated time ``t`` (0 is Monday 00:00)."""
        if self.per_hour is not None:
            return self.per_hour / HOUR
        return self._week[int(t // HOUR) % 168]

    def hourly_rates(self) -> tuple[float, ...]:
        """The rate in calls per second for each of the 168 hours of the week, Monday
        00:00-01:00 first (`rate_at` is ``hourly_rates()[int(t // 3600) % 168]``)."""
        if self.per_hour is not None:
            return (self.per_hour / HOUR,) * 168
        return self._week

    def max_rate(self) -> float:
        """The highest rate in calls per second: the envelope for thinning."""
        if self.per_hour is not None:
            return self.per_hour / HOUR
        return max(self._week)


class Distribution(_Model):
    """A random duration in seconds: how long a call is handled, or a caller waits.

    * ``exponential`` and ``constant``: ``mean``;
    * ``lognormal``: ``mean`` and ``sd`` of the duration itself (not of its logarithm);
    * ``uniform``: ``min`` and ``max``; ``mean`` is then ``(min + max) / 2``.
    """

    dist: Literal["exponential", "lognormal", "constant", "uniform"]
    mean: Annotated[float, Field(gt=0)]
    sd: Annotated[float, Field(gt=0)] | None = None
    min: Annotated[float, Field(ge=0)] | None = None
    max: Annotated[float, Field(gt=0)] | None = None

    @model_validator(mode="before")
    @classmethod
    def _uniform_mean(cls, data: Any) -> Any:
        if not isinstance(data, dict) or data.get("dist") != "uniform" or "mean" in data:
            return data
        lo, hi = data.get("min"), data.get("max")
        if lo is None or hi is None:
            raise ValueError("dist uniform needs min and max")
        if not all(isinstance(x, int | float) and not isinstance(x, bool) for x in (lo, hi)):
            return {**data, "mean": 1.0}  # min or max is not a number: reported there
        if not lo < hi:
            raise ValueError(f"dist uniform needs min < max (got min {lo}, max {hi})")
        return {**data, "mean": (lo + hi) / 2 if lo + hi > 0 else 1.0}

    @model_validator(mode="after")
    def _parameters(self) -> Distribution:
        used = {
            "exponential": (),
            "constant": (),
            "lognormal": ("sd",),
            "uniform": ("min", "max"),
        }[self.dist]
        for name in ("sd", "min", "max"):
            if getattr(self, name) is not None and name not in used:
                raise ValueError(f"{name} is not a parameter of dist {self.dist}")
        if self.dist == "lognormal" and self.sd is None:
            raise ValueError("dist lognormal needs sd (the standard deviation, seconds)")
        if self.dist == "uniform" and self.min is not None and self.max is not None:
            if not self.min < self.max:
                raise ValueError(f"dist uniform needs min < max (got {self.min}, {self.max})")
            if not math.isclose(self.mean, (self.min + self.max) / 2):
                raise ValueError("the mean of dist uniform is (min + max) / 2: leave it out")
        return self

    def lognormal_params(self) -> tuple[float, float]:
        """``(mu, sigma)`` of the underlying normal for this mean and sd.

        From E[X] = exp(mu + sigma²/2) and Var[X] = (exp(sigma²) - 1) E[X]²:
        sigma² = ln(1 + sd²/mean²), mu = ln(mean) - sigma²/2.
        """
        sd = self.sd if self.sd is not None else 0.0
        sigma2 = math.log1p((sd / self.mean) ** 2)
        return math.log(self.mean) - sigma2 / 2, math.sqrt(sigma2)

    def sampler(self, rng: random.Random) -> Callable[[], float]:
        """A zero-argument function drawing one duration from ``rng`` per call (hot path)."""
        if self.dist == "exponential":
            return functools.partial(rng.expovariate, 1.0 / self.mean)
        if self.dist == "lognormal":
            mu, sigma = self.lognormal_params()
            return functools.partial(rng.lognormvariate, mu, sigma)
        if self.dist == "constant":
            return itertools.repeat(self.mean).__next__
        lo = self.min if self.min is not None else 0.0
        hi = self.max if self.max is not None else 2 * self.mean
        return functools.partial(rng.uniform, lo, hi)


class ExpandStep(_Model):
    """Bullseye: once a call has waited ``after`` seconds, also accept ``requires``."""

    after: PositiveSeconds
    requires: RequirementText


class ScenarioQueue(_Model):
    """One queue of the scenario, with its workload and its routing settings.

    ``requires`` and ``expand[].requires`` are skill expressions (``hotline.core.routing.
    expr``) over the skills the operators have.  ``max_wait`` and ``overflow`` go
    together: after ``max_wait`` seconds a waiting call moves to the queue ``overflow``.
    A caller whose estimated wait exceeds ``callback_threshold`` is offered a callback and
    accepts it with probability ``callback_accept``.
    """

    name: QueueName
    arrivals: Arrivals
    handle_time: Distribution
    wrap_up: Seconds = 0.0
    patience: Distribution | None = None
    requires: RequirementText = ""
    priority: int = 0
    strategy: RoutingStrategy = RoutingStrategy.LONGEST_IDLE
    expand: list[ExpandStep] = Field(default_factory=list)
    max_wait: PositiveSeconds | None = None
    overflow: str | None = None
    callback_accept: Annotated[float, Field(ge=0, le=1)] = 0.0
    callback_threshold: Seconds = float(DEFAULT_CALLBACK_THRESHOLD_SECONDS)
    offer_timeout: PositiveSeconds = DEFAULT_OFFER_TIMEOUT_SECONDS


class OperatorGroup(_Model):
    """``count`` identical operators serving ``queues`` with ``skills`` (name: level 1-10)."""

    name: str | None = None
    count: Annotated[int, Field(ge=0)]
    queues: Annotated[list[str], Field(min_length=1)]
    skills: dict[SkillName, SkillLevel] = Field(default_factory=dict)


_DEFER_CROSS_CHECKS = "hotline.sim.defer_cross_checks"


class Scenario(_Model):
    """A whole simulation: its clock, its KPI thresholds, its queues and its operators.

    Visits that arrive before ``warmup`` are left out of the KPIs, so that an empty
    center filling up does not bias steady-state figures.
    """

    seed: int = 0
    duration: PositiveSeconds
    warmup: Seconds = 0.0
    answer_within: Seconds = 20.0
    short_abandon: Seconds = 5.0
    queues: Annotated[list[ScenarioQueue], Field(min_length=1)]
    operators: Annotated[list[OperatorGroup], Field(min_length=1)]

    @model_validator(mode="after")
    def _references(self, info: ValidationInfo) -> Scenario:
        if info.context and info.context.get(_DEFER_CROSS_CHECKS):
            return self  # parse_scenario runs them itself, to give each its line
        problems = _cross_check(self)
        if problems:
            raise ValueError("; ".join(f"{_path(loc)}: {msg}" for loc, msg in problems))
        return self

    def skills(self) -> frozenset[str]:
        """Every skill some operator group has: the skills requirements may name."""
        return frozenset(s for group in self.operators for s in group.skills)


Loc = tuple[int | str, ...]


def _cross_check(scenario: Scenario) -> list[tuple[Loc, str]]:
    """What the fields cannot check alone: names that refer to each other, skills, order."""
    problems: list[tuple[Loc, str]] = []
    if scenario.warmup >= scenario.duration:
        problems.append(
            (("warmup",), f"must be shorter than duration ({_number(scenario.duration)} s)")
        )
    first: dict[str, int] = {}
    for i, q in enumerate(scenario.queues):
        if q.name in first:
            problems.append(
                (
                    ("queues", i, "name"),
                    f"duplicate queue name {q.name!r} (also queues[{first[q.name]}])",
                )
            )
        first.setdefault(q.name, i)
    names = ", ".join(first)
    known = scenario.skills()
    for i, q in enumerate(scenario.queues):
        at: Loc = ("queues", i)
        problems.extend(_unknown_skills(q.requires, known, (*at, "requires")))
        previous = 0.0
        for j, step in enumerate(q.expand):
            if step.after <= previous:
                problems.append(
                    (
                        (*at, "expand", j, "after"),
                        f"must be later than the step before ({_number(previous)} s)",
                    )
                )
            previous = max(previous, step.after)
            problems.extend(_unknown_skills(step.requires, known, (*at, "expand", j, "requires")))
        if q.overflow is not None:
            if q.overflow == q.name:
                problems.append(((*at, "overflow"), "a queue cannot overflow to itself"))
            elif q.overflow not in first:
                problems.append(
                    ((*at, "overflow"), f"unknown queue {q.overflow!r} (queues: {names})")
                )
            if q.max_wait is None:
                problems.append(((*at, "overflow"), "needs max_wait (when to overflow)"))
        elif q.max_wait is not None:
            problems.append(((*at, "max_wait"), "needs overflow (the queue to overflow to)"))
    for g, group in enumerate(scenario.operators):
        for k, name in enumerate(group.queues):
            if name not in first:
                problems.append(
                    (("operators", g, "queues", k), f"unknown queue {name!r} (queues: {names})")
                )
    return problems


def _unknown_skills(text: str, known: frozenset[str], loc: Loc) -> list[tuple[Loc, str]]:
    try:
        parse_requirement(text, known_skills=known)
    except RequirementError as exc:
        return [(loc, str(exc))]
    return []


# -- errors with lines -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Problem:
    """One fault of a scenario: where (``path`` like ``queues[1].handle_time.mean``, and the
    1-based ``line`` when known) and what is wrong."""

    path: str
    message: str
    line: int | None = None

    def format(self, source: str) -> str:
        where = source if self.line is None else f"{source}:{self.line}"
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class ScenarioError(ValueError):
    """The scenario file is wrong: the user must correct it.

    ``str()`` lists every problem, one a line, as ``FILE:LINE: PATH: what is wrong``
    (``support.yaml:14: queues[1].handle_time.mean: must be > 0``); ``problems`` holds them
    as data and ``source`` names the file.
    """

    def __init__(self, source: str, problems: Sequence[Problem]) -> None:
        self.source = source
        self.problems = tuple(problems)
        super().__init__("\n".join(p.format(source) for p in self.problems))

    def __reduce__(self) -> tuple[type[ScenarioError], tuple[str, tuple[Problem, ...]]]:
        return type(self), (self.source, self.problems)


def load_scenario(path: Path) -> Scenario:
    """Read and validate a scenario file; raises `ScenarioError` (also when unreadable)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError(
            str(path), [Problem("", f"cannot read the file ({exc.strerror})")]
        ) from None
    except UnicodeDecodeError as exc:
        raise ScenarioError(str(path), [Problem("", f"not UTF-8 text ({exc.reason})")]) from None
    return parse_scenario(text, source=str(path))


def parse_scenario(text: str, source: str = "<string>") -> Scenario:
    """Validate scenario YAML; raises `ScenarioError` listing every problem with its line."""
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
        data = loader.construct_document(root) if root is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        message = f"invalid YAML: {exc.problem or exc.context}"
        line = None if mark is None else mark.line + 1
        if mark is not None:
            message += f" (column {mark.column + 1})"
        raise ScenarioError(source, [Problem("", message, line)]) from None
    except yaml.YAMLError as exc:
        raise ScenarioError(source, [Problem("", f"invalid YAML: {exc}")]) from None
    finally:
        loader.dispose()
    if data is None:
        raise ScenarioError(source, [Problem("", "the scenario is empty", 1)])
    if not isinstance(data, dict):
        raise ScenarioError(
            source, [Problem("", "expected a mapping with duration, queues, operators", 1)]
        )
    problems = list(_duplicate_keys(root, ()))
    try:
        scenario = Scenario.model_validate(data, context={_DEFER_CROSS_CHECKS: True})
    except ValidationError as exc:
        problems.extend(
            Problem(_path(e["loc"]), _message(e), _line(root, e["loc"])) for e in exc.errors()
        )
    else:
        problems.extend(
            Problem(_path(loc), message, _line(root, loc))
            for loc, message in _cross_check(scenario)
        )
    if problems:
        problems.sort(key=lambda p: p.line if p.line is not None else math.inf)
        raise ScenarioError(source, problems)
    return scenario


def _path(loc: Loc) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part != "[key]":  # pydantic's marker for a bad dict key; the key is the step before
            path += f".{part}" if path else part
    return path


def _line(root: yaml.Node | None, loc: Loc) -> int | None:
    """The line of the YAML node at ``loc``: of its key in a mapping, so that a mapping
    value points at ``handle_time:`` rather than at its first entry.  When ``loc`` goes
    past the document (a missing key), the deepest node that exists."""
    node, mark = root, root
    for part in loc:
        if part == "[key]":
            break
        if isinstance(node, yaml.MappingNode):
            pair = next(
                (
                    (k, v)
                    for k, v in reversed(node.value)  # the last of duplicate keys wins
                    if isinstance(k, yaml.ScalarNode) and k.value == str(part)
                ),
                None,
            )
            if pair is None:
                break
            mark, node = pair
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if not 0 <= part < len(node.value):
                break
            node = mark = node.value[part]
        else:
            break
    return None if mark is None else mark.start_mark.line + 1


def _duplicate_keys(node: yaml.Node | None, loc: Loc) -> Iterator[Problem]:
    # PyYAML keeps the last of two equal keys without a word; a scenario would then
    # silently lose a setting.
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key, value in node.value:
            if not isinstance(key, yaml.ScalarNode):
                continue
            line = key.start_mark.line + 1
            if key.value in seen:
                yield Problem(
                    _path((*loc, key.value)),
                    f"duplicate key (also on line {seen[key.value]})",
                    line,
                )
            seen.setdefault(key.value, line)
            yield from _duplicate_keys(value, (*loc, key.value))
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            yield from _duplicate_keys(item, (*loc, i))


def _message(error: Any) -> str:
    """Pydantic's message for one error, said the way the rest of hotline says it."""
    kind, ctx = error["type"], error.get("ctx") or {}
    if kind == "greater_than":
        return f"must be > {_number(ctx['gt'])}"
    if kind == "greater_than_equal":
        return f"must be >= {_number(ctx['ge'])}"
    if kind == "less_than":
        return f"must be < {_number(ctx['lt'])}"
    if kind == "less_than_equal":
        return f"must be <= {_number(ctx['le'])}"
    if kind == "missing":
        return "required"
    if kind == "extra_forbidden":
        return _unknown_key(error["loc"])
    return str(error["msg"]).removeprefix("Value error, ")


def _number(value: object) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def _unknown_key(loc: Loc) -> str:
    key = str(loc[-1])
    model = _model_at(loc[:-1])
    if model is None:
        return f"unknown key {key!r}"
    allowed = list(model.model_fields)
    close = difflib.get_close_matches(key, allowed, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"unknown key {key!r}{hint} (allowed: {', '.join(allowed)})"


def _model_at(loc: Loc) -> type[BaseModel] | None:
    """The model class that validates the value at ``loc`` of a `Scenario`."""
    annotation: Any = Scenario
    for part in loc:
        annotation = _unwrap(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            field = annotation.model_fields.get(str(part))
            if field is None:
                return None
            annotation = field.annotation
        elif get_origin(annotation) is list and isinstance(part, int):
            annotation = get_args(annotation)[0]
        elif get_origin(annotation) is dict:
            annotation = get_args(annotation)[1]
        else:
            return None
    annotation = _unwrap(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


def _unwrap(annotation: Any) -> Any:
    """``X`` from ``Annotated[X, …]`` and from ``X | None``."""
    while True:
        if get_origin(annotation) is Annotated:
            annotation = get_args(annotation)[0]
        elif get_origin(annotation) in (Union, types.UnionType):
            args = [a for a in get_args(annotation) if a is not type(None)]
            if len(args) != 1:
                return annotation
            annotation = args[0]
        else:
            return annotation
