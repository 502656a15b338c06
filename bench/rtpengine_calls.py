"""Concurrent calls the Python process carries when rtpengine moves the media.

``python -m bench.rtpengine_calls --json`` starts a real rtpengine daemon (user space,
``--table=-1``; ``tests/integration/rtpengine_daemon.py``) and ``hotline demo`` with
``HOTLINE_MEDIA_BACKEND=rtpengine``, configures it like ``bench/sip_load.py`` (its IVR
hotline: a 5.7 s menu prompt, 1 s for a digit, "invalid", again — about 100 s), then
SIPp (``bench/sipp/uac_call.xml``: INVITE, 200, ACK, a pause, BYE; no RTP from the
callers, the issue's "signalling only") ramps up to ``--calls`` concurrent calls at
``--rate`` calls/s and holds them.  While all are up it measures for ``--window`` s:

* the Python server's CPU (100 = one core) and per call, and the daemon's;
* how many calls the daemon holds (ng ``list``), and SIPp's counts at the end (every
  call must have been answered and ended by its own BYE).

``--flow ivr`` (default): every held call costs its IVR — a ``play media`` per prompt
(about one every 5 s), timers, the menu's retries.  ``--flow queue``: the queue hotline
(a word, then music on hold while nobody answers): two ``play media`` a call, then
only the daemon works.  rtpengine 10.5 spends about 4.5 ms of its control path on each
``play media`` (it opens and decodes the file every time; measured on this machine,
against 0.2 ms for a ``query``), so the IVR level it can hold is bounded by the daemon,
not by the Python process.  The daemon's
``--timeout`` is raised to 600 s: SIPp sends no RTP, and rtpengine would otherwise end
a call after 60 s without media.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import tempfile
import time
from pathlib import Path
from typing import Any, Final

from bench._machine import machine
from bench.sip_load import (
    IVR_NUMBER,
    QUEUE_NUMBER,
    SCENARIOS,
    Api,
    CpuMeter,
    Server,
    Sipp,
    configure,
    sipp_binary,
    sipp_group,
)
from hotline.telephony.media import ng
from tests.integration.rtpengine_daemon import Daemon, running_rtpengine

#: the issue: "with the rtpengine backend the Python process must carry >= 1,000
#: concurrent calls (signalling only)"
TARGET_CALLS: Final = 1000
#: rtpengine uses four ports a call here (two sides, RTP and RTCP); below the kernel's
#: ephemeral range, so SIPp's own sockets never take one
PORTS: Final = (20000, 32766)


def _count_calls(daemon: Daemon, limit: int) -> int | str:
    """How many calls the daemon holds (ng ``list``), or why it did not say."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(10)
        cookie = os.urandom(6).hex()
        sock.sendto(ng.request_datagram(cookie, "list", {"limit": limit}), daemon.ng)
        try:
            _, body = ng.parse_reply(sock.recv(1 << 20))
            calls = ng.reply_dict("list", body).get("calls")
        except (OSError, ng.NgError, ng.BencodeError) as exc:
            return f"ng list failed: {exc!r}"
        return len(calls) if isinstance(calls, list) else "ng list: no 'calls'"


