"""Business hours: hand-computed instants, DST, overnight ranges, specs and properties.

Offsets used in the hand computations (2026):
* Europe/Moscow: UTC+3 all year.
* America/New_York: EST (UTC-5) until 2026-03-08 02:00 local, when the clock jumps to 03:00
  EDT (UTC-4); back to EST on 2026-11-01 at 02:00 EDT, when 01:00-02:00 repeats.
* Europe/Berlin: CET (UTC+1) until 2026-03-29 02:00 local (01:00Z), then 03:00 CEST (UTC+2);
  back on 2026-10-25 at 03:00 CEST (01:00Z), when 02:00-03:00 repeats.
* America/Santiago: falls back at local midnight on 2026-04-05 (23:00-24:00 of 04-04
  repeats) and springs forward at local midnight on 2026-09-06 (00:00-01:00 is skipped).
"""

from __future__ import annotations

import pickle
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import cast
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hotline.core.hours import (
    DAY_NAMES,
    SEARCH_DAYS,
    BusinessHours,
    HoursError,
    TimeRange,
    hours_to_spec,
    is_open,
    next_change,
    parse_hours_spec,
)

MON, TUE, WED, THU, FRI, SAT, SUN = range(7)
WORKDAYS = ("mon", "tue", "wed", "thu", "fri")


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def spec(timezone: str, **parts: object) -> BusinessHours:
    return parse_hours_spec({"timezone": timezone, **parts})


def moscow_office() -> BusinessHours:
    return spec("Europe/Moscow", weekly={key: ["09:00-18:00"] for key in WORKDAYS})


# --- Moscow: no DST, UTC+3 ---------------------------------------------------------------


def test_weekday_office_hours_open_at_start_and_closed_at_end() -> None:
    hours = moscow_office()
    # 2026-03-02 is a Monday; 09:00 MSK = 06:00Z, 18:00 MSK = 15:00Z.
    assert not is_open(hours, utc(2026, 3, 2, 5, 59))
    assert is_open(hours, utc(2026, 3, 2, 6, 0))  # open at the start instant
    assert is_open(hours, utc(2026, 3, 2, 14, 59, 59))
    assert not is_open(hours, utc(2026, 3, 2, 15, 0))  # closed at the end instant


def test_next_change_within_the_day_and_over_the_weekend() -> None:
    hours = moscow_office()
    assert next_change(hours, utc(2026, 3, 2, 5, 0)) == utc(2026, 3, 2, 6, 0)
    assert next_change(hours, utc(2026, 3, 2, 6, 0)) == utc(2026, 3, 2, 15, 0)
    # Friday 2026-03-06 19:00 MSK: closed until Monday 2026-03-09 09:00 MSK = 06:00Z.
    assert next_change(hours, utc(2026, 3, 6, 16, 0)) == utc(2026, 3, 9, 6, 0)


def test_now_in_another_zone_is_the_same_instant_and_answers_are_utc() -> None:
    hours = moscow_office()
    # 10:00 in Moscow is 07:00Z whatever zone `now` is written in.
    now = datetime(2026, 3, 2, 10, 0, tzinfo=ZoneInfo("Europe/Moscow"))
    assert is_open(hours, now)
    change = next_change(hours, now)
    assert change == utc(2026, 3, 2, 15, 0)
    assert change is not None and change.tzinfo is UTC


def test_naive_now_is_refused() -> None:
    with pytest.raises(HoursError) as caught:
        is_open(moscow_office(), datetime(2026, 3, 2, 10, 0))
    assert caught.value.path == "now"
    assert caught.value.message == (
        "must be timezone-aware (e.g. tzinfo=datetime.UTC), got naive 2026-03-02 10:00:00"
    )
    with pytest.raises(HoursError, match=r"^now: must be timezone-aware"):
        next_change(moscow_office(), datetime(2026, 3, 2, 10, 0))


def test_lunch_break_and_touching_ranges() -> None:
    split = spec("Europe/Moscow", weekly={"tue": ["09:00-13:00", "14:00-18:00"]})
    # Tuesday 2026-03-03: 13:00 MSK = 10:00Z closes, 14:00 MSK = 11:00Z reopens.
    assert next_change(split, utc(2026, 3, 3, 7, 0)) == utc(2026, 3, 3, 10, 0)
    assert not is_open(split, utc(2026, 3, 3, 10, 30))
    assert next_change(split, utc(2026, 3, 3, 10, 30)) == utc(2026, 3, 3, 11, 0)
    touching = spec("Europe/Moscow", weekly={"tue": ["12:00-18:00", "09:00-12:00"]})
    # 09:00-12:00 and 12:00-18:00 merge: no change at noon, next one at 18:00 MSK = 15:00Z.
    assert next_change(touching, utc(2026, 3, 3, 7, 0)) == utc(2026, 3, 3, 15, 0)


