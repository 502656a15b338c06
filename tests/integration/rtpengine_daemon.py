"""A real rtpengine daemon for tests: foreground, user space, temp dirs, free ports.

Started with ``--table=-1`` (no kernel module), one interface on 127.0.0.1, the ng
control socket and the DTMF event destination on free UDP ports, pcap recordings under
the test's temp dir.  Stopped by its PID (SIGTERM, then SIGKILL after 5 s).
"""

from __future__ import annotations

import contextlib
import os
import random
import secrets
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from hotline.telephony.media import ng

RTPENGINE = shutil.which("rtpengine") or "/usr/bin/rtpengine"
START_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class Daemon:
    pid: int
    ng: tuple[str, int]
    dtmf: tuple[str, int]
    recording_dir: Path
    log_path: Path
    port_min: int
    port_max: int

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def free_tcp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def free_port_range(count: int) -> tuple[int, int]:
    """``count`` consecutive UDP ports on 127.0.0.1 that are free right now, below the
    kernel's ephemeral range (32768 and up by default), so no socket bound to port 0
    (a test's phone, SIPp) takes one of them while the daemon runs."""
    for _ in range(100):
        low = random.randrange(20000, 32768 - count, 2)
        probes: list[socket.socket] = []
        try:
            for port in range(low, low + count):
                probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                probes.append(probe)
                probe.bind(("127.0.0.1", port))
            return low, low + count - 1
        except OSError:
            continue
        finally:
            for probe in probes:
                probe.close()
    raise RuntimeError("no free UDP port range on 127.0.0.1")


def ping(address: tuple[str, int], timeout: float = 0.2) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout)
        cookie = secrets.token_hex(4)
        sock.sendto(ng.request_datagram(cookie, "ping", {}), address)
        try:
            data = sock.recv(4096)
        except OSError:
            return False
        got, body = ng.parse_reply(data)
        return got == cookie and ng.reply_dict("ping", body).get("result") == b"pong"


@contextlib.contextmanager
def running_rtpengine(
    workdir: Path,
    *,
    ports: int = 400,
    port_range: tuple[int, int] | None = None,
    extra_args: tuple[str, ...] = (),
) -> Iterator[Daemon]:
    """Start the daemon, wait until it answers ``ping``, stop it by PID at the end."""
    workdir.mkdir(parents=True, exist_ok=True)
    low, high = port_range or free_port_range(ports)
    ng_address = ("127.0.0.1", free_udp_port())
    dtmf = ("127.0.0.1", free_udp_port())
    recording_dir = workdir / "recordings"
    log_path = workdir / "rtpengine.log"
    argv = [
        RTPENGINE,
        "--config-file=none",  # not Debian's /etc/rtpengine/rtpengine.conf
        "--foreground",
        "--log-stderr",
        "--log-level=6",
        "--table=-1",
        "--interface=127.0.0.1",
        f"--listen-ng={ng_address[0]}:{ng_address[1]}",
        # the CLI listens on TCP 127.0.0.1:9900 by default: two daemons would collide
        f"--listen-cli=127.0.0.1:{free_tcp_port()}",
        f"--port-min={low}",
        f"--port-max={high}",
        f"--dtmf-log-dest={dtmf[0]}:{dtmf[1]}",
        f"--recording-dir={recording_dir}",
        "--recording-method=pcap",
        "--delete-delay=0",
        "--num-threads=2",
        f"--pidfile={workdir / 'rtpengine.pid'}",
        *extra_args,
    ]
    with log_path.open("wb") as log:
        process = subprocess.Popen(  # noqa: S603 - fixed argv, our binary
            argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=workdir
        )
    daemon = Daemon(process.pid, ng_address, dtmf, recording_dir, log_path, low, high)
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not ping(ng_address):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"rtpengine did not start: {argv}\n{daemon.log_text()}")
        yield daemon
    finally:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGTERM)
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:
                os.kill(process.pid, signal.SIGKILL)
                process.wait(5)
