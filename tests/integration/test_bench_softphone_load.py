"""``python -m bench.softphone_load --json`` runs end to end (small: 2 browser softphones,
2 SIPp calls, a 2 s window; unpinned, so this process keeps both CPUs)."""

from __future__ import annotations

import json
import os
import shutil

import pytest

from bench import softphone_load

pytestmark = pytest.mark.slow


def _missing() -> str | None:
    if shutil.which("sipp") is None:
        return "needs SIPp (apt: sip-tester)"
    if os.geteuid() != 0:
        return "needs root: SIPp's play_pcap_audio sends from a raw socket"
    return None


def test_given_two_softphones_when_benchmarked_then_audio_flowed_both_ways(
    capsys: pytest.CaptureFixture[str],
) -> None:
    missing = _missing()
    if missing is not None:
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail(missing)
        pytest.skip(missing)
    argv = ["--json", "--levels", "2", "--window", "2", "--no-pin"]
    assert softphone_load.main(argv) == 0
    report = json.loads(capsys.readouterr().out)
    [level] = report["levels"]
    assert level["operators"] == 2 and level["bridged"] == 2, level
    assert level["calls"]["succeeded"] == 2 and level["calls"]["failed"] == 0
    assert level["codecs"] == ["PCMU/8000"]  # the page's order: G.711, no transcoding
    # caller -> browser: the callers' 440 Hz, voiced frames (not the idle silence)
    browsers = level["browsers"]
    assert browsers["voiced_fps"]["count"] == 2
    assert browsers["voiced_fps"]["p50"] > 25, browsers
    assert all(abs(hz - 440) < 10 for hz in browsers["heard_hz"]), browsers
    # browser -> call: the gateway sent the operators' frames on to the legs
    gateway = level["gateway"]
    assert gateway["packets_to_leg_per_s"]["min"] > 25, gateway
    assert gateway["packets_from_leg_per_s"]["min"] > 25, gateway
    assert level["server"]["cpu_percent"] > 0 and level["bench_process"]["cpu_percent"] > 0
    assert set(level) >= {"ok", "why_not", "saturated", "contended", "window_s"}
    assert report["reached"] in (0, 2) and report["limited_by"]
    assert report["server_stop"]["exit"] == 0
    assert report["machine"]["cpus"] >= 1 and report["config"]["codec"] == "pcmu"
