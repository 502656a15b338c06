"""Reporting intervals in a time zone: slot counts of DST days, labels, and properties."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hotline.core.kpi import KpiError
from hotline.core.kpi.intervals import Period, SlotFinder, slot_of, slots_between, zone
from hotline.core.kpi.rollup import bucket_start

ZONES = ["UTC", "Europe/Moscow", "Europe/Berlin", "America/New_York", "Asia/Kolkata"]


def local_day(day: str, tz_name: str) -> tuple[float, float]:
    """First and last second of a local calendar day, POSIX seconds."""
    tz = zone(tz_name)
    start = datetime.fromisoformat(day).replace(tzinfo=tz)
    end = (start + timedelta(days=1)).replace(tzinfo=tz)  # wall-clock midnight next day
    return start.timestamp(), end.timestamp() - 1


@pytest.mark.parametrize(
    ("tz_name", "day", "hours"),
    [
        ("Europe/Berlin", "2026-03-29", 23),  # spring forward: 02:00–03:00 missing
        ("Europe/Berlin", "2026-10-25", 25),  # fall back: 02:00–03:00 twice
        ("Europe/Berlin", "2026-03-02", 24),
        ("Europe/Moscow", "2026-03-29", 24),  # no DST since 2014
        ("Europe/Moscow", "2026-10-25", 24),
        ("America/New_York", "2026-03-08", 23),
        ("America/New_York", "2026-11-01", 25),
    ],
)
@pytest.mark.parametrize("minutes", [15, 30, 60])
def test_given_a_day_then_it_has_as_many_slots_as_its_real_length_allows(
    tz_name: str, day: str, hours: int, minutes: int
) -> None:
    first, last = local_day(day, tz_name)
    # the real length of the day in hours, from the zone database rather than from us
    assert round((last + 1 - first) / 3600) == hours
    slots = list(slots_between(first, last, Period(minutes=minutes), zone(tz_name)))
    assert len(slots) == hours * 60 // minutes
    assert len({slot.label for slot in slots}) == len(slots)  # labels tell them apart
    assert [slot.start for slot in slots] == sorted(slot.start for slot in slots)
    day_slots = list(slots_between(first, last, Period.parse("day"), zone(tz_name)))
    assert [slot.label for slot in day_slots] == [day]
    assert day_slots[0].start == first


def test_given_calendar_periods_then_weeks_start_on_monday_and_months_on_the_first() -> None:
    moscow = zone("Europe/Moscow")
    # 2026-03-01 00:30+03:00 is a Sunday (ISO week of Monday 2026-02-23)
    at = datetime(2026, 2, 28, 21, 30, tzinfo=UTC).timestamp()
    assert slot_of(at, Period.parse("day"), moscow).label == "2026-03-01"
    assert slot_of(at, Period.parse("week"), moscow).label == "2026-02-23"
    assert slot_of(at, Period.parse("month"), moscow).label == "2026-03"
    # in UTC the same instant is still in February
    assert slot_of(at, Period.parse("month"), zone("UTC")).label == "2026-02"
    weeks = list(slots_between(at, at + 20 * 86400, Period.parse("week"), moscow))
    assert [w.label for w in weeks] == ["2026-02-23", "2026-03-02", "2026-03-09", "2026-03-16"]
    months = list(slots_between(at, at + 70 * 86400, Period.parse("MONTH"), moscow))
    assert [m.label for m in months] == ["2026-03", "2026-04", "2026-05"]


@pytest.mark.parametrize("text", ["45", "0", "hour", "", "1.5"])
def test_given_an_unknown_interval_then_kpi_error_names_the_choices(text: str) -> None:
    with pytest.raises(KpiError, match="15, 30, 60"):
        Period.parse(text)


def test_given_an_unknown_time_zone_then_kpi_error_names_it() -> None:
    with pytest.raises(KpiError, match="Mars/Olympus"):
        zone("Mars/Olympus")
    with pytest.raises(KpiError, match="unknown time zone"):
        zone("../etc/passwd")


# 2026 in POSIX seconds, with both Berlin and New York DST changes inside
YEAR_2026 = st.integers(
    min_value=int(datetime(2026, 1, 1, tzinfo=UTC).timestamp()),
    max_value=int(datetime(2026, 12, 31, tzinfo=UTC).timestamp()),
)
DST_WEEKEND = st.integers(
    min_value=int(datetime(2026, 10, 24, tzinfo=UTC).timestamp()),
    max_value=int(datetime(2026, 10, 26, tzinfo=UTC).timestamp()),
) | st.integers(
    min_value=int(datetime(2026, 3, 28, tzinfo=UTC).timestamp()),
    max_value=int(datetime(2026, 3, 30, tzinfo=UTC).timestamp()),
)

# Lord Howe Island moves its clocks by 30 minutes: 2026-04-05 02:00 +11 → 01:30 +10:30
# and 2026-10-04 02:00 +10:30 → 02:30 +11 (the changes at 15:00Z on the 4th and 15:30Z on
# the 3rd), so a 60-minute slot is cut by a change
LORD_HOWE_CHANGES = st.integers(
    min_value=int(datetime(2026, 4, 4, 13, tzinfo=UTC).timestamp()),
    max_value=int(datetime(2026, 4, 4, 17, tzinfo=UTC).timestamp()),
) | st.integers(
    min_value=int(datetime(2026, 10, 3, 13, tzinfo=UTC).timestamp()),
    max_value=int(datetime(2026, 10, 3, 17, tzinfo=UTC).timestamp()),
)


@given(
    at=YEAR_2026 | DST_WEEKEND,
    tz_name=st.sampled_from(ZONES),
    minutes=st.sampled_from([15, 30, 60]),
)
def test_property_a_minute_slot_starts_at_most_a_slot_before_and_reads_the_local_floor(
    at: int, tz_name: str, minutes: int
) -> None:
    tz = zone(tz_name)
    slot = slot_of(at, Period(minutes=minutes), tz)
    assert at - minutes * 60 < slot.start <= at
    local = datetime.fromtimestamp(at, tz)
    floor = local.replace(minute=local.minute - local.minute % minutes, second=0)
    # the label is the wall-clock floor with the offset in effect at the instant
    assert slot.label == floor.isoformat()
    # nested slots: a 15-minute slot lies in the 30- and 60-minute slots of its start
    if minutes == 15:
        for wider in (30, 60):
            assert slot_of(slot.start, Period(minutes=wider), tz) == slot_of(
                at, Period(minutes=wider), tz
            )


@given(
    first=DST_WEEKEND | LORD_HOWE_CHANGES,
    span=st.integers(min_value=0, max_value=3 * 86400),
    offsets=st.lists(st.floats(min_value=0, max_value=1), min_size=1, max_size=20),
    tz_name=st.sampled_from([*ZONES, "Australia/Lord_Howe"]),
    period=st.sampled_from(["15", "30", "60", "day", "week"]),
)
def test_property_every_instant_in_a_range_falls_in_one_of_the_slots_between(
    first: int, span: int, offsets: list[float], tz_name: str, period: str
) -> None:
    tz, p = zone(tz_name), Period.parse(period)
    slots = list(slots_between(first, first + span, p, tz))
    assert len(set(slots)) == len(slots)
    for offset in offsets:
        assert slot_of(first + offset * span, p, tz) in slots


@given(
    quarter=(YEAR_2026 | DST_WEEKEND).map(lambda at: at - at % 900),
    tz_name=st.sampled_from([*ZONES, "Asia/Kathmandu", "Australia/Adelaide"]),
    period=st.sampled_from(["15", "30", "60", "day", "week", "month"]),
)
def test_property_slots_agree_with_the_rollup_buckets_of_the_database_reports(
    quarter: int, tz_name: str, period: str
) -> None:
    # the database reports sum 15-minute UTC rollup rows into buckets
    # (hotline.core.kpi.rollup.bucket_start); a CSV report must cut the same intervals
    tz = zone(tz_name)
    assert slot_of(quarter, Period.parse(period), tz).start == bucket_start(quarter, period, tz)


@given(
    instants=st.lists(YEAR_2026 | DST_WEEKEND | LORD_HOWE_CHANGES, min_size=1, max_size=30),
    fractions=st.floats(min_value=0, max_value=0.999),
    tz_name=st.sampled_from([*ZONES, "Australia/Lord_Howe", "Asia/Kathmandu"]),
    period=st.sampled_from(["15", "30", "60", "day", "week", "month"]),
)
def test_property_the_remembering_slot_finder_agrees_with_slot_of(
    instants: list[int], fractions: float, tz_name: str, period: str
) -> None:
    tz, p = zone(tz_name), Period.parse(period)
    find = SlotFinder(p, tz)
    for at in [*instants, *instants]:  # the second pass answers from memory
        assert find(at + fractions) == slot_of(at + fractions, p, tz)
