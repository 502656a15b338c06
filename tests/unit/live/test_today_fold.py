"""The wallboard's running fold (``live/today.py``) gives the figures a fold of the same
lines from scratch gives (``pages/data.queue_rows`` / ``operator_kpis``), whatever the
workload, wherever the day turns over, and at any moment it is asked.

Workloads are random engine runs on the determinism test's small center: arrivals,
answers, misses, abandons, callbacks, overflows, transfers and supervisors' moves.  Their
clock is shifted so that local midnight of a sampled time zone (DST days included) falls
inside the run.
"""

from __future__ import annotations

import datetime as dt
import heapq
import random
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hotline.core import events as ev
from hotline.core.commands import AnnounceWait, Command, Log, Offer
from hotline.core.kpi import fold_visits
from hotline.core.model import EventType as E
from hotline.core.routing.engine import RoutingConfigError
from hotline.live.today import QueueParams, TodayFold, local_day
from hotline.web.live_events import QueueRow
from hotline.web.live_tables import queue_row
from hotline.web.pages.data import QueueMeta, day_start, operator_kpis, queue_rows
from tests.unit.routing.test_determinism import ARRIVAL_QUEUES, OPERATORS, QUEUES, channel_of
from tests.unit.routing.test_determinism import new_engine as center

ZONES = ["UTC", "Europe/Moscow", "Europe/Berlin", "America/New_York", "Asia/Kathmandu"]
#: a DST change in Berlin and New York falls on these local days (spring 2026 / autumn)
DAYS = [dt.date(2026, 3, 29), dt.date(2026, 3, 8), dt.date(2026, 11, 1), dt.date(2026, 6, 1)]
CALL_QUEUES = [q for q in ARRIVAL_QUEUES if channel_of(q).value == "call" and q != 4]


def workload(seed: int, base: float, duration: float = 3000.0) -> list[Log]:
    """The log lines of a random reactive run starting at ``base`` (UNIX seconds)."""
    rng = random.Random(seed)
    engine = center(seed)
    pending: list[tuple[float, int, ev.Event]] = []
    order = iter(range(10**9))

    def later(at: float, event: ev.Event) -> None:
        heapq.heappush(pending, (at, next(order), event))

    for o in OPERATORS:
        later(base + rng.uniform(0, 600), ev.OperatorWentReady(o))
    t, iid = base, 0
    while (t := t + rng.expovariate(1 / 20)) < base + duration:
        iid += 1
        queue_id = rng.choice(ARRIVAL_QUEUES)
        later(t, ev.InteractionArrived(iid, queue_id, channel_of(queue_id)))
        later(t + rng.expovariate(1 / 150), ev.CallerAbandoned(iid))
        if channel_of(queue_id).value == "call" and rng.random() < 0.3:
            later(t + rng.uniform(1, 90), ev.MoveWaiting(iid, rng.choice(CALL_QUEUES), by=1))
    lines: list[Log] = []

    def react(now: float, commands: list[Command]) -> None:
        for c in commands:
            if isinstance(c, Log):
                lines.append(c)
                if c.type == "answered":
                    if rng.random() < 0.1 and c.data["queue_id"] != 3:
                        later(
                            now + rng.uniform(5, 60), ev.InteractionTransferred(c.interaction_id, 2)
                        )
                    else:
                        later(now + rng.expovariate(1 / 60), ev.InteractionEnded(c.interaction_id))
            elif isinstance(c, Offer) and rng.random() < 0.8:
                later(now + rng.uniform(1, 5), ev.OfferAccepted(c.interaction_id, c.operator_id))
            elif isinstance(c, AnnounceWait) and c.offer_callback and rng.random() < 0.2:
                later(now + 2, ev.CallbackAccepted(c.interaction_id, "+4930"))

    while True:
        deadline = engine.next_deadline()
        if pending and (deadline is None or pending[0][0] < deadline):
            now, _, event = heapq.heappop(pending)
            try:
                commands = engine.handle(event, now)
            except RoutingConfigError:  # a move to a queue of another channel
                continue
        elif deadline is not None:
            now = deadline
            commands = engine.on_timer(now)
        else:
            return lines
        react(now, commands)


