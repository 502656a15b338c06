"""``hotline report kpis`` through Typer's ``CliRunner`` on ``examples/history/sample.csv``:
every KPI key per group with hand-computed values, intervals in a time zone, the Rich table,
and exit 2 with ``line N, column C: message`` for a bad file, nothing computed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from hotline.cli import app
from hotline.core.kpi import KPI_KEYS
from hotline.core.kpi.history import HISTORY_COLUMNS

SAMPLE = Path(__file__).parents[2] / "examples" / "history" / "sample.csv"


def invoke(*args: str) -> Result:
    return CliRunner().invoke(app, ["report", "kpis", *args])


def groups_of(*args: str) -> list[dict[str, Any]]:
    result = invoke("--log", str(SAMPLE), *args, "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert list(document) == ["groups"]
    groups: list[dict[str, Any]] = document["groups"]
    for group in groups:
        assert list(group) == ["key", *KPI_KEYS]
    return groups


def test_given_the_sample_by_queue_then_sales_has_the_hand_computed_kpis() -> None:
    groups = groups_of("--by", "queue")
    assert [g["key"] for g in groups] == [{"queue": "Sales"}, {"queue": "Support"}]
    # Sales (Acme and Globex), T = 20, S = 5:
    #   answered c-1001 wait 12 talk 240 hold 30 wrap 45 csat 5; c-1002 25/360/0/60/4;
    #   c-1008 8/300/15/40/5; c-1009 50/180/0/35/2; c-1014 20/180/0/20/4
    #   abandoned c-1003 after 3 s (short), c-1004 after 40, c-1015 after 5 (= S: not short)
    # offered 8, answered 5, abandoned 3, short 1, within T: 12, 8, 20 → 3
    # abandoned within T: 3, 5 → 2
    sales = groups[0]
    assert {k: sales[k] for k in KPI_KEYS} == pytest.approx(
        {
            "offered": 8,
            "answered": 5,
            "abandoned": 3,
            "short_abandoned": 1,
            "answered_within": 3,
            "callback_requested": 0,
            "overflowed": 0,
            "sl_offered": 3 / 8,
            "sl_answered": 3 / 5,
            "sl_excl_short": 3 / 7,
            "sl_excl_abandon_within": 3 / 6,
            "asa": 115 / 5,  # 12 + 25 + 8 + 50 + 20
            "avg_abandon_wait": 48 / 3,  # 3 + 40 + 5
            "max_wait": 50.0,
            "aht": 252.0 + 40.0,
            "avg_talk": 1260 / 5,  # 240 + 360 + 300 + 180 + 180
            "avg_hold": 45 / 5,  # 30 + 15
            "avg_wrapup": 200 / 5,  # 45 + 60 + 40 + 35 + 20
            "abandon_rate": 3 / 8,
            "abandon_rate_excl_short": 2 / 7,
            "csat_avg": 20 / 5,  # 5 + 4 + 5 + 2 + 4
            "csat_share_satisfied": 4 / 5,
        },
        rel=1e-12,
    )


def test_given_an_empty_grouping_then_one_total_over_the_whole_file() -> None:
    # 15 rows: 10 answered, 5 abandoned (c-1003, c-1004, c-1007, c-1011, c-1015)
    (total,) = groups_of("--by", "")
    assert total["key"] == {}
    assert (total["offered"], total["answered"], total["abandoned"]) == (15, 10, 5)


def test_given_thresholds_then_they_change_the_service_level() -> None:
    # T = 10: only c-1008 (8 s) is within among Sales answers → sl_offered 1/8;
    # S = 0: no short abandons → sl_excl_short = sl_offered
    (sales, _) = groups_of("--by", "queue", "--answer-within", "10", "--short-abandon", "0")
    assert sales["answered_within"] == 1
    assert sales["sl_offered"] == pytest.approx(1 / 8)
    assert sales["short_abandoned"] == 0
    assert sales["sl_excl_short"] == sales["sl_offered"]


def test_given_a_queues_own_threshold_then_only_its_visits_are_judged_by_it() -> None:
    # Acme, T = 20 everywhere: within are c-1001 (12), c-1005 (20), c-1006 (5), c-1008 (8),
    # c-1010 (10), c-1012 (15) → 6 of 12.  With Sales at T = 10: c-1001 (12 > 10) drops out
    # → 5; Support keeps T = 20.  Sales at S = 0: c-1003 (3 s) is no longer short.
    (plain, _) = groups_of("--by", "hotline")
    (acme, _) = groups_of(
        "--by", "hotline", "--answer-within", "Sales=10", "--short-abandon", "Sales=0"
    )
    assert (plain["answered_within"], acme["answered_within"]) == (6, 5)
    assert acme["sl_offered"] == pytest.approx(5 / 12)
    # short: c-1003 (Sales, 3 s) only in the plain run; Support's c-1007 waited 20, c-1011 40
    assert (plain["short_abandoned"], acme["short_abandoned"]) == (1, 0)
    by_queue = {g["key"]["queue"]: g for g in groups_of("--answer-within", "Sales=10")}
    assert by_queue["Sales"]["answered_within"] == 1  # c-1008 (8 s); Globex's c-1014 (20) no
    # Support keeps T = 20: c-1005 (20), c-1006 (5), c-1010 (10), c-1012 (15); c-1013 (30) not
    assert by_queue["Support"]["answered_within"] == 4


def test_given_days_in_moscow_then_a_call_before_midnight_stays_on_its_day() -> None:
    # Support arrivals (Moscow time): c-1005 09:31, c-1006 09:45, c-1007 09:50, c-1010 23:50,
    # c-1011 23:59:50 (abandoned at 00:00:30 next day: still the 2nd) on 2026-03-02;
    # c-1012 00:05, c-1013 00:10 on the 3rd.  In UTC the 3rd's two are 21:05Z, 21:10Z on the 2nd.
    moscow = groups_of("--by", "queue,interval", "--interval", "day", "--tz", "Europe/Moscow")
    support = {g["key"]["interval"]: g["offered"] for g in moscow if g["key"]["queue"] == "Support"}
    assert support == {"2026-03-02": 5, "2026-03-03": 2}
    utc = groups_of("--by", "queue,interval", "--interval", "day")
    support = {g["key"]["interval"]: g["offered"] for g in utc if g["key"]["queue"] == "Support"}
    assert support == {"2026-03-02": 7}


def test_given_fill_then_empty_half_hours_appear_with_null_ratios() -> None:
    # Globex: c-1013 (Support) at 00:10 and c-1014, c-1015 (Sales) at 10:00, 10:05 on the 3rd
    # (Moscow); by hotline and 60-min interval with --fill: 00:00 … 10:00 → 11 slots
    groups = groups_of(
        "--by", "hotline,interval", "--interval", "60", "--tz", "Europe/Moscow", "--fill"
    )
    globex = [g for g in groups if g["key"]["hotline"] == "Globex"]
    labels = [g["key"]["interval"] for g in globex]
    assert labels[0] == "2026-03-02T09:00:00+03:00"  # the report's first hour (Acme's)
    assert labels[-1] == "2026-03-03T10:00:00+03:00"
    assert len(labels) == 26  # 09:00 on the 2nd to 10:00 on the 3rd, both included
    offered = {g["key"]["interval"]: g["offered"] for g in globex if g["offered"]}
    assert offered == {"2026-03-03T00:00:00+03:00": 1, "2026-03-03T10:00:00+03:00": 2}
    empty = next(g for g in globex if g["offered"] == 0)
    assert empty["sl_offered"] is None and empty["asa"] is None and empty["max_wait"] is None


def test_given_by_agent_then_unanswered_calls_have_a_null_operator() -> None:
    groups = groups_of("--by", "agent")
    keys = [g["key"]["operator"] for g in groups]
    assert keys == ["Anna", "Boris", "Carl", "Dina", None]
    nobody = groups[-1]
    # c-1003, c-1004, c-1007, c-1011, c-1015
    assert (nobody["offered"], nobody["abandoned"], nobody["answered"]) == (5, 5, 0)
    assert nobody["sl_answered"] is None


def test_given_no_json_then_a_rich_table_names_the_groups() -> None:
    result = invoke("--log", str(SAMPLE), "--by", "hotline,interval", "--interval", "day")
    assert result.exit_code == 0, result.output
    assert "Acme" in result.stdout and "Globex" in result.stdout
    assert "SL %" in result.stdout
    # Acme on the 2nd (UTC): c-1001 … c-1012 less none: 12 offered (c-1012 is 21:05Z on the
    # 2nd), within 20 s: c-1001, c-1006, c-1008, c-1005, c-1010, c-1012 → 6 → 50.0 %
    acme = next(line for line in result.stdout.splitlines() if "Acme" in line)
    cells = [cell.strip() for cell in acme.split("│")]
    assert cells[1:7] == ["Acme", "2026-03-02", "12", "8", "4", "50.0"]


def test_given_a_bad_file_then_exit_2_every_problem_and_nothing_on_stdout(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(
        ",".join(HISTORY_COLUMNS)
        + "\n"
        + "a,call,H,Q,,,,2026-03-02T10:00:00Z,,2026-03-02T10:00:09Z,,,\n"
        + "b,call,H,Q,,,,2026-03-02T10:00:00,,2026-03-02T10:00:09Z,,,9\n"
        + "a,call,H,Q,x,,,2026-03-02T10:00:00Z,2026-03-02T10:00:01Z,2026-03-02T10:00:02Z,5,,\n",
        encoding="utf-8",
    )
    result = invoke("--log", str(bad), "--json")
    assert result.exit_code == 2
    assert result.stdout == ""
    errors = [" ".join(line.split()) for line in result.stderr.split("error: ")[1:]]
    assert errors == [
        f"{bad}: line 3, column arrived_at: time without a UTC offset: '2026-03-02T10:00:00' "
        "(write e.g. 2026-03-02T10:00:00+03:00 or 2026-03-02T10:00:00Z)",
        f"{bad}: line 3, column csat: must be between 1 and 5, got 9",
        f"{bad}: line 4, column id: 'a' repeated (first on line 2)",
        f"{bad}: line 4, column hold_seconds: 5 s is more than the talk time 1 s",
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--by", "queue,weather"], "cannot group by 'weather'"),
        (["--by", "queue,queue"], "queue is named twice"),
        (["--interval", "45"], "interval must be one of 15, 30, 60"),
        (["--tz", "Mars/Olympus"], "unknown time zone 'Mars/Olympus'"),
        (["--answer-within", "-1"], "--answer-within -1: must be a finite number of seconds"),
        (["--short-abandon", "Sales=soon"], "--short-abandon Sales=soon: not a number"),
        (["--answer-within", "10", "--answer-within", "30"], "give one default value"),
        (["--answer-within", "=10"], "the queue name is empty"),
        (["--answer-within", "Sails=10"], "no queue named 'Sails'"),
    ],
)
def test_given_a_bad_option_then_exit_2_with_the_reason(args: list[str], message: str) -> None:
    result = invoke("--log", str(SAMPLE), *args, "--json")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert message in " ".join(result.stderr.split())


def test_given_a_missing_file_then_exit_2_naming_it(tmp_path: Path) -> None:
    result = invoke("--log", str(tmp_path / "nope.csv"))
    assert result.exit_code == 2
    assert "cannot read the file" in result.stderr


def test_given_the_sample_when_overview_then_the_seeds_reports_by_hand() -> None:
    result = invoke_overview("--log", str(SAMPLE), "--tz", "Europe/Moscow", "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    # Anna: c-1001 (wait 12, talk 240 + wrap 45, csat 5, lead), c-1008 (8, 300 + 40, 5,
    # customer) → handled 2, AHT 625/2, both within 20 s, conversion 1/2, CSAT 5
    anna = document["operators"][0]
    assert (anna["operator"], anna["handled"], anna["aht"]) == ("Anna", 2, 312.5)
    assert (anna["sl_answered"], anna["conversion"], anna["csat_avg"]) == (1.0, 0.5, 5.0)
    assert [row["operator"] for row in document["operators"]] == ["Anna", "Boris", "Carl", "Dina"]
    # conversion by source: google c-1001 lead, c-1002 customer, c-1009 lead → 1/3;
    # tv c-1008 customer → 1; ads c-1014 lead → 0; site: support only → absent
    by_source = {row["source"]: row["rate"] for row in document["conversion"]["by_source"]}
    assert by_source == {"ads": 0.0, "google": pytest.approx(1 / 3), "tv": 1.0}
    # billing, Moscow months: Acme's 8 answers: handled 285 + 420 + 630 + 440 + 340 + 215 + 510
    # + 265 = 3105 s = 51.75 min, talk 2820 s = 47 min; Globex 615 + 200 = 815 s, talk 780 s
    assert document["billing"] == [
        {
            "hotline": "Acme",
            "hotline_id": 1,
            "month": "2026-03",
            "interactions": 8,
            "handled_minutes": 51.75,
            "talk_minutes": 47.0,
        },
        {
            "hotline": "Globex",
            "hotline_id": 2,
            "month": "2026-03",
            "interactions": 2,
            "handled_minutes": pytest.approx(815 / 60),
            "talk_minutes": 13.0,
        },
    ]
    # abandons after 3, 40, 20, 40, 5 s; S = 5 → 1 short
    abandon = document["abandonment"]
    assert (abandon["offered"], abandon["abandoned"], abandon["short_abandoned"]) == (15, 5, 1)
    assert [b["count"] for b in abandon["waits"]] == [1, 1, 0, 1, 2, 0, 0, 0]
    # Moscow hours: 09:xx × 7 (c-1001 … c-1007), 10:xx × 4, 23:xx × 2, 00:xx × 2
    hours = document["arrivals"]["by_hour"]
    assert (hours[9], hours[10], hours[23], hours[0], sum(hours)) == (7, 4, 2, 2, 15)
    # no announced waits in a history file
    assert document["ewt_accuracy"]["count"] == 0
    assert document["ewt_accuracy"]["mean_error"] is None


def test_given_no_json_then_overview_prints_operator_billing_and_wait_tables() -> None:
    result = invoke_overview("--log", str(SAMPLE))
    assert result.exit_code == 0, result.output
    for title in ("Operators", "Billing per hotline and month", "Abandoned: 5 of 15"):
        assert title in result.stdout
    carl = next(line for line in result.stdout.splitlines() if "Carl" in line)
    # Carl: 4 handled, no sales contacts → conversion —
    assert [cell.strip() for cell in carl.split("│")][1:3] == ["Carl", "4"]
    assert "—" in carl


def invoke_overview(*args: str) -> Result:
    return CliRunner().invoke(app, ["report", "overview", *args])
