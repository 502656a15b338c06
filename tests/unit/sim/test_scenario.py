"""Scenario YAML (hotline.sim.scenario) and arrival sampling (hotline.sim.workload).

Bad scenarios mark the line the error must point at with ``# <-``, so the expected line
number is read from the text instead of being counted by hand.
"""

from __future__ import annotations

import itertools
import math
import pickle
import random
import statistics
import textwrap
from pathlib import Path

import pytest
from pydantic import ValidationError

from hotline.core.model import RoutingStrategy
from hotline.sim.scenario import (
    Arrivals,
    Distribution,
    Scenario,
    ScenarioError,
    load_scenario,
    parse_duration,
    parse_scenario,
)
from hotline.sim.workload import poisson_arrivals

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "scenarios"
PROFILE = [10.0 * h for h in range(24)]  # 0, 10, …, 230 calls per hour
PROFILE_YAML = "[" + ", ".join(f"{r:g}" for r in PROFILE) + "]"

GOOD = """\
seed: 42
duration: 8h
warmup: 30m
answer_within: 15
short_abandon: 3
queues:
  - name: support
    arrivals: {per_hour: 720}
    handle_time: {dist: lognormal, mean: 300, sd: 120}
    wrap_up: 10s
    patience: {dist: exponential, mean: 120}
    requires: "english >= 5"
    priority: 2
    strategy: best_skill
    expand:
      - {after: 30s, requires: "english >= 3"}
      - {after: 1m, requires: ""}
    max_wait: 5m
    overflow: backup
    callback_accept: 0.5
    callback_threshold: 2m
    offer_timeout: 15
  - name: backup
    arrivals: {profile: PROFILE}
    handle_time: {dist: uniform, min: 60, max: 180}
operators:
  - {name: seniors, count: 25, queues: [support, backup], skills: {English: 7, russian: 3}}
  - {count: 0, queues: [backup]}
""".replace("PROFILE", PROFILE_YAML)


def problems(text: str) -> list[str]:
    """The lines of the ScenarioError that ``text`` must raise."""
    with pytest.raises(ScenarioError) as info:
        parse_scenario(textwrap.dedent(text), source="s.yaml")
    return str(info.value).splitlines()


def marked_line(text: str) -> int:
    lines = textwrap.dedent(text).splitlines()
    return next(i for i, line in enumerate(lines, start=1) if "# <-" in line)


def assert_problem(text: str, expected: str) -> None:
    """``text`` is refused with a problem ``s.yaml:LINE: expected…`` at the marked line."""
    found = problems(text)
    prefix = f"s.yaml:{marked_line(text)}: {expected}"
    assert any(p.startswith(prefix) for p in found), found


# -- good scenarios ------------------------------------------------------------------------


def test_given_the_full_format_when_parsed_then_every_value_is_read() -> None:
    s = parse_scenario(GOOD)
    assert (s.seed, s.duration, s.warmup) == (42, 8 * 3600.0, 1800.0)
    assert (s.answer_within, s.short_abandon) == (15.0, 3.0)
    support, backup = s.queues
    assert support.name == "support"
    assert support.arrivals.per_hour == 720.0
    assert support.handle_time == Distribution(dist="lognormal", mean=300, sd=120)
    assert support.patience == Distribution(dist="exponential", mean=120)
    assert (support.wrap_up, support.requires, support.priority) == (10.0, "english >= 5", 2)
    assert support.strategy is RoutingStrategy.BEST_SKILL
    assert [(x.after, x.requires) for x in support.expand] == [
        (30.0, "english >= 3"),
        (60.0, ""),
    ]
    assert (support.max_wait, support.overflow) == (300.0, "backup")
    assert (support.callback_accept, support.callback_threshold) == (0.5, 120.0)
    assert support.offer_timeout == 15.0
    assert backup.arrivals.profile == PROFILE
    assert backup.handle_time.mean == 120.0  # uniform: (min + max) / 2
    seniors, empty = s.operators
    assert seniors.name == "seniors"
    assert seniors.skills == {"english": 7, "russian": 3}  # names lower-cased, like requires
    assert (empty.count, empty.skills) == (0, {})
    assert s.skills() == {"english", "russian"}