def test_range_ending_at_midnight() -> None:
    for end in ("24:00", "00:00"):
        hours = spec("Europe/Moscow", weekly={"mon": [f"18:00-{end}"]})
        # Monday 2026-03-02 18:00 MSK = 15:00Z until Tuesday 00:00 MSK = Monday 21:00Z.
        assert is_open(hours, utc(2026, 3, 2, 20, 59))
        assert next_change(hours, utc(2026, 3, 2, 16, 0)) == utc(2026, 3, 2, 21, 0)
        assert hours_to_spec(hours)["weekly"] == {"mon": ["18:00-24:00"]}


# --- overnight ranges ----------------------------------------------------------------------

FRIDAY_NIGHT = {"fri": ["22:00-02:00"]}


def test_overnight_range_runs_into_the_next_day() -> None:
    hours = spec("Europe/Moscow", weekly=FRIDAY_NIGHT)
    # Friday 2026-03-06 22:00 MSK = 19:00Z; Saturday 02:00 MSK = Friday 23:00Z.
    assert not is_open(hours, utc(2026, 3, 6, 18, 59))
    assert is_open(hours, utc(2026, 3, 6, 19, 0))
    assert is_open(hours, utc(2026, 3, 6, 22, 0))  # Saturday 01:00 local
    assert not is_open(hours, utc(2026, 3, 6, 23, 0))
    assert next_change(hours, utc(2026, 3, 6, 18, 0)) == utc(2026, 3, 6, 19, 0)
    assert next_change(hours, utc(2026, 3, 6, 22, 0)) == utc(2026, 3, 6, 23, 0)
    # The next opening after that is the following Friday, 2026-03-13 19:00Z.
    assert next_change(hours, utc(2026, 3, 6, 23, 0)) == utc(2026, 3, 13, 19, 0)


def test_holiday_on_the_next_day_keeps_the_overnight_tail() -> None:
    # Rule 3: the tail belongs to Friday; Saturday being a holiday does not close it.
    hours = spec("Europe/Moscow", weekly=FRIDAY_NIGHT, holidays=["2026-03-07"])
    assert is_open(hours, utc(2026, 3, 6, 22, 0))  # Saturday 01:00 MSK
    assert next_change(hours, utc(2026, 3, 6, 22, 0)) == utc(2026, 3, 6, 23, 0)


def test_holiday_on_the_start_day_removes_the_overnight_range() -> None:
    hours = spec("Europe/Moscow", weekly=FRIDAY_NIGHT, holidays=["2026-03-06"])
    assert not is_open(hours, utc(2026, 3, 6, 19, 30))  # Friday 22:30 MSK
    assert not is_open(hours, utc(2026, 3, 6, 22, 0))  # Saturday 01:00 MSK
    assert next_change(hours, utc(2026, 3, 6, 18, 0)) == utc(2026, 3, 13, 19, 0)


def test_special_day_replaces_the_overnight_range_of_its_date_only() -> None:
    hours = spec(
        "Europe/Moscow",
        weekly=FRIDAY_NIGHT,
        special_days={"2026-03-06": ["09:00-15:00"], "2026-03-07": []},
    )
    # Friday 03-06 is 09:00-15:00 MSK = 06:00Z-12:00Z only: no tail into Saturday.
    assert is_open(hours, utc(2026, 3, 6, 11, 59))
    assert not is_open(hours, utc(2026, 3, 6, 22, 0))
    assert next_change(hours, utc(2026, 3, 6, 12, 0)) == utc(2026, 3, 13, 19, 0)
    # Saturday 03-14 closed by a special day does not close Friday 03-13's tail.
    closed_saturday = spec("Europe/Moscow", weekly=FRIDAY_NIGHT, special_days={"2026-03-14": []})
    assert is_open(closed_saturday, utc(2026, 3, 13, 22, 0))


def test_overnight_tail_merges_with_the_next_days_early_shift() -> None:
    hours = spec("Europe/Moscow", weekly={"fri": ["22:00-02:00"], "sat": ["00:00-08:00"]})
    # Friday 22:00 MSK to Saturday 08:00 MSK without a break: 19:00Z until Saturday 05:00Z.
    assert next_change(hours, utc(2026, 3, 6, 19, 30)) == utc(2026, 3, 7, 5, 0)
    assert is_open(hours, utc(2026, 3, 6, 23, 30))  # Saturday 02:30 MSK: Saturday's range


def test_overnight_sunday_range_wraps_into_monday() -> None:
    hours = spec("Europe/Moscow", weekly={"sun": ["23:00-01:00"]})
    # Sunday 2026-03-08 23:00 MSK = 20:00Z; Monday 01:00 MSK = Sunday 22:00Z.
    assert is_open(hours, utc(2026, 3, 8, 21, 30))
    assert next_change(hours, utc(2026, 3, 8, 21, 30)) == utc(2026, 3, 8, 22, 0)


# --- DST: New York ---------------------------------------------------------------------------


def every_day(timezone: str, *ranges: str) -> BusinessHours:
    return spec(timezone, weekly={key: list(ranges) for key in DAY_NAMES})


