"""``python -m bench.ws_fanout --json`` runs end to end (small: 4 desktops, 2 wallboards)."""

from __future__ import annotations

import json

import pytest

from bench import ws_fanout

pytestmark = pytest.mark.slow


def test_given_a_small_fanout_when_run_then_one_json_document_with_every_frame_seen(
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["--json", "--desktops", "4", "--wallboards", "2", "--events", "3"]
    assert ws_fanout.main(argv) == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["desktops"], report["wallboards"]) == (4, 2)
    # every desktop and every wallboard saw every change (else the run would have timed out)
    assert report["single"]["desktop"]["n"] == 3
    assert report["single"]["wallboard"]["n"] == 3 * 2
    assert report["burst"]["desktop"]["n"] == 4
    assert report["burst"]["wallboard_all_shown"]["n"] == 2
    assert 0 < report["single"]["desktop"]["p50_ms"] <= report["single"]["desktop"]["max_ms"]
    assert report["machine"]["cpus"] >= 1
