"""A quick greedy schedule, the starting point (hint) of the CP-SAT search in
:mod:`hotline.core.wfm.shifts`: on a week-long model the solver, one worker above all,
finds no good first solution by itself, and improves well from a reasonable one."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from hotline.core.wfm.shift_types import DAY as DAY_MINUTES
from hotline.core.wfm.shift_types import Candidate, Operator

__all__ = ["Hint", "greedy"]

Hint = tuple[
    set[tuple[int, int]],
    set[tuple[int, int, str, int]],
    set[tuple[int, int, str]],
    dict[str, list[int]],
]


def _by_ratio(
    operators: Sequence[Operator],
    cands: Mapping[int, list[Candidate]],
    required: Mapping[str, Sequence[int]],
    groups: list[str],
    interval: int,
    min_rest: int,
    penalty: int,
) -> Hint:
    """Set-cover greedy (:func:`greedy`): repeatedly the (operator, shift) that covers the most
    still-missing intervals per unit of pay, while covering is worth the pay, among the
    shifts the operator may still take (one a day, rest, ``max_shifts``); then each
    operator below ``min_shifts`` takes their best remaining shifts.  Pauses go where
    they leave least uncovered; each interval goes to the skill with most missing.
    Returns the picks ``(operator, candidate)``, the pause starts, the skill
    assignments and the requirement left uncovered."""
    left = {g: np.asarray(required[g], dtype=np.int64).copy() for g in groups}
    skills_of = {g: [o for o in cands if cands[o] and g in operators[o].skills] for g in groups}
    picks: set[tuple[int, int]] = set()
    placed: set[tuple[int, int, str, int]] = set()
    assigned: set[tuple[int, int, str]] = set()
    state = {}
    for o, found in cands.items():
        skills = [g for g in groups if g in operators[o].skills]
        if not found or not skills:
            continue
        starts = np.array([c.start for c in found])
        ends = np.array([c.start + c.template.minutes for c in found])
        paused = np.array([sum(p.minutes for p in c.template.pauses) // interval for c in found])
        rate = 100 * operators[o].hourly_rate / 60
        cost = np.array([rate * c.template.paid_minutes() for c in found])
        state[o] = (skills, starts, ends, paused, cost, np.ones(len(found), dtype=bool), [0])

    def scores(o: int) -> tuple[np.ndarray, np.ndarray]:
        skills, starts, ends, paused, cost, allowed, _ = state[o]
        need = np.max([left[g] for g in skills], axis=0) > 0
        prefix = np.concatenate([[0], np.cumsum(need)])
        # pauses can usually go where nothing is missing: cap by the time on the phones
        span = (ends - starts) // interval
        covered = np.minimum(prefix[ends // interval] - prefix[starts // interval], span - paused)
        value = np.where(allowed, penalty * covered - cost, -np.inf)
        return value, np.where(value > 0, covered / np.maximum(cost, 1e-9), -np.inf)

    def take(o: int, k: int) -> None:
        skills, starts, ends, _, _, allowed, count = state[o]
        c = cands[o][k]
        picks.add((o, k))
        count[0] += 1
        clash = (starts < ends[k] + min_rest) & (starts[k] < ends + min_rest)
        allowed &= ~(clash | (starts // DAY_MINUTES == c.day))
        if count[0] >= operators[o].max_shifts:
            allowed[:] = False
        _place(o, c, skills, left, interval, placed, assigned, skills_of)

    while True:
        best: tuple[float, int, int] | None = None
        for o in state:
            _, ratio = scores(o)
            k = int(np.argmax(ratio))
            if ratio[k] > -np.inf and (best is None or ratio[k] > best[0]):
                best = (float(ratio[k]), o, k)
        if best is None:
            break
        take(best[1], best[2])
    for o, (*_, allowed, count) in state.items():
        while count[0] < operators[o].min_shifts and allowed.any():
            value, _ = scores(o)
            take(o, int(np.argmax(value)))
    return picks, placed, assigned, {g: [int(v) for v in left[g]] for g in groups}


def _by_operator(
    operators: Sequence[Operator],
    cands: Mapping[int, list[Candidate]],
    required: Mapping[str, Sequence[int]],
    groups: list[str],
    interval: int,
    min_rest: int,
    penalty: int,
) -> Hint:
    """Operator by operator, cheapest first, each takes (up to ``max_shifts`` times) the
    shift that covers the most still-missing intervals while that is worth its pay."""
    left = {g: np.asarray(required[g], dtype=np.int64).copy() for g in groups}
    skills_of = {g: [o for o in cands if cands[o] and g in operators[o].skills] for g in groups}
    picks: set[tuple[int, int]] = set()
    placed: set[tuple[int, int, str, int]] = set()
    assigned: set[tuple[int, int, str]] = set()
    for o in sorted(cands, key=lambda o: operators[o].hourly_rate):
        op, found = operators[o], cands[o]
        skills = [g for g in groups if g in op.skills]
        if not found or not skills:
            continue
        taken: list[Candidate] = []
        while len(taken) < op.max_shifts:
            need = np.max([left[g] for g in skills], axis=0) > 0
            prefix = np.concatenate([[0], np.cumsum(need)])
            best, best_gain = -1, 0.0
            for k, c in enumerate(found):
                if any(
                    c.day == d.day
                    or (
                        c.start < d.start + d.template.minutes + min_rest
                        and d.start < c.start + c.template.minutes + min_rest
                    )
                    for d in taken
                ):
                    continue
                a, b = c.start // interval, (c.start + c.template.minutes) // interval
                gain = (
                    penalty * float(prefix[b] - prefix[a])
                    - 100 * op.hourly_rate * c.template.paid_minutes() / 60
                )
                if gain > best_gain or (best < 0 and len(taken) < op.min_shifts):
                    best, best_gain = k, gain
            if best < 0:
                break
            c = found[best]
            taken.append(c)
            picks.add((o, best))
            _place(o, c, skills, left, interval, placed, assigned, skills_of)
    return picks, placed, assigned, {g: [int(v) for v in left[g]] for g in groups}


def _place(
    o: int,
    c: Candidate,
    skills: list[str],
    left: dict[str, np.ndarray],
    interval: int,
    placed: set[tuple[int, int, str, int]],
    assigned: set[tuple[int, int, str]],
    skills_of: Mapping[str, Sequence[int]],
) -> None:
    """Put ``c``'s pauses where they leave least uncovered and give each of its other
    intervals to a skill still missing someone, the scarcest first: a multi-skilled
    operator spent on a common skill leaves a rare one uncovered (``left`` is updated)."""
    need = np.max([left[g] for g in skills], axis=0) > 0
    prefix = np.concatenate([[0], np.cumsum(need)])
    off: set[int] = set()
    for p in c.template.pauses:
        lo, hi = (c.start + p.earliest) // interval, (c.start + p.latest) // interval
        span = p.minutes // interval
        t0 = min(range(lo, hi + 1), key=lambda t: float(prefix[t + span] - prefix[t]))
        placed.add((o, c.day, f"{p.name}/{p.minutes}", t0))
        off.update(range(t0, t0 + span))
    for t in range(c.start // interval, (c.start + c.template.minutes) // interval):
        if t in off:
            continue
        # a group still missing someone; of those, the one fewest operators can cover
        g = max(skills, key=lambda g: (left[g][t] > 0, -len(skills_of.get(g, ())), left[g][t]))
        if left[g][t] > 0:
            left[g][t] -= 1
            if len(skills) > 1:
                assigned.add((o, t, g))


def greedy(
    operators: Sequence[Operator],
    cands: Mapping[int, list[Candidate]],
    required: Mapping[str, Sequence[int]],
    groups: list[str],
    interval: int,
    min_rest: int,
    penalty: int,
) -> Hint:
    """The cheaper of two greedy schedules (by operator, by coverage per unit of pay):
    the picks ``(operator, candidate)``, the pause starts ``(operator, day, kind,
    interval)``, the skill assignments ``(operator, interval, group)`` of multi-skilled
    operators, and the requirement left uncovered per group and interval."""

    def cost(hint: Hint) -> float:
        paid = sum(
            100 * operators[o].hourly_rate * cands[o][k].template.paid_minutes() / 60
            for o, k in hint[0]
        )
        return paid + penalty * sum(sum(v) for v in hint[3].values())

    args = (operators, cands, required, groups, interval, min_rest, penalty)
    return min((_by_operator(*args), _by_ratio(*args)), key=cost)
