"""Call set-ups per second, concurrent IVR calls and bridged calls of ``hotline demo``.

``python -m bench.sip_load --json`` starts the whole product (``hotline demo``: SQLite,
web, SIP B2BUA, in-process RTP on uvloop) on CPU 0 and loads it with SIPp 3.6.1 from
CPU 1, where this process (the probes, below) stays too.  SIPp must run as root:
``play_pcap_audio`` sends from a raw socket.  ``--quick`` runs small levels in about
30 s.  The server is configured through its API (three hotlines whose flows have no
business-hours node, so nothing depends on the wall clock).  Three phases, each of which
stops the SIPp processes it started, whatever happens (the server is stopped when the
run ends, and restarted for the next phase if one left it dead):

ivr
    N calls held at once in an IVR menu (a 5.7 s prompt, 1 s for a digit, "invalid",
    again: the server sends audio most of the time) while every caller sends a tone
    (``play_pcap_audio``).  Reported: server CPU, CPU per call, and RTP lateness as the
    callers hear it, measured by the probes.
bridged
    N calls queued and answered by N operators, RTP both ways through the server's
    relay (recorded, as the product does by default; ``--no-recording``).  The operators
    are written to the database (through the API each would cost an argon2 hash), get a
    SIP password through the API, REGISTER with digest authentication (all Contacts
    name one SIPp UAS process, which answers for all of them) and go ready through the
    API.
setup
    SIPp places calls at a fixed rate (50, 100, 150... per second) for a fixed time;
    each call is INVITE, 200, ACK, a pause, BYE.  Reported per rate: calls attempted,
    succeeded, failed, set-up time (INVITE to 200 OK, SIPp's response time) p50/p99,
    server CPU; the highest rate with fewer than 1 % failed calls, and the highest
    *clean* rate, where also 99 % of the set-ups took less than T1 (500 ms, after which
    a caller retransmits).  It runs last: past saturation the server stays busy a while.

The targets are the issue's (:data:`TARGETS`); the ``summary`` says which were met.

Probes.  K calls of each level are not SIPp's media: their SDP names UDP sockets of
this process, which talk every 20 ms once they have heard the server (so that it latches
onto them, RFC 4961) and time-stamp every packet in the kernel (``SO_TIMESTAMPNS``), so
neither SIPp's load on CPU 1 nor this process's scheduling colours the figures:

* lateness of the server's own audio (prompts, music): ``arrival - timestamp / 8 kHz``
  against the stream's earliest packet in the window, i.e. how far behind its own
  clock the server sent each frame (RTP timestamps follow its pacing clock, silence
  included); also the deviation of each inter-arrival time from what the timestamps
  say (20 ms), losses: sequence gaps and the frames a late clock skipped (the server
  sends at most two frames a leg after a stall, and its timestamps jump within a
  talkspurt: the receiver hears a gap, not a late frame);
* one-way delay of relayed audio (bridged calls): probe callers dial their own hotline,
  whose queue only probe operators serve, and each probe packet carries its send time.

A level passes when fewer than 1 % of its calls fail, every probe heard audio, the p99
lateness (or relay delay) is under 10 ms and fewer than 1 % of the probes' frames were
lost or skipped.

A shared machine.  Other people's work on CPU 0 delays the server's event loop and
looks like the server's own lateness.  So the server and each SIPp run in sessions of
their own at a high priority (:data:`SERVER_NICE`; ``--no-priority`` turns it off), and
every window reports what else ran on CPU 0, the hypervisor's steal and how long the
event loop waited for the CPU; a level or rate that fails while others took more than
:data:`CONTENDED` % of CPU 0 is run again once (both verdicts are in the JSON).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import importlib
import itertools
import json
import os
import re
import secrets
import selectors
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Protocol

import httpx

from bench._machine import machine

PASSWORD: Final = "bench-pw-12345678"  # noqa: S105 - a throwaway installation
SCENARIOS: Final = Path(__file__).parent / "sipp"
#: The issue's targets on the 2-core machine, server on one core, in-process media.
TARGETS: Final = {
    "setup_calls_per_second": 150,
    "ivr_concurrent_calls": 400,
    "bridged_concurrent_calls": 200,
    "p99_lateness_ms": 10.0,
}
#: A level or a rate passes with fewer failed calls than this share (the issue's 1 %).
MAX_FAILED_SHARE: Final = 0.01
#: The set-up phase stops climbing after a rate that failed this share of its calls.
GIVE_UP_SHARE: Final = 0.10
#: RFC 3261 §17.1.1.2: a caller retransmits its INVITE after T1 = 500 ms without an
#: answer, so a rate is clean only when 99 % of the set-ups took less.
T1_MS: Final = 500.0
#: A window is contended when other processes (or the hypervisor) took more than this
#: share (%) of the server's CPU; a level that fails in one is run again once.
CONTENDED: Final = 10.0
IVR_NUMBER, QUEUE_NUMBER, PROBE_NUMBER = "7100", "7200", "7201"
READY = re.compile(r"hotline ready http=(?P<http>http://\S+) sip=(?P<host>[^\s:]+):(?P<port>\d+)")
SERVER_START_S: Final = 120.0  # first start: migrations, nine argon2 hashes, prompts
PTIME_S: Final = 0.020  # RFC 3551 §4.5: G.711 sends 20 ms a packet
CLOCK_HZ: Final = 8000
#: SO_TIMESTAMPNS (= SCM_TIMESTAMPNS) of asm-generic/socket.h; Python does not export it.
SO_TIMESTAMPNS: Final = 35
PROBE_MAGIC: Final = b"HLBP"
_RTP = struct.Struct("!BBHII")
_PROBE = struct.Struct("!4sQ")
_TIMESPEC = struct.Struct("@qq")
_SIPP_TROUBLE = re.compile(r"abort|fail|error|unexpected|timeout|refused", re.IGNORECASE)


class BenchError(RuntimeError):
    """The benchmark could not run a step; the message says which and what it saw."""


# --- small helpers ---------------------------------------------------------------------


def free_port() -> int:
    """A port free for TCP and UDP on 127.0.0.1 (SIP listens on both)."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
            tcp.bind(("127.0.0.1", 0))
            port = int(tcp.getsockname()[1])
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
                try:
                    udp.bind(("127.0.0.1", port))
                except OSError:
                    continue
                return port
    raise BenchError("no port free for both TCP and UDP after 50 tries")


