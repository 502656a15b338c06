"""Interaction history imported from other systems: a CSV checked row by row, then visits.

The file format (issue 6) is one interaction per row under the exact header
:data:`HISTORY_COLUMNS`:

* ``id`` — the other system's interaction id, unique in the file;
* ``channel`` — one of :class:`hotline.core.model.Channel` (``call``, ``chat``, ...);
* ``hotline``, ``queue`` — names, required; ``agent``, ``source``, ``topic`` — names,
  empty when unknown (``agent`` is the operator who answered: empty on unanswered rows);
* ``arrived_at`` — queue entry; ``answered_at`` — empty when not answered; ``ended_at`` —
  the hang-up time, i.e. the abandon time when not answered.  ISO 8601 with a UTC offset
  (``2026-03-29T01:59:30+01:00`` or ``...Z``); a time without an offset is rejected, since
  the hour it names differs between time zones and, on DST days, within one;
* ``hold_seconds``, ``wrapup_seconds`` — non-negative numbers, empty meaning 0; talk is
  ``ended_at − answered_at`` *including* hold, so hold must not exceed it; an unanswered row
  has neither;
* ``csat`` — an integer 1–5, empty when there was no survey answer.

:func:`parse_history_csv` is all-or-nothing: it returns every row or raises
:class:`HistoryCsvError` with one :class:`HistoryProblem` (line, column, message) per
problem found in the whole file, so one pass over a bad export shows everything to fix.

Epoch convention: :func:`history_visit` turns the aware datetimes into **POSIX seconds**
(``datetime.timestamp()``, seconds since 1970-01-01T00:00:00Z, as floats), the clock of
every :class:`~hotline.core.kpi.records.QueueVisit` built here.  Intervals in a time zone
are then cut by :mod:`hotline.core.kpi.intervals`, which reads the same convention.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from hotline.core.kpi.records import CSAT_MAX, CSAT_MIN, QueueVisit, VisitOutcome
from hotline.core.model import Channel

#: The exact header of a history CSV, in order.
HISTORY_COLUMNS: tuple[str, ...] = (
    "id",
    "channel",
    "hotline",
    "queue",
    "agent",
    "source",
    "topic",
    "arrived_at",
    "answered_at",
    "ended_at",
    "hold_seconds",
    "wrapup_seconds",
    "csat",
)

_CHANNELS = frozenset(channel.value for channel in Channel)
_REQUIRED_TEXT = ("id", "channel", "hotline", "queue")
_OPTIONAL_TEXT = ("agent", "source", "topic")


@dataclass(frozen=True, slots=True)
class HistoryProblem:
    """One thing wrong in a history file: where (1-based line, column name) and what."""

    line: int
    column: str | None
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}" + ("" if self.column is None else f", column {self.column}")
        return f"{where}: {self.message}"


class HistoryCsvError(ValueError):
    """The history file has problems; :attr:`problems` lists all of them, in line order."""

    def __init__(self, problems: list[HistoryProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(problem) for problem in problems))


@dataclass(frozen=True, slots=True)
class HistoryRow:
    """One interaction of an imported history, every field typed and checked."""

    line: int  # 1-based line number in the file (the header is line 1)
    id: str
    channel: str
    hotline: str
    queue: str
    agent: str | None
    source: str | None
    topic: str | None
    arrived_at: datetime  # aware
    answered_at: datetime | None  # aware; None when not answered
    ended_at: datetime  # aware; hang-up (the abandon time when not answered)
    hold_seconds: float
    wrapup_seconds: float
    csat: int | None

    @property
    def answered(self) -> bool:
        return self.answered_at is not None

    @property
    def wait_seconds(self) -> float:
        """Queue entry → answer, or → hang-up when not answered."""
        end = self.answered_at if self.answered_at is not None else self.ended_at
        return (end - self.arrived_at).total_seconds()

    @property
    def talk_seconds(self) -> float | None:
        """Answer → hang-up, hold included; ``None`` when not answered."""
        if self.answered_at is None:
            return None
        return (self.ended_at - self.answered_at).total_seconds()


class _RowReader:
    """Typed reads of one row's cells; each bad cell adds a problem and reads as ``None``."""

    def __init__(self, line: int, cells: dict[str, str], problems: list[HistoryProblem]) -> None:
        self.line = line
        self.cells = cells
        self.problems = problems
        self.ok = True

    def problem(self, column: str | None, message: str) -> None:
        self.ok = False
        self.problems.append(HistoryProblem(self.line, column, message))

    def text(self, column: str, *, required: bool) -> str | None:
        value = self.cells[column].strip()
        if not value:
            if required:
                self.problem(column, "missing value")
            return None
        return value

    def time(self, column: str, *, required: bool) -> datetime | None:
        cell = self.cells[column].strip()
        if not cell:
            if required:
                self.problem(column, "missing value (an ISO 8601 time with offset)")
            return None
        try:
            value = datetime.fromisoformat(cell)
        except ValueError:
            self.problem(column, f"not an ISO 8601 time: {cell!r}")
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            self.problem(
                column, f"time without a UTC offset: {cell!r} (write e.g. {cell}+03:00 or {cell}Z)"
            )
            return None
        return value

    def seconds(self, column: str) -> float | None:
        cell = self.cells[column].strip()
        if not cell:
            return 0.0  # empty numbers mean 0 (issue 6)
        try:
            value = float(cell)
        except ValueError:
            self.problem(column, f"not a number: {cell!r}")
            return None
        if not (math.isfinite(value) and value >= 0):
            self.problem(column, f"must be a finite number of seconds >= 0, got {cell!r}")
            return None
        return value

    def csat(self) -> int | None:
        cell = self.cells["csat"].strip()
        if not cell:
            return None
        try:
            value = int(cell)
        except ValueError:
            self.problem("csat", f"not an integer score {CSAT_MIN}–{CSAT_MAX}: {cell!r}")
            return None
        if not CSAT_MIN <= value <= CSAT_MAX:
            self.problem("csat", f"must be between {CSAT_MIN} and {CSAT_MAX}, got {value}")
            return None
        return value