def test_new_york_spring_forward_moves_opening_an_hour_earlier_in_utc() -> None:
    hours = every_day("America/New_York", "09:00-17:00")
    # Saturday 2026-03-07 (EST): 09:00 = 14:00Z, 17:00 = 22:00Z.
    assert next_change(hours, utc(2026, 3, 7, 13, 0)) == utc(2026, 3, 7, 14, 0)
    assert next_change(hours, utc(2026, 3, 7, 14, 0)) == utc(2026, 3, 7, 22, 0)
    # Sunday 2026-03-08 (EDT): 09:00 = 13:00Z, 17:00 = 21:00Z.
    assert next_change(hours, utc(2026, 3, 7, 22, 0)) == utc(2026, 3, 8, 13, 0)
    assert is_open(hours, utc(2026, 3, 8, 13, 30))  # 09:30 EDT (a fixed UTC-5 says 08:30)
    assert not is_open(hours, utc(2026, 3, 8, 21, 30))  # 17:30 EDT


def test_new_york_fall_back_moves_opening_an_hour_later_in_utc() -> None:
    hours = every_day("America/New_York", "09:00-17:00")
    # Saturday 2026-10-31 (EDT) closes at 17:00 = 21:00Z; Sunday 11-01 (EST) opens at 14:00Z.
    assert next_change(hours, utc(2026, 10, 31, 20, 0)) == utc(2026, 10, 31, 21, 0)
    assert next_change(hours, utc(2026, 10, 31, 21, 0)) == utc(2026, 11, 1, 14, 0)
    assert not is_open(hours, utc(2026, 11, 1, 13, 30))  # 08:30 EST


def test_range_starting_in_the_skipped_hour_opens_at_the_jump() -> None:
    hours = spec("America/New_York", special_days={"2026-03-08": ["02:30-04:00"]})
    # 02:30 never shows on the clock: 01:59:59 EST is followed by 03:00 EDT = 07:00Z. The
    # clock first reads >= 02:30 then. 04:00 EDT = 08:00Z.
    assert not is_open(hours, utc(2026, 3, 8, 6, 59, 59))
    assert is_open(hours, utc(2026, 3, 8, 7, 0))
    assert next_change(hours, utc(2026, 3, 8, 0, 0)) == utc(2026, 3, 8, 7, 0)
    assert next_change(hours, utc(2026, 3, 8, 7, 0)) == utc(2026, 3, 8, 8, 0)


def test_range_spanning_the_skipped_hour_lasts_an_hour_less() -> None:
    hours = spec("America/New_York", special_days={"2026-03-08": ["01:30-03:30"]})
    # 01:30 EST = 06:30Z, 03:30 EDT = 07:30Z: two hours on paper, one in real time.
    assert next_change(hours, utc(2026, 3, 8, 0, 0)) == utc(2026, 3, 8, 6, 30)
    assert next_change(hours, utc(2026, 3, 8, 6, 30)) == utc(2026, 3, 8, 7, 30)


def test_range_inside_the_skipped_hour_never_opens() -> None:
    hours = spec("America/New_York", special_days={"2026-03-08": ["02:15-02:45"]})
    # Both ends map to the jump (07:00Z): an empty interval, so nothing ever changes.
    assert not is_open(hours, utc(2026, 3, 8, 7, 0))
    assert next_change(hours, utc(2026, 3, 8, 0, 0)) is None


def test_range_ending_in_the_repeated_hour_closes_at_its_first_occurrence() -> None:
    hours = spec("America/New_York", special_days={"2026-11-01": ["00:00-01:30"]})
    # 00:00 EDT = 04:00Z; the first 01:30 is EDT = 05:30Z. When the clock repeats 01:00-01:30
    # (EST, 06:00Z-06:30Z) the line stays closed.
    assert next_change(hours, utc(2026, 11, 1, 3, 0)) == utc(2026, 11, 1, 4, 0)
    assert next_change(hours, utc(2026, 11, 1, 4, 0)) == utc(2026, 11, 1, 5, 30)
    assert not is_open(hours, utc(2026, 11, 1, 6, 15))  # 01:15 EST, the second time
    assert next_change(hours, utc(2026, 11, 1, 5, 30)) is None


def test_range_starting_in_the_repeated_hour_opens_at_its_first_occurrence() -> None:
    hours = spec("America/New_York", special_days={"2026-11-01": ["01:30-03:00"]})
    # First 01:30 (EDT) = 05:30Z; 03:00 EST = 08:00Z: 2.5 real hours.
    assert next_change(hours, utc(2026, 11, 1, 0, 0)) == utc(2026, 11, 1, 5, 30)
    assert next_change(hours, utc(2026, 11, 1, 5, 30)) == utc(2026, 11, 1, 8, 0)


