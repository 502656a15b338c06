"""``hotline demo`` as users run it: a real process, real sockets, stopped by SIGTERM.

Two instances run side by side (separate data directories and ports) to prove that nothing
is shared between processes: no fixed port, no file outside ``--data``.
"""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

PASSWORD = "pw12345678"
#: Seeding hashes nine passwords with argon2 and migrating takes seconds on a busy CI box.
READY_TIMEOUT_S = 90.0
STOP_TIMEOUT_S = 30.0
READY = re.compile(r"hotline ready http=(?P<http>http://\S+) sip=(?P<sip>\S+)")

pytestmark = pytest.mark.slow


def free_port() -> int:
    """A port free for TCP and UDP on 127.0.0.1 (SIP listens on both)."""
    for _ in range(20):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
            tcp.bind(("127.0.0.1", 0))
            port = int(tcp.getsockname()[1])
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
                try:
                    udp.bind(("127.0.0.1", port))
                except OSError:
                    continue
                return port
    raise RuntimeError("no port free for both TCP and UDP after 20 tries")


@dataclass
class Instance:
    """One ``hotline demo`` process; its merged stdout/stderr is read by a thread."""

    proc: subprocess.Popen[str]
    lines: queue.Queue[str | None] = field(default_factory=queue.Queue)
    output: list[str] = field(default_factory=list)
    http: str = ""
    sip: str = ""

    def __post_init__(self) -> None:
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line)
        self.lines.put(None)  # end of output

    def wait_ready(self, timeout: float) -> None:
        """Read lines until ``hotline ready``; fail with the output so far otherwise."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            try:
                line = self.lines.get(timeout=max(remaining, 0.001))
            except queue.Empty:
                pytest.fail(f"no 'hotline ready' within {timeout} s:\n{''.join(self.output)}")
            if line is None:
                pytest.fail(f"exited with {self.proc.wait()} before ready:\n{''.join(self.output)}")
            self.output.append(line)
            if match := READY.search(line):
                self.http, self.sip = match["http"], match["sip"]
                return

    def stop(self) -> int:
        """SIGTERM, then the exit status; everything it printed is kept in ``output``."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            status = self.proc.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            status = self.proc.wait()
        while (line := self.lines.get(timeout=STOP_TIMEOUT_S)) is not None:
            self.output.append(line)
        assert self.proc.stdout is not None
        self.proc.stdout.close()
        return status


def hotline_command() -> list[str]:
    if (Path(__file__).parents[2] / "src" / "hotline" / "__main__.py").exists():
        return [sys.executable, "-m", "hotline"]
    return [str(Path(sys.executable).with_name("hotline"))]


def start_demo(
    data: Path,
    http: str,
    sip: str,
    *,
    prompts: Path | None = None,
    env_extra: dict[str, str] | None = None,
) -> Instance:
    """``hotline demo`` as a process; ``prompts`` shares rendered voice prompts between
    servers of one test session (rendering them takes seconds); ``env_extra`` adds
    ``HOTLINE_*`` settings (e.g. the rtpengine media backend)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    # JSON logs make "the password never reaches the log" checkable line by line.
    env |= {"HOTLINE_LOG_FORMAT": "json", "PYTHONUNBUFFERED": "1", **(env_extra or {})}
    if prompts is not None:
        env["HOTLINE_PROMPTS_DIR"] = str(prompts)
    proc = subprocess.Popen(  # noqa: S603 - our own command, fixed arguments
        [*hotline_command(), "demo", "--data", str(data), "--http", http, "--sip", sip,
         "--demo-password", PASSWORD],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
        encoding="utf-8",
        env=env,
    )  # fmt: skip
    return Instance(proc)


@pytest.fixture
def instances(tmp_path: Path) -> Iterator[list[Instance]]:
    started: list[Instance] = []
    yield started
    for instance in started:  # a failed test must not leave servers behind
        if instance.proc.poll() is None:
            instance.stop()


def test_given_two_demo_instances_when_both_serve_then_each_answers_and_stops_cleanly(
    tmp_path: Path, instances: list[Instance]
) -> None:
    http_port, sip_port = free_port(), free_port()
    first = start_demo(tmp_path / "one", f"127.0.0.1:{http_port}", f"127.0.0.1:{sip_port}")
    instances.append(first)
    # Port 0: the server picks, and its ready line must say what it picked.
    second = start_demo(tmp_path / "two", "127.0.0.1:0", "127.0.0.1:0")
    instances.append(second)

    first.wait_ready(READY_TIMEOUT_S)
    second.wait_ready(READY_TIMEOUT_S)
    assert first.http == f"http://127.0.0.1:{http_port}"
    assert first.sip == f"127.0.0.1:{sip_port}"
    assert second.http != first.http
    assert not second.http.endswith(":0")
    assert not second.sip.endswith(":0")

    for instance in (first, second):
        with httpx.Client(base_url=instance.http, timeout=10) as client:
            health = client.get("/healthz")
            assert health.status_code == 200, health.text
            login = client.post("/api/v1/auth/login", json={"login": "vadim", "password": PASSWORD})
            assert login.status_code == 200, login.text
            assert login.json()["token"]
            wrong = client.post("/api/v1/auth/login", json={"login": "vadim", "password": "no"})
            assert wrong.status_code == 401

    statuses = [first.stop(), second.stop()]
    assert statuses == [0, 0], [i.output for i in (first, second)]

    for instance in (first, second):
        text = "".join(instance.output)
        # The password table was shown, once, with every demo login.
        assert text.count("Demo users") == 1, text
        assert "vadim" in text
        assert "john" in text
        assert PASSWORD in text
        # ...but never through the logger.
        for line in instance.output:
            try:
                record = json.loads(line)
            except ValueError:
                continue
            assert PASSWORD not in json.dumps(record, ensure_ascii=False), line
    assert (tmp_path / "one" / "hotline.db").exists()
    assert (tmp_path / "two" / "hotline.db").exists()


def test_given_a_foreign_admin_when_demo_starts_then_it_refuses_without_a_traceback(
    tmp_path: Path,
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    data = ["--data", str(tmp_path)]
    hotline = hotline_command()
    run = subprocess.run  # our own command, fixed arguments
    assert (
        run([*hotline, "migrate", *data], env=env, capture_output=True, check=False).returncode == 0
    )
    added = run(
        [*hotline, "user", "add", "admin", "--role", "admin", *data],
        env=env, capture_output=True, check=False, text=True,
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    demo = run(
        [*hotline, "demo", *data, "--http", "127.0.0.1:0", "--sip", "127.0.0.1:0"],
        env=env, capture_output=True, check=False, text=True, encoding="utf-8", timeout=120,
    )  # fmt: skip
    assert demo.returncode == 2, demo.stderr
    assert "error:" in demo.stderr
    assert "admin already exist" in " ".join(demo.stderr.split())
    assert "Traceback" not in demo.stderr
    assert "hotline ready" not in demo.stdout