def test_given_a_minimal_scenario_when_parsed_then_defaults_apply() -> None:
    s = parse_scenario(
        textwrap.dedent(
            """\
            duration: 3600
            queues:
              - {name: q, arrivals: {per_hour: 60}, handle_time: {dist: constant, mean: 30}}
            operators:
              - {count: 1, queues: [q]}
            """
        )
    )
    assert (s.seed, s.duration, s.warmup, s.answer_within, s.short_abandon) == (
        0,
        3600.0,
        0.0,
        20.0,
        5.0,
    )
    (q,) = s.queues
    assert (q.wrap_up, q.patience, q.requires, q.priority, q.expand) == (0.0, None, "", 0, [])
    assert q.strategy is RoutingStrategy.LONGEST_IDLE
    assert (q.max_wait, q.overflow, q.callback_accept) == (None, None, 0.0)
    assert (q.callback_threshold, q.offer_timeout) == (180.0, 20.0)


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.yaml")), ids=lambda p: p.name)
def test_given_an_example_when_loaded_then_it_is_valid(path: Path) -> None:
    assert load_scenario(path).queues


def test_given_the_support_example_when_loaded_then_it_is_the_issue_s_scenario() -> None:
    s = load_scenario(EXAMPLES / "support.yaml")
    assert (s.seed, s.duration, s.answer_within, s.short_abandon) == (42, 28800.0, 20.0, 5.0)
    (q,) = s.queues
    assert q.arrivals.per_hour == 720
    assert q.handle_time == Distribution(dist="exponential", mean=240)
    assert q.patience == Distribution(dist="exponential", mean=120)
    assert q.requires == "english >= 5"
    ((group),) = s.operators
    assert (group.count, group.queues, group.skills) == (25, ["support"], {"english": 7})


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("8h", 28800.0),
        ("30m", 1800.0),
        ("90s", 90.0),
        ("2d", 172800.0),
        ("1w", 604800.0),
        ("1h30m", 5400.0),
        ("2.5h", 9000.0),
        (" 1H 30M ", 5400.0),
        ("90", 90.0),
        (90, 90),
        (0.5, 0.5),
    ],
)
def test_given_a_duration_when_parsed_then_it_is_seconds(text: str | float, seconds: float) -> None:
    assert parse_duration(text) == seconds
    scenario = BASE.replace("duration: 8h", f"duration: {text!s}")
    assert parse_scenario(scenario).duration == seconds


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("8 hours", "'8 hours' is not a duration: write seconds (90) or a duration such as"),
        ("h", "'h' is not a duration"),
        ('""', "empty duration"),
        ("true", "True is not a duration"),
        ("0", "must be > 0"),
        ("-5m", "'-5m' is not a duration"),
        ("-300", "must be > 0"),
        (".inf", "Input should be a finite number"),
        ("[8h]", "Input should be a valid number"),
    ],
)
def test_given_a_bad_duration_when_parsed_then_the_line_says_why(value: str, message: str) -> None:
    text = BASE.replace("duration: 8h", f"duration: {value}  # <-")
    assert_problem(text, f"duration: {message}")


# -- bad scenarios: each problem with its line and path --------------------------------------

BASE = """\
duration: 8h
queues:
  - name: support
    arrivals: {per_hour: 720}
    handle_time: {dist: exponential, mean: 240}
    requires: "english >= 5"
operators:
  - {count: 25, queues: [support], skills: {english: 7}}
"""


def test_given_the_base_when_parsed_then_it_is_valid() -> None:
    assert parse_scenario(BASE).queues[0].name == "support"


def test_given_a_negative_mean_then_the_error_names_the_field_and_line() -> None:
    text = BASE.replace("mean: 240}", "mean: -240}  # <-")
    assert_problem(text, "queues[0].handle_time.mean: must be > 0")


def test_given_an_unknown_key_then_its_line_and_the_allowed_keys_are_given() -> None:
    text = BASE.replace("    requires:", "    handel_time: 3  # <-\n    requires:")
    assert_problem(
        text, "queues[0].handel_time: unknown key 'handel_time'; did you mean 'handle_time'?"
    )
    assert "(allowed: name, arrivals, handle_time," in "\n".join(problems(text))


