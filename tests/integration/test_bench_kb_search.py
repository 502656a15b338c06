"""``python -m bench.kb_search --json`` runs end to end (small: 300 articles, SQLite)."""

from __future__ import annotations

import json

import pytest

from bench import kb_search

pytestmark = pytest.mark.slow


def test_given_a_small_kb_when_benchmarked_then_hits_match_the_generator(
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["--json", "--articles", "300", "--words", "40", "--repeat", "1", "--no-postgres"]
    assert kb_search.main(argv) == 0
    report = json.loads(capsys.readouterr().out)
    sqlite = report["sqlite"]
    assert "postgres" not in report
    # the hit counts come from the stemmer; the expected ones from the generator's choices
    assert sqlite["hits"] == sqlite["hits_expected"]
    assert sum(sqlite["hits"].values()) > 0
    assert 0 < sqlite["warm_search_median_ms"] <= sqlite["warm_search_max_ms"]
