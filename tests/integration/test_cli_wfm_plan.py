"""``hotline wfm forecast | shifts | whatif | cost`` through Typer's ``CliRunner``: one JSON
document with ``--json``, and exit 2 with ``FILE: line N: column: problem`` for bad input
(as ``wfm staffing --cases``)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from hotline.cli import app


def invoke(*args: str) -> Result:
    return CliRunner().invoke(app, ["wfm", *args])


def document(result: Result) -> Any:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def write_history(path: Path, weeks: int = 3) -> None:
    # 60-minute intervals from Monday 2026-11-02: 10 calls an hour 08-18 on weekdays,
    # none otherwise (rows with 0 calls left out, as exports do), AHT 300 s.
    lines = ["timestamp,calls,aht"]
    start = datetime(2026, 11, 2)
    for h in range(weeks * 7 * 24):
        t = start + timedelta(hours=h)
        if t.weekday() < 5 and 8 <= t.hour < 18:
            lines.append(f"{t.isoformat(timespec='minutes')},10,300")
    path.write_text("\n".join(lines) + "\n")


def test_forecast_json_has_backtest_holidays_events_and_requirements(tmp_path: Path) -> None:
    history = tmp_path / "history.csv"
    write_history(history)
    # the history ends Sunday 2026-11-22; the forecast week starts Monday 23rd
    result = invoke(
        "forecast", "--history", str(history), "--interval", "60", "--horizon", "7d",
        "--event", "2026-11-24:2026-11-24:+60%", "--holiday", "2026-11-25",
        "--target-sl", "0.8", "--answer-within", "20", "--json",
    )  # fmt: skip
    (queue,) = document(result)["queues"]
    assert queue["queue"] is None and queue["method"] == "poisson"
    # a history that repeats exactly is forecast exactly
    assert queue["backtest"]["wape"] == pytest.approx(0.0, abs=1e-9)
    rows = {row["start"]: row for row in queue["intervals"]}
    assert len(rows) == 7 * 24
    assert rows["2026-11-23T09:00"]["calls"] == pytest.approx(10.0)
    assert rows["2026-11-24T09:00"]["calls"] == pytest.approx(16.0)  # +60 %
    assert rows["2026-11-25T09:00"]["calls"] == 0.0  # holiday
    assert rows["2026-11-23T03:00"]["calls"] == 0.0
    # 10 calls × 300 s / 3600 s = 0.83 Erlangs: 80 % within 20 s needs 3 agents (Erlang C:
    # 2 give SL 0.79); one supervisor for them
    assert rows["2026-11-23T09:00"]["agents"] == 3
    assert rows["2026-11-23T09:00"]["supervisors"] == 1
    assert rows["2026-11-23T03:00"]["agents"] == 0


def test_forecast_bad_csv_names_line_and_column(tmp_path: Path) -> None:
    history = tmp_path / "history.csv"
    history.write_text("timestamp,calls,aht\n2026-11-02T08:00,ten,300\n2026-11-02T9am,1,300\n")
    result = invoke("forecast", "--history", str(history), "--json")
    assert result.exit_code == 2
    assert f"{history}: line 2: calls: not a number ('ten')" in result.stderr
    assert f"{history}: line 3: timestamp: not an ISO 8601" in result.stderr
    assert result.stdout == ""
    short = tmp_path / "short.csv"
    write_history(short, weeks=1)
    result = invoke("forecast", "--history", str(short), "--interval", "60")
    assert result.exit_code == 2 and "needs at least 14" in result.stderr
    result = invoke("forecast", "--history", str(short), "--event", "2026-12-01:+60%")
    assert result.exit_code == 2 and "--event" in result.stderr


def test_shifts_json_lists_shifts_and_coverage(tmp_path: Path) -> None:
    requirements = tmp_path / "req.csv"
    start = datetime(2026, 12, 7)  # a Monday
    rows = ["start,support"]
    for h in range(48):
        t = start + timedelta(hours=h)
        rows.append(f"{t.isoformat(timespec='minutes')},{1 if 8 <= h < 12 else 0}")
    requirements.write_text("\n".join(rows) + "\n")
    operators = tmp_path / "ops.csv"
    operators.write_text(
        "name,skills,hourly_rate,available\n"
        "ann,support,10,mon 08:00-20:00\n"
        "bob,sales,5,all 00:00-24:00\n"
    )
    result = invoke(
        "shifts", "--requirements", str(requirements), "--operators", str(operators),
        "--interval", "60", "--template", "4h=4h", "--template", "8h=8h", "--json",
    )  # fmt: skip
    doc = document(result)
    # 08-12 needs one: ann's 4 h shift at 10/h; bob cannot cover support
    assert doc["status"] == "optimal" and doc["cost"] == pytest.approx(40.0)
    assert doc["unused_operators"] == ["bob"]
    (shift,) = doc["shifts"]
    assert (shift["operator"], shift["start"], shift["end"]) == (
        "ann",
        "2026-12-07T08:00",
        "2026-12-07T12:00",
    )
    coverage = doc["coverage"]["support"]
    assert [c["scheduled"] for c in coverage[:14]] == [0] * 8 + [1] * 4 + [0, 0]
    assert doc["supervisors"][8] == 1 and doc["supervisors"][0] == 0


def test_shifts_bad_operator_names_line_and_column(tmp_path: Path) -> None:
    requirements = tmp_path / "req.csv"
    requirements.write_text("start,support\n2026-12-07T00:00,1\n2026-12-07T01:00,x\n")
    operators = tmp_path / "ops.csv"
    operators.write_text("name,skills,hourly_rate,available\nann,support,10,someday 8-9\n")
    result = invoke(
        "shifts",
        "--requirements",
        str(requirements),
        "--operators",
        str(operators),
        "--interval",
        "60",
    )
    assert result.exit_code == 2
    assert f"{requirements}: line 3: support: not a number ('x')" in result.stderr
    requirements.write_text("start,support\n2026-12-07T00:00,1\n")
    result = invoke(
        "shifts",
        "--requirements",
        str(requirements),
        "--operators",
        str(operators),
        "--interval",
        "60",
    )
    assert result.exit_code == 2
    assert f"{operators}: line 2: available:" in result.stderr


def test_whatif_single_queue_json() -> None:
    result = invoke(
        "whatif", "--calls", "360", "--interval", "1800", "--aht", "240", "--agents", "54",
        "--volume", "+20%", "--add-agents", "8", "--json",
    )  # fmt: skip
    doc = document(result)
    assert doc["model"] == "erlang_c"
    assert doc["before"]["agents"] == 54 and doc["after"]["agents"] == 62
    assert doc["after"]["calls"] == pytest.approx(432.0)
    assert doc["after"]["service_level"] > 0.5 and doc["before"]["service_level"] > 0.5
    missing = invoke("whatif", "--calls", "360", "--aht", "240")
    assert missing.exit_code == 2 and "--agents: required" in missing.stderr
    bad = invoke("whatif", "--calls", "1", "--aht", "1", "--agents", "1", "--volume", "lots")
    assert bad.exit_code == 2 and "--volume" in bad.stderr


def test_whatif_scenario_runs_the_simulator_before_and_after(tmp_path: Path) -> None:
    scenario = tmp_path / "s.yaml"
    scenario.write_text(
        "seed: 3\nduration: 2h\nqueues:\n"
        "  - {name: en, arrivals: {per_hour: 60}, handle_time: {dist: exponential, mean: 120}}\n"
        "  - {name: ru, arrivals: {per_hour: 30}, handle_time: {dist: exponential, mean: 120}}\n"
        "operators:\n  - {name: all, count: 3, queues: [en, ru]}\n"
    )
    result = invoke(
        "whatif", "--scenario", str(scenario), "--volume", "en=+100%", "--staff", "all=6", "--json"
    )
    doc = document(result)
    assert doc["model"] == "simulation"
    en = doc["queues"]["en"]
    # doubling en's calls roughly doubles what is offered (Poisson, 2 h: ~120 vs ~240)
    assert en["offered"]["after"] > 1.5 * en["offered"]["before"]
    assert set(doc["queues"]) == {"en", "ru"}
    bad = invoke("whatif", "--scenario", str(scenario), "--staff", "nobody=2")
    assert bad.exit_code == 2 and "operator group nobody" in bad.stderr
    mixed = invoke("whatif", "--scenario", str(scenario), "--set-agents", "4")
    assert mixed.exit_code == 2 and "--set-agents: only for one queue" in mixed.stderr


def test_cost_json_and_errors() -> None:
    result = invoke(
        "cost", "--operators", "25", "--salary", "3000", "--supervisor-salary", "4000",
        "--interactions", "20000", "--aht", "300", "--price-per-minute", "0.9", "--json",
    )  # fmt: skip
    doc = document(result)
    # 25 × 3,000 + 3 × 4,000 = 87,000 in-house; 20,000 × 5 min × 0.9 = 90,000 outsourced
    assert doc["inhouse_monthly"] == pytest.approx(87_000)
    assert doc["outsourced_monthly"] == pytest.approx(90_000)
    assert doc["cheaper"] == "inhouse"
    both = invoke(
        "cost", "--operators", "1", "--salary", "1", "--supervisor-salary", "1",
        "--interactions", "1", "--aht", "60",
    )  # fmt: skip
    assert both.exit_code == 2 and "exactly one of" in both.stderr