def test_whole_day_lasts_23_and_25_hours_on_dst_sundays() -> None:
    hours = spec("America/New_York", weekly={"sun": ["00:00-24:00"]})
    # 03-08: 00:00 EST = 05:00Z to 03-09 00:00 EDT = 04:00Z (23 h).
    assert next_change(hours, utc(2026, 3, 8, 5, 0)) == utc(2026, 3, 9, 4, 0)
    # 11-01: 00:00 EDT = 04:00Z to 11-02 00:00 EST = 05:00Z (25 h).
    assert next_change(hours, utc(2026, 11, 1, 4, 0)) == utc(2026, 11, 2, 5, 0)


# --- DST: Berlin -----------------------------------------------------------------------------


def test_berlin_overnight_range_across_spring_forward() -> None:
    hours = spec("Europe/Berlin", special_days={"2026-03-28": ["22:00-04:00"]})
    # Saturday 22:00 CET = 21:00Z; Sunday 04:00 CEST = 02:00Z: five real hours.
    assert next_change(hours, utc(2026, 3, 28, 20, 0)) == utc(2026, 3, 28, 21, 0)
    assert next_change(hours, utc(2026, 3, 28, 21, 0)) == utc(2026, 3, 29, 2, 0)


def test_berlin_overnight_range_across_fall_back() -> None:
    hours = spec("Europe/Berlin", weekly={"sat": ["22:00-04:00"]})
    # Saturday 2026-10-24 22:00 CEST = 20:00Z; Sunday 04:00 CET = 03:00Z: seven real hours.
    assert next_change(hours, utc(2026, 10, 24, 19, 0)) == utc(2026, 10, 24, 20, 0)
    assert next_change(hours, utc(2026, 10, 24, 20, 0)) == utc(2026, 10, 25, 3, 0)
    assert is_open(hours, utc(2026, 10, 25, 2, 30))  # 03:30 CET
    # The next Saturday is CET again: 22:00 CET = 21:00Z.
    assert next_change(hours, utc(2026, 10, 25, 3, 0)) == utc(2026, 10, 31, 21, 0)


def test_berlin_range_inside_the_repeated_hour() -> None:
    hours = spec("Europe/Berlin", special_days={"2026-10-25": ["02:15-02:45"]})
    # The first 02:15-02:45 is CEST: 00:15Z-00:45Z; the repeat (CET, 01:15Z) is closed.
    assert next_change(hours, utc(2026, 10, 25, 0, 0)) == utc(2026, 10, 25, 0, 15)
    assert next_change(hours, utc(2026, 10, 25, 0, 15)) == utc(2026, 10, 25, 0, 45)
    assert not is_open(hours, utc(2026, 10, 25, 1, 30))


def test_santiago_midnight_transitions() -> None:
    # Fall back at midnight: 2026-04-05 00:00 -03 (03:00Z) becomes 04-04 23:00 -04.
    hours = spec("America/Santiago", special_days={"2026-04-05": ["00:00-02:00"]})
    # 04-05 00:00 first shows at 04:00Z (after the repeated hour); 02:00 -04 = 06:00Z.
    assert next_change(hours, utc(2026, 4, 5, 0, 0)) == utc(2026, 4, 5, 4, 0)
    # Spring forward at midnight: 2026-09-06 00:00 -04 (04:00Z) becomes 01:00 -03.
    gap = spec("America/Santiago", special_days={"2026-09-06": ["00:00-02:00"]})
    # 00:00 does not exist; the clock first reads >= 00:00 at the jump, 04:00Z; 02:00 -03
    # is 05:00Z.
    assert next_change(gap, utc(2026, 9, 6, 0, 0)) == utc(2026, 9, 6, 4, 0)
    assert next_change(gap, utc(2026, 9, 6, 4, 0)) == utc(2026, 9, 6, 5, 0)


# --- always / never / far away ---------------------------------------------------------------


def test_always_open() -> None:
    hours = BusinessHours.always_open("Europe/Moscow")
    assert is_open(hours, utc(2026, 3, 8, 3, 0))
    assert next_change(hours, utc(2026, 3, 8, 3, 0)) is None
    assert hours_to_spec(hours)["weekly"] == {key: ["00:00-24:00"] for key in DAY_NAMES}


def test_always_open_with_a_holiday_closes_for_that_day() -> None:
    hours = BusinessHours("Europe/Moscow", {d: (TimeRange(time(0), time(0)),) for d in range(7)})
    hours = BusinessHours(hours.timezone, hours.weekly, frozenset({date(2026, 5, 1)}))
    # 2026-05-01 00:00 MSK = 04-30 21:00Z until 05-02 00:00 MSK = 05-01 21:00Z.
    assert next_change(hours, utc(2026, 1, 1)) == utc(2026, 4, 30, 21, 0)
    assert next_change(hours, utc(2026, 4, 30, 21, 0)) == utc(2026, 5, 1, 21, 0)


def test_never_open() -> None:
    hours = BusinessHours("UTC")
    assert not is_open(hours, utc(2026, 1, 1))
    assert next_change(hours, utc(2026, 1, 1)) is None


