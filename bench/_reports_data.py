"""Data for ``bench.reports``: a generated month of rollup rows, bulk loading, samples."""

from __future__ import annotations

import datetime as dt
import os
import random
import sqlite3
import time
import uuid
from collections.abc import Iterator
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from hotline.core.kpi import QueueVisit, VisitOutcome
from hotline.core.kpi.history import HistoryRow
from hotline.core.kpi.rollup import SUM_FIELDS
from hotline.core.model import AfterHoursAction, Role, RoutingStrategy
from hotline.store import models as m
from hotline.store.db import Database

PG_URL = os.environ.get(
    "HOTLINE_BENCH_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
MONTH_START = dt.datetime(2026, 10, 1, tzinfo=dt.UTC)
ZONES = ("Europe/Moscow", "Asia/Kolkata", "Europe/Berlin")
SOURCES = ("ads", "site", "tv", "partner", "")
TOPICS = ("order", "refund", "delivery", "billing", "tech", "complaint", "other", "")
CHANNELS = ("call", "chat")
COLUMNS = (
    "tenant_id",
    "hotline_id",
    "queue_id",
    "quarter",
    "interval_start",
    "answer_within",
    "short_abandon",
    "dimension",
    "value",
    *SUM_FIELDS,
)


#: our own column names only, no input
INSERT_SQL = (
    f"INSERT INTO kpi_rollups ({','.join(COLUMNS)}) "  # noqa: S608
    f"VALUES ({','.join('?' * len(COLUMNS))})"
)


# --- the center -----------------------------------------------------------------------------


async def seed_center(
    db: Database, queues: int, operators: int
) -> tuple[int, list[int], list[int]]:
    """Tenant, hotlines (one per zone), queues and operators; returns their ids."""
    now = dt.datetime.now(dt.UTC)
    async with db.system_session() as s, s.begin():
        tenant = m.Tenant(name="Bench", slug=f"bench-{uuid.uuid4().hex[:8]}", created_at=now)
        s.add(tenant)
        await s.flush()
        hotlines = []
        for zone in ZONES:
            hotline = m.Hotline(
                tenant_id=tenant.id,
                name=zone,
                timezone=zone,
                greeting_template="Hello",
                after_hours_action=AfterHoursAction.VOICEMAIL,
                created_at=now,
            )
            s.add(hotline)
            await s.flush()
            hotlines.append(hotline.id)
        queue_ids = []
        for q in range(queues):
            queue = m.Queue(
                tenant_id=tenant.id,
                hotline_id=hotlines[q % len(hotlines)],
                name=f"q{q}",
                strategy=RoutingStrategy.LONGEST_IDLE,
                service_level_target=0.8,
                service_level_seconds=20,
                short_abandon_seconds=5,
                wrap_up_seconds=30,
                callback_threshold_seconds=180,
                max_wait_seconds=None,
            )
            s.add(queue)
            await s.flush()
            queue_ids.append(queue.id)
        users = [
            {
                "tenant_id": tenant.id,
                "login": f"op{i}-{tenant.id}",
                "display_name": f"Operator {i}",
                "role": Role.OPERATOR,
                "password_hash": "-",
                "locale": "ru",
                "active": True,
                "capacity": {"call": 1},
                "created_at": now,
            }
            for i in range(operators)
        ]
        await s.execute(sa.insert(m.User), users)
        ids = (await s.execute(sa.select(m.User.id).where(m.User.tenant_id == tenant.id))).all()
    return tenant.id, queue_ids, [i for (i,) in ids]


def month_rows(
    rng: np.random.Generator,
    tenant: int,
    queue_hotline: list[tuple[int, int]],
    operators: list[int],
    days: int,
    per_day: float,
) -> Iterator[tuple[list[int], dict[str, list[Any]]]]:
    """Per day: (interval starts, columns) of every rollup row of that day."""
    n_q = len(queue_hotline)
    ops_per_queue = max(1, len(operators) // n_q)
    hours = (np.arange(96) / 4.0)[None, :]
    # a two-peak day (UTC; close enough for a load test), scaled to per_day per queue
    shape = 0.1 + np.maximum(
        np.exp(-(((hours - 8) / 2.5) ** 2)), 0.9 * np.exp(-(((hours - 13) / 2.5) ** 2))
    )
    size = rng.lognormal(0.0, 0.6, n_q)[:, None]
    lam = shape / shape.sum() * per_day * size / size.mean()
    shares = {
        "channel": rng.dirichlet(np.ones(len(CHANNELS)) * 5, n_q),
        "source": rng.dirichlet(np.ones(len(SOURCES)) * 2, n_q),
        "topic": rng.dirichlet(np.ones(len(TOPICS)) * 2, n_q),
        "operator": rng.dirichlet(np.ones(ops_per_queue) * 3, n_q),
    }
    values = {"channel": CHANNELS, "source": SOURCES, "topic": TOPICS}
    for day in range(days):
        day_start = int((MONTH_START + dt.timedelta(days=day)).timestamp())
        starts = [day_start + 900 * i for i in range(96)]
        weekday = (MONTH_START + dt.timedelta(days=day)).weekday()
        offered = rng.poisson(lam * (0.6 if weekday >= 5 else 1.0))
        answered = rng.binomial(offered, 0.88)
        callback = rng.binomial(offered - answered, 0.15)
        abandoned = offered - answered - callback
        base = {
            "offered": offered,
            "answered": answered,
            "answered_within": rng.binomial(answered, 0.8),
            "abandoned": abandoned,
            "short_abandoned": rng.binomial(abandoned, 0.25),
            "callback_requested": callback,
            "overflowed": np.zeros_like(offered),
            "handled": answered,
            "csat_count": rng.binomial(answered, 0.3),
        }
        base["abandoned_within"] = np.maximum(base["short_abandoned"], rng.binomial(abandoned, 0.5))
        base["csat_satisfied"] = rng.binomial(base["csat_count"], 0.75)
        floats = {
            "answered_wait_sum": answered * rng.gamma(2.0, 7.0, offered.shape),
            "abandoned_wait_sum": abandoned * rng.gamma(2.0, 15.0, offered.shape),
            "talk_sum": answered * rng.gamma(9.0, 20.0, offered.shape),
            "hold_sum": answered * rng.gamma(1.0, 8.0, offered.shape),
            "wrap_up_sum": answered * rng.gamma(4.0, 5.0, offered.shape),
            "csat_sum": base["csat_count"] * rng.uniform(3.6, 4.6, offered.shape),
            "max_wait": np.where(offered > 0, rng.gamma(3.0, 30.0, offered.shape), np.nan),
        }
        cols: dict[str, list[Any]] = {c: [] for c in COLUMNS}
        parts = [("", [""], np.ones((n_q, 1)))]
        parts += [(d, list(values[d]), shares[d]) for d in ("channel", "source", "topic")]
        for dimension, names, share in parts:
            _emit(cols, tenant, queue_hotline, dimension, names, share, base, floats)
        # operators: answered work split over the queue's own operators
        for q, (queue_id, _) in enumerate(queue_hotline):
            mine = [str(o) for o in operators[q * ops_per_queue : (q + 1) * ops_per_queue]]
            _emit(
                cols,
                tenant,
                [queue_hotline[q]],
                "operator",
                mine,
                shares["operator"][q : q + 1],
                _answered_only(base, q),
                _slice(floats, q),
            )
            del queue_id
        yield starts, cols


def _answered_only(base: dict[str, np.ndarray], q: int) -> dict[str, np.ndarray]:
    out = {k: v[q : q + 1] for k, v in base.items()}
    zero = np.zeros_like(out["offered"])
    out.update(offered=out["answered"], abandoned=zero, short_abandoned=zero)
    out.update(abandoned_within=zero, callback_requested=zero)
    return out


def _slice(floats: dict[str, np.ndarray], q: int) -> dict[str, np.ndarray]:
    out = {k: v[q : q + 1] for k, v in floats.items()}
    out["abandoned_wait_sum"] = np.zeros_like(out["abandoned_wait_sum"])
    return out


def _emit(
    cols: dict[str, list[Any]],
    tenant: int,
    queue_hotline: list[tuple[int, int]],
    dimension: str,
    names: list[str],
    share: np.ndarray,
    base: dict[str, np.ndarray],
    floats: dict[str, np.ndarray],
) -> None:
    """Append the rows of one dimension: base counters split over its values by share."""
    n_q, n_i = base["offered"].shape
    n_v = len(names)
    split = share[:, None, :]  # (q, 1, v)
    ints = {k: np.floor(v[:, :, None] * split + 0.5).astype(np.int64) for k, v in base.items()}
    ints["answered_within"] = np.minimum(ints["answered_within"], ints["answered"])
    ints["handled"] = ints["answered"]
    keep = ints["offered"] > 0
    q_idx, i_idx, v_idx = np.nonzero(keep)
    for k, v in ints.items():
        cols[k].extend(v[keep].tolist())
    for k, v in floats.items():
        if k == "max_wait":
            mw = np.broadcast_to(v[:, :, None], (n_q, n_i, n_v))[keep]
            cols[k].extend([None if x != x else x for x in mw.tolist()])
        else:
            cols[k].extend((v[:, :, None] * split)[keep].tolist())
    cols["tenant_id"].extend([tenant] * len(q_idx))
    qh = np.array(queue_hotline)
    cols["queue_id"].extend(qh[q_idx, 0].tolist())
    cols["hotline_id"].extend(qh[q_idx, 1].tolist())
    cols["interval_start"].extend(i_idx.tolist())  # an index into the day's starts for now
    cols["answer_within"].extend([20.0] * len(q_idx))
    cols["short_abandon"].extend([5.0] * len(q_idx))
    cols["dimension"].extend([dimension] * len(q_idx))
    cols["value"].extend([names[v] for v in v_idx.tolist()])


def _sqlite_time(posix: int) -> str:
    # SQLAlchemy's storage format for DateTime on SQLite (naive UTC, UTCDateTime)
    return dt.datetime.fromtimestamp(posix, dt.UTC).strftime("%Y-%m-%d %H:%M:%S.000000")


# --- loading --------------------------------------------------------------------------------


class Loader:
    """Bulk insert of generated rows: sqlite3 executemany / asyncpg COPY."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.rows = 0
        self.seconds = 0.0

    async def load(self, starts: list[int], cols: dict[str, list[Any]]) -> None:
        t0 = time.perf_counter()
        pg = self.db.dialect == "postgresql"
        times = [dt.datetime.fromtimestamp(s, dt.UTC) if pg else _sqlite_time(s) for s in starts]
        cols = dict(cols)
        cols["quarter"] = [starts[i] // 900 for i in cols["interval_start"]]
        cols["interval_start"] = [times[i] for i in cols["interval_start"]]
        records = list(zip(*(cols[c] for c in COLUMNS), strict=True))
        if pg:
            async with self.db.engine.connect() as conn:
                raw = await conn.get_raw_connection()
                driver = raw.driver_connection
                if driver is None:
                    raise RuntimeError("no asyncpg connection under the pool")
                await driver.copy_records_to_table(
                    "kpi_rollups", records=records, columns=list(COLUMNS)
                )
                await conn.commit()
        else:
            path = make_url(self.db.url).database
            if path is None:
                raise RuntimeError("the SQLite URL names no file")
            con = sqlite3.connect(path)
            try:
                with con:
                    con.executemany(INSERT_SQL, records)
            finally:
                con.close()
        self.rows += len(records)
        self.seconds += time.perf_counter() - t0


def random_visits(
    n: int, queues: list[int], seed: int
) -> list[tuple[QueueVisit, int, int, float, float]]:
    rng = random.Random(seed)
    out = []
    t0 = MONTH_START.timestamp()
    for i in range(n):
        arrived = t0 + rng.uniform(0, 30 * 86400)
        wait = rng.expovariate(1 / 25)
        if rng.random() < 0.88:
            talk = rng.expovariate(1 / 180)
            visit = QueueVisit(
                interaction_id=i,
                queue_id=rng.choice(queues),
                arrived_at=arrived,
                outcome=VisitOutcome.ANSWERED,
                answered_at=arrived + wait,
                ended_at=arrived + wait + talk,
                operator_id=rng.randrange(1000),
                channel=rng.choice(CHANNELS),
                source=rng.choice(SOURCES) or None,
                topic=rng.choice(TOPICS) or None,
                hold=talk * rng.random() * 0.1,
                wrap_up=rng.expovariate(1 / 20),
                csat=float(rng.randint(1, 5)) if rng.random() < 0.3 else None,
            )
        else:
            visit = QueueVisit(
                interaction_id=i,
                queue_id=rng.choice(queues),
                arrived_at=arrived,
                outcome=VisitOutcome.ABANDONED,
                ended_at=arrived + wait,
            )
        out.append((visit, 1, 1, 20.0, 5.0))
    return out


def history_rows(
    n: int, zone_queues: list[tuple[str, str]], agents: list[str], seed: int
) -> list[HistoryRow]:
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        arrived = MONTH_START + dt.timedelta(seconds=rng.uniform(0, 30 * 86400))
        wait = dt.timedelta(seconds=rng.expovariate(1 / 25))
        hotline, queue = rng.choice(zone_queues)
        answered = rng.random() < 0.88
        talk = dt.timedelta(seconds=rng.expovariate(1 / 180))
        rows.append(
            HistoryRow(
                line=i + 2,
                id=f"h{seed}-{i}",
                channel=rng.choice(CHANNELS),
                hotline=hotline,
                queue=queue,
                agent=rng.choice(agents) if answered else None,
                source=rng.choice(SOURCES) or None,
                topic=rng.choice(TOPICS) or None,
                arrived_at=arrived,
                answered_at=arrived + wait if answered else None,
                ended_at=arrived + wait + (talk if answered else dt.timedelta()),
                hold_seconds=0.0,
                wrapup_seconds=rng.expovariate(1 / 20) if answered else 0.0,
                csat=rng.randint(1, 5) if rng.random() < 0.3 else None,
            )
        )
    return rows