def test_given_an_unknown_top_level_key_then_it_is_refused() -> None:
    assert_problem(BASE + "operatrs: []  # <-\n", "operatrs: unknown key 'operatrs'")


def test_given_an_overflow_to_an_unknown_queue_then_the_line_names_it() -> None:
    text = BASE.replace(
        '    requires: "english >= 5"\n',
        '    requires: "english >= 5"\n    max_wait: 2m\n    overflow: nowhere  # <-\n',
    )
    assert_problem(text, "queues[0].overflow: unknown queue 'nowhere' (queues: support)")


def test_given_a_bad_requirement_expression_then_the_parser_s_message_has_the_line() -> None:
    text = BASE.replace('requires: "english >= 5"', 'requires: "english >="  # <-')
    assert_problem(
        text, "queues[0].requires: english >=: expected a level 1–10 after '>=' (at column 11)"
    )


def test_given_a_requirement_on_an_unknown_skill_then_the_known_ones_are_listed() -> None:
    text = BASE.replace('requires: "english >= 5"', 'requires: "german >= 3"  # <-')
    assert_problem(text, "queues[0].requires: german >= 3: unknown skill 'german' (known: english)")


def test_given_an_operator_group_naming_an_unknown_queue_then_its_line_is_given() -> None:
    text = BASE.replace(
        "{count: 25, queues: [support],", "{count: 25, queues: [support, sales],"
    ).replace("english: 7}}", "english: 7}}  # <-")
    assert_problem(text, "operators[0].queues[1]: unknown queue 'sales' (queues: support)")


def test_given_two_queues_with_one_name_then_the_second_is_reported() -> None:
    text = BASE.replace(
        "operators:",
        "  - name: support  # <-\n"
        "    arrivals: {per_hour: 1}\n"
        "    handle_time: {dist: constant, mean: 1}\n"
        "operators:",
    )
    assert_problem(text, "queues[1].name: duplicate queue name 'support' (also queues[0])")


def test_given_a_yaml_syntax_error_then_its_line_is_given() -> None:
    text = BASE.replace('requires: "english >= 5"', 'requires: "english" >= 5  # <-')
    assert_problem(text, "invalid YAML: ")


def test_given_both_per_hour_and_profile_then_the_arrivals_line_is_given() -> None:
    text = BASE.replace(
        "arrivals: {per_hour: 720}", f"arrivals: {{per_hour: 720, profile: {PROFILE_YAML}}}  # <-"
    )
    assert_problem(
        text,
        "queues[0].arrivals: give exactly one of per_hour, profile, weekly "
        "(got per_hour and profile)",
    )


def test_given_no_arrival_rate_then_the_arrivals_line_is_given() -> None:
    text = BASE.replace("arrivals: {per_hour: 720}", "arrivals: {}  # <-")
    assert_problem(text, "queues[0].arrivals: give exactly one of per_hour, profile, weekly")


def test_given_a_profile_of_23_hours_then_the_count_is_given() -> None:
    short = "[" + ", ".join(["10"] * 23) + "]"
    text = BASE.replace("arrivals: {per_hour: 720}", f"arrivals: {{profile: {short}}}  # <-")
    assert_problem(
        text, "queues[0].arrivals.profile: needs 24 hourly rates (hours 0 to 23), got 23"
    )


def test_given_a_negative_rate_in_a_profile_then_its_index_is_given() -> None:
    rates = "[" + ", ".join(["10"] * 5 + ["-1"] + ["10"] * 18) + "]"
    text = BASE.replace("arrivals: {per_hour: 720}", f"arrivals: {{profile: {rates}}}  # <-")
    assert_problem(text, "queues[0].arrivals.profile[5]: must be >= 0")


def test_given_a_bad_weekday_then_the_days_are_listed() -> None:
    day = "[" + ", ".join(["10"] * 24) + "]"
    text = BASE.replace(
        "arrivals: {per_hour: 720}", f"arrivals:\n      weekly:\n        tues: {day}  # <-"
    )
    assert_problem(text, "queues[0].arrivals.weekly.tues: Input should be 'mon', 'tue',")


