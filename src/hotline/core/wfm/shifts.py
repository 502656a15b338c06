"""Shift schedules that cover interval requirements at least cost (OR-Tools CP-SAT).

The grid: ``interval_minutes`` intervals from minute 0 (the start of the planning week,
usually Monday 00:00 local); ``required[group][t]`` operators are needed for ``group`` in
interval ``t``.  Each operator has skills (the groups they may cover), an hourly rate,
availability windows (minutes from the grid start; a shift must lie inside one window),
and a number of shifts per week (``min_shifts``..``max_shifts``).  A :class:`Template` is
a shift length with its pauses (a break, a lunch…): each pause lasts ``minutes`` and
starts between ``earliest`` and ``latest`` minutes after the shift starts, placed by the
solver where coverage needs it least.

Model (one candidate per operator × template × start that fits the availability):

* ``x[o,k]`` — operator ``o`` works candidate shift ``k``; at most one shift starting per
  day; ``min_shifts ≤ Σ x ≤ max_shifts``; rest: clique constraints over clashing pairs
  (a shift starting less than ``min_rest`` after another ends), see the code.
* Pauses are *implicit* (Bechtold & Jacobs): per operator, day and pause kind, one boolean
  per possible start; their number that day equals the number of chosen shifts that have
  that pause, and a chosen shift needs one of them in its own window — exact, since one
  shift at most starts per day; far fewer variables than a copy per shift and offset.
* ``on[o,t]`` = shifts covering ``t`` − pauses covering ``t`` is 0 or 1 by construction
  (a template's pause windows may not overlap); an operator with several skills covers at
  most one group per interval (``Σ_g a[o,t,g] ≤ on[o,t]``).
* Coverage: ``Σ_o a[o,t,g] + under[g,t] ≥ required[g][t]``.
* Cost (integer cents): paid minutes × rate (unpaid pauses are not paid) + ``under`` ×
  ``under_penalty`` per operator-hour missing.  Minimised.

The search starts from a greedy schedule (:mod:`hotline.core.wfm.shift_hint`) and stops
after ``time_limit`` seconds (model building not included) with the best schedule found;
``status`` says whether it is proven optimal, or is the greedy start itself because the
time ran out first; ``bound`` is the solver's lower bound on the cost.  ``workers=1``
(the portfolio interleaved on one thread) and a ``seed`` make runs repeatable.  On a
50-operator week the search rarely improves much on the greedy start within a minute
and the bound stays loose (``bench/wfm_plan.py``); small cases are solved to optimality.
Coverage in the answer is recounted from the shifts returned, not read from the model.
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence

from hotline.core.wfm.shift_hint import greedy
from hotline.core.wfm.shift_types import (
    DAY,
    Candidate,
    Coverage,
    Operator,
    Pause,
    Schedule,
    ScheduleError,
    Shift,
    Template,
)

__all__ = [
    "Coverage",
    "Operator",
    "Pause",
    "Schedule",
    "ScheduleError",
    "Shift",
    "Template",
    "coverage_of",
    "schedule",
]


def _validate(
    interval: int,
    required: Mapping[str, Sequence[int]],
    operators: Sequence[Operator],
    templates: Sequence[Template],
    start_step: int,
    min_rest: int,
) -> list[str]:
    problems: list[str] = []
    if interval <= 0 or DAY % interval:
        problems.append(f"interval: {interval} minutes does not divide a day")
        return problems
    lengths = {len(v) for v in required.values()}
    if len(lengths) != 1:
        problems.append("required: every group needs the same number of intervals")
    for group, values in required.items():
        for t, v in enumerate(values):
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                problems.append(f"required[{group}][{t}]: must be a whole number ≥ 0 (got {v!r})")
    if start_step <= 0 or start_step % interval:
        problems.append(f"start step: {start_step} min is not a multiple of {interval} min")
    if min_rest < 0:
        problems.append(f"min rest: must be ≥ 0 (got {min_rest})")
    if not templates:
        problems.append("templates: give at least one shift template")
    for tp in templates:
        where = f"template {tp.name}"
        if tp.minutes <= 0 or tp.minutes % interval:
            problems.append(f"{where}: length {tp.minutes} min is not a multiple of {interval}")
        for p in tp.pauses:
            if (
                p.minutes <= 0
                or p.minutes % interval
                or p.earliest % interval
                or p.latest % interval
            ):
                problems.append(f"{where}: {p.name}: times must be multiples of {interval} min")
            elif not 0 <= p.earliest <= p.latest or p.latest + p.minutes > tp.minutes:
                problems.append(
                    f"{where}: {p.name}: window {p.earliest}–{p.latest} min does not fit the shift"
                )
        spans = sorted((p.earliest, p.latest + p.minutes, p.name) for p in tp.pauses)
        for (_, end, first), (start, _, second) in itertools.pairwise(spans):
            if start < end:
                problems.append(f"{where}: the windows of {first} and {second} overlap")
        names = [p.name for p in tp.pauses]
        if len(set(names)) != len(names):
            problems.append(f"{where}: pause names must differ")
    names = [o.name for o in operators]
    for name in sorted({n for n in names if names.count(n) > 1}):
        problems.append(f"operator {name}: repeated")
    for o in operators:
        if not (o.hourly_rate >= 0 and math.isfinite(o.hourly_rate)):
            problems.append(f"operator {o.name}: hourly rate must be ≥ 0")
        if not 0 <= o.min_shifts <= o.max_shifts:
            problems.append(f"operator {o.name}: need 0 ≤ min_shifts ≤ max_shifts")
        for a, b in o.available:
            if not 0 <= a < b:
                problems.append(
                    f"operator {o.name}: availability {a}–{b}: end must be after start ≥ 0"
                )
    return problems


def _candidates(
    op: Operator, templates: Sequence[Template], horizon: int, step: int
) -> list[Candidate]:
    found: list[Candidate] = []
    for tp in templates:
        for start in range(0, horizon - tp.minutes + 1, step):
            end = start + tp.minutes
            if any(a <= start and end <= b for a, b in op.available):
                found.append(Candidate(tp, start, start // DAY))
    return found


def schedule(
    interval_minutes: int,
    required: Mapping[str, Sequence[int]],
    operators: Sequence[Operator],
    templates: Sequence[Template],
    *,
    start_step_minutes: int = 60,
    min_rest_minutes: int = 660,
    under_penalty: float = 1000.0,
    time_limit: float = 10.0,
    workers: int = 1,
    seed: int = 0,
) -> Schedule:
    """The cheapest schedule found within ``time_limit`` s (module docstring)."""
    from ortools.sat.python import cp_model

    interval = interval_minutes
    problems = _validate(
        interval, required, operators, templates, start_step_minutes, min_rest_minutes
    )
    if problems:
        raise ScheduleError(problems)
    groups = sorted(required)
    n = len(required[groups[0]]) if groups else 0
    horizon = n * interval
    model = cp_model.CpModel()
    chosen: dict[tuple[int, int], cp_model.IntVar] = {}
    cands: dict[int, list[Candidate]] = {}
    pause_vars: dict[tuple[int, int, str, int], cp_model.IntVar] = {}
    share: dict[tuple[int, int, str], cp_model.IntVar] = {}
    unused: list[str] = []
    problems = []
    cover: dict[tuple[str, int], list[cp_model.LinearExprT]] = defaultdict(list)
    cost_terms: list[tuple[cp_model.IntVar, int]] = []
    for o, op in enumerate(operators):
        skills = [g for g in groups if g in op.skills]
        cands[o] = found = _candidates(op, templates, horizon, start_step_minutes) if skills else []
        days = {c.day for c in found}
        if len(days) < op.min_shifts:
            problems.append(
                f"operator {op.name}: min_shifts is {op.min_shifts} but the availability and "
                f"skills allow a shift on {len(days)} day(s)"
            )
        if not found:
            unused.append(op.name)
            continue
        xs = [model.new_bool_var(f"x{o}_{k}") for k in range(len(found))]
        for k, x in enumerate(xs):
            chosen[o, k] = x
            cost_terms.append(
                (x, round(100 * op.hourly_rate * found[k].template.paid_minutes() / 60))
            )
        model.add(sum(xs) <= op.max_shifts)
        if op.min_shifts:
            model.add(sum(xs) >= op.min_shifts)
        by_day: dict[int, list[int]] = defaultdict(list)
        for k, c in enumerate(found):
            by_day[c.day].append(k)
        for ks in by_day.values():
            model.add_at_most_one(chosen[o, k] for k in ks)
        # Rest: shifts k1 (day d) and k2 (a later day) clash when k2 starts before k1 ends
        # plus the rest.  For each start τ of a day-e shift, the day-d shifts ending after
        # τ − rest and the day-e shifts starting by τ pairwise clash: at most one of them
        # (a clique: tighter for the LP than pairs, and it covers every clashing pair).
        reach = (max(c.template.minutes for c in found) + min_rest_minutes) // DAY + 1
        for d, ks in by_day.items():
            for e in range(d + 1, d + reach + 1):
                later = by_day.get(e, [])
                for tau in sorted({found[k].start for k in later}):
                    clique = [
                        k
                        for k in ks
                        if found[k].start + found[k].template.minutes + min_rest_minutes > tau
                    ]
                    if clique:
                        clique += [k for k in later if found[k].start <= tau]
                        model.add_at_most_one(chosen[o, k] for k in clique)
        # coverage expression per interval: shifts − pauses
        plus: dict[int, list[cp_model.IntVar]] = defaultdict(list)
        minus: dict[int, list[cp_model.IntVar]] = defaultdict(list)
        for k, c in enumerate(found):
            first = c.start // interval
            for t in range(first, first + c.template.minutes // interval):
                plus[t].append(chosen[o, k])
        demand: dict[tuple[int, str], list[int]] = defaultdict(list)  # shifts needing a pause
        windows: dict[tuple[int, str], set[int]] = defaultdict(set)
        lengths: dict[str, int] = {}
        for k, c in enumerate(found):
            for p in c.template.pauses:
                key = (c.day, f"{p.name}/{p.minutes}")
                lengths[key[1]] = p.minutes // interval
                demand[key].append(k)
                starts = range(
                    (c.start + p.earliest) // interval, (c.start + p.latest) // interval + 1
                )
                windows[key].update(starts)
        for key, ks in demand.items():
            day, kind = key
            for t in sorted(windows[key]):
                pause_vars[o, day, kind, t] = v = model.new_bool_var(f"p{o}_{day}_{kind}_{t}")
                for u in range(t, t + lengths[kind]):
                    minus[u].append(v)
            model.add(
                sum(pause_vars[o, day, kind, t] for t in windows[key])
                == sum(chosen[o, k] for k in ks)
            )
            for k in ks:
                c = found[k]
                p = next(p for p in c.template.pauses if f"{p.name}/{p.minutes}" == kind)
                lo, hi = (c.start + p.earliest) // interval, (c.start + p.latest) // interval
                model.add(
                    sum(pause_vars[o, day, kind, t] for t in range(lo, hi + 1)) >= chosen[o, k]
                )
        for t in sorted(plus):
            if t >= n:
                continue
            # 0 or 1: one shift a day, rest between days, a template's pauses disjoint
            working = sum(plus[t]) - sum(minus.get(t, []))
            if len(skills) == 1:
                cover[skills[0], t].append(working)
            else:
                parts = []
                for g in skills:
                    share[o, t, g] = a = model.new_bool_var(f"a{o}_{t}_{g}")
                    cover[g, t].append(a)
                    parts.append(a)
                model.add(sum(parts) <= working)
    if problems:
        raise ScheduleError(problems)
    penalty = round(100 * under_penalty * interval / 60)
    under_vars = []
    under_of: dict[tuple[str, int], cp_model.IntVar] = {}
    for g in groups:
        for t, need in enumerate(required[g]):
            if need:
                short = model.new_int_var(0, need, f"u_{g}_{t}")
                model.add(cp_model.LinearExpr.sum([*cover.get((g, t), []), short]) >= need)
                under_vars.append(short)
                under_of[g, t] = short
    # A greedy schedule as the hint: on a week-long model the search (one worker above
    # all) finds no good first solution by itself; from this one LNS improves.
    picks, placed, assigned, left = greedy(
        operators, cands, required, groups, interval, min_rest_minutes, penalty
    )
    for (o, k), x in chosen.items():
        model.add_hint(x, (o, k) in picks)
    for pause_key, pause in pause_vars.items():
        model.add_hint(pause, pause_key in placed)
    for share_key, part in share.items():
        model.add_hint(part, share_key in assigned)
    for (g, t), short in under_of.items():
        model.add_hint(short, left[g][t])
    model.minimize(sum(c * x for x, c in cost_terms) + penalty * sum(under_vars))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = float(time_limit)
    if workers <= 1:  # deterministic: the portfolio (with LNS) interleaved on one thread
        solver.parameters.interleave_search = True
        solver.parameters.num_workers = 8
        solver.parameters.interleave_batch_size = 10
    else:
        solver.parameters.num_workers = int(workers)
    solver.parameters.random_seed = int(seed)
    # A full presolve (probing above all) takes 10 s of a 50-operator week before any
    # search; one light pass takes 2 s (bench/wfm_plan.py).  (Presolve off entirely
    # aborts the process inside OR-Tools 9.15 on an infeasible model: not an option.)
    solver.parameters.cp_model_probing_level = 0
    solver.parameters.max_presolve_iterations = 1
    solver.parameters.symmetry_level = 0
    status = solver.solve(model)
    if status == cp_model.INFEASIBLE:
        bound = [f"{o.name} ({o.min_shifts})" for o in operators if o.min_shifts]
        raise ScheduleError(
            [
                "no schedule meets the hard rules (availability, rest, one shift a day, "
                "shifts per week); operators with a minimum number of shifts: "
                + (", ".join(bound) or "none")
            ]
        )
    value: Callable[[cp_model.IntVar], bool] = solver.boolean_value
    label = "optimal" if status == cp_model.OPTIMAL else "feasible"
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        # The time ran out in presolve or before the search took the hint: the greedy
        # schedule is still an answer, if it keeps every hard rule (min_shifts).
        taken: dict[int, int] = defaultdict(int)
        for o, _ in picks:
            taken[o] += 1
        if any(taken[o] < op.min_shifts for o, op in enumerate(operators)):
            raise ScheduleError([f"no schedule found within the time limit of {time_limit:g} s"])
        hinted = {x.index for (o, k), x in chosen.items() if (o, k) in picks}
        hinted |= {v.index for key, v in pause_vars.items() if key in placed}
        hinted |= {v.index for key, v in share.items() if key in assigned}

        def value(v: cp_model.IntVar) -> bool:
            return v.index in hinted

        label = "greedy"
    shifts: list[Shift] = []
    for o, op in enumerate(operators):
        for k, c in enumerate(cands.get(o, [])):
            if not value(chosen[o, k]):
                continue
            pauses = []
            for p in c.template.pauses:
                kind = f"{p.name}/{p.minutes}"
                lo, hi = (c.start + p.earliest) // interval, (c.start + p.latest) // interval
                t = next(t for t in range(lo, hi + 1) if value(pause_vars[o, c.day, kind, t]))
                pauses.append((p.name, t * interval, t * interval + p.minutes))
            segments: list[tuple[int, int, str]] = []
            first = c.start // interval
            for t in range(first, first + c.template.minutes // interval):
                if any(a <= t * interval < b for _, a, b in pauses):
                    continue
                skills = [g for g in groups if g in op.skills]
                # a multi-skilled operator the model left unassigned (over-coverage) is
                # still on the phones: counted for their first group
                g = next(
                    (g for g in skills if len(skills) > 1 and value(share[o, t, g])),
                    skills[0],
                )
                if segments and segments[-1][1] == t * interval and segments[-1][2] == g:
                    segments[-1] = (segments[-1][0], (t + 1) * interval, g)
                else:
                    segments.append((t * interval, (t + 1) * interval, g))
            paid = c.template.paid_minutes() / 60
            shifts.append(
                Shift(
                    op.name,
                    c.template.name,
                    c.start,
                    c.start + c.template.minutes,
                    tuple(pauses),
                    tuple(segments),
                    paid,
                    paid * op.hourly_rate,
                )
            )
    coverage = coverage_of(shifts, required, interval)
    paid_cost = sum(s.cost for s in shifts)
    missing = sum(sum(cv.under) for cv in coverage.values())
    return Schedule(
        status=label,
        cost=paid_cost + missing * under_penalty * interval / 60,
        bound=max(0.0, solver.best_objective_bound / 100),
        paid_cost=paid_cost,
        shifts=shifts,
        coverage=coverage,
        unused=unused,
    )


def coverage_of(
    shifts: Sequence[Shift], required: Mapping[str, Sequence[int]], interval_minutes: int
) -> dict[str, Coverage]:
    """Operators on the phones per group and interval, counted from the shifts' segments."""
    out: dict[str, Coverage] = {}
    for g in sorted(required):
        scheduled = [0] * len(required[g])
        for s in shifts:
            for a, b, group in s.segments:
                if group == g:
                    for t in range(a // interval_minutes, b // interval_minutes):
                        scheduled[t] += 1
        out[g] = Coverage(list(required[g]), scheduled)
    return out
