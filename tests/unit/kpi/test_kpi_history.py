"""History CSV import: typed rows, every problem with line and column, all-or-nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from hotline.core.kpi import VisitOutcome
from hotline.core.kpi.history import (
    HISTORY_COLUMNS,
    HistoryCsvError,
    HistoryProblem,
    HistoryRow,
    history_visit,
    parse_history_csv,
)

HEADER = ",".join(HISTORY_COLUMNS)
GOOD = (
    "c1,call,Acme,Sales,Anna,google,lead,2026-03-29T01:59:30+01:00,"
    "2026-03-29T03:00:10+02:00,2026-03-29T03:05:10+02:00,30.5,20,4"
)
ABANDON = "c2,chat,Acme,Sales,,,,2026-03-29T10:00:00Z,,2026-03-29T10:00:07Z,,,"


def problems_of(*rows: str, header: str = HEADER) -> list[tuple[int, str | None, str]]:
    with pytest.raises(HistoryCsvError) as caught:
        parse_history_csv([header, *rows])
    return [(p.line, p.column, p.message) for p in caught.value.problems]


def test_given_good_rows_then_typed_aware_rows_and_visits_in_posix_seconds() -> None:
    rows = parse_history_csv(["\ufeff" + HEADER + "\r\n", GOOD + "\n", "", ABANDON])
    assert [row.line for row in rows] == [2, 4]  # the blank line 3 is skipped, still counted
    first, second = rows
    assert first == HistoryRow(
        line=2,
        id="c1",
        channel="call",
        hotline="Acme",
        queue="Sales",
        agent="Anna",
        source="google",
        topic="lead",
        arrived_at=datetime(2026, 3, 29, 1, 59, 30, tzinfo=timezone(timedelta(hours=1))),
        answered_at=datetime(2026, 3, 29, 3, 0, 10, tzinfo=timezone(timedelta(hours=2))),
        ended_at=datetime(2026, 3, 29, 3, 5, 10, tzinfo=timezone(timedelta(hours=2))),
        hold_seconds=30.5,
        wrapup_seconds=20.0,
        csat=4,
    )
    # across the Berlin spring-forward: 00:59:30Z → 01:00:10Z is a 40 s wait, not 1 h 40 s
    assert first.wait_seconds == 40.0
    assert first.talk_seconds == 300.0
    visit = history_visit(first, queue_id=7, interaction_id=1, hotline_id=3, operator_id=9)
    assert visit.arrived_at == datetime(2026, 3, 29, 0, 59, 30, tzinfo=UTC).timestamp()
    assert visit.arrived_at == 1_774_745_970.0  # date -d 2026-03-29T00:59:30Z +%s
    assert (visit.wait, visit.talk, visit.hold, visit.wrap_up) == (40.0, 300.0, 30.5, 20.0)
    assert (visit.outcome, visit.queue_id, visit.operator_id, visit.hotline_id) == (
        VisitOutcome.ANSWERED,
        7,
        9,
        3,
    )
    assert (visit.channel, visit.source, visit.topic, visit.csat) == ("call", "google", "lead", 4)
    abandoned = history_visit(second, queue_id=7, interaction_id=2)
    assert (abandoned.outcome, abandoned.wait, abandoned.hold, abandoned.wrap_up) == (
        VisitOutcome.ABANDONED,
        7.0,
        0.0,
        None,
    )
    assert (second.agent, second.source, second.topic, second.csat) == (None, None, None, None)


def test_given_hold_equal_to_a_fractional_talk_then_the_visit_is_accepted() -> None:
    # talk 0.1 s between two times that POSIX floats cannot hold exactly
    row = (
        "x,call,H,Q,a,,,2026-03-29T10:00:00.000001Z,2026-03-29T10:00:00.100003Z,"
        "2026-03-29T10:00:00.200004Z,0.100001,,"
    )
    (parsed,) = parse_history_csv([HEADER, row])
    visit = history_visit(parsed, queue_id=1, interaction_id=1)
    assert visit.hold == pytest.approx(0.100001, abs=1e-6)
    assert visit.talk is not None and visit.hold <= visit.talk


def test_given_many_bad_rows_then_every_problem_with_line_and_column_and_nothing_returned() -> None:
    rows = [
        GOOD,  # line 2: fine
        "c3,fax,Acme,,Anna,,,2026-03-29T10:00:00,,2026-03-29T10:00:07Z,,,",  # line 3
        "c4,call,Acme,Sales,Bob,,,2026-03-29T10:00:00Z,2026-03-29T09:00:00Z,"
        "2026-03-29T10:05:00Z,,,6",  # line 4
        "c5,call,Acme,Sales,,,,2026-03-29T10:00:00Z,,2026-03-29T09:59:59Z,-1,x,",  # line 5
        "c1,call,Acme,Sales,Bob,,,2026-03-29T10:00:00Z,2026-03-29T10:00:05Z,"
        "2026-03-29T10:01:05Z,61,,3.5",  # line 6
        "c7,call,Acme,Sales,Ann,,,yesterday,,2026-03-29T10:00:00Z,,,",  # line 7
        "c8,call,Acme",  # line 8
        "c9,call,Acme,Sales,Ann,,,2026-03-29T10:00:00Z,,2026-03-29T10:00:09Z,5,5,",  # line 9
        ",call,Acme,Sales,,,,2026-03-29T10:00:00Z,,,,,",  # line 10
    ]
    assert problems_of(*rows) == [
        (3, "queue", "missing value"),
        (3, "channel", "unknown channel 'fax'; one of call, chat, email, sms, messenger"),
        (
            3,
            "arrived_at",
            "time without a UTC offset: '2026-03-29T10:00:00' "
            "(write e.g. 2026-03-29T10:00:00+03:00 or 2026-03-29T10:00:00Z)",
        ),
        (3, "agent", "given, but the interaction was not answered"),
        (4, "csat", "must be between 1 and 5, got 6"),
        (4, "answered_at", "before arrived_at"),
        (5, "hold_seconds", "must be a finite number of seconds >= 0, got '-1'"),
        (5, "wrapup_seconds", "not a number: 'x'"),
        (5, "ended_at", "before arrived_at"),
        (6, "id", "'c1' repeated (first on line 2)"),
        (6, "csat", "not an integer score 1–5: '3.5'"),
        (6, "hold_seconds", "61 s is more than the talk time 60 s"),
        (7, "arrived_at", "not an ISO 8601 time: 'yesterday'"),
        (7, "agent", "given, but the interaction was not answered"),
        (8, None, "has 3 cells, the header has 13"),
        (9, "hold_seconds", "given, but the interaction was not answered"),
        (9, "wrapup_seconds", "given, but the interaction was not answered"),
        (9, "agent", "given, but the interaction was not answered"),
        (10, "id", "missing value"),
        (10, "ended_at", "missing value (an ISO 8601 time with offset)"),
    ]


def test_given_a_problem_then_its_text_reads_line_column_message() -> None:
    assert str(HistoryProblem(4, "csat", "bad")) == "line 4, column csat: bad"
    assert str(HistoryProblem(8, None, "short")) == "line 8: short"
    error = HistoryCsvError([HistoryProblem(4, "csat", "bad"), HistoryProblem(8, None, "short")])
    assert str(error) == "line 4, column csat: bad\nline 8: short"


def test_given_ended_before_answered_then_ended_at_is_named() -> None:
    row = "c1,call,H,Q,a,,,2026-03-29T10:00:00Z,2026-03-29T10:00:10Z,2026-03-29T10:00:09Z,,,"
    assert problems_of(row) == [(2, "ended_at", "before answered_at")]


def test_given_a_quoted_cell_over_two_lines_then_later_lines_keep_their_numbers() -> None:
    rows = [
        'c1,call,"Acme\nWest",Q,,,,2026-03-29T10:00:00Z,,2026-03-29T10:00:07Z,,,',  # lines 2–3
        "c1,call,H,Q,,,,2026-03-29T10:00:00Z,,2026-03-29T10:00:07Z,,,",  # line 4
    ]
    lines = [HEADER, *"\n".join(rows).split("\n")]
    with pytest.raises(HistoryCsvError) as caught:
        parse_history_csv(line + "\n" for line in lines)
    assert [str(p) for p in caught.value.problems] == [
        "line 4, column id: 'c1' repeated (first on line 2)"
    ]


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ([], "line 1: the file is empty; the header is missing"),
        (
            ["id,channel,hotline"],
            "line 1: the header must be exactly " + HEADER + "; got id,channel,hotline",
        ),
        (
            [HEADER.replace("agent", "operator"), GOOD],
            "line 1: the header must be exactly "
            + HEADER
            + "; got "
            + HEADER.replace("agent", "operator"),
        ),
    ],
)
def test_given_a_bad_header_then_one_problem_on_line_1(lines: list[str], message: str) -> None:
    with pytest.raises(HistoryCsvError) as caught:
        parse_history_csv(lines)
    assert [str(p) for p in caught.value.problems] == [message]


def test_given_only_a_header_then_no_rows() -> None:
    assert parse_history_csv([HEADER]) == []


def test_given_a_cell_the_csv_module_refuses_then_a_problem_not_a_crash() -> None:
    # the csv module's field size limit (128 KiB) stops reading: reported with the row's line
    huge = "x" * 200_000
    ok = "a,call,H,Q,,,,2026-03-29T10:00:00Z,,2026-03-29T10:00:07Z,,,"
    bad = f"b,call,H,{huge},,,,2026-03-29T10:00:00Z,,2026-03-29T10:00:07Z,,,"
    with pytest.raises(HistoryCsvError) as caught:
        parse_history_csv(
            [HEADER, "a,call,H,Q,,,,x,,2026-03-29T10:00:07Z,,,", ok.replace("a", "c", 1), bad]
        )
    messages = [str(p) for p in caught.value.problems]
    assert messages[0] == "line 2, column arrived_at: not an ISO 8601 time: 'x'"
    assert messages[1].startswith("line 4: not readable as CSV (field larger than field limit")
    assert len(messages) == 2
