"""WebSocket fan-out: 500 operator desktops and 20 wallboards on one ``hotline serve``.

Issue 5 promises that pages update within one second of an event.  This measures it
end to end on a real server process: the database is seeded with one tenant, N operators
and M supervisors (session tokens inserted directly: logging 520 users in through argon2
would only time argon2), ``hotline serve`` is started, every page's WebSocket is opened
with its cookie, and then

* ``single``: one operator's state is changed through the REST API (as a supervisor's
  wallboard does), K times, one at a time; latency = from sending the request to that
  operator's desktop frame, and to the snapshot showing it on *each* wallboard;
* ``burst``: every operator's state is changed at once (a shift starting), requests sent
  with ``--concurrency`` in flight; latency = from the first request to each desktop's
  frame, and to the first snapshot on each wallboard that shows all N changed.

Run: ``python -m bench.ws_fanout --json`` (``--desktops``, ``--wallboards``, ``--events``).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect

from bench._machine import machine
from hotline.core.model import AfterHoursAction, Role, RoutingStrategy
from hotline.security import hash_password, token_digest
from hotline.store import models as m
from hotline.store.db import Database
from hotline.store.migrate import upgrade

READY = re.compile(r"hotline ready http=(?P<http>http://\S+) sip=(?P<sip>\S+)")
DEADLINE_S = 30.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def seed(db: Database, desktops: int, wallboards: int) -> dict[str, Any]:
    """One tenant, one hotline, ``desktops`` operators and ``wallboards`` supervisors."""
    now = dt.datetime.now(dt.UTC)
    pw = hash_password("bench-password-1")
    async with db.system_session() as s:
        tenant = m.Tenant(name="Bench", slug="bench", created_at=now)
        s.add(tenant)
        await s.flush()
        hotline = m.Hotline(
            tenant_id=tenant.id,
            name="Bench line",
            timezone="UTC",
            language="ru",
            greeting_template="Здравствуйте, меня зовут {operator}, компания {company}",
            business_hours={},
            after_hours_action=AfterHoursAction.VOICEMAIL,
            created_at=now,
        )
        s.add(hotline)
        await s.flush()
        s.add(
            m.Queue(
                tenant_id=tenant.id,
                hotline_id=hotline.id,
                name="Main",
                strategy=RoutingStrategy.LONGEST_IDLE,
                service_level_target=0.8,
                service_level_seconds=20,
                short_abandon_seconds=5,
                wrap_up_seconds=30,
                callback_threshold_seconds=180,
                max_wait_seconds=None,
            )
        )
        tokens: dict[str, list[tuple[int, str]]] = {"operator": [], "supervisor": []}
        for role, count in ((Role.OPERATOR, desktops), (Role.SUPERVISOR, wallboards)):
            for i in range(count):
                user = m.User(
                    tenant_id=tenant.id,
                    login=f"{role.value}{i:04d}",
                    display_name=f"{role.value} {i}",
                    role=role,
                    password_hash=pw,
                    capacity={"call": 1} if role is Role.OPERATOR else {},
                    created_at=now,
                )
                if role is Role.OPERATOR:
                    user.hotline_links = [m.UserHotline(hotline_id=hotline.id)]
                s.add(user)
                await s.flush()
                token = f"bench-{role.value}-{i}-{os.urandom(8).hex()}"
                s.add(
                    m.ApiToken(
                        user_id=user.id,
                        token_hash=token_digest(token),
                        kind="session",
                        created_at=now,
                        expires_at=now + dt.timedelta(hours=4),
                    )
                )
                tokens[role.value].append((user.id, token))
        await s.commit()
        return {"tenant_id": tenant.id, **tokens}


def start_server(data: Path) -> tuple[subprocess.Popen[str], str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    env |= {"PYTHONUNBUFFERED": "1", "HOTLINE_LOG_LEVEL": "warning"}
    command = [sys.executable, "-m", "hotline", "serve", "--data", str(data)]
    command += ["--http", "127.0.0.1:0", "--sip", f"127.0.0.1:{_free_port()}"]
    proc = subprocess.Popen(  # noqa: S603 - our own command
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
    )
    assert proc.stdout is not None  # noqa: S101 - PIPE above
    seen = []
    deadline = time.monotonic() + 120
    for line in proc.stdout:
        seen.append(line)
        if match := READY.search(line):
            # keep draining: a full pipe would stall the server mid-measurement
            threading.Thread(target=proc.stdout.read, daemon=True).start()
            return proc, match["http"]
        if time.monotonic() > deadline:
            break
    proc.kill()
    raise RuntimeError("hotline serve did not start:\n" + "".join(seen[-30:]))


class Page:
    """One open page: its frames as they arrive, and waiters on a condition."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.latest: dict[str, Any] | None = None
        self._waiters: list[tuple[Callable[[dict[str, Any]], bool], asyncio.Future[float]]] = []
        self.task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for raw in self.ws:
            at = time.perf_counter()
            frame = json.loads(raw)
            self.latest = frame
            for item in list(self._waiters):
                check, future = item
                if not future.done() and check(frame):
                    future.set_result(at)
                    self._waiters.remove(item)

    def when(self, check: Callable[[dict[str, Any]], bool]) -> asyncio.Future[float]:
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self._waiters.append((check, future))
        return future


