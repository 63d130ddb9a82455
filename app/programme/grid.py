"""A day of the timetable laid out as a grid: one column per room, one row per five minutes.

The organisers' editor and the public programme both draw from this one layout, so that a
session always sits in its own room's column (parallel sessions side by side, never shifted
into a neighbour's column) and spans exactly its own time.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from app.programme.models import SessionKind

SLOT_MINUTES = 5
# The grid shows at least this part of the day, widened to the earliest and latest session.
DEFAULT_DAY_START = time(8, 0)
DEFAULT_DAY_END = time(18, 0)


class Placed(Protocol):
    """What the grid needs of a session: a draft ProgrammeSession or a published one."""

    id: int
    kind: Any
    starts_at: datetime | None
    ends_at: datetime | None

    @property
    def room_id(self) -> int | None: ...


class Column(Protocol):
    """What the grid needs of a room."""

    id: int
    name: str


@dataclass(frozen=True)
class GridItem:
    """A session's place on the grid: CSS grid lines, 1-based, end lines exclusive."""

    session: Any
    column_start: int
    column_end: int
    row_start: int
    row_end: int
    starts_at: datetime
    ends_at: datetime

    @property
    def style(self) -> str:
        """The inline grid placement (numbers only, so safe in a style attribute)."""
        return (
            f"grid-column: {self.column_start} / {self.column_end}; "
            f"grid-row: {self.row_start} / {self.row_end};"
        )


@dataclass(frozen=True)
class DayGrid:
    """A day's columns (rooms, then "elsewhere" when needed), time rows and placed sessions."""

    day: date
    zone: ZoneInfo
    rooms: list[Any]
    has_elsewhere: bool
    first_slot: datetime
    slot_count: int
    items: list[GridItem]

    @property
    def column_count(self) -> int:
        """Rooms plus the "elsewhere" column when a session has no room."""
        return len(self.rooms) + (1 if self.has_elsewhere else 0)

    def hour_marks(self) -> list[tuple[int, datetime]]:
        """(row line, local time) for every full hour the grid shows, for the time axis."""
        marks = []
        for slot in range(self.slot_count):
            moment = self.first_slot + timedelta(minutes=slot * SLOT_MINUTES)
            if moment.minute == 0:
                marks.append((slot + 2, moment))
        return marks

    def slot_time(self, row: int) -> datetime:
        """The local time at a row line (row 1 is the header, row 2 the first slot)."""
        return self.first_slot + timedelta(minutes=(row - 2) * SLOT_MINUTES)


def _floor_to_slot(moment: datetime) -> datetime:
    return moment.replace(
        minute=moment.minute - moment.minute % SLOT_MINUTES, second=0, microsecond=0
    )


def _ceil_to_slot(moment: datetime) -> datetime:
    floored = _floor_to_slot(moment)
    return floored if floored == moment else floored + timedelta(minutes=SLOT_MINUTES)


def sessions_on_day(sessions: Iterable[Placed], day: date, zone: ZoneInfo) -> list[Placed]:
    """The placed sessions that start on a local day, in time order."""
    found = [
        session
        for session in sessions
        if session.starts_at is not None and session.starts_at.astimezone(zone).date() == day
    ]
    return sorted(found, key=lambda session: (session.starts_at, session.id))


def build_day_grid(
    day: date, rooms: Sequence[Column], sessions: Iterable[Placed], zone: ZoneInfo
) -> DayGrid:
    """Lay out one local day: rooms as columns in the given order, a roomless break across
    every column, other roomless sessions (study visits) in a last "elsewhere" column."""
    todays = sessions_on_day(sessions, day, zone)
    column_of = {room.id: index + 1 for index, room in enumerate(rooms)}
    has_elsewhere = any(
        session.room_id is None and session.kind != SessionKind.BREAK for session in todays
    ) or any(session.room_id is not None and session.room_id not in column_of for session in todays)
    elsewhere_column = len(rooms) + 1

    start = datetime.combine(day, DEFAULT_DAY_START, tzinfo=zone)
    end = datetime.combine(day, DEFAULT_DAY_END, tzinfo=zone)
    for session in todays:
        start = min(start, _floor_to_slot(session.starts_at.astimezone(zone)))
        end = max(end, _ceil_to_slot(session.ends_at.astimezone(zone)))
    # A session running past midnight is drawn to the end of its day.
    end = min(end, datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone))
    slot_count = max(1, int((end - start).total_seconds() // 60) // SLOT_MINUTES)
    column_count = len(rooms) + (1 if has_elsewhere else 0)

    items = []
    for session in todays:
        local_start = session.starts_at.astimezone(zone)
        local_end = min(session.ends_at.astimezone(zone), end)
        row_start = int((local_start - start).total_seconds() // 60) // SLOT_MINUTES + 2
        row_end = max(
            row_start + 1, -(-int((local_end - start).total_seconds() // 60) // SLOT_MINUTES) + 2
        )
        if session.room_id in column_of:
            column_start = column_of[session.room_id]
            column_end = column_start + 1
        elif session.room_id is None and session.kind == SessionKind.BREAK:
            column_start, column_end = 1, max(column_count, 1) + 1
        else:
            column_start, column_end = elsewhere_column, elsewhere_column + 1
        # Column 1 of the CSS grid is the time axis: shift every room one to the right.
        items.append(
            GridItem(
                session=session,
                column_start=column_start + 1,
                column_end=column_end + 1,
                row_start=row_start,
                row_end=row_end,
                starts_at=local_start,
                ends_at=local_end,
            )
        )
    return DayGrid(
        day=day,
        zone=zone,
        rooms=list(rooms),
        has_elsewhere=has_elsewhere,
        first_slot=start,
        slot_count=slot_count,
        items=items,
    )


def event_days(starts_on: date, ends_on: date) -> list[date]:
    """Every day of the event, first to last."""
    return [starts_on + timedelta(days=offset) for offset in range((ends_on - starts_on).days + 1)]