class _UnreadableError(Exception):
    """The csv module gave up (a cell over its size limit); the rest cannot be read."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line


def _records(lines: Iterable[str]) -> Iterator[tuple[int, list[str]]]:
    """``(first line number, cells)`` per CSV record (a quoted cell may span lines)."""
    reader = csv.reader(lines)
    start = 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise _UnreadableError(
                start, f"not readable as CSV ({exc}); the rest is not read"
            ) from None
        yield start, cells
        start = reader.line_num + 1


def _parse_row(reader: _RowReader) -> HistoryRow | None:
    texts = {name: reader.text(name, required=True) for name in _REQUIRED_TEXT}
    texts |= {name: reader.text(name, required=False) for name in _OPTIONAL_TEXT}
    channel = texts["channel"]
    if channel is not None and channel not in _CHANNELS:
        reader.problem("channel", f"unknown channel {channel!r}; one of {', '.join(Channel)}")
    arrived = reader.time("arrived_at", required=True)
    answered = reader.time("answered_at", required=False)
    ended = reader.time("ended_at", required=True)
    hold = reader.seconds("hold_seconds")
    wrapup = reader.seconds("wrapup_seconds")
    csat = reader.csat()
    if arrived is not None and answered is not None and answered < arrived:
        reader.problem("answered_at", "before arrived_at")
    start = answered if answered is not None else arrived
    if start is not None and ended is not None and ended < start:
        reader.problem("ended_at", f"before {'answered_at' if answered else 'arrived_at'}")
    elif answered is None:
        if hold:
            reader.problem("hold_seconds", "given, but the interaction was not answered")
        if wrapup:
            reader.problem("wrapup_seconds", "given, but the interaction was not answered")
        if texts["agent"] is not None:
            reader.problem("agent", "given, but the interaction was not answered")
    elif ended is not None and hold is not None:
        talk = (ended - answered).total_seconds()
        if hold > talk:
            reader.problem("hold_seconds", f"{hold:g} s is more than the talk time {talk:g} s")
    if not reader.ok or arrived is None or ended is None or hold is None or wrapup is None:
        return None
    return HistoryRow(
        line=reader.line,
        id=texts["id"] or "",
        channel=texts["channel"] or "",
        hotline=texts["hotline"] or "",
        queue=texts["queue"] or "",
        agent=texts["agent"],
        source=texts["source"],
        topic=texts["topic"],
        arrived_at=arrived,
        answered_at=answered,
        ended_at=ended,
        hold_seconds=hold,
        wrapup_seconds=wrapup,
        csat=csat,
    )


def parse_history_csv(lines: Iterable[str]) -> list[HistoryRow]:
    """Every row of a history CSV, in file order, or :class:`HistoryCsvError` listing every
    problem of the file (the header, each bad cell, repeated ids), nothing returned.

    ``lines`` are the file's lines, with or without their line ends (``text.splitlines()``
    or an open file).  A byte-order mark before the header and blank lines are allowed.
    """
    problems: list[HistoryProblem] = []
    try:
        rows = _parse(_records(lines), problems)
    except _UnreadableError as exc:
        problems.append(HistoryProblem(exc.line, None, str(exc)))
        raise HistoryCsvError(problems) from None
    if problems:
        raise HistoryCsvError(problems)
    return rows


def _parse(
    records: Iterator[tuple[int, list[str]]], problems: list[HistoryProblem]
) -> list[HistoryRow]:
    first = next(records, None)
    if first is None:
        raise HistoryCsvError([HistoryProblem(1, None, "the file is empty; the header is missing")])
    header = [name.strip() for name in first[1]]
    if header:
        header[0] = header[0].removeprefix("\ufeff")
    if tuple(header) != HISTORY_COLUMNS:
        raise HistoryCsvError(
            [
                HistoryProblem(
                    first[0],
                    None,
                    f"the header must be exactly {','.join(HISTORY_COLUMNS)}; "
                    f"got {','.join(header) or '(empty)'}",
                )
            ]
        )
    rows: list[HistoryRow] = []
    seen: dict[str, int] = {}
    for line, cells in records:
        if not any(cell.strip() for cell in cells):
            continue  # blank line
        if len(cells) != len(HISTORY_COLUMNS):
            problems.append(
                HistoryProblem(
                    line, None, f"has {len(cells)} cells, the header has {len(HISTORY_COLUMNS)}"
                )
            )
            continue
        reader = _RowReader(line, dict(zip(HISTORY_COLUMNS, cells, strict=True)), problems)
        interaction_id = cells[0].strip()
        if interaction_id:
            if interaction_id in seen:
                first_line = seen[interaction_id]
                reader.problem("id", f"{interaction_id!r} repeated (first on line {first_line})")
            else:
                seen[interaction_id] = line
        row = _parse_row(reader)
        if row is not None:
            rows.append(row)
    return rows


def history_visit(
    row: HistoryRow,
    *,
    queue_id: int,
    interaction_id: int,
    hotline_id: int | None = None,
    operator_id: int | None = None,
) -> QueueVisit:
    """The :class:`QueueVisit` of one history row, times as POSIX seconds.

    The caller maps the row's names to ids (a database's rows, or a table of its own as
    the ``report kpis`` command does).  An answered row is ``ANSWERED`` with its
    wrap-up (0 when the cell was empty); an unanswered row is ``ABANDONED`` at
    ``ended_at`` — the format has no callback or overflow outcome.
    """
    answered_at = None if row.answered_at is None else row.answered_at.timestamp()
    ended_at = row.ended_at.timestamp()
    hold = 0.0
    if answered_at is not None:
        # hold ≤ talk was checked on exact datetimes; floats of POSIX times can make the
        # talk an ulp shorter, which QueueVisit would reject
        hold = min(row.hold_seconds, ended_at - answered_at)
    return QueueVisit(
        interaction_id=interaction_id,
        queue_id=queue_id,
        arrived_at=row.arrived_at.timestamp(),
        outcome=VisitOutcome.ABANDONED if answered_at is None else VisitOutcome.ANSWERED,
        answered_at=answered_at,
        ended_at=ended_at,
        operator_id=operator_id,
        hotline_id=hotline_id,
        channel=row.channel,
        source=row.source,
        topic=row.topic,
        hold=hold,
        wrap_up=None if answered_at is None else row.wrapup_seconds,
        csat=None if row.csat is None else float(row.csat),
    )