def test_search_reaches_400_days_and_no_further() -> None:
    assert SEARCH_DAYS == 400
    # From 2026-01-01: +300 days is 2026-10-28 (Jan 1 + 273 = Oct 1, + 27); +400 days is
    # 2027-02-05 (+365 = 2027-01-01, + 35); +401 days is 2027-02-06.
    for day, expected in (
        ("2026-10-28", utc(2026, 10, 28, 9, 0)),
        ("2027-02-05", utc(2027, 2, 5, 9, 0)),
        ("2027-02-06", None),
    ):
        hours = spec("UTC", special_days={day: ["09:00-10:00"]})
        assert next_change(hours, utc(2026, 1, 1, 12, 0)) == expected, day
    # Open up to the end of the search (2027-02-05): the closing on 2027-02-07 is not seen.
    long_open = BusinessHours.always_open("UTC")
    long_open = BusinessHours("UTC", long_open.weekly, frozenset({date(2027, 2, 7)}))
    assert next_change(long_open, utc(2026, 1, 1, 12, 0)) is None


# --- the spec ---------------------------------------------------------------------------------

FULL_SPEC: dict[str, object] = {
    "timezone": "Europe/Moscow",
    "weekly": {
        "mon": ["09:00-18:00"],
        "tue": ["09:00-13:00", "14:00-18:00"],
        "fri": ["22:00-02:00"],
        "sun": ["00:00-24:00"],
    },
    "holidays": ["2026-01-01", "2026-01-02"],
    "special_days": {"2026-12-31": ["09:00-15:00"], "2026-03-07": []},
}


def test_spec_round_trip() -> None:
    hours = parse_hours_spec(FULL_SPEC)
    assert hours.weekly[TUE] == (
        TimeRange(time(9), time(13)),
        TimeRange(time(14), time(18)),
    )
    assert hours.special_days[date(2026, 3, 7)] == ()
    assert hours.holidays == frozenset({date(2026, 1, 1), date(2026, 1, 2)})
    out = hours_to_spec(hours)
    assert out == {
        "timezone": "Europe/Moscow",
        "weekly": FULL_SPEC["weekly"],
        "holidays": ["2026-01-01", "2026-01-02"],
        # sorted by date
        "special_days": {"2026-03-07": [], "2026-12-31": ["09:00-15:00"]},
    }
    assert parse_hours_spec(out) == hours


def test_spec_defaults_and_normalisation() -> None:
    # Only the time zone is required; empty weekdays are dropped; ranges are sorted.
    hours = spec("UTC", weekly={"mon": [], "wed": ["14:00-15:00", "08:00-09:00"]})
    assert dict(hours.weekly) == {WED: (TimeRange(time(8), time(9)), TimeRange(time(14), time(15)))}
    assert hours == BusinessHours(
        "UTC", {WED: (TimeRange(time(14), time(15)), TimeRange(time(8), time(9)))}
    )
    assert hash(hours) == hash(parse_hours_spec(hours_to_spec(hours)))
    assert hours_to_spec(BusinessHours("UTC")) == {
        "timezone": "UTC",
        "weekly": {},
        "holidays": [],
        "special_days": {},
    }


