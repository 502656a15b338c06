"""Import of interaction history from other systems into the database, all or nothing.

The CSV is parsed by :func:`hotline.core.kpi.history.parse_history_csv` (every cell
checked); here the names in it are resolved within one tenant and the rows written:

* ``hotline`` is a hotline's name in the tenant, ``queue`` a queue's name in that hotline,
  ``agent`` a user of the tenant by login (or, failing that, by display name); an unknown or
  ambiguous name is a problem of that line and column;
* ``topic`` names a topic (kind ``topic``) of the hotline; one that does not exist yet is
  created, since other systems' topic lists are not ours;
* ``id`` is kept as the interaction's ``external_id``, unique per tenant: a row whose id was
  imported before is a problem ("already imported"), so re-importing a file fails
  as a whole and changes nothing — fix the file (drop those rows) and import again.

Each row becomes an interaction, its event log (``ARRIVED``, ``QUEUED``, ``ANSWERED``,
``HELD``/``RESUMED``, ``WRAP_UP_STARTED``, ``COMPLETED``, or ``ABANDONED``; the survey score
on the last line) and its share of the KPI rollups, so reports and a rebuild from the event
log see the same visit.  The caller runs this inside one transaction: on any problem
nothing is written.

Ids: interactions get ids from the database.  The live event-log writer hands out ids from
the highest one stored when ``hotline serve`` started, so import while no server runs on
the same database (or restart it afterwards).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.core.kpi.history import HistoryCsvError, HistoryProblem, HistoryRow, history_visit
from hotline.core.model import Channel, Direction, EventType
from hotline.store import models as m
from hotline.store.rollups import load_queues, upsert_rollups, visit_rows

__all__ = ["ImportResult", "import_history"]

_CHUNK = 500
#: what the columns hold (``String(200)``) and the times the database stores safely
_MAX_TEXT = 200
_EARLIEST = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_LATEST = dt.datetime(9000, 1, 1, tzinfo=dt.UTC)


@dataclass(frozen=True, slots=True)
class ImportResult:
    interactions: int
    events: int
    rollup_rows: int
    topics_created: int


@dataclass(frozen=True, slots=True)
class _Resolved:
    row: HistoryRow
    hotline_id: int
    queue_id: int
    operator_id: int | None


def _unique(names: Sequence[tuple[str, int]]) -> dict[str, int | None]:
    """name → id, or None where the name is ambiguous."""
    out: dict[str, int | None] = {}
    for name, ident in names:
        out[name] = ident if name not in out else None
    return out


async def _resolve(
    session: AsyncSession,
    tenant_id: int,
    rows: Sequence[HistoryRow],
    hotline_ids: frozenset[int] | None,
) -> tuple[list[_Resolved], list[HistoryProblem]]:
    hotlines = _unique(
        (
            await session.execute(
                sa.select(m.Hotline.name, m.Hotline.id).where(m.Hotline.tenant_id == tenant_id)
            )
        ).all()
    )
    queue_rows = await session.execute(
        sa.select(m.Queue.hotline_id, m.Queue.name, m.Queue.id).where(
            m.Queue.tenant_id == tenant_id
        )
    )
    by_hotline: dict[int, list[tuple[str, int]]] = defaultdict(list)
    for hid, name, qid in queue_rows:
        by_hotline[hid].append((name, qid))
    queues = {hid: _unique(names) for hid, names in by_hotline.items()}
    users = (
        await session.execute(
            sa.select(m.User.login, m.User.display_name, m.User.id).where(
                m.User.tenant_id == tenant_id
            )
        )
    ).all()
    logins = {login: uid for login, _, uid in users}
    display = _unique([(name, uid) for _, name, uid in users])
    problems: list[HistoryProblem] = []
    taken = await _imported_ids(session, tenant_id, [r.id for r in rows])
    resolved: list[_Resolved] = []
    for row in rows:
        ok = _check_sizes(row, problems)
        if row.id in taken:
            problems.append(HistoryProblem(row.line, "id", f"{row.id!r} was already imported"))
            ok = False
        hotline_id = hotlines.get(row.hotline, 0)
        if hotline_id is None or hotline_id == 0:
            why = "is ambiguous (several hotlines have it)" if hotline_id is None else "is unknown"
            problems.append(HistoryProblem(row.line, "hotline", f"{row.hotline!r} {why}"))
            continue
        if hotline_ids is not None and hotline_id not in hotline_ids:
            problems.append(
                HistoryProblem(row.line, "hotline", f"{row.hotline!r} is not one of your hotlines")
            )
            continue
        queue_id = queues.get(hotline_id, {}).get(row.queue, 0)
        if queue_id is None or queue_id == 0:
            why = "is ambiguous" if queue_id is None else "is not a queue of"
            problems.append(
                HistoryProblem(row.line, "queue", f"{row.queue!r} {why} hotline {row.hotline!r}")
            )
            ok = False
        operator_id: int | None = None
        if row.agent is not None:
            operator_id = logins.get(row.agent) or display.get(row.agent)
            if operator_id is None:
                problems.append(
                    HistoryProblem(
                        row.line,
                        "agent",
                        f"{row.agent!r} is not a user (login or unique display name) of the tenant",
                    )
                )
                ok = False
        if ok and queue_id:
            resolved.append(_Resolved(row, hotline_id, queue_id, operator_id))
    return resolved, problems


def _check_sizes(row: HistoryRow, problems: list[HistoryProblem]) -> bool:
    """Lengths and times the tables can hold (the parser checks the format, not these)."""
    ok = True
    for column in ("id", "source", "topic"):
        value = getattr(row, column)
        if value is not None and len(value) > _MAX_TEXT:
            problems.append(HistoryProblem(row.line, column, f"longer than {_MAX_TEXT} characters"))
            ok = False
    for column in ("arrived_at", "answered_at", "ended_at"):
        value = getattr(row, column)
        if value is not None and not _EARLIEST <= value < _LATEST:
            problems.append(HistoryProblem(row.line, column, "must be between 1970 and 9000"))
            ok = False
    return ok


async def _imported_ids(session: AsyncSession, tenant_id: int, ids: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for i in range(0, len(ids), _CHUNK):
        chunk = ids[i : i + _CHUNK]
        result = await session.execute(
            sa.select(m.Interaction.external_id).where(
                m.Interaction.tenant_id == tenant_id, m.Interaction.external_id.in_(chunk)
            )
        )
        found.update(x for x in result.scalars() if x is not None)
    return found


async def _topics(
    session: AsyncSession, tenant_id: int, wanted: set[tuple[int, str]]
) -> tuple[dict[tuple[int, str], int], int]:
    """Topic ids by (hotline, name), creating the missing ones."""
    rows = await session.execute(
        sa.select(m.Topic.hotline_id, m.Topic.name, m.Topic.id).where(
            m.Topic.tenant_id == tenant_id, m.Topic.kind == "topic"
        )
    )
    known = {(hid, name): tid for hid, name, tid in rows}
    missing = sorted(wanted - known.keys())
    for hid, name in missing:
        topic = m.Topic(tenant_id=tenant_id, hotline_id=hid, kind="topic", name=name)
        session.add(topic)
        await session.flush()
        known[(hid, name)] = topic.id
    return known, len(missing)


_Event = tuple[EventType, dt.datetime, dict[str, Any]]


def _events(item: _Resolved) -> list[_Event]:
    """The event log of one history row, in order (the fold of records.py reads it back)."""
    row = item.row
    out: list[_Event] = [
        (
            EventType.ARRIVED,
            row.arrived_at,
            {
                "hotline_id": item.hotline_id,
                "channel": row.channel,
                "source": row.source,
                "topic": row.topic,
                "external_id": row.id,
            },
        ),
        (EventType.QUEUED, row.arrived_at, {"queue_id": item.queue_id}),
    ]
    if row.answered_at is None:
        out.append((EventType.ABANDONED, row.ended_at, {}))
    else:
        operator = {"operator_id": item.operator_id}
        out.append((EventType.ANSWERED, row.answered_at, dict(operator)))
        if row.hold_seconds > 0:
            resumed = min(row.answered_at + dt.timedelta(seconds=row.hold_seconds), row.ended_at)
            out.append((EventType.HELD, row.answered_at, {}))
            out.append((EventType.RESUMED, resumed, {}))
        out.append((EventType.WRAP_UP_STARTED, row.ended_at, dict(operator)))
        done = row.ended_at + dt.timedelta(seconds=row.wrapup_seconds)
        out.append((EventType.COMPLETED, done, dict(operator)))
    if row.csat is not None:
        out[-1][2]["csat"] = row.csat
    return out


async def import_history(
    session: AsyncSession,
    tenant_id: int,
    rows: Sequence[HistoryRow],
    *,
    hotline_ids: frozenset[int] | None = None,
) -> ImportResult:
    """Write ``rows`` for ``tenant_id`` (run inside the caller's transaction).

    ``hotline_ids`` limits the hotlines rows may name (a site supervisor's); None: any of
    the tenant's.

    Raises :class:`HistoryCsvError` listing every row that cannot be imported (unknown
    names, ids imported before); then nothing has been written by this call.
    """
    resolved, problems = await _resolve(session, tenant_id, rows, hotline_ids)
    if problems:
        raise HistoryCsvError(sorted(problems, key=lambda p: p.line))
    topics, created = await _topics(
        session,
        tenant_id,
        {(r.hotline_id, r.row.topic) for r in resolved if r.row.topic is not None},
    )
    ids: list[int] = []
    insert = sa.insert(m.Interaction).returning(m.Interaction.id, sort_by_parameter_order=True)
    for i in range(0, len(resolved), _CHUNK):
        chunk = resolved[i : i + _CHUNK]
        result = await session.execute(
            insert,
            [
                {
                    "tenant_id": tenant_id,
                    "hotline_id": r.hotline_id,
                    "queue_id": r.queue_id,
                    "channel": Channel(r.row.channel),
                    "direction": Direction.INBOUND,
                    "operator_id": r.operator_id,
                    "source": r.row.source,
                    "started_at": r.row.arrived_at,
                    "ended_at": r.row.ended_at,
                    "topic_id": None
                    if r.row.topic is None
                    else topics[(r.hotline_id, r.row.topic)],
                    "external_id": r.row.id,
                    "notes": "",
                }
                for r in chunk
            ],
        )
        ids.extend(result.scalars())
    events = [
        {
            "tenant_id": tenant_id,
            "interaction_id": iid,
            "seq": seq,
            "type": kind,
            "at": at,
            "data": {k: v for k, v in data.items() if v is not None},
        }
        for r, iid in zip(resolved, ids, strict=True)
        for seq, (kind, at, data) in enumerate(_events(r), start=1)
    ]
    for i in range(0, len(events), _CHUNK * 4):
        await session.execute(sa.insert(m.InteractionEventRow), events[i : i + _CHUNK * 4])
    visits = [
        history_visit(
            r.row,
            queue_id=r.queue_id,
            interaction_id=iid,
            hotline_id=r.hotline_id,
            operator_id=r.operator_id,
        )
        for r, iid in zip(resolved, ids, strict=True)
    ]
    queues = await load_queues(session, {r.queue_id for r in resolved})
    rollups = visit_rows(visits, queues)
    await upsert_rollups(session, rollups)
    return ImportResult(len(ids), len(events), len(rollups), created)