def metas(zones: list[str]) -> list[QueueMeta]:
    return [
        QueueMeta(q.id, q.hotline_id, f"line {q.hotline_id}", f"queue {q.id}",
                  zones[i % len(zones)], 10 + 5 * i, 0.8, 3 * (i % 3), int(q.wrap_up_seconds), 120)
        for i, q in enumerate(QUEUES.values())
    ]  # fmt: skip


def running_rows(fold: TodayFold, queues: list[QueueMeta], now: float) -> list[QueueRow]:
    open_visits = fold.open_by_queue()
    rows = []
    for q in queues:
        figures = fold.queue_figures(q.id, now, open_visits.get(q.id, ()))
        assert figures is not None
        rows.append(queue_row(q, figures[0], figures[1], now, []))
    return rows


def same(a: QueueRow, b: QueueRow) -> bool:
    """Rows equal, float means up to summation order."""
    da, db = a.model_dump(), b.model_dump()
    return da.keys() == db.keys() and all(
        da[k] == pytest.approx(db[k], rel=1e-9, abs=1e-9)
        if isinstance(da[k], float)
        else da[k] == db[k]
        for k in da
    )


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    zones=st.lists(st.sampled_from(ZONES), min_size=1, max_size=3),
    day=st.sampled_from(DAYS),
    before_midnight=st.floats(0, 2800),
    cuts=st.lists(st.floats(0, 1), min_size=1, max_size=4),
)
def test_the_running_fold_equals_a_fold_from_scratch(
    seed: int, zones: list[str], day: dt.date, before_midnight: float, cuts: list[float]
) -> None:
    midnight = dt.datetime.combine(day, dt.time(), ZoneInfo(zones[0])).timestamp()
    lines = workload(seed, midnight - before_midnight)
    assert lines
    queues = metas(zones)
    fold = TodayFold({q.id: QueueParams(q.timezone, q.sl_seconds, q.short_abandon) for q in queues})
    fed = 0
    for cut in sorted(cuts):
        upto = int(cut * len(lines))
        fold.add_all(lines[fed:upto])
        fed = upto
        now = lines[upto - 1].at + 1 if upto else lines[0].at
        scratch = queue_rows(queues, fold_visits(lines[:upto]), now)
        running = running_rows(fold, queues, now)
        assert all(same(a, b) for a, b in zip(running, scratch, strict=True)), (
            now,
            running,
            scratch,
        )
        visits = fold_visits(lines[:upto])
        for o in OPERATORS:
            since = day_start(zones[0], now)
            assert operator_kpis(o, fold.operator_visits(o, since), since) == operator_kpis(
                o, visits, since
            )
    assert not fold.stale


def test_the_day_turns_over_at_local_midnight() -> None:
    """Moscow: a visit answered at 23:59 counts today; at 00:00 the board starts at 0."""
    zone = "Europe/Moscow"
    start, end = local_day(
        zone, dt.datetime(2026, 11, 23, 23, 59, tzinfo=ZoneInfo(zone)).timestamp()
    )
    assert end - start == 24 * 3600
    params = {1: QueueParams(zone, 20, 5)}
    fold = TodayFold(params)
    at = end - 60
    for line in [
        Log(1, E.QUEUED, at, {"queue_id": 1}),
        Log(1, E.ANSWERED, at + 5, {"operator_id": 7, "queue_id": 1}),
        Log(1, E.WRAP_UP_STARTED, at + 30, {"operator_id": 7}),
        Log(1, E.COMPLETED, at + 40, {"operator_id": 7, "queue_id": 1}),
        Log(2, E.QUEUED, end + 5, {"queue_id": 1}),
    ]:
        fold.add(line)
    today, _ = fold.queue_figures(1, end - 1, []) or (None, None)
    assert today is not None and (today.offered, today.answered) == (1, 1)
    tomorrow = fold.queue_figures(1, end + 10, fold.open_by_queue().get(1, []))
    assert tomorrow is not None
    acc, waits = tomorrow
    assert (acc.offered, acc.answered, waits) == (1, 0, [end + 5])
    assert fold.operator_visits(7, end) == [] and len(fold.operator_visits(7, start)) == 1


def test_a_visit_of_a_queue_without_parameters_marks_the_fold_stale() -> None:
    fold = TodayFold({})
    fold.add(Log(1, E.QUEUED, 0.0, {"queue_id": 9}))
    fold.add(Log(1, E.ABANDONED, 3.0, {"queue_id": 9}))
    assert fold.stale