def _daemon_cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run(
    calls: int, rate: int, window: float, prompts: Path, flow: str, *, keep: bool = False
) -> dict[str, Any]:
    sipp_binary()
    work = Path(tempfile.mkdtemp(prefix="hotline-rtpengine-calls-"))
    ramp = calls / rate
    hold_ms = round((ramp + 5 + window + 5) * 1000)
    result: dict[str, Any] = {"target_calls": TARGET_CALLS}
    try:
        with running_rtpengine(
            work / "rtpengine", port_range=PORTS, extra_args=("--timeout=600",)
        ) as daemon:
            env = {
                "HOTLINE_MEDIA_BACKEND": "rtpengine",
                "HOTLINE_RTPENGINE_NG": f"{daemon.ng[0]}:{daemon.ng[1]}",
                "HOTLINE_RTPENGINE_DTMF": f"{daemon.dtmf[0]}:{daemon.dtmf[1]}",
                "HOTLINE_RTPENGINE_RECORDING_DIR": str(daemon.recording_dir),
            }
            prompts.mkdir(parents=True, exist_ok=True)
            server = Server.start(work / "data", prompts, seed=True, env_extra=env)
            try:
                api = Api(server.http)
                try:
                    configure(api, work / "data", 0, 0, recording=False)
                finally:
                    api.close()
                with sipp_group() as started:
                    number = IVR_NUMBER if flow == "ivr" else QUEUE_NUMBER
                    args = ["-sf", str(SCENARIOS / "uac_call.xml"), "-s", number]
                    args += ["-r", str(rate), "-m", str(calls), "-l", str(calls)]
                    args += ["-d", str(hold_ms), "-p", "0", server.sip]
                    ramp_cpu0 = server.cpu_seconds()
                    sipp = Sipp("uac", work, args, None)
                    started.append(sipp)
                    time.sleep(ramp + 5)  # the ramp, then every call in its flow
                    ramp_cpu = server.cpu_seconds() - ramp_cpu0
                    meter = CpuMeter(server)
                    daemon_cpu0, t0 = _daemon_cpu_seconds(daemon.pid), time.monotonic()
                    meter.start()
                    time.sleep(window)
                    server_cpu = meter.stop()
                    daemon_cpu = (_daemon_cpu_seconds(daemon.pid) - daemon_cpu0) / (
                        time.monotonic() - t0
                    )
                    listed = _count_calls(daemon, calls * 2)
                    held = sipp.counts().get("CurrentCall", 0)
                    status = sipp.wait(hold_ms / 1000 + ramp + 60)
                    result |= {
                        "calls": calls,
                        "flow": flow,
                        "rate_per_s": rate,
                        "window_s": window,
                        "sipp_current_calls_in_window": held,
                        # each leg is one rtpengine call
                        "rtpengine_calls_in_window": listed,
                        # set-up: INVITE to 200 OK, offer/answer, the first prompts
                        "server_cpu_ms_per_call_setup": round(1000 * ramp_cpu / calls, 2),
                        "server_cpu_percent_during_ramp": round(100 * ramp_cpu / (ramp + 5), 1),
                        "server_cpu_percent": server_cpu,
                        "server_cpu_percent_per_100_calls": round(
                            100 * server_cpu / max(held, 1), 2
                        ),
                        "rtpengine_cpu_percent": round(100 * daemon_cpu, 1),
                        "sipp_exit": status,
                        "sipp_counts": sipp.counts(),
                        "sipp_errors": sipp.errors(),
                        # ng commands that failed (timeouts, error replies), as logged
                        "server_media_errors": server.log.read_text("utf-8", "replace").count(
                            "media.rtpengine_failed"
                        ),
                    }
                    result["met"] = (
                        held >= TARGET_CALLS
                        and status == 0
                        and result["sipp_counts"].get("FailedCall", 0) == 0
                    )
            finally:
                result["server_stop"] = server.stop()
    finally:
        if keep:
            result["work_dir"] = str(work)  # the daemon's and the server's logs
        else:
            shutil.rmtree(work, ignore_errors=True)
    result["config"] = {"server": "hotline demo, rtpengine media (user space), uvloop"}
    result["machine"] = machine()
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.add_argument("--calls", type=int, default=TARGET_CALLS, help="concurrent calls")
    parser.add_argument("--rate", type=int, default=50, help="calls/s while ramping up")
    parser.add_argument("--window", type=float, default=20.0, help="seconds measured")
    parser.add_argument(
        "--flow",
        choices=["ivr", "queue"],
        default="ivr",
        help="ivr: the menu loop (a play media every ~5 s a call); queue: a word, then "
        "music on hold while nobody answers (two play media a call)",
    )
    parser.add_argument(
        "--prompts",
        type=Path,
        default=Path(tempfile.gettempdir()) / "hotline-bench-prompts",
        help="rendered prompts, shared between runs",
    )
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    options = parser.parse_args(argv)
    result = run(
        options.calls,
        options.rate,
        options.window,
        options.prompts,
        options.flow,
        keep=options.keep,
    )
    if options.json:
        print(json.dumps(result, indent=2))
    else:
        for key, value in result.items():
            print(f"{key}: {value}")


if __name__ == "__main__":
    main()
