"""``hotline simulate`` through Typer's ``CliRunner``.

The driver is replaced by a fake for the output contracts (one JSON document with
``--json``, tables and a progress bar without it, exit 2 with the file and line of a bad
scenario); one test runs the real driver on a small scenario end to end.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from hotline.cli import app
from hotline.sim import driver
from hotline.sim.scenario import Scenario

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "scenarios"

SMALL = """\
seed: 5
duration: 2h
queues:
  - name: support
    arrivals: {per_hour: 120}
    handle_time: {dist: exponential, mean: 120}
    patience: {dist: exponential, mean: 300}
    requires: "english >= 5"
operators:
  - {count: 6, queues: [support], skills: {english: 7}}
"""

RESULT: dict[str, Any] = {
    "queues": {
        "support": {
            "offered": 100,
            "answered": 90,
            "abandoned": 10,
            "sl_offered": 0.8,
            "asa": 12.5,
            "aht": 240.0,
            "abandon_rate": 0.1,
            "csat_avg": None,
        }
    },
    "operators": {"occupancy": 0.85},
    "events": 1234,
    "wall_seconds": 0.5,
}


class FakeDriver:
    """Records how ``run_scenario`` was called and answers `RESULT`."""

    def __init__(self) -> None:
        self.calls: list[tuple[Scenario, Callable[[float], None] | None]] = []

    def __call__(
        self, scenario: Scenario, *, progress: Callable[[float], None] | None = None
    ) -> dict[str, Any]:
        self.calls.append((scenario, progress))
        if progress is not None:
            for fraction in (0.25, 0.5, 1.0):
                progress(fraction)
        return RESULT


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeDriver:
    fake = FakeDriver()
    monkeypatch.setattr(driver, "run_scenario", fake)
    return fake


@pytest.fixture
def small(tmp_path: Path) -> Path:
    path = tmp_path / "small.yaml"
    path.write_text(SMALL, encoding="utf-8")
    return path


def invoke(*args: str | Path) -> Result:
    return CliRunner().invoke(app, ["simulate", *(str(a) for a in args)])


def test_given_json_when_simulating_then_stdout_is_the_driver_s_document(
    fake: FakeDriver, small: Path
) -> None:
    result = invoke("--scenario", small, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == RESULT
    assert result.stdout.count("\n") == 1  # one document, on one line
    ((scenario, progress),) = fake.calls
    assert (scenario.seed, scenario.duration, scenario.queues[0].name) == (5, 7200.0, "support")
    assert progress is None  # no progress bar with --json


def test_given_a_seed_when_simulating_then_it_overrides_the_scenario_s(
    fake: FakeDriver, small: Path
) -> None:
    result = invoke("--scenario", small, "--json", "--seed", "99")
    assert result.exit_code == 0, result.output
    ((scenario, _),) = fake.calls
    assert scenario.seed == 99


def test_given_no_json_when_simulating_then_a_table_per_queue_is_printed(
    fake: FakeDriver, small: Path
) -> None:
    result = invoke("--scenario", small)
    assert result.exit_code == 0, result.output
    ((_, progress),) = fake.calls
    assert progress is not None
    out = result.stdout
    for text in ("support", "100", "90", "80.0 %", "12.5 s", "240.0 s", "10.0 %"):
        assert text in out, out
    assert "operator occupancy: 85.0 %" in out
    assert "1234 events in 0.50 s" in out


def test_given_a_bad_scenario_when_simulating_then_exit_2_with_file_and_line(
    fake: FakeDriver, small: Path
) -> None:
    small.write_text(SMALL.replace("mean: 120}", "mean: -120}"), encoding="utf-8")
    result = invoke("--scenario", small, "--json")
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    stderr = " ".join(result.stderr.split())
    assert f"error: {small}:6: queues[0].handle_time.mean: must be > 0" in stderr
    assert "Traceback" not in result.output
    assert fake.calls == []


def test_given_several_problems_when_simulating_then_one_error_line_each(
    fake: FakeDriver, small: Path
) -> None:
    text = SMALL.replace("mean: 120}", "mean: -120}").replace('"english >= 5"', '"german"')
    small.write_text(text, encoding="utf-8")
    result = invoke("--scenario", small)
    assert result.exit_code == 2, result.output
    assert result.stderr.count("error:") == 1  # the requirement is checked once fields pass
    small.write_text(text.replace("count: 6", "count: -6"), encoding="utf-8")
    result = invoke("--scenario", small)
    assert result.exit_code == 2, result.output
    assert result.stderr.count("error:") == 2


def test_given_a_missing_file_when_simulating_then_exit_2(fake: FakeDriver, tmp_path: Path) -> None:
    result = invoke("--scenario", tmp_path / "nope.yaml")
    assert result.exit_code == 2, result.output
    assert "cannot read the file" in result.stderr
    assert "Traceback" not in result.output


def test_given_the_real_driver_when_simulating_json_then_one_kpi_document(small: Path) -> None:
    result = invoke("--scenario", small, "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    support = document["queues"]["support"]
    assert support["offered"] > 0
    assert support["answered"] + support["abandoned"] <= support["offered"]
    assert 0 <= document["operators"]["occupancy"] <= 1
    assert document["events"] > 0