def test_given_a_duplicate_key_then_both_lines_are_named() -> None:
    text = BASE.replace(
        "    requires:", "    handle_time: {dist: exponential, mean: 60}  # <-\n    requires:"
    )
    assert_problem(text, "queues[0].handle_time: duplicate key (also on line 5)")


def test_given_a_missing_key_then_the_line_of_its_mapping_is_given() -> None:
    text = BASE.replace("  - name: support", "  - name: support  # <-").replace(
        "    handle_time: {dist: exponential, mean: 240}\n", ""
    )
    assert_problem(text, "queues[0].handle_time: required")


@pytest.mark.parametrize(
    ("distribution", "message"),
    [
        ("{dist: lognormal, mean: 240}", "dist lognormal needs sd (the standard deviation"),
        ("{dist: exponential, mean: 240, sd: 3}", "sd is not a parameter of dist exponential"),
        ("{dist: uniform, min: 10}", "dist uniform needs min and max"),
        ("{dist: uniform, min: 10, max: 5}", "dist uniform needs min < max"),
        ("{dist: uniform, min: 10, max: 20, mean: 12}", "the mean of dist uniform is"),
        ("{dist: gamma, mean: 240}", "Input should be 'exponential', 'lognormal', 'constant'"),
    ],
)
def test_given_a_bad_distribution_then_its_line_says_why(distribution: str, message: str) -> None:
    text = BASE.replace(
        "handle_time: {dist: exponential, mean: 240}", f"handle_time: {distribution}  # <-"
    )
    assert_problem(text, f"queues[0].handle_time{'.dist' if 'gamma' in distribution else ''}: ")
    assert any(message in p for p in problems(text)), problems(text)


def test_given_expansion_steps_out_of_order_then_the_late_one_is_reported() -> None:
    text = BASE.replace(
        '    requires: "english >= 5"\n',
        '    requires: "english >= 5"\n'
        "    expand:\n"
        '      - {after: 1m, requires: "english >= 3"}\n'
        '      - {after: 30s, requires: ""}  # <-\n',
    )
    assert_problem(text, "queues[0].expand[1].after: must be later than the step before (60 s)")


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ("    max_wait: 2m  # <-\n", "queues[0].max_wait: needs overflow"),
        ("    overflow: support  # <-\n    max_wait: 1m\n", "queues[0].overflow: a queue cannot"),
    ],
)
def test_given_an_incomplete_overflow_then_it_is_refused(lines: str, message: str) -> None:
    text = BASE.replace("operators:", lines + "operators:")
    assert_problem(text, message)


@pytest.mark.parametrize(
    ("skills", "message"),
    [
        ("{english: 11}", "operators[0].skills.english: must be <= 10"),
        ("{english: 0}", "operators[0].skills.english: must be >= 1"),
        ("{'tech support': 3}", "operators[0].skills.tech support: 'tech support' is not a skill"),
    ],
)
def test_given_a_bad_skill_then_it_is_refused(skills: str, message: str) -> None:
    text = BASE.replace("skills: {english: 7}}", f"skills: {skills}}}  # <-")
    assert_problem(text, message)


OPERATORS = "{count: 25, queues: [support], skills: {english: 7}}"
REQUIRES = 'requires: "english >= 5"'


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("duration: 8h", "duration: 8h\nwarmup: 8h  # <-", "warmup: must be shorter than duration"),
        ("name: support", "name: 'a b'  # <-", "queues[0].name: 'a b' is not a queue name"),
        (OPERATORS, OPERATORS.replace("25", "-1") + "  # <-", "operators[0].count: must be >= 0"),
        (
            OPERATORS,
            OPERATORS.replace("[support]", "[]") + "  # <-",
            "operators[0].queues: List should have at least 1 item",
        ),
        (
            REQUIRES,
            REQUIRES + "\n    callback_accept: 1.5  # <-",
            "queues[0].callback_accept: must be <= 1",
        ),
        (
            REQUIRES,
            REQUIRES + "\n    strategy: fastest  # <-",
            "queues[0].strategy: Input should be 'longest_idle'",
        ),
        (
            REQUIRES,
            REQUIRES + "\n    priority: high  # <-",
            "queues[0].priority: Input should be a valid integer",
        ),
    ],
)
def test_given_a_bad_value_then_it_is_refused(old: str, new: str, expected: str) -> None:
    assert_problem(BASE.replace(old, new), expected)


