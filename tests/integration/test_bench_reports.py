"""``python -m bench.reports --quick`` runs end to end (SQLite only: a smoke test, not a
measurement; the figures come from a full run, see bench/reports.py)."""

from __future__ import annotations

import json

import pytest

from bench import reports


def test_given_quick_mode_when_run_then_prints_consistent_figures(
    capsys: pytest.CaptureFixture[str],
) -> None:
    reports.main(["--quick", "--no-postgres", "--json"])
    document = json.loads(capsys.readouterr().out)
    sqlite = document["sqlite"]
    queries = sqlite["queries"]
    # every grouping of the same rows counts the same interactions
    assert queries["queue_x_30min"]["offered"] == sqlite["interactions"] > 0
    assert queries["hotline_x_day"]["offered"] == sqlite["interactions"]
    # 7 days × 3 hotlines, each in its own zone: 7 or 8 local days each
    assert 21 <= queries["hotline_x_day"]["groups"] <= 24
    assert sqlite["build_sample"]["rebuild_row_count_equal"] is True
    assert document["pure_rollup"]["visits_per_s"] > 0
