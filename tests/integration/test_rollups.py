"""KPI rollups in the database (SQLite and PostgreSQL) equal a full recomputation.

Three ways to the same numbers: (1) the rows the importer and the live writer upsert,
queried by :func:`query_kpis`; (2) ``group_kpis`` over the visits straight from the rows,
bucketed here with plain ``datetime`` arithmetic; (3) :func:`rebuild_rollups` from the
stored event log.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hotline.core.commands import Log
from hotline.core.kpi import KPI_KEYS, QueueVisit, group_kpis
from hotline.core.kpi.history import HistoryRow, history_visit
from hotline.core.kpi.rollup import SUM_FIELDS
from hotline.core.model import (
    AfterHoursAction,
    Channel,
    Direction,
    EventType,
    Role,
    RoutingStrategy,
)
from hotline.live.eventlog import EventLogWriter, InteractionStart
from hotline.store import models as m
from hotline.store.db import Database
from hotline.store.history_import import import_history
from hotline.store.reports import ReportQuery, query_kpis
from hotline.store.rollups import rebuild_rollups

NOW = dt.datetime(2026, 10, 24, 12, 0, tzinfo=dt.UTC)
#: 20:00Z on Oct 24: the next 12 hours cross local midnight in both zones and Berlin's
#: fall-back (01:00Z on Oct 25: the wall hour 02:00 happens twice)
BASE = dt.datetime(2026, 10, 24, 20, 0, tzinfo=dt.UTC)
#: hotline name → (zone, T, S); both queues of a hotline share its thresholds
HOTLINES = {"berlin": ("Europe/Berlin", 20, 5), "kathmandu": ("Asia/Kathmandu", 10, 0)}
QUEUES = ("q1", "q2")
AGENTS = ("ann", "bob")
_slugs = itertools.count()


@dataclass
class Setup:
    tenant_id: int
    hotlines: dict[str, int]
    queues: dict[tuple[str, str], int]
    agents: dict[str, int]


async def make_tenant(db: Database) -> Setup:
    async with db.system_session() as s, s.begin():
        tenant = m.Tenant(name="T", slug=f"roll-{next(_slugs)}", created_at=NOW)
        s.add(tenant)
        await s.flush()
        setup = Setup(tenant.id, {}, {}, {})
        for name, (zone, t, short) in HOTLINES.items():
            hotline = m.Hotline(
                tenant_id=tenant.id,
                name=name,
                timezone=zone,
                greeting_template="Hello",
                after_hours_action=AfterHoursAction.VOICEMAIL,
                created_at=NOW,
            )
            s.add(hotline)
            await s.flush()
            setup.hotlines[name] = hotline.id
            for qname in QUEUES:
                queue = m.Queue(
                    tenant_id=tenant.id,
                    hotline_id=hotline.id,
                    name=qname,
                    strategy=RoutingStrategy.LONGEST_IDLE,
                    service_level_target=0.8,
                    service_level_seconds=t,
                    short_abandon_seconds=short,
                    wrap_up_seconds=30,
                    callback_threshold_seconds=180,
                    max_wait_seconds=None,
                )
                s.add(queue)
                await s.flush()
                setup.queues[(name, qname)] = queue.id
        for login in AGENTS:
            user = m.User(
                tenant_id=tenant.id,
                login=f"{login}-{tenant.id}",
                display_name=login,
                role=Role.OPERATOR,
                password_hash="x",
                created_at=NOW,
            )
            s.add(user)
            await s.flush()
            setup.agents[login] = user.id
    return setup


@st.composite
def history_rows(draw: st.DrawFn) -> HistoryRow:
    arrived = BASE + dt.timedelta(milliseconds=draw(st.integers(0, 12 * 3600 * 1000)))
    # waits on the thresholds of both hotlines, where ≤ and < matter
    wait = dt.timedelta(seconds=draw(st.sampled_from([0, 4.999, 5, 10, 10.001, 20, 21, 300])))
    answered = draw(st.booleans())
    talk = dt.timedelta(milliseconds=draw(st.integers(0, 900_000)))
    hold = draw(st.integers(0, 100)) / 100 * talk.total_seconds() if answered else 0.0
    return HistoryRow(
        line=0,
        id="",
        channel=draw(st.sampled_from(["call", "chat"])),
        hotline=draw(st.sampled_from(sorted(HOTLINES))),
        queue=draw(st.sampled_from(QUEUES)),
        agent=draw(st.sampled_from(AGENTS)) if answered else None,
        source=draw(st.sampled_from(["ads", "site", None])),
        topic=draw(st.sampled_from(["order", "refund", None])),
        arrived_at=arrived,
        answered_at=arrived + wait if answered else None,
        ended_at=arrived + wait + talk if answered else arrived + wait,
        hold_seconds=hold,
        wrapup_seconds=draw(st.integers(0, 120)) if answered else 0.0,
        csat=draw(st.sampled_from([None, 2, 4, 5])),
    )


def numbered(rows: list[HistoryRow]) -> list[HistoryRow]:
    return [
        HistoryRow(**{**{f: getattr(r, f) for f in r.__slots__}, "line": i + 2, "id": f"x{i}"})
        for i, r in enumerate(rows)
    ]


def assert_same(got: dict[str, Any], want: dict[str, Any]) -> None:
    for key in KPI_KEYS:
        if want[key] is None:
            assert got[key] is None, key
        else:
            assert got[key] == pytest.approx(want[key], rel=1e-9, abs=1e-9), key


def reference(
    visits: list[tuple[QueueVisit, str]], key: Callable[[QueueVisit, str], Hashable], hotline: str
) -> dict[Hashable, dict[str, Any]]:
    _, t, s = HOTLINES[hotline]
    return group_kpis(
        [v for v, h in visits if h == hotline],
        lambda v: key(v, hotline),
        answer_within=t,
        short_abandon=s,
    )


def local(v: QueueVisit, hotline: str) -> dt.datetime:
    return dt.datetime.fromtimestamp(v.arrived_at, dt.UTC).astimezone(
        ZoneInfo(HOTLINES[hotline][0])
    )


def floor_local(at: dt.datetime, minutes: int) -> str:
    """The wall-clock bucket, keeping the offset (fold) of ``at``: two 02:00 on fall-back."""
    return at.replace(minute=at.minute - at.minute % minutes, second=0, microsecond=0).isoformat()


def midnight(at: dt.datetime, hotline: str) -> str:
    return dt.datetime.combine(at.date(), dt.time(), ZoneInfo(HOTLINES[hotline][0])).isoformat()


async def rollup_table(db: Database, tenant_id: int) -> dict[tuple[Any, ...], tuple[Any, ...]]:
    r = m.KpiRollup
    keys = (r.dimension, r.interval_start, r.queue_id, r.value, r.answer_within, r.short_abandon)
    async with db.system_session() as s:
        rows = await s.execute(
            sa.select(*keys, *(getattr(r, n) for n in SUM_FIELDS)).where(r.tenant_id == tenant_id)
        )
        return {tuple(row[: len(keys)]): tuple(row[len(keys) :]) for row in rows}


def assert_tables_equal(a: dict[Any, tuple[Any, ...]], b: dict[Any, tuple[Any, ...]]) -> None:
    assert a.keys() == b.keys()
    for key, values in a.items():
        assert values == pytest.approx(b[key], rel=1e-9, abs=1e-6), key


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(rows=st.lists(history_rows(), max_size=30))
async def test_given_random_history_when_imported_then_rollups_equal_recomputation(
    database: Database, rows: list[HistoryRow]
) -> None:
    setup = await make_tenant(database)
    rows = numbered(rows)
    async with database.system_session() as s, s.begin():
        result = await import_history(s, setup.tenant_id, rows)
    assert result.interactions == len(rows)
    async with database.system_session() as s:
        ids = dict((await s.execute(sa.select(m.Interaction.external_id, m.Interaction.id))).all())
    visits = [
        (
            history_visit(
                r,
                queue_id=setup.queues[(r.hotline, r.queue)],
                interaction_id=ids[r.id],
                hotline_id=setup.hotlines[r.hotline],
                operator_id=None if r.agent is None else setup.agents[r.agent],
            ),
            r.hotline,
        )
        for r in rows
    ]

    async def report(
        by: list[str], interval: str = "60", hotline: str | None = None
    ) -> dict[Any, Any]:
        query = ReportQuery(
            by=by,
            interval=interval,
            tenant_id=setup.tenant_id,
            hotline_ids=None if hotline is None else frozenset({setup.hotlines[hotline]}),
        )
        async with database.system_session() as s:
            groups = await query_kpis(s, query)
        return {tuple(g.key.values()): g.as_dict() for g in groups}

    by_queue = {minutes: await report(["queue", "interval"], str(minutes)) for minutes in (30, 60)}
    by_hotline_day = await report(["hotline", "interval"], "day")
    for hotline in HOTLINES:
        hid = setup.hotlines[hotline]
        for minutes, groups in by_queue.items():
            want = reference(
                visits,
                lambda v, h, w=minutes: (v.queue_id, floor_local(local(v, h), w)),
                hotline,
            )
            got = {
                (q, start.isoformat()): kpis
                for (q, start), kpis in groups.items()
                if q in {setup.queues[(hotline, n)] for n in QUEUES}
            }
            assert got.keys() == want.keys(), minutes
            for key, kpis in want.items():
                assert_same(got[key], kpis)
        want = reference(
            visits,
            lambda v, h: dt.datetime.combine(
                local(v, h).date(), dt.time(), ZoneInfo(HOTLINES[h][0])
            ).isoformat(),
            hotline,
        )
        got = {start.isoformat(): k for (h, start), k in by_hotline_day.items() if h == hid}
        assert got.keys() == want.keys()
        for key, kpis in want.items():
            assert_same(got[key], kpis)
        for by, key_of in (
            (["operator"], lambda v, _h: v.operator_id),
            (["source"], lambda v, _h: v.source),
            ([], lambda _v, _h: ()),
        ):
            got = await report(by, hotline=hotline)
            want = reference(visits, key_of, hotline)
            got = {k[0] if k else (): kpis for k, kpis in got.items()}
            assert got.keys() == want.keys(), by
            for key, kpis in want.items():
                assert_same(got[key], kpis)
    # (3) the event log written by the import folds back into the same rows
    before = await rollup_table(database, setup.tenant_id)
    async with database.system_session() as s, s.begin():
        await rebuild_rollups(s, setup.tenant_id)
    assert_tables_equal(await rollup_table(database, setup.tenant_id), before)


async def test_given_live_calls_when_written_then_rollups_follow_settled_visits(
    database: Database,
) -> None:
    setup = await make_tenant(database)
    q1, q2 = setup.queues[("berlin", "q1")], setup.queues[("berlin", "q2")]
    ann = setup.agents["ann"]
    writer = EventLogWriter(database)
    await writer.start()
    t0 = BASE.timestamp()
    iids = [writer.new_interaction_id() for _ in range(3)]
    for iid in iids:
        writer.start_interaction(
            InteractionStart(
                interaction_id=iid,
                tenant_id=setup.tenant_id,
                hotline_id=setup.hotlines["berlin"],
                channel=Channel.CALL,
                direction=Direction.INBOUND,
                caller="+491",
                callee="+492",
                source="ads",
                at=t0,
            )
        )
    a, b, c = iids
    lines = [
        Log(a, EventType.ARRIVED, t0, {"queue_id": q1}),
        Log(a, EventType.QUEUED, t0, {"queue_id": q1}),
        Log(a, EventType.ANSWERED, t0 + 12, {"operator_id": ann}),  # wait 12 ≤ T = 20
        Log(b, EventType.ARRIVED, t0 + 1, {"queue_id": q1}),
        Log(b, EventType.QUEUED, t0 + 1, {"queue_id": q1}),
        Log(b, EventType.ABANDONED, t0 + 4),  # wait 3 < S = 5: a short abandon
        Log(c, EventType.ARRIVED, t0 + 2, {"queue_id": q1}),
        Log(c, EventType.QUEUED, t0 + 2, {"queue_id": q1}),
    ]
    for line in lines:
        writer.append(line)
    await writer.flush()

    async def totals() -> dict[int, dict[str, Any]]:
        async with database.system_session() as s:
            groups = await query_kpis(s, ReportQuery(by=["queue"], tenant_id=setup.tenant_id))
        return {g.key["queue_id"]: g.as_dict() for g in groups}

    # only b has settled: a is talking, c waiting
    assert (await totals())[q1]["offered"] == 1
    assert (await totals())[q1]["short_abandoned"] == 1
    for line in [
        Log(a, EventType.WRAP_UP_STARTED, t0 + 100, {"operator_id": ann}),
        Log(a, EventType.COMPLETED, t0 + 110, {"operator_id": ann}),
        Log(c, EventType.ANSWERED, t0 + 40, {"operator_id": ann}),  # wait 38 > T
        Log(c, EventType.QUEUED, t0 + 60, {"queue_id": q2}),  # transferred after 20 s of talk
        Log(c, EventType.ABANDONED, t0 + 65),
    ]:
        writer.append(line)
    await writer.flush()
    got = await totals()
    # q1: a answered within T (talk 88 + wrap-up 10) and b (short abandon); c was answered
    # after 38 s and transferred, but its wrap-up has not ended: not settled, not counted
    assert (got[q1]["offered"], got[q1]["answered"], got[q1]["answered_within"]) == (2, 1, 1)
    assert got[q1]["aht"] == pytest.approx(98.0)
    assert (got[q2]["offered"], got[q2]["abandoned"]) == (1, 1)
    writer.append(Log(c, EventType.COMPLETED, t0 + 70, {"operator_id": ann, "csat": 5}))
    writer.append(Log(a, EventType.COMPLETED, t0 + 200, {"csat": 2}))  # a's late survey
    await writer.flush()
    await writer.close()
    got = await totals()
    assert (got[q1]["offered"], got[q1]["answered"], got[q1]["answered_within"]) == (3, 2, 1)
    # handled: a (88 + 10) and c (talk 40 → 60 = 20, wrap-up 60 → 70 = 10): (98 + 30) / 2
    assert got[q1]["aht"] == pytest.approx(64.0)
    # a survey belongs to the interaction's last answered visit: c's 5 and a's late 2 both
    # count in q1, none in q2
    assert got[q1]["csat_avg"] == 3.5 and got[q2]["csat_avg"] is None
    before = await rollup_table(database, setup.tenant_id)
    async with database.system_session() as s, s.begin():
        await rebuild_rollups(s, setup.tenant_id)
    assert_tables_equal(await rollup_table(database, setup.tenant_id), before)


async def test_given_visits_in_the_repeated_hour_when_reported_then_two_local_buckets(
    database: Database,
) -> None:
    setup = await make_tenant(database)
    # Berlin falls back at 01:00Z on 2026-10-25: 00:30Z is 02:30 CEST, 01:30Z is 02:30 CET
    rows = [
        HistoryRow(
            line=2 + i,
            id=f"dst{i}",
            channel="call",
            hotline="berlin",
            queue="q1",
            agent=None,
            source=None,
            topic=None,
            arrived_at=at,
            answered_at=None,
            ended_at=at + dt.timedelta(seconds=30),
            hold_seconds=0.0,
            wrapup_seconds=0.0,
            csat=None,
        )
        for i, at in enumerate(
            [
                dt.datetime(2026, 10, 25, 0, 30, tzinfo=dt.UTC),
                dt.datetime(2026, 10, 25, 1, 30, tzinfo=dt.UTC),
                dt.datetime(2026, 10, 25, 22, 59, tzinfo=dt.UTC),  # 23:59 CET, same day
            ]
        )
    ]
    async with database.system_session() as s, s.begin():
        await import_history(s, setup.tenant_id, rows)

    async def buckets(interval: str) -> list[tuple[str, int]]:
        query = ReportQuery(by=["interval"], interval=interval, tenant_id=setup.tenant_id)
        async with database.system_session() as s:
            groups = await query_kpis(s, query)
        return [(g.key["interval_start"].isoformat(), g.as_dict()["offered"]) for g in groups]

    assert await buckets("60") == [
        ("2026-10-25T02:00:00+02:00", 1),
        ("2026-10-25T02:00:00+01:00", 1),
        ("2026-10-25T23:00:00+01:00", 1),
    ]
    assert await buckets("day") == [("2026-10-25T00:00:00+02:00", 3)]
    assert await buckets("month") == [("2026-10-01T00:00:00+02:00", 3)]
