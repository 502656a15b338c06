"""The seeds' reports over hand-made visits; every expected number is worked out in comments."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import pytest

from hotline.core.kpi import KpiError, QueueVisit, VisitOutcome
from hotline.core.kpi.intervals import zone
from hotline.core.kpi.reports import (
    Abandonment,
    BillingRow,
    Bucket,
    Conversion,
    EwtAccuracy,
    OperatorRow,
    abandonment,
    arrivals_by_hour,
    arrivals_by_weekday,
    arrivals_by_weekday_hour,
    billing,
    callbacks_requested,
    conversion,
    distribution,
    ewt_accuracy,
    operator_table,
    talk_distribution,
    topic_counts,
)

A = VisitOutcome.ANSWERED
MOSCOW = zone("Europe/Moscow")
BASE = datetime.fromisoformat("2026-03-02T10:00:00+03:00").timestamp()  # a Monday


def at(iso: str) -> float:
    return datetime.fromisoformat(iso).timestamp()


def answered(
    iid: int,
    *,
    wait: float = 0.0,
    talk: float | None = 60.0,
    wrap: float | None = 0.0,
    arrived: float = BASE,
    operator: int | None = 1,
    **fields: object,
) -> QueueVisit:
    return QueueVisit(
        interaction_id=iid,
        queue_id=int(fields.pop("queue", 1)),  # type: ignore[call-overload]
        arrived_at=arrived,
        outcome=A,
        answered_at=arrived + wait,
        ended_at=None if talk is None else arrived + wait + talk,
        operator_id=operator,
        wrap_up=wrap if talk is not None else None,
        **fields,  # type: ignore[arg-type]
    )


def ended(
    iid: int,
    outcome: VisitOutcome,
    wait: float,
    *,
    arrived: float = BASE,
    **fields: object,
) -> QueueVisit:
    return QueueVisit(
        interaction_id=iid,
        queue_id=int(fields.pop("queue", 1)),  # type: ignore[call-overload]
        arrived_at=arrived,
        outcome=outcome,
        ended_at=arrived + wait,
        **fields,  # type: ignore[arg-type]
    )


def test_given_values_on_edges_then_each_goes_to_the_bucket_starting_there() -> None:
    # [0,30): 0, 29.9; [30,60): 30, 59; [60,∞): 60, 500
    assert distribution([0, 29.9, 30, 59, 60, 500], [0, 30, 60]) == [
        Bucket(0, 30, 2),
        Bucket(30, 60, 2),
        Bucket(60, None, 2),
    ]
    assert distribution([], [0, 10]) == [Bucket(0, 10, 0), Bucket(10, None, 0)]
    with pytest.raises(KpiError, match="below the first bucket edge"):
        distribution([-1], [0, 10])
    with pytest.raises(KpiError, match="increasing"):
        distribution([1], [0, 10, 10])


def test_given_arrivals_in_moscow_then_counted_by_local_weekday_and_hour() -> None:
    visits = [
        ended(1, VisitOutcome.ABANDONED, 5, arrived=at("2026-03-02T09:10:00+03:00")),  # Mon 9
        ended(2, VisitOutcome.ABANDONED, 5, arrived=at("2026-03-02T23:59:50+03:00")),  # Mon 23
        ended(3, VisitOutcome.ABANDONED, 5, arrived=at("2026-03-03T00:00:10+03:00")),  # Tue 0
        ended(4, VisitOutcome.ABANDONED, 5, arrived=at("2026-03-08T09:30:00+03:00")),  # Sun 9
    ]
    assert arrivals_by_weekday_hour(visits, MOSCOW) == {(0, 9): 1, (0, 23): 1, (1, 0): 1, (6, 9): 1}
    hours = arrivals_by_hour(visits, MOSCOW)
    assert (len(hours), hours[9], hours[23], hours[0], sum(hours)) == (24, 2, 1, 1, 4)
    assert arrivals_by_weekday(visits, MOSCOW) == [2, 1, 0, 0, 0, 0, 1]
    # in UTC, 23:59:50+03 and 00:00:10+03 are 20:59:50Z and 21:00:10Z, both on Monday
    assert arrivals_by_weekday(visits, zone("UTC")) == [3, 0, 0, 0, 0, 0, 1]
    # Berlin fall-back Sunday: 00:10Z and 01:10Z are both 02:10 local → hour 2 twice
    repeated = [
        ended(5, VisitOutcome.ABANDONED, 1, arrived=at("2026-10-25T00:10:00Z")),
        ended(6, VisitOutcome.ABANDONED, 1, arrived=at("2026-10-25T01:10:00Z")),
    ]
    assert arrivals_by_weekday_hour(repeated, zone("Europe/Berlin")) == {(6, 2): 2}


def test_given_talks_then_only_ended_answered_talks_are_in_the_distribution() -> None:
    visits = [
        answered(1, talk=20),  # [0,30)
        answered(2, talk=45),  # [30,60)
        answered(3, talk=300),  # [300,600)
        answered(4, talk=None),  # still talking: left out
        ended(5, VisitOutcome.ABANDONED, 30),  # no talk
    ]
    counts = [bucket.count for bucket in talk_distribution(visits)]
    # default edges 0, 30, 60, 120, 300, 600, 1200
    assert counts == [1, 1, 0, 0, 1, 0, 0]


def test_given_topics_then_most_frequent_first_unknown_after_equals() -> None:
    topics = ["lead", "lead", "support", None, "customer", "support", "lead"]
    visits = [ended(n, VisitOutcome.ABANDONED, 1, topic=t) for n, t in enumerate(topics)]
    counts = topic_counts(visits)
    assert list(counts.items()) == [("lead", 3), ("support", 2), ("customer", 1), (None, 1)]


def test_given_abandons_then_counts_rate_and_wait_buckets() -> None:
    # abandons after 3 (short, < S = 5), 5, 12, 60, 400 s; 2 answered; 1 callback
    # offered 8, abandoned 5, short 1, rate 5/8; waits in 0,5,10,20,30,60,120,300:
    #   3 → [0,5); 5 → [5,10); 12 → [10,20); 60 → [60,120); 400 → [300,∞)
    visits = [ended(n, VisitOutcome.ABANDONED, w) for n, w in enumerate([3, 5, 12, 60, 400])]
    visits += [answered(10, wait=4), answered(11, wait=100), ended(12, VisitOutcome.CALLBACK, 30)]
    report = abandonment(visits, short_abandon=5)
    assert report == Abandonment(
        offered=8,
        abandoned=5,
        short_abandoned=1,
        abandon_rate=5 / 8,
        waits=[
            Bucket(0, 5, 1),
            Bucket(5, 10, 1),
            Bucket(10, 20, 1),
            Bucket(20, 30, 0),
            Bucket(30, 60, 0),
            Bucket(60, 120, 1),
            Bucket(120, 300, 0),
            Bucket(300, None, 1),
        ],
    )
    assert abandonment([], short_abandon=5).abandon_rate is None


def test_given_announced_waits_then_errors_mae_and_share_within_30_s() -> None:
    # answered with ewt: (60, waited 40) +20; (30, 75) −45; (10, 10) 0; (100, 70) +30 (= tolerance)
    # left out: an abandon with ewt (censored wait) and an answer without ewt
    # count 4; mean (20 − 45 + 0 + 30)/4 = 1.25; MAE (20 + 45 + 0 + 30)/4 = 23.75; within 3/4
    visits = [
        answered(1, wait=40, ewt=60.0),
        answered(2, wait=75, ewt=30.0),
        answered(3, wait=10, ewt=10.0),
        answered(4, wait=70, ewt=100.0),
        ended(5, VisitOutcome.ABANDONED, 200, ewt=30.0),
        answered(6, wait=5),
    ]
    assert ewt_accuracy(visits) == EwtAccuracy(4, 1.25, 23.75, 0.75, 30.0)
    assert ewt_accuracy(visits[5:]) == EwtAccuracy(0, None, None, None, 30.0)


def test_given_callbacks_then_requested_and_offered_per_queue() -> None:
    visits = [
        ended(1, VisitOutcome.CALLBACK, 30, queue=1),
        ended(2, VisitOutcome.CALLBACK, 60, queue=1),
        answered(3, queue=1),
        ended(4, VisitOutcome.ABANDONED, 10, queue=1),
        answered(5, queue=2),
    ]
    assert callbacks_requested(visits) == {1: (2, 4), 2: (0, 1)}
    with pytest.raises(KpiError, match="queue_id or hotline_id"):
        callbacks_requested(visits, by="topic")


def sales_log() -> list[QueueVisit]:
    """Sales contacts; interaction 7 was answered by operator 1, then transferred to 2."""
    return [
        answered(
            1, wait=10, talk=100, wrap=20, operator=1, source="google", topic="lead", csat=5.0
        ),
        answered(2, wait=30, talk=200, wrap=10, operator=1, source="google", topic="customer"),
        answered(
            3, wait=25, talk=120, wrap=30, operator=2, source="google", topic="customer", csat=4.0
        ),
        answered(4, wait=20, talk=90, wrap=30, operator=2, source="tv", topic="lead"),
        answered(5, wait=5, talk=50, wrap=0, operator=1, source="tv", topic="support", csat=3.0),
        ended(6, VisitOutcome.ABANDONED, 8, source="tv", topic="lead"),
        answered(7, wait=15, talk=60, wrap=10, operator=1, source="site", topic="customer"),
        answered(
            7,
            wait=40,
            talk=300,
            wrap=0,
            operator=2,
            arrived=BASE + 75,
            source="site",
            topic="customer",
            csat=2.0,
        ),
    ]


def test_given_sales_topics_then_conversion_by_source_and_by_operator() -> None:
    # by source: google leads 1 (#1), customers 2 (#2, #3) → 2/3; tv leads 2 (#4, #6) → 0;
    # site: #7 once → 1 customer → 1; #5 "support" is no sales contact
    assert conversion(sales_log(), by="source") == {
        "google": Conversion(1, 2, 2 / 3),
        "tv": Conversion(2, 0, 0.0),
        "site": Conversion(0, 1, 1.0),
    }
    # by operator: 1 → #1 lead, #2 customer → 1/2; 2 → #3, #7 (its last answer) customers,
    # #4 lead → 2/3; nobody → #6 abandoned lead → 0
    assert conversion(sales_log(), by="operator_id") == {
        1: Conversion(1, 1, 0.5),
        2: Conversion(1, 2, 2 / 3),
        None: Conversion(1, 0, 0.0),
    }
    # other topic words, set by the caller
    assert conversion(sales_log(), by="source", lead_topics={"support"}, customer_topics=()) == {
        "tv": Conversion(1, 0, 0.0)
    }


def test_given_answers_then_the_operator_table_has_handled_aht_sl_conversion_csat() -> None:
    # T = 20.  operator 1: #1 (wait 10, talk 100, wrap 20, csat 5), #2 (30, 200, 10),
    #   #5 (5, 50, 0, csat 3), #7a (15, 60, 10) → handled 4, AHT (120 + 210 + 50 + 70)/4 =
    #   112.5, within T 3 of 4, conversion 1/2, CSAT (5 + 3)/2 = 4, occupancy given 0.8
    # operator 2: #3 (25, 120, 30, csat 4), #4 (20, 90, 30), #7b (40, 300, 0, csat 2) →
    #   handled 3, AHT (150 + 120 + 300)/3 = 190, within 1 of 3 (20 = T), conversion 2/3,
    #   CSAT 3, occupancy unknown
    rows = operator_table(sales_log(), answer_within=20, occupancy={1: 0.8})
    assert rows == [
        OperatorRow(1, 4, 112.5, 0.75, 0.5, 4.0, 0.8),
        OperatorRow(2, 3, 190.0, pytest.approx(1 / 3), pytest.approx(2 / 3), 3.0, None),  # type: ignore[arg-type]
    ]


def months(visits: Iterable[QueueVisit], tz_name: str) -> list[BillingRow]:
    return billing(visits, zone(tz_name))


def test_given_answers_then_billing_per_hotline_and_local_month() -> None:
    # hotline 1: 23:50 on 31 March (Moscow) talk 120 wrap 30 → March 150 s handled;
    #            00:10 on 1 April (Moscow; 21:10Z on 31 March) talk 60 wrap 0 → April 60 s;
    #            an abandon in March is not billed
    # hotline 2: interaction 9 answered twice in March (transfer): talk 60 + wrap 6 and
    #            talk 30 + wrap 24 → 1 interaction, 120 s handled = 2 min, 90 s talk = 1.5 min
    # no hotline: talk 600 → 10 min, listed last
    march_end, april = at("2026-03-31T23:50:00+03:00"), at("2026-04-01T00:10:00+03:00")
    visits = [
        answered(1, talk=120, wrap=30, arrived=march_end, hotline_id=1),
        answered(2, talk=60, wrap=0, arrived=april, hotline_id=1),
        ended(3, VisitOutcome.ABANDONED, 30, arrived=march_end, hotline_id=1),
        answered(9, talk=60, wrap=6, arrived=march_end, hotline_id=2),
        answered(9, talk=30, wrap=24, arrived=march_end + 100, hotline_id=2),
        answered(10, talk=600, wrap=0, arrived=march_end),
        answered(11, talk=None, arrived=march_end, hotline_id=1),  # still talking: not yet
    ]
    assert months(visits, "Europe/Moscow") == [
        BillingRow(1, "2026-03", 1, 2.5, 2.0),
        BillingRow(1, "2026-04", 1, 1.0, 1.0),
        BillingRow(2, "2026-03", 1, 2.0, 1.5),
        BillingRow(None, "2026-03", 1, 10.0, 10.0),
    ]
    # in UTC both hotline 1 answers are in March: 2 interactions, 210 s = 3.5 min, 3 min talk
    assert months(visits, "UTC")[0] == BillingRow(1, "2026-03", 2, 3.5, 3.0)