@pytest.mark.parametrize(
    ("data", "path", "message"),
    [
        (
            {"weekly": {}},
            "timezone",
            "is required (an IANA name such as 'Europe/Moscow')",
        ),
        (
            {"timezone": "Mars/Olympus_Mons"},
            "timezone",
            "unknown IANA time zone 'Mars/Olympus_Mons'",
        ),
        ({"timezone": "../../etc/passwd"}, "timezone", "unknown IANA time zone '../../etc/passwd'"),
        ({"timezone": ""}, "timezone", "unknown IANA time zone ''"),
        (
            {"timezone": 3},
            "timezone",
            "expected an IANA time zone name such as 'Europe/Moscow', got 3",
        ),
        (
            {"timezone": "UTC", "weeky": {}},
            "weeky",
            "unknown key (expected one of timezone, weekly, holidays, special_days)",
        ),
        ({"timezone": "UTC", "weekly": []}, "weekly", "expected an object, got array"),
        (
            {"timezone": "UTC", "weekly": {"monday": []}},
            "weekly.monday",
            "unknown day (expected mon, tue, wed, thu, fri, sat, sun)",
        ),
        (
            {"timezone": "UTC", "weekly": {"mon": "09:00-18:00"}},
            "weekly.mon",
            'expected an array of "HH:MM-HH:MM" strings, got string',
        ),
        (
            {"timezone": "UTC", "weekly": {"tue": ["09:00-13:00", "25:00-18:00"]}},
            "weekly.tue[1]",
            "'25:00-18:00' is not HH:MM-HH:MM (start hour 25 is not 00..23)",
        ),
        (
            {"timezone": "UTC", "weekly": {"tue": ["24:00-18:00"]}},
            "weekly.tue[0]",
            "'24:00-18:00' is not HH:MM-HH:MM (start hour 24 is not 00..23)",
        ),
        (
            {"timezone": "UTC", "weekly": {"tue": ["09:60-18:00"]}},
            "weekly.tue[0]",
            "'09:60-18:00' is not HH:MM-HH:MM (start minute 60 is not 00..59)",
        ),
        (
            {"timezone": "UTC", "weekly": {"tue": ["09:00-18:75"]}},
            "weekly.tue[0]",
            "'09:00-18:75' is not HH:MM-HH:MM (end minute 75 is not 00..59)",
        ),
        (
            {"timezone": "UTC", "weekly": {"tue": ["09:00-24:30"]}},
            "weekly.tue[0]",
            "'09:00-24:30' is not HH:MM-HH:MM (end hour 24 is not 00..23, or 24:00)",
        ),
        (
            {"timezone": "UTC", "weekly": {"tue": ["09:00-30:00"]}},
            "weekly.tue[0]",
            "'09:00-30:00' is not HH:MM-HH:MM (end hour 30 is not 00..23, or 24:00)",
        ),
        (
            {"timezone": "UTC", "weekly": {"wed": ["9:00-18:00"]}},
            "weekly.wed[0]",
            "'9:00-18:00' is not HH:MM-HH:MM",
        ),
        (
            {"timezone": "UTC", "weekly": {"wed": ["09:00 - 18:00"]}},
            "weekly.wed[0]",
            "'09:00 - 18:00' is not HH:MM-HH:MM",
        ),
        (
            {"timezone": "UTC", "weekly": {"wed": [900]}},
            "weekly.wed[0]",
            'expected a string "HH:MM-HH:MM", got number',
        ),
        (
            {"timezone": "UTC", "weekly": {"wed": ["09:00-09:00"]}},
            "weekly.wed[0]",
            "'09:00-09:00' is empty: start equals end (whole day: 00:00-24:00)",
        ),
        (
            {"timezone": "UTC", "weekly": {"tue": ["09:00-13:00", "12:00-18:00"]}},
            "weekly.tue[1]",
            "'12:00-18:00' overlaps '09:00-13:00'",
        ),
        (
            # The later-starting range is the one reported, by its position in the list.
            {"timezone": "UTC", "weekly": {"tue": ["12:00-18:00", "09:00-13:00"]}},
            "weekly.tue[0]",
            "'12:00-18:00' overlaps '09:00-13:00'",
        ),
        (
            {"timezone": "UTC", "weekly": {"tue": ["08:00-10:00", "20:00-02:00", "21:00-22:00"]}},
            "weekly.tue[2]",
            "'21:00-22:00' overlaps '20:00-02:00'",
        ),
        (
            {"timezone": "UTC", "holidays": "2026-01-01"},
            "holidays",
            'expected an array of "YYYY-MM-DD", got string',
        ),
        (
            {"timezone": "UTC", "holidays": ["2026-01-01", "2026-13-01"]},
            "holidays[1]",
            "'2026-13-01' is not a date YYYY-MM-DD (month must be in 1..12)",
        ),
        (
            {"timezone": "UTC", "holidays": ["2026-02-29"]},
            "holidays[0]",
            "'2026-02-29' is not a date YYYY-MM-DD (day is out of range for month)",
        ),
        (
            {"timezone": "UTC", "holidays": ["01.01.2026"]},
            "holidays[0]",
            "'01.01.2026' is not a date YYYY-MM-DD",
        ),
        (
            {"timezone": "UTC", "holidays": [20260101]},
            "holidays[0]",
            'expected a date string "YYYY-MM-DD", got number',
        ),
        (
            {"timezone": "UTC", "special_days": ["2026-12-31"]},
            "special_days",
            "expected an object, got array",
        ),
        (
            {"timezone": "UTC", "special_days": {"2026-1-1": []}},
            "special_days.2026-1-1",
            "'2026-1-1' is not a date YYYY-MM-DD",
        ),
        (
            {"timezone": "UTC", "special_days": {"2026-12-31": ["09:00-15:00", None]}},
            "special_days.2026-12-31[1]",
            'expected a string "HH:MM-HH:MM", got null',
        ),
        (
            {"timezone": "UTC", "special_days": {"2026-12-31": None}},
            "special_days.2026-12-31",
            'expected an array of "HH:MM-HH:MM" strings, got null',
        ),
        (
            {
                "timezone": "UTC",
                "holidays": ["2026-01-01"],
                "special_days": {"2026-01-01": ["10:00-12:00"]},
            },
            "special_days.2026-01-01",
            "is also a holiday; a date is either closed all day or special",
        ),
    ],
)
def test_bad_spec_says_where_and_what(data: dict[str, object], path: str, message: str) -> None:
    with pytest.raises(HoursError) as caught:
        parse_hours_spec(data)
    assert (caught.value.path, caught.value.message) == (path, message)
    assert str(caught.value) == f"{path}: {message}"


