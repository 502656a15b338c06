"""The ``hours`` node across DST changes: Europe/Moscow (UTC+3 all year) vs Europe/Berlin.

Berlin is on CET (UTC+1) until 2026-03-29 01:00Z, then CEST (UTC+2) until 2026-10-25
01:00Z. Both hotlines are open Monday to Friday 09:00-18:00 local time, so one UTC instant
of the day can be open in Berlin one week and closed the next, while Moscow does not move.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from flow_helpers import log, make_run, play

from hotline.core.flows.actions import LogIvr
from hotline.core.hours import BusinessHours, parse_hours_spec

WORKDAYS = ("mon", "tue", "wed", "thu", "fri")
NODES: dict[str, Any] = {
    "main": {"type": "hours", "open": "menu", "closed": "after_hours", "holiday": "holiday"},
    "menu": {"type": "play", "prompt": "menu", "next": "end"},
    "after_hours": {"type": "play", "prompt": "after_hours", "next": "end"},
    "holiday": {"type": "play", "prompt": "thanks", "next": "end"},
    "end": {"type": "hangup"},
}


def office(zone: str, *holidays: str) -> BusinessHours:
    weekly = {day: ["09:00-18:00"] for day in WORKDAYS}
    return parse_hours_spec({"timezone": zone, "weekly": weekly, "holidays": list(holidays)})


def at(text: str) -> float:
    """Unix seconds of ``YYYY-MM-DD HH:MM`` UTC."""
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=UTC).timestamp()


def branch(hours: BusinessHours, now: float, nodes: dict[str, Any] = NODES) -> str:
    first = make_run(nodes, start="main", hours=hours).start(now)[0]
    assert isinstance(first, LogIvr)
    return str(first.data["branch"])


@pytest.mark.parametrize(
    ("instant", "moscow", "berlin"),
    [
        # Friday before the spring change: Berlin 08:30 CET, Moscow 10:30.
        ("2026-03-27 07:30", "open", "closed"),
        # Monday after it: Berlin 09:30 CEST, Moscow 10:30.
        ("2026-03-30 07:30", "open", "open"),
        # Friday 16:30Z: Berlin 17:30 CET (open), Moscow 19:30 (closed).
        ("2026-03-27 16:30", "closed", "open"),
        # Monday 16:30Z: Berlin 18:30 CEST, closed now as well.
        ("2026-03-30 16:30", "closed", "closed"),
        # Autumn: Friday 2026-10-23 Berlin 09:30 CEST; Monday 10-26 08:30 CET.
        ("2026-10-23 07:30", "open", "open"),
        ("2026-10-26 07:30", "open", "closed"),
        # Sunday of the spring change itself: closed all day in both.
        ("2026-03-29 10:00", "closed", "closed"),
    ],
)
def test_open_and_closed_across_the_dst_change(instant: str, moscow: str, berlin: str) -> None:
    assert branch(office("Europe/Moscow"), at(instant)) == moscow
    assert branch(office("Europe/Berlin"), at(instant)) == berlin


@pytest.mark.parametrize(
    ("instant", "moscow", "berlin"),
    [
        # Working hours of the holiday in both zones.
        ("2026-03-30 07:30", "holiday", "holiday"),
        # 21:30Z on Sunday 03-29: already Monday 00:30 in Moscow, still Sunday in Berlin.
        ("2026-03-29 21:30", "holiday", "closed"),
        # 22:30Z: Monday 00:30 CEST in Berlin too (the first day after the change).
        ("2026-03-29 22:30", "holiday", "holiday"),
        # Tuesday is a working day again.
        ("2026-03-31 07:30", "open", "open"),
    ],
)
def test_holiday_branch_follows_the_local_date(instant: str, moscow: str, berlin: str) -> None:
    assert branch(office("Europe/Moscow", "2026-03-30"), at(instant)) == moscow
    assert branch(office("Europe/Berlin", "2026-03-30"), at(instant)) == berlin


def test_holiday_without_holiday_branch_takes_the_closed_one() -> None:
    nodes = {**NODES, "main": {"type": "hours", "open": "menu", "closed": "after_hours"}}
    del nodes["holiday"]
    run = make_run(nodes, start="main", hours=office("Europe/Berlin", "2026-03-30"))
    assert run.start(at("2026-03-30 07:30")) == [
        log("main", "hours", branch="holiday"),
        log("after_hours", "play"),
        play("after_hours"),
    ]


def test_overnight_tail_on_a_holiday_counts_as_open() -> None:
    # hours Rule 3: Friday's 22:00-02:00 shift still runs at 01:00 on a Saturday holiday.
    hours = parse_hours_spec(
        {
            "timezone": "Europe/Moscow",
            "weekly": {"fri": ["22:00-02:00"]},
            "holidays": ["2026-03-28"],
        }
    )
    assert branch(hours, at("2026-03-27 22:00")) == "open"  # Saturday 01:00 MSK
    assert branch(hours, at("2026-03-28 07:00")) == "holiday"  # Saturday 10:00 MSK