def quantiles(values: Sequence[float], digits: int = 2) -> dict[str, float | int | None]:
    """count, p50, p99 and max (nearest rank) of ``values``."""
    if not values:
        return {"count": 0, "p50": None, "p99": None, "max": None}
    ordered = sorted(values)
    n = len(ordered)
    return {
        "count": n,
        "p50": round(ordered[min(n - 1, n // 2)], digits),
        "p99": round(ordered[min(n - 1, int(n * 0.99))], digits),
        "max": round(ordered[-1], digits),
    }


def sipp_binary() -> str:
    found = shutil.which("sipp")
    if found is None:
        raise BenchError("sipp not found: install the Debian package sip-tester")
    return found


#: Nice values of the server and of the SIPp processes.  Each runs in a session of its
#: own, so in its own scheduling autogroup (``kernel.sched_autogroup_enabled``: without
#: that, a thread's nice weighs only against its own session's), whose nice is set too.
#: On a machine shared with other work they stand in for the dedicated CPUs the targets
#: assume; ``--no-priority`` leaves everything at 0.
SERVER_NICE: Final = -20
LOAD_NICE: Final = -10


def prioritise(pid: int, nice: int) -> None:
    """Give process ``pid`` (every thread) and its autogroup the nice value ``nice``."""
    with contextlib.suppress(OSError):
        Path(f"/proc/{pid}/autogroup").write_text(str(nice))
    with contextlib.suppress(OSError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            with contextlib.suppress(OSError):  # a thread that has just ended
                os.setpriority(os.PRIO_PROCESS, int(task.name), nice)


# --- the server ------------------------------------------------------------------------


@dataclass
class Server:
    """One ``hotline demo`` process; its output goes to ``log``."""

    proc: subprocess.Popen[bytes]
    log: Path
    http: str = ""
    sip_host: str = ""
    sip_port: int = 0

    @classmethod
    def start(
        cls, data: Path, prompts: Path, *, seed: bool, env_extra: dict[str, str] | None = None
    ) -> Server:
        """:meth:`spawn` and :meth:`wait_ready`."""
        server = cls.spawn(data, prompts, seed=seed, env_extra=env_extra)
        server.wait_ready()
        return server

    @classmethod
    def spawn(
        cls, data: Path, prompts: Path, *, seed: bool, env_extra: dict[str, str] | None = None
    ) -> Server:
        """Start ``hotline demo``; the process inherits our CPU affinity; ``env_extra``:
        more ``HOTLINE_*`` settings (``bench/rtpengine_calls.py``: the media backend)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
        env |= {
            "HOTLINE_PROMPTS_DIR": str(prompts),
            "HOTLINE_LOG_LEVEL": "warning",
            "PYTHONUNBUFFERED": "1",
            **(env_extra or {}),
        }
        # Only the first start seeds passwords: re-keying nine argon2 hashes on one core
        # would add seconds to every restart (demo.py, Rule 2 and 3).
        password = ["--demo-password", PASSWORD] if seed else []
        command = [sys.executable, "-m", "hotline", "demo", "--data", str(data)]
        command += ["--http", "127.0.0.1:0", "--sip", f"127.0.0.1:{free_port()}", *password]
        log = data.parent / f"server-{time.time_ns()}.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(  # noqa: S603 - our own command, fixed arguments
                command,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                start_new_session=True,  # its own autogroup: see SERVER_NICE
            )
        return cls(proc, log)

    def wait_ready(self) -> None:
        """Read the log until ``hotline ready``; stop the server if it never comes."""
        deadline = time.monotonic() + SERVER_START_S
        while time.monotonic() < deadline:
            match = READY.search(self.log.read_text("utf-8", "replace"))
            if match:
                self.http, self.sip_host = match["http"], match["host"]
                self.sip_port = int(match["port"])
                return
            if self.proc.poll() is not None:
                raise BenchError(f"hotline demo exited with {self.proc.returncode}:\n{self.tail()}")
            time.sleep(0.05)
        self.stop()
        raise BenchError(f"no 'hotline ready' within {SERVER_START_S} s:\n{self.tail()}")

    @property
    def sip(self) -> str:
        return f"{self.sip_host}:{self.sip_port}"

    def alive(self) -> bool:
        return self.proc.poll() is None

    def pin(self, cpu: int | None, nice: int | None) -> None:
        """Move every thread of the server to ``cpu`` and give it ``nice`` (threads
        started later inherit both from the thread that starts them)."""
        if cpu is not None:
            for task in Path(f"/proc/{self.proc.pid}/task").iterdir():
                with contextlib.suppress(OSError):  # a thread that has just ended
                    os.sched_setaffinity(int(task.name), {cpu})
        if nice is not None:
            prioritise(self.proc.pid, nice)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def cpu_seconds(self) -> float:
        """User + system CPU of the whole process (all threads) so far."""
        return process_cpu_seconds(self.proc.pid)

    def tail(self, lines: int = 30) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log.read_text("utf-8", "replace").splitlines()[-lines:])
        return ""

    def stop(self, patience: float = 10.0) -> dict[str, Any]:
        """SIGTERM (a clean exit), SIGKILL after ``patience`` s; what happened."""
        started = time.monotonic()
        killed = False
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=patience)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                killed = True
        seconds = round(time.monotonic() - started, 1)
        return {"exit": self.proc.returncode, "seconds": seconds, "killed": killed}


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU of process ``pid`` (all threads) so far: /proc/PID/stat."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return float("nan")
    fields = text.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Process:
    """Any process by its id, for :class:`CpuMeter` (``bench/softphone_load.py``: the
    process that plays the browsers)."""

    pid: int

    def cpu_seconds(self) -> float:
        return process_cpu_seconds(self.pid)


class Measured(Protocol):
    """What :class:`CpuMeter` measures: a :class:`Server` or any :class:`Process`."""

    @property
    def pid(self) -> int: ...

    def cpu_seconds(self) -> float: ...


def _cpu_times(cpu: int) -> tuple[float, float, float]:
    """Seconds CPU ``cpu`` spent since boot in tasks (user, nice, system), in interrupts
    (irq, softirq: on loopback, mostly delivering the packets its tasks send) and
    stolen by the hypervisor (/proc/stat)."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/stat").read_text().splitlines():
            if line.startswith(f"cpu{cpu} "):
                ticks = [int(v) for v in line.split()[1:9]]
                hz = os.sysconf("SC_CLK_TCK")
                return sum(ticks[:3]) / hz, (ticks[5] + ticks[6]) / hz, ticks[7] / hz
    return float("nan"), float("nan"), float("nan")


def _run_delay(pid: int) -> float:
    """Seconds the thread ``pid`` (the event loop) waited for a CPU while runnable."""
    try:
        return int(Path(f"/proc/{pid}/schedstat").read_text().split()[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return float("nan")


class CpuMeter:
    """Between :meth:`start` and :meth:`stop`: the server's CPU share (100 = one core);
    with the server pinned, what else ran on its CPU, and how long its event loop
    waited for the CPU (ms a second).  Other people's work on a shared machine shows
    up here: lateness with a large wait is not the server's own."""

    def __init__(self, server: Measured, cpu: int | None = None) -> None:
        self.server = server
        self.cpu = cpu
        self.t0 = self.c0 = self.wait0 = 0.0
        self.times0 = (0.0, 0.0, 0.0)
        self.percent = float("nan")
        self.figures: dict[str, float | None] = {}

    def start(self) -> None:
        self.t0, self.c0 = time.monotonic(), self.server.cpu_seconds()
        self.times0 = _cpu_times(self.cpu) if self.cpu is not None else (0.0, 0.0, 0.0)
        self.wait0 = _run_delay(self.server.pid)

    def stop(self) -> float:
        elapsed = time.monotonic() - self.t0
        used = self.server.cpu_seconds() - self.c0
        self.percent = round(100 * used / elapsed, 1)
        wait = (_run_delay(self.server.pid) - self.wait0) / elapsed * 1000
        self.figures = {"server_cpu_percent": self.percent}
        if self.cpu is not None:
            tasks, interrupts, steal = (
                round(100 * (b - a) / elapsed, 1)
                for a, b in zip(self.times0, _cpu_times(self.cpu), strict=True)
            )
            # The kernel delivers the packets the server sends in softirq on its CPU; some
            # of that time is counted in the server's own CPU time too, so the busy share
            # (everything but idle) is the figure that says whether the CPU was full.
            self.figures |= {
                "server_cpu_busy_percent": round(tasks + interrupts + steal, 1),
                "softirq_on_server_cpu_percent": interrupts,
                "others_on_server_cpu_percent": round(max(0.0, tasks - self.percent), 1),
                "steal_on_server_cpu_percent": steal,
            }
        self.figures["loop_cpu_wait_ms_per_s"] = round(wait, 1) if wait == wait else None
        return self.percent

    @property
    def contended(self) -> bool:
        """Did other work take the server's CPU (:data:`CONTENDED`)?"""
        figures = self.figures
        others = (figures.get("others_on_server_cpu_percent") or 0.0) + (
            figures.get("steal_on_server_cpu_percent") or 0.0
        )
        return others > CONTENDED


def idle_cpu(server: Server, seconds: float = 1.0) -> float:
    meter = CpuMeter(server)
    meter.start()
    time.sleep(seconds)
    return meter.stop()


def wait_idle(server: Server, limit_s: float = 15.0, threshold: float = 5.0) -> float:
    """Wait (at most ``limit_s``) until the server's CPU falls under ``threshold`` %."""
    deadline = time.monotonic() + limit_s
    while True:
        cpu = idle_cpu(server, 0.5)
        if cpu < threshold or time.monotonic() > deadline or not server.alive():
            return cpu


# --- configuration through the API (and operators straight into the database) ----------


class Api:
    """The REST API as the installation's admin."""

    def __init__(self, base: str) -> None:
        self.client = httpx.Client(base_url=base, timeout=30)
        token = self.call("POST", "/api/v1/auth/login", {"login": "admin", "password": PASSWORD})
        self.client.headers["Authorization"] = f"Bearer {token['token']}"

    def call(self, method: str, path: str, body: Any = None) -> Any:
        response = self.client.request(method, path, json=body)
        if response.status_code >= 400:
            raise BenchError(f"{method} {path}: {response.status_code} {response.text[:500]}")
        return response.json() if response.content else None

    def close(self) -> None:
        self.client.close()


@dataclass
class Setup:
    """What :func:`configure` made: the tenant, the operators' ids and their logins."""

    tenant_id: int
    bulk_operators: list[int] = field(default_factory=list)
    probe_operators: list[int] = field(default_factory=list)
    logins: dict[int, str] = field(default_factory=dict)


#: Seconds until a queued call is talking: the short prompt before the queue (``num_1``,
#: "one": 0.4 s), routing and the operator's answer.
GREETING_S: Final = 1.0


def _queue_flow(queue_id: int) -> dict[str, Any]:
    """A word, then music on hold until an operator answers; the caller hangs up.

    The word is what makes a probe caller's socket learn the server's port (it talks
    only to where audio came from), so that its probe operator hears it in turn; an
    operator ready at once would otherwise be bridged before any audio was sent."""
    return {
        "start": "hello",
        "nodes": {
            "hello": {"type": "play", "prompt": "num_1", "next": "wait", "barge_in": False},
            "wait": {"type": "queue", "queue": queue_id},
        },
    }


#: The IVR load: a 5.7 s menu prompt, 1 s for a digit, the 3.9 s "invalid" prompt and the
#: menu again, ten times (about 100 s) before it thanks the caller and hangs up.
IVR_FLOW: Final = {
    "start": "menu",
    "nodes": {
        "menu": {
            "type": "menu",
            "prompt": "menu",
            "options": {"1": "bye", "2": "bye"},
            "timeout": 1,
            "retries": 9,
            "invalid_prompt": "invalid",
            "on_failure": "bye",
        },
        "bye": {"type": "play", "prompt": "thanks", "next": "end"},
        "end": {"type": "hangup"},
    },
}


def configure(api: Api, data: Path, bulk: int, probes: int, *, recording: bool) -> Setup:
    """Three hotlines with published flows (no business-hours node: the figures must not
    depend on the wall clock), two queues, and ``bulk + probes`` operators."""
    tenants = api.call("GET", "/api/v1/tenants")["items"]
    tenant = next(t["id"] for t in tenants if t["slug"] == "matryoshka")
    setup = Setup(tenant)
    hotlines: dict[str, int] = {}
    for key, number, record in (
        ("ivr", IVR_NUMBER, False),
        ("queue", QUEUE_NUMBER, recording),
        ("probe", PROBE_NUMBER, recording),
    ):
        hotline = api.call(
            "POST",
            "/api/v1/hotlines",
            {
                "tenant_id": tenant,
                "name": f"Bench {key}",
                "timezone": "UTC",
                "language": "en",
                "numbers": [number],
                "recording_enabled": record,
            },
        )
        hotlines[key] = hotline["id"]
    api.call(
        "POST", f"/api/v1/hotlines/{hotlines['ivr']}/flows", {"document": IVR_FLOW, "publish": True}
    )
    for key in ("queue", "probe"):
        queue = api.call(
            "POST",
            "/api/v1/queues",
            {
                "hotline_id": hotlines[key],
                "name": f"Bench {key}",
                "skill_requirement": "english >= 5",
                "wrap_up_seconds": 0,  # the next level's calls find everyone ready
            },
        )
        api.call(
            "POST",
            f"/api/v1/hotlines/{hotlines[key]}/flows",
            {"document": _queue_flow(queue["id"]), "publish": True},
        )
    plan = [(f"bench-op-{i:04d}", hotlines["queue"]) for i in range(bulk)]
    plan += [(f"bench-probe-{i:04d}", hotlines["probe"]) for i in range(probes)]
    ids = asyncio.run(_insert_operators(data, tenant, plan)) if plan else []
    setup.logins = dict(zip(ids, (login for login, _ in plan), strict=True))
    setup.bulk_operators, setup.probe_operators = ids[:bulk], ids[bulk:]
    if ids:
        # The API path of a SIP password; it also makes the server reload its directory.
        api.call("PUT", f"/api/v1/users/{ids[0]}/sip-password", {"password": PASSWORD})
    return setup


async def _insert_operators(data: Path, tenant: int, plan: list[tuple[str, int]]) -> list[int]:
    """Operators straight into the database, as ``hotline demo`` seeds its own: through
    the API each would cost an argon2 hash on the server's event loop (0.4 s here), so
    200 operators would take minutes.  They share the demo operators' password hash."""
    import sqlalchemy as sa

    from hotline.core.model import Role
    from hotline.store import models as m
    from hotline.store.db import Database, sqlite_url
    from hotline.telephony.registrar import SIP_REALM
    from hotline.telephony.sip.digest import ha1
    from hotline.users import DEFAULT_OPERATOR_CAPACITY

    db = Database(sqlite_url(data))
    try:
        async with db.system_session() as session:
            model = await session.scalar(sa.select(m.User).where(m.User.login == "john"))
            skill = await session.scalar(
                sa.select(m.Skill).where(m.Skill.tenant_id == tenant, m.Skill.name == "english")
            )
            if model is None or skill is None:
                raise BenchError("the demo has no operator 'john' or skill 'english' to copy")
            now = dt.datetime.now(dt.UTC)
            users = [
                m.User(
                    tenant_id=tenant,
                    login=login,
                    display_name=login,
                    role=Role.OPERATOR,
                    password_hash=model.password_hash,
                    locale="en",
                    capacity=dict(DEFAULT_OPERATOR_CAPACITY),
                    created_at=now,
                    sip_ha1=ha1(login, SIP_REALM, PASSWORD),
                    hotline_links=[m.UserHotline(hotline_id=hotline)],
                    skill_links=[m.OperatorSkill(skill_id=skill.id, level=6)],
                )
                for login, hotline in plan
            ]
            session.add_all(users)
            await session.commit()
            return [u.id for u in users]
    finally:
        await db.dispose()


def set_ready(api: Api, operator_ids: Sequence[int]) -> None:
    for operator in operator_ids:
        api.call("POST", f"/api/v1/operators/{operator}/state", {"state": "ready"})


# --- SIPp ------------------------------------------------------------------------------


class Sipp:
    """One SIPp process in its own directory (its statistics, RTT and error files)."""

    def __init__(self, name: str, work: Path, args: Sequence[str], nice: int | None) -> None:
        """Start SIPp; it inherits our CPU affinity, and gets ``nice`` (see LOAD_NICE)."""
        self.name = name
        self.dir = work / f"{name}-{time.time_ns()}"
        self.dir.mkdir(parents=True)
        for pcap in work.glob("*.pcap"):  # play_pcap_audio reads from the working dir
            (self.dir / pcap.name).symlink_to(pcap)
        command = [sipp_binary(), *args, "-nostdin", "-trace_stat", "-stf", "stat.csv", "-fd", "1"]
        command += ["-trace_err", "-error_file", "errors.log"]
        self.command = command
        with (self.dir / "stderr.log").open("wb") as err:
            self.proc = subprocess.Popen(  # noqa: S603 - our own command, fixed arguments
                command,
                cwd=self.dir,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=err,
                start_new_session=True,
            )
        if nice is not None:
            prioritise(self.proc.pid, nice)

    def wait(self, timeout: float) -> int:
        """SIPp's exit status (0: every call passed, 1: some failed); stopped on time-out."""
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.stop()
            return -1

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=3)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def stats(self) -> dict[str, str]:
        """The cumulative columns of the last line of SIPp's -trace_stat file."""
        try:
            lines = (self.dir / "stat.csv").read_text("latin-1").splitlines()
        except OSError:
            return {}
        if len(lines) < 2:
            return {}
        header, last = lines[0].split(";"), lines[-1].split(";")
        return {k.removesuffix("(C)"): v for k, v in zip(header, last, strict=False)}

    def counts(self) -> dict[str, int]:
        """Calls created, current, succeeded, failed (and why), retransmissions."""
        stats = self.stats()
        wanted = {"TotalCallCreated", "CurrentCall", "SuccessfulCall", "FailedCall"}
        wanted |= {"Retransmissions", "OutOfCallMsgs", "DeadCallMsgs"}
        out: dict[str, int] = {}
        for key, value in stats.items():
            counted = key in wanted or key.startswith("Failed")
            if counted and value.isdigit() and (key in wanted or int(value)):
                out[key] = int(value)
        return out

    def rtts_ms(self) -> list[float]:
        """Response time 1 (INVITE to 200 OK) of every call, -trace_rtt (1 ms steps)."""
        values: list[float] = []
        for path in self.dir.glob("*_rtt.csv"):
            for line in path.read_text("latin-1").splitlines()[1:]:
                parts = line.split(";")
                if len(parts) >= 3 and parts[2].strip() == "1":
                    values.append(float(parts[1]))
        return values

    def errors(self, lines: int = 5) -> list[str]:
        """The first few of SIPp's complaints (not its notes on pcap files and DNS)."""
        found: list[str] = []
        for name in ("stderr.log", "errors.log"):
            with contextlib.suppress(OSError):
                text = (self.dir / name).read_text("latin-1")
                found += [ln for ln in text.splitlines() if _SIPP_TROUBLE.search(ln)]
        return found[:lines]


@contextlib.contextmanager
def sipp_group() -> Iterator[list[Sipp]]:
    """SIPp processes started inside are stopped on the way out, whatever happened."""
    started: list[Sipp] = []
    try:
        yield started
    finally:
        for sipp in started:
            sipp.stop()


def write_pcaps(work: Path, seconds: float) -> None:
    """The callers' and the operators' audio: tones of ``seconds`` (sipmedia, sox)."""
    from tests.integration.sipmedia import tone_pcap

    tone_pcap(work / "caller.pcap", 440, seconds)
    tone_pcap(work / "operator.pcap", 1000, seconds)


def injection(path: Path, lines: Sequence[str]) -> Path:
    path.write_text("SEQUENTIAL\n" + "".join(f"{line};\n" for line in lines), "latin-1")
    return path


# --- probes: our own RTP endpoints ----------------------------------------------------


class Probe:
    """One RTP endpoint: learns its peer from the first packet, then talks every 20 ms."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.setblocking(False)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        try:
            self.sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
            self.kernel_stamps = True
        except OSError:
            self.kernel_stamps = False
        self.port: int = self.sock.getsockname()[1]
        self.reset()

    def reset(self) -> None:
        self.peer: tuple[str, int] | None = None
        self.ssrc = secrets.randbits(32)
        self.seq = secrets.randbits(16)
        self.timestamp = secrets.randbits(32)
        #: (arrival ns, seq, timestamp, ssrc, marker, send ns of a probe packet or -1)
        self.received: list[tuple[int, int, int, int, bool, int]] = []
        self.foreign = 0

    def drain(self) -> None:
        while True:
            try:
                data, ancillary, _, source = self.sock.recvmsg(2048, 64)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return  # ICMP from a closed server port, reported on the next call
            arrival = time.time_ns()
            for level, kind, value in ancillary:
                if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
                    seconds, nanos = _TIMESPEC.unpack(value[: _TIMESPEC.size])
                    arrival = seconds * 1_000_000_000 + nanos
            if len(data) < _RTP.size or data[0] >> 6 != 2:
                continue
            if self.peer is None:
                self.peer = source
            elif source != self.peer:
                self.foreign += 1
                continue
            _, second, seq, timestamp, ssrc = _RTP.unpack_from(data)
            sent = -1
            payload = data[_RTP.size :]
            if payload[:4] == PROBE_MAGIC:
                sent = _PROBE.unpack_from(payload)[1]
            self.received.append((arrival, seq, timestamp, ssrc, bool(second & 0x80), sent))

    def talk(self) -> None:
        if self.peer is None:
            return
        self.seq = (self.seq + 1) & 0xFFFF
        self.timestamp = (self.timestamp + CLOCK_HZ * 20 // 1000) & 0xFFFFFFFF
        header = _RTP.pack(0x80, 0, self.seq, self.timestamp, self.ssrc)
        payload = _PROBE.pack(PROBE_MAGIC, time.time_ns()).ljust(160, b"\xff")
        with contextlib.suppress(OSError):
            self.sock.sendto(header + payload, self.peer)

    def close(self) -> None:
        self.sock.close()


class Probes:
    """A thread that serves every probe: receives with kernel time stamps, and sends a
    packet every 20 ms on absolute deadlines while :attr:`talking`."""

    def __init__(self, count: int) -> None:
        self.probes = [Probe() for _ in range(count)]
        self.talking = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="probes", daemon=True)
        self._thread.start()

    @property
    def ports(self) -> list[int]:
        return [p.port for p in self.probes]

    def reset(self) -> None:
        with self._lock:
            for probe in self.probes:
                probe.reset()

    def _run(self) -> None:
        selector = selectors.DefaultSelector()
        for probe in self.probes:
            selector.register(probe.sock, selectors.EVENT_READ, probe)
        next_send = time.monotonic() + PTIME_S
        while not self._stop.is_set():
            ready = selector.select(max(0.0, next_send - time.monotonic()))
            with self._lock:
                for key, _ in ready:
                    key.data.drain()
                now = time.monotonic()
                if now >= next_send:
                    if self.talking.is_set():
                        for probe in self.probes:
                            probe.talk()
                    next_send += PTIME_S
                    if next_send < now:  # we were late: skip, as a sound card would
                        next_send = now + PTIME_S
        selector.close()

    def measure(self, start_ns: int, end_ns: int, indices: Sequence[int]) -> dict[str, Any]:
        """:func:`measure_streams` of the probes ``indices`` between the two instants."""
        with self._lock:
            chosen = [self.probes[i] for i in indices]
            records = [[r for r in p.received if start_ns <= r[0] <= end_ns] for p in chosen]
            foreign = sum(p.foreign for p in chosen)
        figures = measure_streams(records, foreign)
        figures["kernel_timestamps"] = all(p.kernel_stamps for p in chosen)
        return figures

    def dump(self, path: Path, start_ns: int, end_ns: int) -> None:
        """Every probe's packets, for a closer look (``--keep``)."""
        with self._lock:
            data = [p.received for p in self.probes]
        path.write_text(json.dumps({"start_ns": start_ns, "end_ns": end_ns, "probes": data}))

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        for probe in self.probes:
            probe.close()


def measure_streams(
    records: list[list[tuple[int, int, int, int, bool, int]]], foreign: int = 0
) -> dict[str, Any]:
    """Lateness, inter-arrival deviation, loss and skipped frames of the server's own
    audio, and one-way delay of relayed probe packets (see the module docstring)."""
    lateness: list[float] = []
    deviation: list[float] = []
    delay: list[float] = []
    packets = relayed = lost = expected = skipped = 0
    probes_heard = probes_relayed = 0
    for stream in records:
        probes_heard += bool(stream)
        probes_relayed += any(r[5] >= 0 for r in stream)
        by_ssrc: dict[int, list[tuple[int, int, int, int, bool, int]]] = {}
        for record in stream:
            by_ssrc.setdefault(record[3], []).append(record)
        for rows in by_ssrc.values():
            rows.sort()
            own = [r for r in rows if r[5] < 0]
            packets += len(own)
            relayed += len(rows) - len(own)
            delay += [(r[0] - r[5]) / 1e6 for r in rows if r[5] >= 0]
            seq0 = rows[0][1]
            numbers = {(r[1] - seq0) & 0xFFFF for r in rows}
            expected += max(numbers) + 1
            lost += max(numbers) + 1 - len(numbers)
            if not own:
                continue
            ts0 = own[0][2]
            transit = [r[0] / 1e9 - ((r[2] - ts0) & 0xFFFFFFFF) / CLOCK_HZ for r in own]
            best = min(transit)
            lateness += [(t - best) * 1000 for t in transit]
            for a, b in itertools.pairwise(own):
                if (b[1] - a[1]) & 0xFFFF != 1:
                    continue
                step = ((b[2] - a[2]) & 0xFFFFFFFF) / CLOCK_HZ
                deviation.append(abs((b[0] - a[0]) / 1e9 - step) * 1000)
                frames = round(step / PTIME_S)
                if frames > 1 and not b[4]:
                    skipped += frames - 1
    limit = TARGETS["p99_lateness_ms"]
    return {
        "probes_heard": probes_heard,
        "probes_heard_relay": probes_relayed,
        "packets": packets,
        "lateness_ms": quantiles(lateness),
        "lateness_over_10ms_percent": _share_over(lateness, limit),
        "interarrival_deviation_ms": quantiles(deviation),
        "relayed_packets": relayed,
        "relay_delay_ms": quantiles(delay),
        "relay_delay_over_10ms_percent": _share_over(delay, limit),
        "lost": lost,
        "skipped_frames": skipped,
        # Frames the server skipped after a stall never reach the receiver either.
        "loss_percent": round(100 * (lost + skipped) / (expected + skipped), 3)
        if expected
        else None,
        "foreign_packets": foreign,
    }


def _share_over(values: Sequence[float], limit: float) -> float | None:
    return round(100 * sum(v >= limit for v in values) / len(values), 3) if values else None


# --- phases ----------------------------------------------------------------------------


@dataclass
class Options:
    phases: list[str]
    rates: list[int]
    ivr_levels: list[int]
    bridged_levels: list[int]
    duration: float
    hold_ms: int
    ramp_rate: int
    probes: int
    settle: float
    recording: bool
    pin: bool
    priority: bool
    stop_patience: float
    prompts: Path
    keep: bool


@dataclass
class Context:
    options: Options
    work: Path
    data: Path
    sipp_cpu: int | None
    server_cpu: int | None
    server: Server | None = None
    setup: Setup | None = None
    probes: Probes | None = None
    restarts: int = 0

    def live_server(self) -> Server:
        """The server, restarted when a phase left it dead."""
        if self.server is None or not self.server.alive():
            if self.server is not None:
                self.restarts += 1
            self.server = Server.start(self.data, self.options.prompts, seed=False)
            self.server.pin(self.server_cpu, SERVER_NICE if self.options.priority else None)
        return self.server

    @property
    def load_nice(self) -> int | None:
        return LOAD_NICE if self.options.priority else None

    def sipp_args(self, server: Server, *extra: str) -> list[str]:
        return uac_args(server, *extra)


def uac_args(server: Server, *extra: str) -> list[str]:
    """A SIPp UAC towards the server: its own SIP and media ports."""
    ports = ["-p", str(free_port()), "-mi", "127.0.0.1", "-mp", str(free_port())]
    return [server.sip, "-i", "127.0.0.1", *ports, *extra]


def _level_verdict(level: dict[str, Any], target_key: str) -> None:
    calls = level["calls"]
    reasons = []
    if (
        calls["attempted"] < calls["wanted"]
        or calls["failed"] >= MAX_FAILED_SHARE * calls["wanted"]
    ):
        reasons.append(f"{calls['failed']} of {calls['wanted']} calls failed or were not made")
    rtp = level["rtp"]
    heard = rtp["probes_heard_relay" if target_key == "relay_delay_ms" else "probes_heard"]
    if heard < level["probe_sockets"]:
        reasons.append(f"only {heard} of {level['probe_sockets']} probes heard the audio measured")
    p99 = rtp[target_key]["p99"]
    if p99 is None or p99 >= TARGETS["p99_lateness_ms"]:
        reasons.append(f"p99 {target_key} {p99} ms")
    if rtp["loss_percent"] is None or rtp["loss_percent"] >= 1.0:
        reasons.append(f"loss {rtp['loss_percent']} %")
    level["ok"] = not reasons
    level["why_not"] = reasons


def _hold_level(
    ctx: Context,
    concurrent: int,
    bulk_number: str,
    probe_number: str,
    *,
    lateness_key: str,
    operators: Sipp | None = None,
    settle: float = 0.0,
) -> dict[str, Any]:
    """One level; run again once when it failed while other work took the server's CPU
    (the figures are then the second run's, the first one's verdict is kept)."""
    level = _attempt_level(
        ctx, concurrent, bulk_number, probe_number, lateness_key, operators, settle
    )
    if not level["ok"] and level["contention"]["contended"] and level["server_alive"]:
        first = {"why_not": level["why_not"], "contention": level["contention"]}
        wait_idle(ctx.live_server())
        level = _attempt_level(
            ctx, concurrent, bulk_number, probe_number, lateness_key, operators, settle
        )
        level["first_attempt"] = first
    return level


def _attempt_level(
    ctx: Context,
    concurrent: int,
    bulk_number: str,
    probe_number: str,
    lateness_key: str,
    operators: Sipp | None,
    settle: float,
) -> dict[str, Any]:
    """Ramp ``concurrent`` calls up (``probes`` of them ours), hold, measure, hang up.

    Probe callers use the first ``k`` probe sockets; with ``operators`` (bridged), the
    probe operators' phones use ``k`` more from index ``options.probes`` on."""
    options = ctx.options
    server = ctx.live_server()
    probes = ctx.probes
    assert probes is not None  # noqa: S101 - set by the phase
    k = min(options.probes, concurrent)
    bulk = concurrent - k
    ramp = max(bulk / options.ramp_rate, k / 20)
    settle += options.settle
    hold_s = ramp + settle + options.duration + 1.0
    # Threads the server started since (uvloop's resolver pool...) go to its CPU too.
    server.pin(ctx.server_cpu, SERVER_NICE if options.priority else None)
    probes.reset()
    probes.talking.set()
    ports = injection(
        ctx.work / f"probe-callers-{concurrent}.csv", [str(p) for p in probes.ports[:k]]
    )
    cpu = CpuMeter(server, ctx.server_cpu)
    sockets = list(range(k))
    if operators is not None:
        sockets += range(options.probes, options.probes + k)
    level: dict[str, Any] = {"concurrent": concurrent, "probes": k, "probe_sockets": len(sockets)}
    with sipp_group() as group:
        common = ["-d", str(round(hold_s * 1000)), "-recv_timeout", "20000"]
        common += ["-timeout", f"{round(hold_s + ramp + 30)}s"]
        if k:
            args = ["-sf", str(SCENARIOS / "uac_probe.xml"), "-s", probe_number, "-inf", str(ports)]
            args += ["-m", str(k), "-l", str(k), "-r", "20", *common]
            group.append(
                Sipp("probe-callers", ctx.work, ctx.sipp_args(server, *args), ctx.load_nice)
            )
        if bulk:
            args = ["-sf", str(SCENARIOS / "uac_media.xml"), "-s", bulk_number]
            args += ["-m", str(bulk), "-l", str(bulk), "-r", str(options.ramp_rate), *common]
            group.append(Sipp("callers", ctx.work, ctx.sipp_args(server, *args), ctx.load_nice))
        time.sleep(ramp + settle)
        start_ns = time.time_ns()
        cpu.start()
        time.sleep(options.duration)
        cpu.stop()
        end_ns = time.time_ns()
        in_progress = sum(s.counts().get("CurrentCall", 0) for s in group)
        answered_by_phones = None if operators is None else operators.counts().get("CurrentCall", 0)
        probes.talking.clear()  # before the BYEs: never talk into a port a new leg may get
        statuses = [s.wait(hold_s + ramp + 40) for s in group]
        counts = [s.counts() for s in group]
        errors = [e for s in group for e in s.errors(3)]
    level["cpu_percent"] = cpu.percent
    level["cpu_percent_per_call"] = round(cpu.percent / concurrent, 4)
    level["contention"] = cpu.figures | {"contended": cpu.contended}
    level["calls"] = {
        "wanted": concurrent,
        "attempted": sum(c.get("TotalCallCreated", 0) for c in counts),
        "succeeded": sum(c.get("SuccessfulCall", 0) for c in counts),
        "failed": sum(c.get("FailedCall", 0) for c in counts),
        "in_progress_during_window": in_progress,
        "sipp_exit": statuses,
    }
    if answered_by_phones is not None:
        level["calls"]["bulk_operator_phones_talking"] = answered_by_phones
    level["rtp"] = probes.measure(start_ns, end_ns, sockets)
    if options.keep:
        probes.dump(ctx.work / f"probes-{lateness_key}-{concurrent}.json", start_ns, end_ns)
    if errors:
        level["sipp_errors"] = errors
    _level_verdict(level, lateness_key)
    level["server_alive"] = server.alive()
    return level


def phase_ivr(ctx: Context) -> dict[str, Any]:
    server = ctx.live_server()
    result: dict[str, Any] = {
        "what": "calls held in an IVR menu, callers sending a tone; probes measure lateness",
        "idle_cpu_percent": idle_cpu(server, 1.0 if ctx.options.duration >= 5 else 0.5),
        "levels": [],
    }
    ctx.probes = Probes(ctx.options.probes)
    try:
        for n in ctx.options.ivr_levels:
            level = _hold_level(ctx, n, IVR_NUMBER, IVR_NUMBER, lateness_key="lateness_ms")
            result["levels"].append(level)
            wait_idle(ctx.live_server())
            if not level["server_alive"]:
                break
    finally:
        ctx.probes.close()
        ctx.probes = None
    result["reached"] = max((lv["concurrent"] for lv in result["levels"] if lv["ok"]), default=0)
    return result


def phase_bridged(ctx: Context) -> dict[str, Any]:
    options, setup = ctx.options, ctx.setup
    assert setup is not None  # noqa: S101 - configured by run()
    server = ctx.live_server()
    api = Api(server.http)
    result: dict[str, Any] = {
        "what": "calls queued, answered by operators' phones, RTP both ways through the relay",
        "recording": options.recording,
        "idle_cpu_percent": idle_cpu(server, 1.0 if ctx.options.duration >= 5 else 0.5),
        "levels": [],
    }
    # Probe callers use the first K sockets (see _hold_level), probe operators the next K.
    ctx.probes = Probes(2 * options.probes)
    probe_ops = setup.probe_operators
    try:
        with sipp_group() as phones:
            bulk_port, probe_port = free_port(), free_port()
            uas = ["-sf", str(SCENARIOS / "uas_operator.xml"), "-i", "127.0.0.1"]
            uas += ["-p", str(bulk_port), "-mi", "127.0.0.1", "-mp", str(free_port())]
            operators = Sipp("operator-phones", ctx.work, uas, ctx.load_nice)
            phones.append(operators)
            op_ports = injection(
                ctx.work / "probe-operators.csv",
                [str(p) for p in ctx.probes.ports[options.probes :]],
            )
            uas = ["-sf", str(SCENARIOS / "uas_probe.xml"), "-i", "127.0.0.1"]
            uas += ["-p", str(probe_port), "-inf", str(op_ports), "-mi", "127.0.0.1"]
            uas += ["-mp", str(free_port())]
            phones.append(Sipp("probe-phones", ctx.work, uas, ctx.load_nice))
            t0 = time.monotonic()
            lines = [
                f"{setup.logins[op]};{probe_port if op in probe_ops else bulk_port};"
                f"[authentication username={setup.logins[op]} password={PASSWORD}]"
                for op in [*setup.bulk_operators, *probe_ops]
            ]
            register = ["-sf", str(SCENARIOS / "register_many.xml")]
            register += ["-inf", str(injection(ctx.work / "operators.csv", lines))]
            register += ["-m", str(len(lines)), "-r", "200", "-l", "100", "-timeout", "60s"]
            reg = Sipp("register", ctx.work, ctx.sipp_args(server, *register), ctx.load_nice)
            phones.append(reg)
            status = reg.wait(70)
            registered = reg.counts()
            set_ready(api, [*setup.bulk_operators, *probe_ops])
            result["operators"] = {
                "count": len(lines),
                "registered": registered.get("SuccessfulCall", 0),
                "register_exit": status,
                "register_and_ready_seconds": round(time.monotonic() - t0, 1),
            }
            for n in options.bridged_levels:
                level = _hold_level(
                    ctx,
                    n,
                    QUEUE_NUMBER,
                    PROBE_NUMBER,
                    lateness_key="relay_delay_ms",
                    operators=operators,
                    settle=GREETING_S,
                )
                result["levels"].append(level)
                wait_idle(ctx.live_server())
                if not level["server_alive"]:
                    break
    finally:
        api.close()
        ctx.probes.close()
        ctx.probes = None
    result["reached"] = max((lv["concurrent"] for lv in result["levels"] if lv["ok"]), default=0)
    return result


def phase_setup(ctx: Context) -> dict[str, Any]:
    options = ctx.options
    result: dict[str, Any] = {
        "what": f"INVITE, 200, ACK, {options.hold_ms} ms, BYE; {options.duration} s a rate",
        "clean": f"under {MAX_FAILED_SHARE:.0%} failed and p99 set-up under T1 ({T1_MS} ms)",
        "rates": [],
    }

    def one(rate: int) -> dict[str, Any]:
        server = ctx.live_server()
        wanted = round(rate * options.duration)
        args = ["-sf", str(SCENARIOS / "uac_call.xml"), "-s", IVR_NUMBER, "-r", str(rate)]
        args += ["-m", str(wanted), "-l", str(max(wanted, 1)), "-d", str(options.hold_ms)]
        args += ["-trace_rtt", "-rtt_freq", "100"]
        args += ["-recv_timeout", "10000", "-timeout", f"{round(options.duration + 60)}s"]
        cpu = CpuMeter(server, ctx.server_cpu)
        with sipp_group() as group:
            cpu.start()
            sipp = Sipp(f"setup-{rate}", ctx.work, ctx.sipp_args(server, *args), ctx.load_nice)
            group.append(sipp)
            status = sipp.wait(options.duration + 90)
            cpu.stop()
            elapsed = time.monotonic() - cpu.t0
        counts = sipp.counts()
        failed = counts.get("FailedCall", 0)
        attempted = counts.get("TotalCallCreated", 0)
        row: dict[str, Any] = {
            "rate": rate,
            "seconds": round(elapsed, 1),
            "attempted": attempted,
            "succeeded": counts.get("SuccessfulCall", 0),
            "failed": failed,
            "failed_percent": round(100 * failed / attempted, 2) if attempted else None,
            "setup_ms": quantiles(sipp.rtts_ms(), 1),
            "cpu_percent": cpu.percent,
            "contention": cpu.figures | {"contended": cpu.contended},
            "retransmissions": counts.get("Retransmissions", 0),
            "failures": {
                k: v for k, v in counts.items() if k.startswith("Failed") and k != "FailedCall"
            },
            "sipp_exit": status,
            "server_alive": server.alive(),
        }
        few_failed = attempted >= wanted and failed < MAX_FAILED_SHARE * wanted
        p99 = row["setup_ms"]["p99"]
        row["under_1pct_failed"] = few_failed and row["server_alive"]
        row["ok"] = row["under_1pct_failed"] and p99 is not None and p99 < T1_MS
        if failed:
            row["sipp_errors"] = sipp.errors(3)
        return row

    rows: list[dict[str, Any]] = result["rates"]
    for rate in options.rates:
        row = one(rate)
        if not row["ok"] and row["contention"]["contended"] and row["server_alive"]:
            wait_idle(ctx.live_server())
            first = {"setup_ms": row["setup_ms"], "contention": row["contention"]}
            row = one(rate) | {"first_attempt": first}
        rows.append(row)
        if row["attempted"] and row["failed"] > GIVE_UP_SHARE * row["attempted"]:
            break  # far past saturation: higher rates only take longer to fail
        wait_idle(ctx.live_server())
    result["max_rate_under_1pct_failed"] = max(
        (r["rate"] for r in rows if r["under_1pct_failed"]), default=0
    )
    result["max_clean_rate"] = max((r["rate"] for r in rows if r["ok"]), default=0)
    return result


PHASES: Final = {"ivr": phase_ivr, "bridged": phase_bridged, "setup": phase_setup}


def run(options: Options) -> dict[str, Any]:
    sipp_binary()
    two = options.pin and (os.cpu_count() or 1) >= 2
    server_cpu, sipp_cpu = (0, 1) if two else (None, None)
    options.prompts.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="hotline-sip-load-"))
    ctx = Context(options, work, work / "data", sipp_cpu, server_cpu)
    result: dict[str, Any] = {"targets": TARGETS}
    timings: dict[str, float] = {}
    lap = time.monotonic()

    def clock(step: str) -> None:
        nonlocal lap
        now = time.monotonic()
        timings[step] = round(now - lap, 1)
        lap = now

    try:
        hold_max = max(
            [lv / options.ramp_rate for lv in [*options.ivr_levels, *options.bridged_levels]] or [0]
        )
        # Seeding hashes nine passwords (argon2) in threads: let it use both CPUs, then
        # pin every thread of the server to CPU 0 before any load, and this process (the
        # probes) and the SIPp processes it starts to CPU 1.  While it starts: the pcaps,
        # and the imports that configure() needs.
        ctx.server = Server.spawn(ctx.data, options.prompts, seed=True)
        write_pcaps(work, hold_max + options.settle + GREETING_S + options.duration + 30)
        for module in ("hotline.store.db", "hotline.store.models", "hotline.users"):
            importlib.import_module(module)
        ctx.server.wait_ready()
        ctx.server.pin(server_cpu, SERVER_NICE if options.priority else None)
        if sipp_cpu is not None:
            os.sched_setaffinity(0, {sipp_cpu})
        clock("server_start")
        api = Api(ctx.server.http)
        try:
            bulk = max([*options.bridged_levels, 0]) - options.probes
            wants_ops = "bridged" in options.phases
            ctx.setup = configure(
                api,
                ctx.data,
                max(bulk, 0) if wants_ops else 0,
                options.probes if wants_ops else 0,
                recording=options.recording,
            )
        finally:
            api.close()
        clock("configure")
        for name in ("ivr", "bridged", "setup"):
            if name in options.phases:
                wait_idle(ctx.live_server())
                try:
                    result[name] = PHASES[name](ctx)
                except BenchError as exc:
                    result[name] = {"error": str(exc)}
                clock(name)
    finally:
        if ctx.server is not None:
            result["server_stop"] = ctx.server.stop(options.stop_patience)
        clock("server_stop")
        if not options.keep:
            shutil.rmtree(work, ignore_errors=True)
    result["summary"] = summary(result)
    result["server_restarts"] = ctx.restarts
    result["seconds"] = round(time.monotonic() - started, 1)
    result["timings_s"] = timings
    result["config"] = {
        "server": "hotline demo, in-process media, uvloop",
        "server_cpu": server_cpu,
        "sipp_cpu": sipp_cpu,
        "server_nice": SERVER_NICE if options.priority else 0,
        "sipp_nice": LOAD_NICE if options.priority else 0,
        "sipp": _sipp_version(),
        "revision": _revision(),
        "duration_s": options.duration,
        "ramp_rate": options.ramp_rate,
        "probes": options.probes,
        "work_dir": str(work) if options.keep else None,
    }
    result["machine"] = machine()
    return result


def summary(result: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "setup" in result and "max_clean_rate" in result["setup"]:
        rate = result["setup"]["max_clean_rate"]
        out["setup_calls_per_second"] = {
            "reached": rate,
            "target": TARGETS["setup_calls_per_second"],
        }
    for name in ("ivr", "bridged"):
        if name in result and "reached" in result[name]:
            out[f"{name}_concurrent_calls"] = {
                "reached": result[name]["reached"],
                "target": TARGETS[f"{name}_concurrent_calls"],
            }
    for value in out.values():
        value["met"] = value["reached"] >= value["target"]
    return out


def _revision() -> str:
    """The commit measured, with ``+changes`` when files under src/ differ from it."""
    root = Path(__file__).resolve().parents[1]
    git = shutil.which("git")
    if git is None:
        return "unknown"
    try:
        head = subprocess.run(  # noqa: S603 - a fixed command
            [git, "-C", str(root), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        ).stdout.strip()
        dirty = subprocess.run(  # noqa: S603 - a fixed command
            [git, "-C", str(root), "status", "--porcelain", "--", "src"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        ).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return f"{head}+changes" if dirty else head or "unknown"


def _sipp_version() -> str:
    try:
        text = subprocess.run(  # noqa: S603 - a fixed command
            [sipp_binary(), "-v"], capture_output=True, text=True, timeout=10, check=False
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    match = re.search(r"SIPp v[\w.\-]+", text)
    return match.group(0) if match else "unknown"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.add_argument("--quick", action="store_true", help="small levels, short windows (< 30 s)")
    parser.add_argument(
        "--scenario", choices=["all", *PHASES], default="all", help="run one phase only"
    )
    parser.add_argument("--rate", type=int, nargs="+", help="set-up rates, calls/s")
    parser.add_argument("--concurrent", type=int, nargs="+", help="levels of ivr and bridged")
    parser.add_argument("--ivr-calls", type=int, nargs="+", help="levels of the ivr phase")
    parser.add_argument("--bridged-calls", type=int, nargs="+", help="levels of bridged")
    parser.add_argument("--duration", type=float, help="seconds a rate / a level is measured")
    parser.add_argument("--hold-ms", type=int, default=1000, help="set-up calls' pause")
    parser.add_argument("--ramp-rate", type=int, default=100, help="calls/s to reach a level")
    parser.add_argument("--probes", type=int, help="probe calls per level")
    parser.add_argument("--no-recording", action="store_true", help="bridged calls unrecorded")
    parser.add_argument("--no-pin", action="store_true", help="do not pin server and SIPp")
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
        phases=list(PHASES) if args.scenario == "all" else [args.scenario],
        rates=args.rate or ([150] if quick else [50, 100, 150, 200, 250, 300]),
        ivr_levels=args.ivr_calls or args.concurrent or ([40] if quick else [100, 200, 400]),
        bridged_levels=args.bridged_calls or args.concurrent or ([20] if quick else [100, 200]),
        duration=args.duration or (2.0 if quick else 8.0),
        hold_ms=args.hold_ms,
        ramp_rate=args.ramp_rate,
        probes=args.probes if args.probes is not None else (4 if quick else 10),
        settle=0.5 if quick else 2.0,
        stop_patience=3.0 if quick else 10.0,
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
        raise SystemExit(2) from None
    if args.json:
        json.dump(result, sys.stdout)
        sys.stdout.write("\n")
    else:
        print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