def test_hours_error_survives_pickling() -> None:
    error = HoursError("weekly.tue[1]", "'25:00-18:00' is not HH:MM-HH:MM")
    copy = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own bytes
    assert (copy.path, copy.message, str(copy)) == (error.path, error.message, str(error))


def test_spec_that_is_not_an_object() -> None:
    with pytest.raises(HoursError) as caught:
        parse_hours_spec(cast(Mapping[str, object], ["timezone"]))
    assert caught.value.path == ""
    assert str(caught.value) == "expected an object with 'timezone', got array"


# --- direct construction ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: TimeRange(time(9), time(9)), "TimeRange: 09:00-09:00 is empty: start equals end"),
        (
            lambda: TimeRange(time(9, 0, 30), time(10)),
            "TimeRange: start must be whole minutes, got 09:00:30",
        ),
        (
            lambda: TimeRange(time(9), time(10, tzinfo=UTC)),
            "TimeRange: end must be naive (local wall time)",
        ),
        (
            lambda: TimeRange(cast(time, "09:00"), time(10)),
            "TimeRange: start must be a datetime.time, got '09:00'",
        ),
        (
            lambda: BusinessHours("UTC", {7: (TimeRange(time(9), time(10)),)}),
            "weekly: day 7 is not 0 (Monday) .. 6 (Sunday)",
        ),
        (
            lambda: BusinessHours(
                "UTC", {MON: (TimeRange(time(9), time(12)), TimeRange(time(11), time(13)))}
            ),
            "weekly.mon[1]: '11:00-13:00' overlaps '09:00-12:00'",
        ),
        (
            lambda: BusinessHours("UTC", {MON: cast(tuple[TimeRange, ...], ("09:00-12:00",))}),
            "weekly.mon[0]: expected a TimeRange, got '09:00-12:00'",
        ),
        (
            lambda: BusinessHours("UTC", holidays=frozenset({datetime(2026, 1, 1)})),
            "holidays: datetime.datetime(2026, 1, 1, 0, 0) is not a datetime.date",
        ),
        (
            lambda: BusinessHours("Nowhere/Town"),
            "timezone: unknown IANA time zone 'Nowhere/Town'",
        ),
    ],
)
def test_bad_construction(build: Callable[[], object], message: str) -> None:
    with pytest.raises(HoursError) as caught:
        build()
    assert str(caught.value) == message


def test_time_range_helpers() -> None:
    assert str(TimeRange(time(22), time(2))) == "22:00-02:00"
    assert TimeRange(time(22), time(2)).crosses_midnight
    assert not TimeRange(time(18), time(0)).crosses_midnight  # ends at midnight, same date
    assert TimeRange(time(0), time(0)).minutes() == (0, 1440)
    assert TimeRange(time(22), time(2)).minutes() == (1320, 1560)


def test_business_hours_is_immutable_and_ranges_on_follows_rule_1() -> None:
    hours = parse_hours_spec(FULL_SPEC)
    with pytest.raises(TypeError):
        cast(dict[int, object], hours.weekly)[WED] = ()
    assert hours.ranges_on(date(2026, 1, 1)) == ()  # holiday (a Thursday)
    assert hours.ranges_on(date(2026, 3, 7)) == ()  # special day, closed (a Saturday)
    assert hours.ranges_on(date(2026, 12, 31)) == (TimeRange(time(9), time(15)),)
    assert hours.ranges_on(date(2026, 3, 2)) == (TimeRange(time(9), time(18)),)  # a Monday
    assert hours.ranges_on(date(2026, 3, 4)) == ()  # Wednesday: not in weekly


# --- properties ------------------------------------------------------------------------------

ZONES = (
    "UTC",
    "Europe/Moscow",
    "Asia/Kolkata",
    "America/New_York",
    "Europe/Berlin",
    "America/Santiago",
    "Australia/Lord_Howe",  # DST shift of 30 minutes
)
FIRST_DAY = date(2026, 2, 1)
LAST_DAY = date(2026, 12, 31)
# DST transitions in the window, to sample `now` around them (UTC).
TRANSITIONS = (
    utc(2026, 3, 8, 7, 0),  # New York spring forward
    utc(2026, 11, 1, 6, 0),  # New York fall back
    utc(2026, 3, 29, 1, 0),  # Berlin spring forward
    utc(2026, 10, 25, 1, 0),  # Berlin fall back
    utc(2026, 4, 5, 3, 0),  # Santiago fall back at midnight
    utc(2026, 9, 6, 4, 0),  # Santiago spring forward at midnight
    utc(2026, 4, 4, 15, 0),  # Lord Howe fall back
    utc(2026, 10, 3, 15, 30),  # Lord Howe spring forward
)


# Half-hour marks of a day, 48 being 24:00. Repeats are likely (the common marks 00:00, 09:00,
# 12:00, 18:00 and 24:00 are drawn often), so ranges touch within a day and across midnight.
_mark = st.one_of(st.integers(0, 48), st.sampled_from([0, 18, 24, 36, 48]))
_marks = st.lists(_mark, max_size=6)
_some_marks = st.lists(_mark, min_size=1, max_size=6)