def _state_is(state: str) -> Callable[[dict[str, Any]], bool]:
    return lambda f: f["type"] == "desktop.state" and f["data"]["state"] == state


def _board_shows(ids: set[int], state: str) -> Callable[[dict[str, Any]], bool]:
    def check(f: dict[str, Any]) -> bool:
        if f["type"] != "wallboard.snapshot":
            return False
        states = {o["id"]: o["state"] for o in f["data"]["operators"]}
        return all(states.get(i) == state for i in ids)

    return check


def _summary(values: list[float]) -> dict[str, float]:
    ms = sorted(v * 1000 for v in values)
    return {
        "n": len(ms),
        "p50_ms": round(statistics.median(ms), 1),
        "p95_ms": round(ms[min(len(ms) - 1, int(len(ms) * 0.95))], 1),
        "max_ms": round(ms[-1], 1),
    }


async def measure(
    base: str, seeded: dict[str, Any], events: int, concurrency: int
) -> dict[str, Any]:
    ws_base = base.replace("http://", "ws://")
    tenant = seeded["tenant_id"]
    started = time.perf_counter()

    async def open_page(path: str, token: str) -> Page:
        ws = await connect(
            ws_base + path,
            additional_headers={"Cookie": f"hotline_session={token}"},
            max_size=None,
            open_timeout=60,
        )
        return Page(ws)

    desks = {oid: await open_page("/ws/desktop", token) for oid, token in seeded["operator"]}
    boards = [
        await open_page(f"/ws/wallboard/{tenant}", token) for _, token in seeded["supervisor"]
    ]
    connect_s = time.perf_counter() - started
    sup_token = seeded["supervisor"][0][1]
    headers = {"Authorization": f"Bearer {sup_token}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=60) as http:
        single_desk, single_board = [], []
        for oid in list(desks)[:events]:
            desk_done = desks[oid].when(_state_is("ready"))
            board_done = [b.when(_board_shows({oid}, "ready")) for b in boards]
            t0 = time.perf_counter()
            r = await http.post(f"/api/v1/operators/{oid}/state", json={"state": "ready"})
            r.raise_for_status()
            async with asyncio.timeout(DEADLINE_S):
                single_desk.append(await desk_done - t0)
                single_board += [await f - t0 for f in board_done]

        everyone = set(desks)
        desk_done_all = {oid: d.when(_state_is("not_ready")) for oid, d in desks.items()}
        board_done_all = [b.when(_board_shows(everyone, "not_ready")) for b in boards]
        gate = asyncio.Semaphore(concurrency)

        async def change(oid: int) -> None:
            async with gate:
                r = await http.post(
                    f"/api/v1/operators/{oid}/state", json={"state": "not_ready", "reason": "break"}
                )
                r.raise_for_status()

        t0 = time.perf_counter()
        await asyncio.gather(*(change(oid) for oid in desks))
        sent_s = time.perf_counter() - t0
        async with asyncio.timeout(DEADLINE_S * 4):
            burst_desk = [await f - t0 for f in desk_done_all.values()]
            burst_board = [await f - t0 for f in board_done_all]
    snapshot_bytes = len(json.dumps(boards[0].latest, ensure_ascii=False).encode())
    for page in [*desks.values(), *boards]:
        await page.ws.close()
        page.task.cancel()
    return {
        "connect_all_seconds": round(connect_s, 2),
        "single": {
            "events": len(single_desk),
            "desktop": _summary(single_desk),
            "wallboard": _summary(single_board),
        },
        "burst": {
            "state_changes": len(desks),
            "concurrency": concurrency,
            "requests_sent_seconds": round(sent_s, 2),
            "desktop": _summary(burst_desk),
            "wallboard_all_shown": _summary(burst_board),
        },
        "wallboard_snapshot_bytes": snapshot_bytes,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.add_argument("--desktops", type=int, default=500)
    parser.add_argument("--wallboards", type=int, default=20)
    parser.add_argument("--events", type=int, default=30, help="single events measured")
    parser.add_argument("--concurrency", type=int, default=20, help="burst requests in flight")
    args = parser.parse_args(argv)
    if args.desktops < 1 or args.wallboards < 1:
        parser.error(
            "--desktops and --wallboards must be at least 1 (a supervisor sends the changes)"
        )
    with tempfile.TemporaryDirectory(prefix="ws-fanout-") as tmp:
        data = Path(tmp)
        db = Database(f"sqlite+aiosqlite:///{data / 'hotline.db'}")

        async def prepare() -> dict[str, Any]:
            try:
                await upgrade(db.engine)
                return await seed(db, args.desktops, args.wallboards)
            finally:
                await db.dispose()

        seeded = asyncio.run(prepare())
        proc, base = start_server(data)
        try:
            figures = asyncio.run(
                measure(base, seeded, min(args.events, args.desktops), args.concurrency)
            )
        finally:
            proc.terminate()
            proc.wait(timeout=30)
            if proc.stdout is not None:
                proc.stdout.close()
    report: dict[str, Any] = {
        "benchmark": "WebSocket fan-out of live events to operator desktops and wallboards",
        "command": "python -m bench.ws_fanout --json",
        "desktops": args.desktops,
        "wallboards": args.wallboards,
        "database": "sqlite",
        **figures,
        "promise_ms": 1000,
        "machine": machine(),
    }
    if args.json:
        json.dump(report, sys.stdout, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        print(json.dumps(report, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
