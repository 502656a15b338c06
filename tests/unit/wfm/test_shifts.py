"""Shift scheduling on instances small enough to know the optimum by hand (comments).

Grid: 60-minute intervals from Monday 00:00 (minute 0), two or three days; rates per
hour; the under-coverage penalty is 1,000 per missing operator-hour, so covering is
always worth a shift.  Every solve is one deterministic worker with a seed.
"""

from __future__ import annotations

import itertools

import pytest

from hotline.core.wfm.shifts import (
    Operator,
    Pause,
    Schedule,
    ScheduleError,
    Template,
    coverage_of,
    schedule,
)

H = 60
DAY = 24
WEEK = ((0, 7 * 1440),)
EIGHT = Template("8h", 8 * H)
FOUR = Template("4h", 4 * H)


def need(days: int, *spans: tuple[int, int], level: int = 1) -> list[int]:
    """Hourly requirement over ``days`` days: ``level`` in each [from, to) hour span."""
    values = [0] * (days * DAY)
    for a, b in spans:
        for t in range(a, b):
            values[t] = level
    return values


def solve(
    required: dict[str, list[int]], operators: list[Operator], templates: list[Template], **kw: int
) -> Schedule:
    return schedule(60, required, operators, templates, time_limit=20, workers=1, seed=1, **kw)


def op(
    name: str,
    rate: float = 10.0,
    skills: str = "g",
    available: tuple[tuple[int, int], ...] = WEEK,
    **kw: int,
) -> Operator:
    return Operator(name, frozenset(skills.split(",")), rate, available, **kw)


def test_one_shift_exactly_covers_one_block() -> None:
    # 1 operator needed Monday 08-16: the 8 h shift 08-16 at 10/h = 80, nothing missing.
    result = solve({"g": need(2, (8, 16))}, [op("ann")], [EIGHT])
    assert result.status == "optimal"
    assert [(s.operator, s.start, s.end) for s in result.shifts] == [("ann", 8 * H, 16 * H)]
    assert result.cost == pytest.approx(80.0) and result.bound == pytest.approx(80.0)
    assert sum(result.coverage["g"].under) == 0


def test_the_cheaper_template_is_chosen() -> None:
    # 08-12 only: a 4 h shift (40) beats an 8 h one (80).
    result = solve({"g": need(2, (8, 12))}, [op("ann")], [EIGHT, FOUR])
    assert [(s.template, s.start) for s in result.shifts] == [("4h", 8 * H)]
    assert result.cost == pytest.approx(40.0)


def test_lunch_goes_where_nobody_is_needed_and_is_unpaid() -> None:
    # Needed 08-12 and 13-16; an 8 h shift 08-16 with an unpaid hour of lunch that may
    # start 3-5 h in: at 12:00 it leaves nothing uncovered.  Paid 7 h = 70.
    lunch = Template("8h", 8 * H, (Pause("lunch", 60, 180, 300, paid=False),))
    result = solve({"g": need(2, (8, 12), (13, 16))}, [op("ann"), op("bob")], [lunch])
    assert len(result.shifts) == 1
    (shift,) = result.shifts
    assert shift.pauses == (("lunch", 12 * H, 13 * H),)
    assert shift.segments == ((8 * H, 12 * H, "g"), (13 * H, 16 * H, "g"))
    assert result.cost == pytest.approx(70.0) and shift.paid_hours == 7.0


def test_minimum_rest_keeps_a_late_and_an_early_shift_apart() -> None:
    # Monday 14-22 and Tuesday 06-14: 8 h apart.  With 11 h of rest one operator must
    # give up 3 of those hours (e.g. Monday 14-22 then Tuesday 09-17, or Monday 11-19 then
    # Tuesday 06-14): 2 × 80 + 3 missing hours × 1,000.  With 8 h of rest, both: 160.
    required = {"g": need(2, (14, 22), (DAY + 6, DAY + 14))}
    strict = solve(required, [op("ann")], [EIGHT], min_rest_minutes=11 * H)
    first, second = sorted((s.start, s.end) for s in strict.shifts)
    assert second[0] - first[1] >= 11 * H
    assert strict.cost == pytest.approx(160.0 + 3 * 1000.0)
    assert sum(strict.coverage["g"].under) == 3
    relaxed = solve(required, [op("ann")], [EIGHT], min_rest_minutes=8 * H)
    assert sorted(s.start for s in relaxed.shifts) == [14 * H, (DAY + 6) * H]
    assert relaxed.cost == pytest.approx(160.0)


