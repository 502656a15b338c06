"""``hotline wfm staffing`` through Typer's ``CliRunner``: one case with ``--json``, a
``--cases`` CSV in row order, the Rich table, and exit 2 with ``line N: column: problem``
for bad rows."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner, Result

from hotline.cli import app
from hotline.core.wfm import staffing

KEYS = [
    "traffic_erlangs",
    "agents",
    "scheduled_agents",
    "service_level",
    "asa",
    "p_wait",
    "occupancy",
]
ONE = [
    "--calls",
    "360",
    "--interval",
    "1800",
    "--aht",
    "240",
    "--target-sl",
    "0.8",
    "--answer-within",
    "20",
]


def invoke(*args: str) -> Result:
    return CliRunner().invoke(app, ["wfm", "staffing", *args])


def document_of(**kwargs: Any) -> dict[str, Any]:
    result = staffing(**kwargs)
    document = {key: getattr(result, key) for key in KEYS}
    if result.p_abandon is not None:
        document["p_abandon"] = result.p_abandon
    return document


def test_given_one_case_when_json_then_one_document_with_the_staffing_answer() -> None:
    result = invoke(*ONE, "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert list(document) == KEYS
    assert document == document_of(
        calls=360, interval=1800, aht=240, target_sl=0.8, answer_within=20
    )
    assert document["agents"] == 54
    assert document["traffic_erlangs"] == 48.0


def test_given_patience_cap_and_shrinkage_when_json_then_erlang_a_with_p_abandon() -> None:
    options = ["--patience", "120", "--max-occupancy", "0.85", "--shrinkage", "0.3"]
    result = invoke(*ONE, *options, "--max-asa", "30", "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert list(document) == [*KEYS, "p_abandon"]
    assert document == document_of(
        calls=360,
        interval=1800,
        aht=240,
        target_sl=0.8,
        answer_within=20,
        patience=120,
        max_occupancy=0.85,
        shrinkage=0.3,
        max_asa=30,
    )
    assert document["scheduled_agents"] > document["agents"]
    assert document["occupancy"] <= 0.85


def test_given_a_cases_csv_when_json_then_a_list_in_row_order(tmp_path: Path) -> None:
    cases = tmp_path / "cases.csv"
    cases.write_text(
        "calls,interval,aht,target_sl,answer_within,patience,max_occupancy,shrinkage\n"
        "360,1800,240,0.8,20,,,\n"
        "360,1800,240,0.8,20,120,0.85,0.3\n"
        "\n"
        "0,900,300,0.9,15,,,\n"
        "100,1800,180,0.8,20,,0.85,0.3\n",
        encoding="utf-8",
    )
    result = invoke("--cases", str(cases), "--json")
    assert result.exit_code == 0, result.output
    documents = json.loads(result.stdout)
    common = {"interval": 1800, "aht": 240, "target_sl": 0.8, "answer_within": 20}
    assert documents == [
        document_of(calls=360, **common),
        document_of(calls=360, patience=120, max_occupancy=0.85, shrinkage=0.3, **common),
        document_of(calls=0, interval=900, aht=300, target_sl=0.9, answer_within=15),
        document_of(
            calls=100,
            interval=1800,
            aht=180,
            target_sl=0.8,
            answer_within=20,
            max_occupancy=0.85,
            shrinkage=0.3,
        ),
    ]
    assert documents[2]["agents"] == 0
    assert documents[2]["occupancy"] is None  # a ratio over 0 agents is null (KPI.md)
    assert [d["scheduled_agents"] for d in documents] == [54, 80, 0, 20]


def test_given_a_bad_csv_when_run_then_exit_2_naming_line_and_column(tmp_path: Path) -> None:
    cases = tmp_path / "bad.csv"
    cases.write_text(
        "calls,interval,aht,target_sl,answer_within,shrinkage\n"
        "360,1800,240,0.8,20,\n"
        "abc,1800,240,0.8,20,\n"
        "360,1800,240,1.2,20,0.3\n"
        "360,1800,,0.8,20,\n"
        "360,1800,240,0.8\n"
        "360,1800,240,0.8,20,1\n",
        encoding="utf-8",
    )
    result = invoke("--cases", str(cases), "--json")
    assert result.exit_code == 2
    assert result.stdout == ""
    errors = [" ".join(line.split()) for line in result.stderr.split("error: ")[1:]]
    assert errors == [
        f"{cases}: line 3: calls: not a number ('abc')",
        f"{cases}: line 4: target_sl: must be a share between 0 and 1 (got 1.2)",
        f"{cases}: line 5: aht: missing value",
        f"{cases}: line 6: has 4 cells, the header has 6",
        f"{cases}: line 7: shrinkage: must be below 1 (got 1)",
    ]


def test_given_a_bad_header_when_run_then_exit_2_naming_the_columns(tmp_path: Path) -> None:
    cases = tmp_path / "bad.csv"
    cases.write_text("calls,interval,aht,target_sl,speed\n1,2,3,0.8\n", encoding="utf-8")
    result = invoke("--cases", str(cases))
    assert result.exit_code == 2
    stderr = " ".join(result.stderr.split())
    assert "line 1: speed: unknown column" in stderr
    assert "line 1: answer_within: missing column" in stderr


def test_given_an_impossible_target_when_run_then_exit_2_naming_the_option() -> None:
    result = invoke(*ONE[:-4], "--target-sl", "1", "--answer-within", "0", "--json")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "error: --target-sl: 1 cannot be met" in " ".join(result.stderr.split())


def test_given_missing_options_or_both_forms_when_run_then_exit_2(tmp_path: Path) -> None:
    missing = invoke("--calls", "360", "--json")
    assert missing.exit_code == 2
    assert "--interval: required" in missing.stderr
    both = invoke(*ONE, "--cases", str(tmp_path / "x.csv"))
    assert both.exit_code == 2
    assert "not both" in both.stderr
    absent = invoke("--cases", str(tmp_path / "absent.csv"))
    assert absent.exit_code == 2
    assert "cannot read the file" in absent.stderr


def test_given_no_json_when_run_then_a_table() -> None:
    result = invoke(*ONE, "--patience", "120")
    assert result.exit_code == 0, result.output
    assert "agents" in result.stdout
    assert "aband" in result.stdout
    assert "49" in result.stdout  # Erlang A: 49 agents for 360 calls, 80/20, patience 120 s
