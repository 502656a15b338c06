"""How many operators talking through browser softphones one ``hotline demo`` carries.

``python -m bench.softphone_load --json`` (as root, SIPp installed: ``play_pcap_audio``
sends from a raw socket; ``--quick`` for a run of about 30 s) starts the whole product
on CPU 0 at a high priority, as ``bench/sip_load.py`` does (whose server, CPU meter, API
client, operators, SIPp and pcaps this reuses), and plays N operators' browsers from
this process on CPU 1: N aiortc peer connections (ICE on loopback, DTLS-SRTP), each
opened with ``"auto_answer": true`` (``POST /api/v1/softphone``) and sending a paced
1 kHz tone, the operator's voice.  The hotline's calls go straight to one queue (a
0.4 s word, then the queue) that those N operators serve; they go ready through the
API, and SIPp places N calls whose callers send a 440 Hz tone for the whole call.  The
server bridges each call to a browser at once (auto answer).  Once every operator's
softphone says ``in_call`` (``GET /api/v1/softphone``), a window of ``--window`` s is
measured (and before the calls, for 3 s (1 s quick), the server's CPU with the N
phones connected and in no call: a page is open all day, silence flowing both ways):

* the server's CPU (100 = one core; what else ran on CPU 0), CPU per call;
* what the browsers receive: frames a second per peer against the 50 a 20 ms stream
  carries, counting *voiced* frames (the server plays silence between calls, so only
  non-silent frames are the caller's audio), and the share of peers under 95 %;
* the gateway's counters (``GET /api/v1/softphone``): packets a second from the
  browser on to the call (``packets_to_leg``) and from the call (``packets_from_leg``);
* the dominant frequency that a few peers hear (the callers' 440 Hz: a crossed or
  silent leg fails);
* this process's own CPU on CPU 1 (N peers encode, decrypt and decode 50 frames a
  second each), SIPp's, what else ran on CPU 1 and how late this process's event loop
  woke: the browsers' side can saturate before the server's, and the JSON says which
  side did (``saturated``).

A level passes when every call was bridged and none failed, every peer got at least
95 % of its voiced frames, the gateway passed on at least 95 % of every browser's frames
(the other direction), no softphone went away, the peers listened to heard 440 Hz and
the server used under 90 % of a core.  ``reached`` is the highest passing level,
``limited_by`` what stopped the first failing one (the levels stop there).  A level that
fails while other processes took more than ``CONTENDED`` % of either CPU is run again
once (the first verdict is kept).  Each level connects its own N peers and closes them
after its calls ended; SIPp and the server are stopped whatever happens.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import fractions
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import av
import httpx
import numpy as np
import numpy.typing as npt
from aiortc import (
    MediaStreamTrack,
    RTCConfiguration,
    RTCPeerConnection,
    RTCRtpReceiver,
    RTCSessionDescription,
)
from aiortc.mediastreams import MediaStreamError

from bench._machine import machine
from bench.sip_load import (
    GREETING_S,
    LOAD_NICE,
    QUEUE_NUMBER,
    SCENARIOS,
    SERVER_NICE,
    Api,
    BenchError,
    CpuMeter,
    Process,
    Server,
    Sipp,
    _revision,
    _sipp_version,
    configure,
    idle_cpu,
    quantiles,
    set_ready,
    sipp_binary,
    sipp_group,
    uac_args,
    wait_idle,
    write_pcaps,
)

RATE: Final = 8000
FRAME: Final = 160  # 20 ms at 8 kHz
FPS: Final = 50.0  # frames a second of a 20 ms stream
#: a level passes when every peer got at least this share of FPS as voiced frames
MIN_FRAME_SHARE: Final = 0.95
#: ... and the server used less than this share (%) of one core
MAX_SERVER_CPU: Final = 90.0
#: this process's loop waking this late (p99, ms) means the browsers' side is behind
LATE_LOOP_MS: Final = 20.0
CALLER_HZ, OPERATOR_HZ = 440.0, 1000.0
HZ_TOLERANCE: Final = 10.0
#: peers that keep what they hear in the window, for its frequency
LISTENERS: Final = 3
CONNECT_AT_ONCE: Final = 8
CONNECT_S: Final = 60.0
#: the desktop page's codec order (``softphone.js``): G.711 first, so nothing is
#: transcoded; ``--codec opus`` plays a browser that offers Opus only
CODEC_RANK: Final = {"audio/PCMU": 0, "audio/PCMA": 1, "audio/opus": 2}


# --- the browsers: aiortc peers in this process ----------------------------------------


class PacedTone(MediaStreamTrack):
    """The operator's microphone: a tone in 20 ms frames at 8 kHz on absolute deadlines
    (a sound card's clock).  1 kHz is exactly 20 periods a frame, so one frame serves."""

    kind = "audio"

    def __init__(self, hz: float = OPERATOR_HZ) -> None:
        super().__init__()
        t = np.arange(FRAME) / RATE
        self._samples = (8000 * np.sin(2 * np.pi * hz * t)).astype(np.int16).reshape(1, -1)
        self._n = 0
        self._start: float | None = None

    async def recv(self) -> av.AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        now = time.monotonic()
        if self._start is None:
            self._start = now
        wait = self._start + self._n / RATE - now
        if wait > 0:
            await asyncio.sleep(wait)
        elif wait < -0.2:  # this loop stalled: restart the clock rather than burst
            self._start, self._n = now, 0
        frame = av.AudioFrame.from_ndarray(self._samples, format="s16", layout="mono")
        frame.sample_rate, frame.pts = RATE, self._n
        frame.time_base = fractions.Fraction(1, RATE)
        self._n += FRAME
        return frame


@dataclass
class Browser:
    """One operator's desktop page: its peer connection, what it has heard."""

    operator: int
    token: str
    listener: bool
    codec: str = "pcmu"
    pc: RTCPeerConnection = field(init=False)
    frames: int = 0
    voiced: int = 0
    recording: bool = False
    heard: list[npt.NDArray[np.int16]] = field(default_factory=list)
    heard_rate: int = RATE
    answer_codec: str = ""
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        transceiver = self.pc.addTransceiver(PacedTone(), direction="sendrecv")
        codecs = RTCRtpReceiver.getCapabilities("audio").codecs
        if self.codec == "opus":
            codecs = [c for c in codecs if c.mimeType == "audio/opus"]
        transceiver.setCodecPreferences(sorted(codecs, key=lambda c: CODEC_RANK.get(c.mimeType, 3)))
        self.pc.on("track", self._on_track)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def _on_track(self, track: MediaStreamTrack) -> None:
        self.tasks.append(asyncio.get_running_loop().create_task(self._listen(track)))

    async def _listen(self, track: MediaStreamTrack) -> None:
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            self.frames += 1
            channels = len(frame.layout.channels)  # Opus decodes to packed stereo
            samples = frame.to_ndarray().reshape(-1, channels)[:, 0]
            if samples.any():
                self.voiced += 1
            if self.recording and self.listener:
                self.heard.append(samples.copy())
                self.heard_rate = frame.sample_rate

    async def connect(self, http: httpx.AsyncClient) -> None:
        """What the page does with auto answer on: offer (complete candidates), POST it,
        take the answer."""
        await self.pc.setLocalDescription(await self.pc.createOffer())
        offer = {"type": "offer", "sdp": self.pc.localDescription.sdp, "auto_answer": True}
        response = await http.post("/api/v1/softphone", json=offer, headers=self.headers)
        if response.status_code != 200:
            raise BenchError(f"POST /api/v1/softphone: {response.status_code} {response.text}")
        answer = response.json()
        self.answer_codec = _first_codec(answer["sdp"])
        await self.pc.setRemoteDescription(RTCSessionDescription(answer["sdp"], "answer"))

    async def status(self, http: httpx.AsyncClient) -> dict[str, Any]:
        response = await http.get("/api/v1/softphone", headers=self.headers)
        if response.status_code != 200:
            return {}
        result: dict[str, Any] = response.json()
        return result

    async def close(self, http: httpx.AsyncClient) -> None:
        with contextlib.suppress(httpx.HTTPError):
            await http.delete("/api/v1/softphone", headers=self.headers)
        await self.pc.close()
        for task in self.tasks:
            task.cancel()


def _first_codec(sdp: str) -> str:
    """The codec an answer chose: the first payload type of its audio section."""
    lines = sdp.splitlines()
    media = next((ln for ln in lines if ln.startswith("m=audio")), "")
    first = media.split()[3] if len(media.split()) > 3 else ""
    prefix = f"a=rtpmap:{first} "
    return next((ln.removeprefix(prefix) for ln in lines if ln.startswith(prefix)), first)


def dominant_hz(samples: npt.NDArray[np.int16], rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(samples.astype(float) * np.hanning(len(samples))))
    return round(float(np.argmax(spectrum) * rate / len(samples)), 1)


class LoopLag:
    """How late this process's event loop wakes from a 20 ms sleep (the browsers'
    pacing and receiving share it)."""

    def __init__(self) -> None:
        self.lags: list[float] = []
        self.recording = False
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        while True:
            before = time.monotonic()
            await asyncio.sleep(0.020)
            if self.recording:
                self.lags.append((time.monotonic() - before - 0.020) * 1000)

    def close(self) -> None:
        self._task.cancel()


# --- one level -------------------------------------------------------------------------


@dataclass
class Options:
    levels: list[int]
    codec: str
    window: float
    idle_window: float
    ramp_rate: int
    bridge_budget: float
    settle: float
    recording: bool
    pin: bool
    priority: bool
    prompts: Path
    keep: bool


@dataclass
class Bench:
    options: Options
    work: Path
    server: Server
    api: Api
    operators: list[int]
    tokens: dict[int, str]
    server_cpu: int | None
    bench_cpu: int | None

    @property
    def load_nice(self) -> int | None:
        return LOAD_NICE if self.options.priority else None

    def hold_s(self, n: int) -> float:
        """How long each call talks: ramp, bridging, settling and the window."""
        options = self.options
        return n / options.ramp_rate + options.bridge_budget + options.settle + options.window + 1


async def _gather_status(
    http: httpx.AsyncClient, browsers: Sequence[Browser]
) -> tuple[float, list[dict[str, Any]]]:
    """Every softphone's status, and the instant (the middle of the requests)."""
    t0 = time.monotonic()
    statuses = await asyncio.gather(*(b.status(http) for b in browsers))
    return (t0 + time.monotonic()) / 2, list(statuses)


async def _connect_all(http: httpx.AsyncClient, browsers: Sequence[Browser]) -> float:
    """Connect the peers (a few at once), until every one is ``connected``; seconds."""
    t0 = time.monotonic()
    gate = asyncio.Semaphore(CONNECT_AT_ONCE)

    async def one(browser: Browser) -> None:
        async with gate:
            await browser.connect(http)

    await asyncio.gather(*(one(b) for b in browsers))
    deadline = time.monotonic() + CONNECT_S
    while not all(b.pc.connectionState == "connected" for b in browsers):
        if time.monotonic() > deadline:
            states = [b.pc.connectionState for b in browsers]
            raise BenchError(f"peers not connected within {CONNECT_S} s: {states}")
        await asyncio.sleep(0.1)
    return round(time.monotonic() - t0, 2)


def _rates(
    before: tuple[float, list[dict[str, Any]]], after: tuple[float, list[dict[str, Any]]]
) -> dict[str, Any]:
    """The gateway's counters as per-call rates (packets or frames a second), of the
    phones that answered both times; ``phones_lost``: those that did not."""
    seconds = after[0] - before[0]
    pairs = [(a, b) for a, b in zip(before[1], after[1], strict=True) if a and b]
    out: dict[str, Any] = {"phones_lost": len(before[1]) - len(pairs)}
    for key in ("packets_to_leg", "packets_from_leg", "frames_to_browser", "frames_from_browser"):
        rates = [(b[key] - a[key]) / seconds for a, b in pairs]
        out[f"{key}_per_s"] = {
            "mean": round(sum(rates) / len(rates), 1) if rates else None,
            "min": round(min(rates), 1) if rates else None,
        }
    return out


async def level(bench: Bench, n: int) -> dict[str, Any]:
    options, server = bench.options, bench.server
    operators = bench.operators[:n]
    result: dict[str, Any] = {"operators": n}
    server.pin(bench.server_cpu, SERVER_NICE if options.priority else None)
    browsers = [
        Browser(op, bench.tokens[op], i < LISTENERS, options.codec)
        for i, op in enumerate(operators)
    ]
    lag = LoopLag()
    async with httpx.AsyncClient(base_url=server.http, timeout=30) as http:
        try:
            result["connect_s"] = await _connect_all(http, browsers)
            result["codecs"] = sorted({b.answer_codec for b in browsers})
            # connected, in no call: the page is open all day, silence both ways
            idle = CpuMeter(server, bench.server_cpu)
            idle.start()
            await asyncio.sleep(options.idle_window)
            result["idle_phones_server_cpu_percent"] = idle.stop()
            await asyncio.to_thread(set_ready, bench.api, operators)
            hold = bench.hold_s(n)
            with sipp_group() as group:
                args = ["-sf", str(SCENARIOS / "uac_media.xml"), "-s", QUEUE_NUMBER]
                args += ["-m", str(n), "-l", str(n), "-r", str(options.ramp_rate)]
                args += ["-d", str(round(hold * 1000)), "-recv_timeout", "20000"]
                args += ["-timeout", f"{round(hold + 60)}s"]
                t_calls = time.monotonic()
                sipp = Sipp(f"callers-{n}", bench.work, uac_args(server, *args), bench.load_nice)
                group.append(sipp)
                deadline = t_calls + n / options.ramp_rate + options.bridge_budget
                bridged = 0
                while time.monotonic() < deadline:
                    _, statuses = await _gather_status(http, browsers)
                    bridged = sum(bool(s.get("in_call")) for s in statuses)
                    if bridged == n:
                        break
                    await asyncio.sleep(0.25)
                result["bridged"] = bridged
                result["bridge_s"] = round(time.monotonic() - t_calls, 2)
                await asyncio.sleep(options.settle)
                result |= await _window(bench, http, browsers, sipp, lag)
                status = await asyncio.to_thread(sipp.wait, hold + 60)
                counts = sipp.counts()
                result["calls"] = {
                    "wanted": n,
                    "attempted": counts.get("TotalCallCreated", 0),
                    "succeeded": counts.get("SuccessfulCall", 0),
                    "failed": counts.get("FailedCall", 0),
                    "sipp_exit": status,
                }
                if counts.get("FailedCall", 0):
                    result["sipp_errors"] = sipp.errors(3)
        finally:
            lag.close()
            await asyncio.gather(*(b.close(http) for b in browsers), return_exceptions=True)
            with contextlib.suppress(BenchError, httpx.HTTPError):
                await asyncio.to_thread(_set_offline, bench.api, operators)
    result["server_alive"] = server.alive()
    _verdict(result)
    return result


def _set_offline(api: Api, operators: Sequence[int]) -> None:
    for operator in operators:
        api.call("POST", f"/api/v1/operators/{operator}/state", {"state": "offline"})


async def _window(
    bench: Bench,
    http: httpx.AsyncClient,
    browsers: Sequence[Browser],
    sipp: Sipp,
    lag: LoopLag,
) -> dict[str, Any]:
    """Measure for the window: both CPUs, the browsers' frames, the gateway's counters."""
    window = bench.options.window
    server_cpu = CpuMeter(bench.server, bench.server_cpu)
    own_cpu = CpuMeter(Process(os.getpid()), bench.bench_cpu)
    sipp_proc = Process(sipp.proc.pid)
    before = await _gather_status(http, browsers)
    frames0 = [(b.frames, b.voiced) for b in browsers]
    for b in browsers:
        b.recording = True
    lag.recording = True
    sipp0 = sipp_proc.cpu_seconds()
    server_cpu.start()
    own_cpu.start()
    t0 = time.monotonic()
    await asyncio.sleep(window)
    elapsed = time.monotonic() - t0
    server_cpu.stop()
    own_cpu.stop()
    sipp_cpu = round(100 * (sipp_proc.cpu_seconds() - sipp0) / elapsed, 1)
    lag.recording = False
    for b in browsers:
        b.recording = False
    frames = [(b.frames - f0, b.voiced - v0) for b, (f0, v0) in zip(browsers, frames0, strict=True)]
    after = await _gather_status(http, browsers)
    n = len(browsers)
    fps = [f / elapsed for f, _ in frames]
    voiced = [v / elapsed for _, v in frames]
    below = sum(v < MIN_FRAME_SHARE * FPS for v in voiced)
    heard = [
        dominant_hz(np.concatenate(b.heard), b.heard_rate) if b.heard else None
        for b in browsers
        if b.listener
    ]
    own = {k.replace("server_", ""): v for k, v in own_cpu.figures.items()}
    return {
        "window_s": round(elapsed, 2),
        "server": {
            "cpu_percent": server_cpu.percent,
            "cpu_percent_per_call": round(server_cpu.percent / n, 3),
        }
        | server_cpu.figures
        | {"contended": server_cpu.contended},
        "browsers": {
            "expected_fps": FPS,
            "fps": {"min": round(min(fps), 1)} | quantiles(fps, 1),
            "voiced_fps": {"min": round(min(voiced), 1)} | quantiles(voiced, 1),
            "voiced_fps_mean": round(sum(voiced) / n, 1),
            "peers_below_95_percent": below,
            "peers_below_95_percent_share": round(below / n, 3),
            "heard_hz": heard,
        },
        "gateway": _rates(before, after),
        "bench_process": own
        | {
            "contended": own_cpu.contended,
            "loop_late_ms": quantiles(lag.lags, 1),
            "sipp_cpu_percent": sipp_cpu,
        },
    }


def _verdict(result: dict[str, Any]) -> None:
    n = result["operators"]
    reasons: list[str] = []
    if result.get("bridged", 0) < n:
        reasons.append(f"only {result.get('bridged', 0)} of {n} calls bridged")
    calls = result.get("calls", {})
    if calls.get("failed", 0) or calls.get("attempted", 0) < n:
        reasons.append(f"{calls.get('failed')} calls failed, {calls.get('attempted')} attempted")
    browsers = result.get("browsers")
    server = result.get("server")
    if browsers is not None and server is not None:
        if browsers["peers_below_95_percent"]:
            reasons.append(
                f"{browsers['peers_below_95_percent']} peers under "
                f"{MIN_FRAME_SHARE:.0%} of {FPS:.0f} voiced frames/s "
                f"(min {browsers['voiced_fps']['min']})"
            )
        off = [
            hz for hz in browsers["heard_hz"] if hz is None or abs(hz - CALLER_HZ) > HZ_TOLERANCE
        ]
        if off:
            reasons.append(f"peers heard {off} Hz, not {CALLER_HZ:.0f}")
        gateway = result["gateway"]
        if gateway["phones_lost"]:
            reasons.append(f"{gateway['phones_lost']} softphones gone by the window's end")
        sent = gateway["packets_to_leg_per_s"]["min"]
        if sent is None or sent < MIN_FRAME_SHARE * FPS:
            reasons.append(f"the gateway passed on {sent} frames/s of a browser, not {FPS:.0f}")
        if not server["cpu_percent"] < MAX_SERVER_CPU:
            reasons.append(f"server at {server['cpu_percent']} % of a core")
        result["saturated"] = _saturated(server, result["bench_process"])
        result["contended"] = _contended(result)
    else:
        reasons.append("not measured")
        result["saturated"] = result["contended"] = []
    if not result["server_alive"]:
        reasons.append("the server died")
    result["ok"] = not reasons
    result["why_not"] = reasons


def _saturated(server: dict[str, Any], own: dict[str, Any]) -> list[str]:
    """Which side ran out of CPU: the server (most of its core), the browsers' (this
    process and SIPp most of CPU 1, or this process's loop waking late: then the peers
    send and take their frames late, whoever else took CPU 1, see ``contended``)."""
    sides = []
    if server["cpu_percent"] >= MAX_SERVER_CPU:
        sides.append("server")
    late = own["loop_late_ms"]["p99"]
    if own["cpu_percent"] + own["sipp_cpu_percent"] >= MAX_SERVER_CPU or (
        late is not None and late > LATE_LOOP_MS
    ):
        sides.append("browsers")
    return sides


def _contended(result: dict[str, Any]) -> list[str]:
    """The CPUs where other processes (or the hypervisor) took more than CONTENDED %."""
    cpus = []
    if result.get("server", {}).get("contended"):
        cpus.append("server_cpu")
    if result.get("bench_process", {}).get("contended"):
        cpus.append("bench_cpu")
    return cpus


# --- the run ---------------------------------------------------------------------------


async def _insert_tokens(data: Path, operators: Sequence[int]) -> dict[int, str]:
    """An API token per operator, straight into the database: a login through the API
    costs an argon2 hash on the server's core (0.4 s here) per operator."""
    from hotline.security import new_token, token_digest
    from hotline.store import models as m
    from hotline.store.db import Database, sqlite_url

    now = dt.datetime.now(dt.UTC)
    tokens = {op: new_token() for op in operators}
    db = Database(sqlite_url(data))
    try:
        async with db.system_session() as session:
            session.add_all(
                m.ApiToken(
                    user_id=op,
                    token_hash=token_digest(token),
                    kind="api",
                    created_at=now,
                    expires_at=now + dt.timedelta(days=1),
                )
                for op, token in tokens.items()
            )
            await session.commit()
    finally:
        await db.dispose()
    return tokens


async def _levels(bench: Bench) -> list[dict[str, Any]]:
    from hotline.telephony.webrtc.softphones import use_ice_hosts

    use_ice_hosts(["127.0.0.1"])  # this process's aioice plays browsers on loopback
    rows: list[dict[str, Any]] = []

    async def attempt(n: int) -> dict[str, Any]:
        await asyncio.to_thread(wait_idle, bench.server)
        try:
            return await level(bench, n)
        except BenchError as exc:
            return {"operators": n, "ok": False, "error": str(exc), "server_alive": True}

    for n in bench.options.levels:
        row = await attempt(n)
        if not row["ok"] and row.get("contended") and bench.server.alive():
            # other people's work took a CPU: once more, keeping the first verdict
            first = {k: row.get(k) for k in ("why_not", "saturated", "contended")}
            row = await attempt(n) | {"first_attempt": first}
        rows.append(row)
        if not row["ok"] or not bench.server.alive():
            break  # past the first failure higher levels only take longer to fail
    return rows


def _limited_by(rows: Sequence[dict[str, Any]]) -> str:
    failed = next((r for r in rows if not r["ok"]), None)
    if failed is None:
        return "nothing within the levels run"
    sides = failed.get("saturated") or []
    contended = failed.get("contended") or []
    if sides:
        also = f" (other work on {' and '.join(contended)})" if contended else ""
        return f"{' and '.join(sides)} CPU at {failed['operators']} operators{also}"
    if failed.get("contended"):
        return f"other work on {' and '.join(failed['contended'])} at {failed['operators']}"
    why = failed.get("why_not") or [failed.get("error", "?")]
    return f"{failed['operators']} operators: {'; '.join(why)}"


def run(options: Options) -> dict[str, Any]:
    sipp_binary()
    if os.geteuid() != 0:
        raise BenchError("run as root: SIPp's play_pcap_audio sends from a raw socket")
    two = options.pin and (os.cpu_count() or 1) >= 2
    server_cpu, bench_cpu = (0, 1) if two else (None, None)
    options.prompts.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    load_before = os.getloadavg()
    work = Path(tempfile.mkdtemp(prefix="hotline-softphone-load-"))
    data = work / "data"
    result: dict[str, Any] = {
        "what": "operators talking through browser softphones (aiortc, auto answer), "
        "SIPp callers queued and bridged to them",
    }
    server: Server | None = None
    timings: dict[str, float] = {}
    lap = time.monotonic()

    def clock(step: str) -> None:
        nonlocal lap
        now = time.monotonic()
        timings[step] = round(now - lap, 1)
        lap = now

    try:
        server = Server.spawn(
            data, options.prompts, seed=True, env_extra={"HOTLINE_WEBRTC_HOSTS": "127.0.0.1"}
        )
        most = max(options.levels)
        write_pcaps(work, most / options.ramp_rate + options.bridge_budget + options.window + 60)
        server.wait_ready()
        server.pin(server_cpu, SERVER_NICE if options.priority else None)
        if bench_cpu is not None:
            os.sched_setaffinity(0, {bench_cpu})
        clock("server_start")
        api = Api(server.http)
        try:
            setup = configure(api, data, most, 0, recording=options.recording)
            tokens = asyncio.run(_insert_tokens(data, setup.bulk_operators))
            result["idle_cpu_percent"] = idle_cpu(server, 1.0)
            clock("configure")
            bench = Bench(
                options, work, server, api, setup.bulk_operators, tokens, server_cpu, bench_cpu
            )
            result["levels"] = asyncio.run(_levels(bench))
            clock("levels")
        finally:
            api.close()
    finally:
        if server is not None:
            result["server_stop"] = server.stop(3.0)
            clock("server_stop")
        if not options.keep:
            shutil.rmtree(work, ignore_errors=True)
    rows = result["levels"]
    best = max((r for r in rows if r["ok"]), key=lambda r: r["operators"], default=None)
    result["reached"] = best["operators"] if best else 0
    result["cpu_percent_per_call"] = best["server"]["cpu_percent_per_call"] if best else None
    result["limited_by"] = _limited_by(rows)
    result["seconds"] = round(time.monotonic() - started, 1)
    result["timings_s"] = timings
    result["load_average"] = {
        "before": [round(x, 2) for x in load_before],
        "after": [round(x, 2) for x in os.getloadavg()],
    }
    result["config"] = {
        "server": "hotline demo, in-process media, uvloop",
        "server_cpu": server_cpu,
        "bench_cpu": bench_cpu,
        "server_nice": SERVER_NICE if options.priority else 0,
        "sipp_nice": LOAD_NICE if options.priority else 0,
        "sipp": _sipp_version(),
        "revision": _revision(),
        "levels": options.levels,
        "codec": options.codec,
        "window_s": options.window,
        "ramp_rate": options.ramp_rate,
        "recording": options.recording,
        "work_dir": str(work) if options.keep else None,
    }
    result["machine"] = machine()
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.add_argument("--quick", action="store_true", help="small levels, short windows (~30 s)")
    parser.add_argument("--levels", type=int, nargs="+", help="operators (and calls) per level")
    parser.add_argument(
        "--codec",
        choices=["pcmu", "opus"],
        default="pcmu",
        help="the page's order (G.711 first), or a browser that offers Opus only",
    )
    parser.add_argument("--window", type=float, help="seconds a level is measured")
    parser.add_argument("--ramp-rate", type=int, default=10, help="calls/s to reach a level")
    parser.add_argument("--no-recording", action="store_true", help="calls unrecorded")
    parser.add_argument("--no-pin", action="store_true", help="do not pin server and browsers")
    parser.add_argument(
        "--no-priority", action="store_true", help="leave the server and SIPp at nice 0"
    )
    parser.add_argument(
        "--prompts-dir",
        type=Path,
        default=Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
        / "hotline-bench-prompts",
        help="kept between runs: espeak-ng renders the prompts once",
    )
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args(argv)
    quick = args.quick
    options = Options(
        levels=args.levels or ([5, 10] if quick else [10, 20, 30, 40, 50]),
        codec=args.codec,
        window=args.window or (5.0 if quick else 15.0),
        idle_window=1.0 if quick else 3.0,
        ramp_rate=args.ramp_rate,
        bridge_budget=GREETING_S + (2.0 if quick else 8.0),
        settle=1.0,
        recording=not args.no_recording,
        pin=not args.no_pin,
        priority=not args.no_priority,
        prompts=args.prompts_dir,
        keep=args.keep,
    )
    try:
        result = run(options)
    except BenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        json.dump(result, sys.stdout)
        sys.stdout.write("\n")
    else:
        print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
