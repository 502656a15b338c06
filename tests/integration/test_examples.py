"""Each example scenario's output is diffed against the expected document kept beside it
(STYLE §17: examples that run).  The simulator is seeded, so the figures are exact; only
the wall time is left out.  Regenerate after a deliberate change with
``HOTLINE_UPDATE_EXAMPLES=1 pytest tests/integration/test_examples.py``."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from hotline.sim.driver import run_scenario
from hotline.sim.scenario import load_scenario

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "scenarios"


def _stable(result: dict[str, Any]) -> dict[str, Any]:
    result = dict(result)
    result.pop("wall_seconds")
    return json.loads(json.dumps(result, sort_keys=True))


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.yaml")), ids=lambda p: p.stem)
def test_given_example_scenario_when_simulated_then_output_matches_expected(path: Path) -> None:
    got = _stable(run_scenario(load_scenario(path)))
    expected_path = path.with_suffix(".expected.json")
    if os.environ.get("HOTLINE_UPDATE_EXAMPLES"):
        expected_path.write_text(json.dumps(got, indent=1, sort_keys=True) + "\n")
    expected = json.loads(expected_path.read_text())
    assert got == expected


def test_examples_exist() -> None:
    assert len(list(EXAMPLES.glob("*.yaml"))) >= 3