def test_rest_is_respected_between_every_pair_of_shifts() -> None:
    # Needed around the clock for 3 days by 3 operators: whatever the solver picks, each
    # operator's shifts are 11 h apart and at most one starts a day.
    required = {"g": [1] * (3 * DAY)}
    result = solve(required, [op("a"), op("b"), op("c")], [EIGHT, FOUR])
    for name in "abc":
        mine = sorted((s.start, s.end) for s in result.shifts if s.operator == name)
        for (_, end), (start, _) in itertools.pairwise(mine):
            assert start - end >= 11 * H
        assert len({start // 1440 for start, _ in mine}) == len(mine)


def test_skills_decide_who_covers_which_group() -> None:
    # en and ru each need 1 operator 08-16.  Only bob (20/h) speaks ru, ann (10/h) covers
    # en: 80 + 160 = 240.  Without bob, ru stays uncovered: 80 + 8 × 1,000.
    required = {"en": need(2, (8, 16)), "ru": need(2, (8, 16))}
    both = solve(required, [op("ann", 10, "en"), op("bob", 20, "en,ru")], [EIGHT])
    assert both.cost == pytest.approx(240.0)
    segments = {s.operator: {g for _, _, g in s.segments} for s in both.shifts}
    assert segments == {"ann": {"en"}, "bob": {"ru"}}
    alone = solve(required, [op("ann", 10, "en")], [EIGHT])
    assert sum(alone.coverage["ru"].under) == 8 and sum(alone.coverage["en"].under) == 0
    assert alone.cost == pytest.approx(80.0 + 8000.0)


def test_max_shifts_per_week_limits_the_days_worked() -> None:
    # 08-16 on three days, an operator allowed 2 shifts: 2 × 80 + 8 × 1,000.
    required = {"g": need(3, (8, 16), (DAY + 8, DAY + 16), (2 * DAY + 8, 2 * DAY + 16))}
    result = solve(required, [op("ann", max_shifts=2)], [EIGHT])
    assert len(result.shifts) == 2
    assert result.cost == pytest.approx(160.0 + 8000.0)


def test_availability_bounds_the_shifts() -> None:
    # ann is free Monday from 10:00 only; needed 08-16: the best 8 h shift is 10-18,
    # leaving 08-10 uncovered: 80 + 2 × 1,000.
    result = solve({"g": need(2, (8, 16))}, [op("ann", available=((10 * H, 1440),))], [EIGHT])
    assert [(s.start, s.end) for s in result.shifts] == [(10 * H, 18 * H)]
    assert result.cost == pytest.approx(2080.0)
    assert result.coverage["g"].under[8:10] == [1, 1]


def test_an_operator_whose_availability_fits_no_shift_is_reported_unused() -> None:
    result = solve(
        {"g": need(2, (8, 16))}, [op("ann"), op("tim", available=((8 * H, 12 * H),))], [EIGHT]
    )
    assert result.unused == ["tim"]


def test_infeasible_availability_is_reported_with_the_operator() -> None:
    # min 3 shifts but free on one day only: refused before solving, naming the operator.
    with pytest.raises(ScheduleError, match=r"operator ann: min_shifts is 3 but .* on 1 day"):
        solve({"g": need(2, (8, 16))}, [op("ann", available=((0, 1440),), min_shifts=3)], [EIGHT])
    # min 2 shifts on two days, but 20 h of rest cannot fit between Monday and Tuesday
    # 00-08: only the solver finds out; the error says which rules and who.
    window = ((0, 1440), (1440, 1440 + 8 * H))
    with pytest.raises(ScheduleError, match=r"no schedule meets the hard rules.*ann \(2\)"):
        solve(
            {"g": need(2, (8, 16))},
            [op("ann", available=window, min_shifts=2)],
            [EIGHT],
            min_rest_minutes=20 * H,
        )


@pytest.mark.parametrize(
    ("template", "message"),
    [
        (Template("x", 90), "length 90 min is not a multiple of 60"),
        (Template("x", 240, (Pause("lunch", 60, 180, 240),)), "does not fit the shift"),
        (
            Template("x", 480, (Pause("a", 60, 60, 180), Pause("b", 60, 120, 180))),
            "windows of a and b overlap",
        ),
    ],
)
def test_bad_templates_are_refused_by_name(template: Template, message: str) -> None:
    with pytest.raises(ScheduleError, match=message):
        solve({"g": need(1, (8, 16))}, [op("ann")], [template])


def test_coverage_counts_the_segments_of_every_shift() -> None:
    # Needed: 2 operators 09-17 on Monday; three operators with an 8 h shift and a paid
    # 1 h break 2-4 h in.  Recount the coverage here from the shifts' times and pauses.
    brk = Template("8h", 8 * H, (Pause("break", 60, 120, 240),))
    required = {"g": need(1, (9, 17), level=2)}
    result = solve(required, [op("a"), op("b"), op("c")], [brk])
    counted = [0] * DAY
    for s in result.shifts:
        for t in range(s.start // H, s.end // H):
            if not any(a <= t * H < b for _, a, b in s.pauses):
                counted[t] += 1
    assert result.coverage["g"].scheduled == counted
    assert coverage_of(result.shifts, required, 60)["g"].scheduled == counted
    assert result.coverage["g"].under == [
        max(r - c, 0) for r, c in zip(required["g"], counted, strict=True)
    ]
    # 16 operator-hours with breaks: three shifts (3 × 7 h on the phones = 21 h) cover it
    # all at 3 × 80 = 240; two (14 h) would miss 2 h: 160 + 2,000.
    assert result.cost == pytest.approx(240.0) and sum(result.coverage["g"].under) == 0


def test_when_time_runs_out_before_the_search_the_greedy_start_is_returned() -> None:
    # No time at all for the solver: the answer is the greedy schedule the search would
    # have started from — every rule kept, coverage recounted, status "greedy".
    required = {"g": need(2, (8, 16), (DAY + 8, DAY + 16))}
    result = schedule(60, required, [op("ann"), op("bob")], [EIGHT, FOUR], time_limit=1e-9)
    assert result.status == "greedy"
    starts = sorted(s.start for s in result.shifts)
    assert starts == [8 * H, (DAY + 8) * H]  # one 8 h shift a day covers each block
    assert sum(result.coverage["g"].under) == 0 and result.cost == pytest.approx(160.0)