def _at(mark: int) -> time:
    return time(mark // 2 % 24, mark % 2 * 30)


@st.composite
def day_ranges(draw: st.DrawFn, closed_too: bool = True) -> tuple[TimeRange, ...]:
    """Valid ranges of one date: consecutive pairs of sorted marks, the last maybe overnight."""
    marks = sorted(draw(_marks if closed_too else _some_marks))
    ranges = [
        TimeRange(_at(a), _at(b))
        for a, b in zip(marks[::2], marks[1::2], strict=False)
        if a < b  # a repeated mark gives no range; b == 48 ends at midnight
    ]
    if len(marks) % 2 and marks[-1] < 48:  # odd mark: a range to midnight or overnight
        start = marks[-1]
        ranges.append(TimeRange(_at(start), _at(draw(st.integers(0, max(0, start - 1))))))
    return tuple(ranges)


_window_days = st.dates(min_value=FIRST_DAY, max_value=LAST_DAY)
# Mostly some opening every week, so that most examples have a change to look at.
_weekly: st.SearchStrategy[dict[int, tuple[TimeRange, ...]]] = st.one_of(
    st.just({}),
    st.dictionaries(st.integers(0, 6), day_ranges(closed_too=False), min_size=1, max_size=7),
)
_holidays = st.frozensets(_window_days, max_size=10)
_special_days = st.dictionaries(_window_days, day_ranges(), max_size=10)


@st.composite
def business_hours(draw: st.DrawFn, zones: tuple[str, ...] = ZONES) -> BusinessHours:
    holidays = draw(_holidays)
    special = {day: r for day, r in draw(_special_days).items() if day not in holidays}
    return BusinessHours(draw(st.sampled_from(zones)), draw(_weekly), holidays, special)


instants = st.one_of(
    st.datetimes(
        min_value=datetime(2026, 2, 1), max_value=datetime(2026, 12, 31), timezones=st.just(UTC)
    ),
    st.builds(
        lambda at, minutes: at + timedelta(minutes=minutes),
        st.sampled_from(TRANSITIONS),
        st.integers(-36 * 60, 36 * 60),
    ),
)


@settings(max_examples=200, deadline=None)
@given(hours=business_hours(), now=instants, fractions=st.lists(st.floats(0, 1), max_size=6))
def test_is_open_is_constant_until_next_change_and_flips_there(
    hours: BusinessHours, now: datetime, fractions: list[float]
) -> None:
    # Follow the chain of changes from `now` for a few steps.
    for _ in range(4):
        state = is_open(hours, now)
        change = next_change(hours, now)
        if change is None:
            # Nothing flips within the search: sample the next 400 days (every 24 h 37 min,
            # so the samples drift through all hours of the day).
            step = timedelta(hours=24, minutes=37)
            assert all(is_open(hours, now + step * k) == state for k in range(1, 390))
            return
        assert change > now
        assert change.tzinfo is UTC
        for fraction in [0.0, 0.5, *fractions]:
            point = now + (change - now) * fraction
            if point < change:
                assert is_open(hours, point) == state, point
        assert is_open(hours, change - timedelta(microseconds=1)) == state
        assert is_open(hours, change) != state
        now = change


def wall_clock_oracle(hours: BusinessHours, now: datetime) -> bool:
    """Rules 1-3 read off the wall clock.

    Agrees with Rule 4 except while the clock repeats a time after a fall-back (fold=1):
    there the wall clock says 01:15 although 01:30 has already been passed.
    """
    local = now.astimezone(ZoneInfo(hours.timezone))
    minute = local.hour * 60 + local.minute  # seconds cannot matter: boundaries are minutes
    today, yesterday = local.date(), local.date() - timedelta(days=1)
    in_today = any(s <= minute < e for s, e in (r.minutes() for r in hours.ranges_on(today)))
    in_tail = any(
        s <= minute + 1440 < e for s, e in (r.minutes() for r in hours.ranges_on(yesterday))
    )
    return in_today or in_tail


@settings(max_examples=150, deadline=None)
@given(hours=business_hours(), now=instants)
def test_is_open_agrees_with_the_wall_clock_outside_repeated_hours(
    hours: BusinessHours, now: datetime
) -> None:
    for k in range(100):  # 100 points 29 minutes apart: two days
        point = now + timedelta(minutes=29 * k)
        if point.astimezone(ZoneInfo(hours.timezone)).fold:
            continue
        assert is_open(hours, point) == wall_clock_oracle(hours, point), point


@settings(max_examples=100, deadline=None)
@given(hours=business_hours())
def test_spec_round_trip_property(hours: BusinessHours) -> None:
    out = hours_to_spec(hours)
    assert parse_hours_spec(out) == hours
    assert hours_to_spec(parse_hours_spec(out)) == out
