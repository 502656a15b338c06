"""Interval rollups (pure): rows sum to a recomputation; report buckets in time zones."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hotline.core.kpi import KPI_KEYS, QueueVisit, VisitOutcome, group_kpis
from hotline.core.kpi.rollup import (
    DIMENSIONS,
    Sums,
    add_sums,
    bucket_start,
    contribution,
    difference,
    empty_sums,
    interval_start,
    kpis_from_sums,
    rollup_ready,
    rollup_rows,
)

UTC = dt.UTC
#: thresholds (T, S) per queue: rows of different queues never share thresholds
THRESHOLDS = {1: (20.0, 5.0), 2: (10.0, 0.0), 3: (30.0, 3.0)}
BASE = 1_792_800_000.0  # 2026-10-24T02:40:00Z, any POSIX time


def assert_same_kpis(got: dict[str, Any], want: dict[str, Any]) -> None:
    for key in KPI_KEYS:
        if want[key] is None:
            assert got[key] is None, key
        else:
            assert got[key] == pytest.approx(want[key], rel=1e-9, abs=1e-9), key


@st.composite
def visits(draw: st.DrawFn) -> QueueVisit:
    queue = draw(st.sampled_from(sorted(THRESHOLDS)))
    arrived = BASE + draw(st.integers(0, 4 * 3600)) + draw(st.sampled_from([0.0, 0.25, 0.5]))
    # waits on and around the thresholds, where ≤ / < matter
    wait = draw(st.sampled_from([0.0, 2.9, 3.0, 4.99, 5.0, 10.0, 20.0, 20.5, 30.0, 95.0]))
    outcome = draw(st.sampled_from(list(VisitOutcome)))
    common: dict[str, Any] = {
        "interaction_id": draw(st.integers(1, 10**6)),
        "queue_id": queue,
        "arrived_at": arrived,
        "outcome": outcome,
        "channel": draw(st.sampled_from(["call", "chat", None])),
        "source": draw(st.sampled_from(["ads", "site", None])),
        "topic": draw(st.sampled_from(["order", "refund", None])),
        "csat": draw(st.sampled_from([None, 1.0, 3.0, 4.0, 5.0])),
    }
    if outcome is VisitOutcome.ANSWERED:
        answered = arrived + wait
        done = draw(st.booleans())
        ended = answered + draw(st.integers(0, 600_000)) / 1000 if done else None
        talk = 0.0 if ended is None else ended - answered  # as QueueVisit computes it
        return QueueVisit(
            **common,
            answered_at=answered,
            ended_at=ended,
            operator_id=draw(st.integers(1, 4)),
            hold=draw(st.integers(0, 100)) / 100 * talk,
            wrap_up=draw(st.integers(0, 60_000)) / 1000 if done else None,
        )
    if outcome is VisitOutcome.WAITING:
        return QueueVisit(**common)
    return QueueVisit(**common, ended_at=arrived + wait)


def _rows(vs: list[QueueVisit]) -> dict[Any, Sums]:
    return rollup_rows((v, 7, 100 + v.queue_id % 2, *THRESHOLDS[v.queue_id]) for v in vs)


@given(st.lists(visits(), max_size=40))
def test_given_visits_when_rolled_up_then_rows_equal_recomputation_per_queue_and_interval(
    vs: list[QueueVisit],
) -> None:
    rows = _rows(vs)
    settled = [v for v in vs if rollup_ready(v)]
    for queue, (t, s) in THRESHOLDS.items():
        # the reference: group_kpis straight over the visits, interval by integer division
        want = group_kpis(
            [v for v in settled if v.queue_id == queue],
            lambda v: int(v.arrived_at // 900) * 900,
            answer_within=t,
            short_abandon=s,
        )
        got = {
            key.interval_start: kpis_from_sums(sums)
            for key, sums in rows.items()
            if key.queue_id == queue and key.dimension == ""
        }
        assert got.keys() == want.keys()
        for start, kpis in want.items():
            assert_same_kpis(got[start], kpis)


@given(st.lists(visits(), max_size=40))
def test_given_rows_when_summing_each_dimension_then_totals_are_the_queue_totals(
    vs: list[QueueVisit],
) -> None:
    rows = _rows(vs)
    totals: dict[str, Sums] = {d: empty_sums() for d in DIMENSIONS}
    for key, sums in rows.items():
        add_sums(totals[key.dimension], sums)
    base = kpis_from_sums(totals[""])
    assert base["offered"] == sum(1 for v in vs if rollup_ready(v))
    for dimension in DIMENSIONS:
        assert_same_kpis(kpis_from_sums(totals[dimension]), base)


@given(st.lists(visits(), max_size=30), st.sampled_from(["30", "60", "day", "week", "month"]))
def test_given_15_minute_rows_when_bucketed_then_totals_over_buckets_equal_the_total(
    vs: list[QueueVisit], interval: str
) -> None:
    zone = ZoneInfo("Asia/Kathmandu")
    buckets: dict[int, Sums] = {}
    total = empty_sums()
    for key, sums in _rows(vs).items():
        if key.dimension == "":
            add_sums(
                buckets.setdefault(bucket_start(key.interval_start, interval, zone), empty_sums()),
                sums,
            )
            add_sums(total, sums)
    merged = empty_sums()
    for sums in buckets.values():
        add_sums(merged, sums)
    assert_same_kpis(kpis_from_sums(merged), kpis_from_sums(total))


def test_given_a_later_survey_score_when_differenced_then_only_csat_counters_change() -> None:
    visit = QueueVisit(
        interaction_id=1,
        queue_id=1,
        arrived_at=BASE,
        outcome=VisitOutcome.ANSWERED,
        answered_at=BASE + 12,
        ended_at=BASE + 100,
        wrap_up=10.0,
    )
    scored = QueueVisit(
        interaction_id=1,
        queue_id=1,
        arrived_at=BASE,
        outcome=VisitOutcome.ANSWERED,
        answered_at=BASE + 12,
        ended_at=BASE + 100,
        wrap_up=10.0,
        csat=4.0,
    )
    before = contribution(visit, answer_within=20, short_abandon=5)
    delta = difference(contribution(scored, answer_within=20, short_abandon=5), before)
    changed = {k for k, v in delta.items() if k != "max_wait" and v != 0}
    assert changed == {"csat_count", "csat_sum", "csat_satisfied"}
    assert (delta["csat_count"], delta["csat_sum"], delta["csat_satisfied"]) == (1, 4.0, 1)
    add_sums(before, delta)
    assert kpis_from_sums(before)["csat_avg"] == 4.0
    assert kpis_from_sums(before)["max_wait"] == 12.0  # the wait, unchanged by the delta


def test_given_times_when_cut_then_15_minute_intervals_start_on_the_utc_grid() -> None:
    at = dt.datetime(2026, 3, 1, 10, 44, 59, tzinfo=UTC).timestamp()
    assert interval_start(at) == dt.datetime(2026, 3, 1, 10, 30, tzinfo=UTC).timestamp()
    assert interval_start(at + 1) == dt.datetime(2026, 3, 1, 10, 45, tzinfo=UTC).timestamp()


def _local(posix: int, zone: str) -> str:
    return dt.datetime.fromtimestamp(posix, ZoneInfo(zone)).isoformat()


def _at(text: str) -> int:
    return int(dt.datetime.fromisoformat(text).timestamp())


@pytest.mark.parametrize(
    ("row_utc", "interval", "zone", "want"),
    [
        # Kolkata is +05:30: 00:15Z is 05:45 local → hour 05:00 local, 30 min 05:30 local
        ("2026-03-01T00:15:00+00:00", "60", "Asia/Kolkata", "2026-03-01T05:00:00+05:30"),
        ("2026-03-01T00:15:00+00:00", "30", "Asia/Kolkata", "2026-03-01T05:30:00+05:30"),
        # Kathmandu is +05:45: 00:15Z is 06:00 local, the start of a local hour
        ("2026-03-01T00:15:00+00:00", "60", "Asia/Kathmandu", "2026-03-01T06:00:00+05:45"),
        ("2026-03-01T00:00:00+00:00", "60", "Asia/Kathmandu", "2026-03-01T05:00:00+05:45"),
        # Moscow +03:00: 21:30Z on Feb 28 is 00:30 on Mar 1 → that day, that month
        ("2026-02-28T21:30:00+00:00", "day", "Europe/Moscow", "2026-03-01T00:00:00+03:00"),
        ("2026-02-28T20:45:00+00:00", "day", "Europe/Moscow", "2026-02-28T00:00:00+03:00"),
        ("2026-02-28T21:30:00+00:00", "month", "Europe/Moscow", "2026-03-01T00:00:00+03:00"),
        # 2026-03-04 is a Wednesday: its ISO week starts on Monday 2026-03-02
        ("2026-03-04T12:00:00+00:00", "week", "Europe/Moscow", "2026-03-02T00:00:00+03:00"),
        # Berlin falls back on 2026-10-25 at 01:00Z (03:00 CEST → 02:00 CET): the wall hour
        # 02:00 happens twice, two buckets told apart by their offset
        ("2026-10-25T00:15:00+00:00", "60", "Europe/Berlin", "2026-10-25T02:00:00+02:00"),
        ("2026-10-25T01:15:00+00:00", "60", "Europe/Berlin", "2026-10-25T02:00:00+01:00"),
        # that day is 25 hours long; its last row still lies in it
        ("2026-10-25T22:45:00+00:00", "day", "Europe/Berlin", "2026-10-25T00:00:00+02:00"),
        ("2026-10-25T23:00:00+00:00", "day", "Europe/Berlin", "2026-10-26T00:00:00+01:00"),
    ],
)
def test_given_a_15_minute_row_when_bucketed_then_it_lands_in_the_local_bucket(
    row_utc: str, interval: str, zone: str, want: str
) -> None:
    assert _local(bucket_start(_at(row_utc), interval, ZoneInfo(zone)), zone) == want
