"""Timetable conflicts: a room booked twice, a person in two places at once, a session outside
the congress days, more places offered than the room seats.

Conflicts are allowed while organisers edit (moving sessions around passes through them) and
only block publishing. Overlaps are found by sorting each room's and each person's sessions by
start and sweeping, so only sessions that really overlap are ever compared.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _

from app.events.models import Event
from app.i18n.formatting import format_day_range, to_event_time
from app.programme.models import ProgrammeSession
from app.programme.services import display_name, event_sessions, time_span


@dataclass(frozen=True)
class Conflict:
    """One reason the timetable cannot be published yet, naming what is wrong."""

    # "room_overlap", "person_double_booked", "outside_event_days" or "capacity_above_room"
    code: str
    session_ids: tuple[int, ...]
    message: str
    person_id: int | None = None
    room_id: int | None = None


@dataclass(frozen=True)
class _Span:
    """A placed session with its local start and end (aware, so they compare correctly)."""

    session: ProgrammeSession
    starts_at: datetime
    ends_at: datetime


def _spans(sessions: Iterable[ProgrammeSession]) -> list[_Span]:
    """The placed sessions in order of start."""
    spans = [
        _Span(session, to_event_time(session.starts_at), to_event_time(session.ends_at))
        for session in sessions
        if session.starts_at is not None and session.ends_at is not None
    ]
    return sorted(spans, key=lambda span: (span.starts_at, span.session.id))


def _overlapping_pairs(spans: list[_Span]) -> Iterable[tuple[_Span, _Span]]:
    """Every pair of overlapping spans (given in order of start); touching ends do not count."""
    running: list[_Span] = []
    for span in spans:
        running = [earlier for earlier in running if earlier.ends_at > span.starts_at]
        for earlier in running:
            yield earlier, span
        running.append(span)


def _title(session: ProgrammeSession) -> str:
    """The session's title in the current language."""
    return session.title.get() if session.title else ""


def _place(session: ProgrammeSession) -> str:
    """Where a session is: its room, its location note, or elsewhere."""
    if session.room is not None:
        return session.room.name
    return session.location_note or _("no room")


def _when(span: _Span) -> str:
    """The span's day and times in WITA."""
    return time_span(span.starts_at, span.ends_at)


def _room_overlaps(spans: list[_Span]) -> list[Conflict]:
    """Two sessions in one room at once."""
    by_room: dict[int, list[_Span]] = defaultdict(list)
    for span in spans:
        if span.session.room_id is not None:
            by_room[span.session.room_id].append(span)
    conflicts = []
    for room_id, room_spans in by_room.items():
        for first, second in _overlapping_pairs(room_spans):
            conflicts.append(
                Conflict(
                    code="room_overlap",
                    session_ids=(first.session.id, second.session.id),
                    message=_(
                        "“%(first)s” (%(first_time)s) and “%(second)s” (%(second_time)s) are "
                        "both in %(room)s at the same time.",
                        first=_title(first.session),
                        first_time=_when(first),
                        second=_title(second.session),
                        second_time=_when(second),
                        room=first.session.room.name,
                    ),
                    room_id=room_id,
                )
            )
    return conflicts


def _double_bookings(spans: list[_Span]) -> list[Conflict]:
    """One person (chair or speaker) in two sessions at once."""
    by_person: dict[int, list[_Span]] = defaultdict(list)
    names: dict[int, str] = {}
    for span in spans:
        for person in span.session.people:
            by_person[person.speaker_id].append(span)
            names[person.speaker_id] = display_name(person.speaker.honorific, person.speaker.name)
    conflicts = []
    for person_id, person_spans in by_person.items():
        for first, second in _overlapping_pairs(person_spans):
            conflicts.append(
                Conflict(
                    code="person_double_booked",
                    session_ids=(first.session.id, second.session.id),
                    message=_(
                        "%(person)s is booked in “%(first)s” (%(first_place)s, %(first_time)s) "
                        "and “%(second)s” (%(second_place)s, %(second_time)s) at the same time.",
                        person=names[person_id],
                        first=_title(first.session),
                        first_place=_place(first.session),
                        first_time=_when(first),
                        second=_title(second.session),
                        second_place=_place(second.session),
                        second_time=_when(second),
                    ),
                    person_id=person_id,
                )
            )
    return conflicts


def _outside_days(event: Event, spans: list[_Span]) -> list[Conflict]:
    """Sessions that start or end outside the congress days (in the event's zone)."""
    conflicts = []
    for span in spans:
        if span.starts_at.date() < event.starts_on or span.ends_at.date() > event.ends_on:
            conflicts.append(
                Conflict(
                    code="outside_event_days",
                    session_ids=(span.session.id,),
                    message=_(
                        "“%(title)s” (%(time)s) is outside the congress days (%(days)s).",
                        title=_title(span.session),
                        time=_when(span),
                        days=format_day_range(event.starts_on, event.ends_on),
                    ),
                    room_id=span.session.room_id,
                )
            )
    return conflicts


def _capacity_above_room(spans: list[_Span]) -> list[Conflict]:
    """Sessions offering more places than their room seats."""
    conflicts = []
    for span in spans:
        session = span.session
        if (
            session.capacity is not None
            and session.room is not None
            and session.capacity > session.room.capacity
        ):
            conflicts.append(
                Conflict(
                    code="capacity_above_room",
                    session_ids=(session.id,),
                    message=_(
                        "“%(title)s” offers %(places)d places but %(room)s seats %(seats)d.",
                        title=_title(session),
                        places=session.capacity,
                        room=session.room.name,
                        seats=session.room.capacity,
                    ),
                    room_id=session.room_id,
                )
            )
    return conflicts


def find_conflicts(event: Event, sessions: list[ProgrammeSession] | None = None) -> list[Conflict]:
    """Every conflict of the event's timetable (or of the given sessions, loaded with
    services.event_sessions), in order of time."""
    if sessions is None:
        sessions = event_sessions(event)
    spans = _spans(sessions)
    starts = {span.session.id: (span.starts_at, span.session.id) for span in spans}
    conflicts = [
        *_room_overlaps(spans),
        *_double_bookings(spans),
        *_outside_days(event, spans),
        *_capacity_above_room(spans),
    ]
    return sorted(
        conflicts,
        key=lambda conflict: (starts[conflict.session_ids[0]], conflict.code, conflict.session_ids),
    )


def conflicts_by_session(conflicts: Iterable[Conflict]) -> dict[int, list[Conflict]]:
    """The conflicts each session takes part in, for marking them on the timetable."""
    found: dict[int, list[Conflict]] = defaultdict(list)
    for conflict in conflicts:
        for session_id in conflict.session_ids:
            found[session_id].append(conflict)
    return dict(found)