def test_given_several_problems_then_each_is_reported_in_line_order() -> None:
    text = BASE.replace("mean: 240}", "mean: 0}").replace("count: 25", "count: -2")
    assert problems(text) == [
        "s.yaml:5: queues[0].handle_time.mean: must be > 0",
        "s.yaml:8: operators[0].count: must be >= 0",
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "s.yaml:1: the scenario is empty"),
        ("# nothing\n", "s.yaml:1: the scenario is empty"),
        ("- 1\n", "s.yaml:1: expected a mapping with duration, queues, operators"),
        ("a: 1\n---\nb: 2\n", "s.yaml:2: invalid YAML: but found another document"),
    ],
)
def test_given_a_document_that_is_not_a_scenario_then_it_is_refused(
    text: str, message: str
) -> None:
    assert problems(text)[0] == message or problems(text)[0].startswith(message), problems(text)


def test_given_a_missing_file_then_the_error_says_it_cannot_be_read(tmp_path: Path) -> None:
    path = tmp_path / "nope.yaml"
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert str(info.value) == f"{path}: cannot read the file (No such file or directory)"


def test_given_a_file_then_errors_name_it(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(BASE.replace("mean: 240", "mean: -1"), encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert isinstance(info.value, ValueError)
    assert str(info.value) == f"{path}:5: queues[0].handle_time.mean: must be > 0"
    (problem,) = info.value.problems
    copy = pickle.loads(pickle.dumps(info.value))  # noqa: S301 - our own bytes
    assert (copy.source, copy.problems) == (info.value.source, info.value.problems)
    assert (problem.path, problem.line, problem.message) == (
        "queues[0].handle_time.mean",
        5,
        "must be > 0",
    )


def test_given_a_scenario_built_in_python_then_references_are_still_checked() -> None:
    data = parse_scenario(BASE).model_dump()
    data["operators"][0]["queues"] = ["sales"]
    with pytest.raises(ValidationError, match=r"operators\[0\]\.queues\[0\]: unknown queue"):
        Scenario.model_validate(data)


def test_the_scenario_format_has_a_json_schema() -> None:
    schema = Scenario.model_json_schema()
    assert {"duration", "queues", "operators"} <= set(schema["required"])


# -- distributions -------------------------------------------------------------------------

N = 200_000


def sample(d: Distribution, n: int = N, seed: int = 1) -> list[float]:
    draw = d.sampler(random.Random(seed))
    return [draw() for _ in range(n)]


def test_lognormal_sampler_has_the_given_mean_and_sd() -> None:
    d = Distribution(dist="lognormal", mean=300, sd=180)
    xs = sample(d)
    # standard error of the mean: 180 / sqrt(200 000) = 0.4 s, so 1 % is 7 standard errors
    assert statistics.fmean(xs) == pytest.approx(300, rel=0.01)
    assert statistics.stdev(xs) == pytest.approx(180, rel=0.03)
    mu, sigma = d.lognormal_params()
    assert math.exp(mu + sigma**2 / 2) == pytest.approx(300)
    assert math.sqrt((math.exp(sigma**2) - 1) * math.exp(2 * mu + sigma**2)) == pytest.approx(180)


def test_exponential_sampler_has_the_given_mean() -> None:
    xs = sample(Distribution(dist="exponential", mean=240))
    assert statistics.fmean(xs) == pytest.approx(240, rel=0.01)
    assert statistics.stdev(xs) == pytest.approx(240, rel=0.02)


def test_constant_and_uniform_samplers() -> None:
    assert set(sample(Distribution(dist="constant", mean=30), n=10)) == {30.0}
    xs = sample(Distribution.model_validate({"dist": "uniform", "min": 60, "max": 180}))
    assert min(xs) >= 60 and max(xs) <= 180
    assert statistics.fmean(xs) == pytest.approx(120, rel=0.01)


def test_a_sampler_is_reproducible_from_its_seed() -> None:
    d = Distribution(dist="lognormal", mean=300, sd=180)
    assert sample(d, n=100, seed=7) == sample(d, n=100, seed=7)


# -- arrival rates and arrivals --------------------------------------------------------------


def test_rate_at_follows_the_hour_of_the_day_and_of_the_week() -> None:
    assert Arrivals(per_hour=720).rate_at(12345.0) == 0.2
    daily = Arrivals(profile=PROFILE)
    assert daily.rate_at(0) == 0
    assert daily.rate_at(5 * 3600 + 1) == 50 / 3600
    assert daily.rate_at(3 * 86400 + 23 * 3600) == 230 / 3600  # Thursday 23:00
    assert daily.max_rate() == 230 / 3600
    weekly = Arrivals(weekly={"mon": [0.0] * 9 + [36.0] + [0.0] * 14, "sat": [72.0] * 24})
    assert weekly.rate_at(9 * 3600) == 0.01  # Monday 09:00
    assert weekly.rate_at(86400 + 9 * 3600) == 0  # Tuesday: not given, closed
    assert weekly.rate_at(5 * 86400 + 3600) == 0.02  # Saturday
    assert weekly.rate_at(7 * 86400 + 9 * 3600) == 0.01  # next Monday
    assert weekly.max_rate() == 0.02
    assert len(weekly.hourly_rates()) == 168


def test_constant_rate_arrivals_count_within_4_sigma() -> None:
    hours = 1000
    times = list(poisson_arrivals(Arrivals(per_hour=720), random.Random(3), 0.0, hours * 3600))
    expected = 720 * hours
    assert abs(len(times) - expected) < 4 * math.sqrt(expected)
    assert all(a < b for a, b in itertools.pairwise(times))


def test_arrivals_lie_in_the_window_and_are_reproducible() -> None:
    arrivals = Arrivals(per_hour=3600)
    times = list(poisson_arrivals(arrivals, random.Random(5), 100.0, 200.0))
    assert times and all(100.0 <= t < 200.0 for t in times)
    assert times == list(poisson_arrivals(arrivals, random.Random(5), 100.0, 200.0))
    # the inlined draw is exactly random.expovariate's
    rng = random.Random(5)
    t, expected = 100.0, []
    while (t := t + rng.expovariate(1.0)) < 200.0:
        expected.append(t)
    assert times == expected


def test_a_zero_rate_gives_no_arrivals() -> None:
    rng = random.Random(1)
    assert list(poisson_arrivals(Arrivals(per_hour=0), rng, 0, 1e6)) == []
    assert list(poisson_arrivals(Arrivals(profile=[0.0] * 24), rng, 0, 1e6)) == []


def test_thinning_follows_the_hourly_profile() -> None:
    days = 200
    rng = random.Random(11)
    counts = [0] * 24
    for t in poisson_arrivals(Arrivals(profile=PROFILE), rng, 0.0, days * 86400.0):
        counts[int(t // 3600) % 24] += 1
    for hour, rate in enumerate(PROFILE):
        expected = rate * days
        assert abs(counts[hour] - expected) <= 4 * math.sqrt(expected), (hour, counts[hour])
    assert counts[0] == 0


def test_thinning_follows_the_weekly_profile() -> None:
    weeks = 30
    arrivals = Arrivals(weekly={"mon": [100.0] * 24, "wed": [0.0] * 12 + [50.0] * 12})
    per_day = [0] * 7
    for t in poisson_arrivals(arrivals, random.Random(2), 0.0, weeks * 7 * 86400.0):
        per_day[int(t // 86400) % 7] += 1
    assert abs(per_day[0] - 2400 * weeks) <= 4 * math.sqrt(2400 * weeks)
    assert abs(per_day[2] - 600 * weeks) <= 4 * math.sqrt(600 * weeks)
    assert per_day[1] == per_day[3] == per_day[4] == per_day[5] == per_day[6] == 0
