"""Programme rules: rooms, tracks, speakers and sessions, checked and placed on the timetable.

Sessions are entered in the event's wall time (WITA) and stored in UTC. Conflicts (a room or
a person booked twice) are allowed while organisers edit; they only block publishing
(conflicts.py, publishing.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from babel.dates import format_date, format_time
from flask_babel import get_locale, ngettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlalchemy.orm import joinedload, selectinload

from app import validation
from app.auth.models import User
from app.errors import DomainError
from app.events.models import Event
from app.extensions import db
from app.i18n.formatting import event_zone, to_event_time
from app.i18n.text import TranslatedText
from app.partners.models import Partner
from app.partners.services import clean_country, clean_email
from app.programme import photos
from app.programme.models import (
    SPOKEN_LANGUAGES,
    PersonRole,
    ProgrammeSession,
    Room,
    SessionKind,
    SessionPerson,
    SessionSignup,
    Speaker,
    Track,
)

ROOM_NAME_MAX = 120
FLOOR_MAX = 60
TRACK_NAME_MAX = 120
SPEAKER_NAME_MAX = 200
HONORIFIC_MAX = 50
POSITION_TITLE_MAX = 200
ORGANISATION_MAX = 300
BIOGRAPHY_MAX = 5000
TITLE_MAX = 300
ABSTRACT_MAX = 5000
LOCATION_NOTE_MAX = 200
# Far above any hall (the largest at the venue seats a few thousand) and within an integer.
CAPACITY_MAX = 100_000
POSITION_MAX = 10_000
# A session dragged onto the timetable for the first time has no length yet.
DEFAULT_DURATION = timedelta(minutes=60)

_COLOUR = re.compile(r"^#[0-9a-f]{6}$")


class ProgrammeError(DomainError):
    """A programme rule refused the action."""


@dataclass(frozen=True)
class RoomDetails:
    """What an organiser enters for a room."""

    name: str | None
    capacity: int | None
    floor: str | None
    accessible: bool
    interpretation_booth: bool
    position: int = 0


@dataclass(frozen=True)
class TrackDetails:
    """What an organiser enters for a track."""

    name: TranslatedText | None
    colour: str | None
    position: int = 0


@dataclass(frozen=True)
class SpeakerDetails:
    """What an organiser enters for a speaker or chair."""

    name: str | None
    honorific: str | None
    position_title: str | None
    partner_id: int | None
    organisation_name: str | None
    country: str | None
    biography: TranslatedText | None
    email: str | None


@dataclass(frozen=True)
class SessionDetails:
    """What an organiser enters for a session; day/start/end are WITA wall times (all three
    None: not on the timetable yet)."""

    kind: str | None
    title: TranslatedText | None
    abstract: TranslatedText | None
    day: date | None
    start: time | None
    end: time | None
    room_id: int | None
    location_note: str | None
    track_id: int | None
    spoken_language: str | None
    interpretation: bool
    capacity: int | None
    requires_signup: bool
    chair_ids: tuple[int, ...] = ()
    speaker_ids: tuple[int, ...] = ()


# --- checking input -------------------------------------------------------------------------


def _clean(
    value: str | None,
    field_name: str,
    max_length: int,
    *,
    required: object = None,
    multiline: bool = False,
) -> str | None:
    """Trimmed text or None, refused as a ProgrammeError on the field when it breaks the rules."""
    return validation.clean_text(
        value,
        field=field_name,
        max_length=max_length,
        required=required,
        multiline=multiline,
        error=ProgrammeError,
    )


def _clean_translated(
    text: TranslatedText | None,
    field_name: str,
    max_length: int,
    *,
    required: object = None,
    multiline: bool = False,
) -> TranslatedText | None:
    """A text in both languages, each checked like any text; None when both are empty."""
    return validation.clean_translated_text(
        text,
        field=field_name,
        max_length=max_length,
        required=required,
        multiline=multiline,
        error=ProgrammeError,
    )


@contextmanager
def _as_field(field_name: str) -> Iterator[None]:
    """Turn another domain's refusal (a country, an address, a photo) into ours, on a field."""
    try:
        yield
    except DomainError as error:
        if isinstance(error, ProgrammeError):
            raise
        raise ProgrammeError(error.message, error.code, field=field_name) from error


def _check_capacity(capacity: int | None, *, required: bool) -> int | None:
    """A number of seats between 1 and CAPACITY_MAX (or None where it may be left out)."""
    if capacity is None:
        if required:
            raise ProgrammeError(_l("Give the number of seats."), "required", field="capacity")
        return None
    if not 0 < capacity <= CAPACITY_MAX:
        raise ProgrammeError(
            _l("Give a number of seats between 1 and %(max)d.", max=CAPACITY_MAX),
            "invalid_capacity",
            field="capacity",
        )
    return capacity


def _check_position(position: int) -> int:
    """A place in the list, 0 first."""
    if not 0 <= position <= POSITION_MAX:
        raise ProgrammeError(
            _l("Give a position between 0 and %(max)d.", max=POSITION_MAX),
            "invalid_position",
            field="position",
        )
    return position


# --- rooms ----------------------------------------------------------------------------------


def rooms(event: Event) -> list[Room]:
    """The event's rooms in timetable order."""
    query = select(Room).where(Room.event_id == event.id).order_by(Room.position, Room.name)
    return list(db.session.scalars(query))


def _check_room(event: Event, details: RoomDetails, room: Room | None) -> dict[str, object]:
    """A room's checked values; refuses a name another room of the event already has."""
    name = _clean(details.name, "name", ROOM_NAME_MAX, required=_l("Give the room's name."))
    taken = select(Room.id).where(Room.event_id == event.id, func.lower(Room.name) == name.lower())
    if room is not None and room.id is not None:
        taken = taken.where(Room.id != room.id)
    if db.session.scalar(taken) is not None:
        raise ProgrammeError(
            _l("Another room is already called “%(name)s”.", name=name),
            "duplicate_room",
            field="name",
        )
    return {
        "name": name,
        "capacity": _check_capacity(details.capacity, required=True),
        "floor": _clean(details.floor, "floor", FLOOR_MAX),
        "accessible": bool(details.accessible),
        "interpretation_booth": bool(details.interpretation_booth),
        "position": _check_position(details.position),
    }


def _assign(target: object, values: dict[str, object]) -> None:
    """Copy checked values onto a model."""
    for name, value in values.items():
        setattr(target, name, value)


def create_room(event: Event, details: RoomDetails, *, actor: User | None) -> Room:
    """Add a room to the event."""
    values = _check_room(event, details, None)
    room = Room(event_id=event.id, **values)
    db.session.add(room)
    db.session.flush()
    return room


def update_room(room: Room, details: RoomDetails, *, actor: User | None) -> None:
    """Change a room's details."""
    _assign(room, _check_room(room.event, details, room))
    db.session.flush()


def _sessions_using(column: object, value: int) -> int:
    """How many sessions have this room, track (or other column) value."""
    return db.session.scalar(
        select(func.count()).select_from(ProgrammeSession).where(column == value)
    )


def delete_room(room: Room, *, actor: User | None) -> None:
    """Remove a room that no session uses."""
    used = _sessions_using(ProgrammeSession.room_id, room.id)
    if used:
        raise ProgrammeError(
            ngettext(
                "“%(name)s” is used by %(num)d session; move it to another room first.",
                "“%(name)s” is used by %(num)d sessions; move them to another room first.",
                used,
                name=room.name,
            ),
            "room_in_use",
        )
    db.session.delete(room)
    db.session.flush()


# --- tracks ---------------------------------------------------------------------------------


def tracks(event: Event) -> list[Track]:
    """The event's tracks in their order."""
    query = select(Track).where(Track.event_id == event.id).order_by(Track.position, Track.id)
    return list(db.session.scalars(query))


def _check_track(details: TrackDetails) -> dict[str, object]:
    """A track's checked values: a name in at least one language, a #rrggbb colour."""
    name = _clean_translated(
        details.name,
        "name",
        TRACK_NAME_MAX,
        required=_l("Give the track's name in at least one language."),
    )
    colour = (details.colour or "").strip().lower()
    if not _COLOUR.match(colour):
        raise ProgrammeError(
            _l("Give the colour as # and six hexadecimal digits, such as #1f6feb."),
            "invalid_colour",
            field="colour",
        )
    return {"name": name, "colour": colour, "position": _check_position(details.position)}


def create_track(event: Event, details: TrackDetails, *, actor: User | None) -> Track:
    """Add a track (theme) to the event."""
    track = Track(event_id=event.id, **_check_track(details))
    db.session.add(track)
    db.session.flush()
    return track


def update_track(track: Track, details: TrackDetails, *, actor: User | None) -> None:
    """Change a track's name, colour or position."""
    _assign(track, _check_track(details))
    db.session.flush()


def delete_track(track: Track, *, actor: User | None) -> None:
    """Remove a track; its sessions stay, without a track."""
    db.session.execute(
        update(ProgrammeSession)
        .where(ProgrammeSession.track_id == track.id)
        .values(track_id=None)
        .execution_options(synchronize_session="fetch")
    )
    db.session.delete(track)
    db.session.flush()


# --- speakers -------------------------------------------------------------------------------


def speakers(event: Event) -> list[Speaker]:
    """The event's speakers and chairs by name, with their partner organisations."""
    query = (
        select(Speaker)
        .where(Speaker.event_id == event.id)
        .options(joinedload(Speaker.partner))
        .order_by(func.lower(Speaker.name), Speaker.id)
    )
    return list(db.session.scalars(query))


def _check_speaker(details: SpeakerDetails) -> dict[str, object]:
    """A speaker's checked values: an organisation from the partner module or typed."""
    partner_id = details.partner_id
    if partner_id is not None and db.session.get(Partner, partner_id) is None:
        raise ProgrammeError(
            _l("Choose an organisation from the partner list."),
            "unknown_partner",
            field="partner_id",
        )
    organisation_name = _clean(details.organisation_name, "organisation_name", ORGANISATION_MAX)
    if partner_id is None and organisation_name is None:
        raise ProgrammeError(
            _l("Choose the organisation from the partner list or type its name."),
            "organisation_missing",
            field="organisation_name",
        )
    with _as_field("country"):
        country = clean_country(details.country)
    with _as_field("email"):
        email = clean_email(details.email)
    return {
        "name": _clean(details.name, "name", SPEAKER_NAME_MAX, required=_l("Give the name.")),
        "honorific": _clean(details.honorific, "honorific", HONORIFIC_MAX),
        "position_title": _clean(details.position_title, "position_title", POSITION_TITLE_MAX),
        "partner_id": partner_id,
        # A chosen partner names the organisation; a typed name beside it would only disagree.
        "organisation_name": None if partner_id is not None else organisation_name,
        "country": country,
        "biography": _clean_translated(
            details.biography, "biography", BIOGRAPHY_MAX, multiline=True
        ),
        "email": email,
    }


def create_speaker(event: Event, details: SpeakerDetails, *, actor: User | None) -> Speaker:
    """Add a speaker or chair to the event."""
    speaker = Speaker(event_id=event.id, **_check_speaker(details))
    db.session.add(speaker)
    db.session.flush()
    return speaker


def update_speaker(speaker: Speaker, details: SpeakerDetails, *, actor: User | None) -> None:
    """Change a speaker's details."""
    _assign(speaker, _check_speaker(details))
    db.session.flush()


def delete_speaker(speaker: Speaker, *, actor: User | None) -> None:
    """Remove a speaker who is on no session (their photo goes once this is committed)."""
    used = db.session.scalar(
        select(func.count())
        .select_from(SessionPerson)
        .where(SessionPerson.speaker_id == speaker.id)
    )
    if used:
        raise ProgrammeError(
            ngettext(
                "%(name)s is on %(num)d session; take them off it first.",
                "%(name)s is on %(num)d sessions; take them off those first.",
                used,
                name=speaker.name,
            ),
            "speaker_in_use",
        )
    if speaker.photo_filename:
        photos.remove_photo_after_commit(speaker.photo_filename)
    db.session.delete(speaker)
    db.session.flush()


def set_speaker_photo(speaker: Speaker, data: bytes, *, actor: User | None) -> None:
    """Store a new photo (checked and re-encoded); the previous one goes once committed."""
    with _as_field("photo"):
        stored_name = photos.store_photo(data)
    if speaker.photo_filename:
        photos.remove_photo_after_commit(speaker.photo_filename)
    speaker.photo_filename = stored_name
    db.session.flush()


def remove_speaker_photo(speaker: Speaker, *, actor: User | None) -> None:
    """Take a speaker's photo away (the file goes once committed)."""
    if speaker.photo_filename:
        photos.remove_photo_after_commit(speaker.photo_filename)
        speaker.photo_filename = None
        db.session.flush()


def photo_path(speaker: Speaker) -> Path | None:
    """The speaker's photo file, or None when there is none."""
    return photos.existing_path(speaker.photo_filename)


# --- sessions -------------------------------------------------------------------------------


def event_sessions(event: Event) -> list[ProgrammeSession]:
    """Every session of the event, placed ones by time first, with room, track, people,
    speakers and their partners loaded (a constant number of queries)."""
    query = (
        select(ProgrammeSession)
        .where(ProgrammeSession.event_id == event.id)
        .options(
            selectinload(ProgrammeSession.room),
            selectinload(ProgrammeSession.track),
            selectinload(ProgrammeSession.people)
            .selectinload(SessionPerson.speaker)
            .selectinload(Speaker.partner),
        )
        .order_by(
            ProgrammeSession.starts_at.is_(None), ProgrammeSession.starts_at, ProgrammeSession.id
        )
    )
    return list(db.session.scalars(query))


def _aware(moment: datetime) -> datetime:
    """A stored moment as UTC-aware (SQLite hands back naive values)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def local_bounds(session: ProgrammeSession) -> tuple[date, time, time] | None:
    """The session's WITA day, start and end (for forms), or None when it is not placed."""
    if session.starts_at is None or session.ends_at is None:
        return None
    start = to_event_time(session.starts_at)
    end = to_event_time(session.ends_at)
    return start.date(), start.time(), end.time()


def time_span(starts_at: datetime, ends_at: datetime, day_format: str = "medium") -> str:
    """A session's day and times in WITA, in the current language: "14 Apr 2026, 09:00–10:30
    WITA"."""
    start = to_event_time(starts_at)
    end = to_event_time(ends_at)
    locale = get_locale() or "en"
    return "{day}, {start}–{end} {zone}".format(
        day=format_date(start.date(), day_format, locale=locale),
        start=format_time(start, "HH:mm", locale=locale),
        end=format_time(end, "HH:mm", locale=locale),
        zone=start.tzname(),
    )


def display_name(honorific: str | None, name: str) -> str:
    """A person's name with their honorific: "Dr Jane Doe"."""
    return f"{honorific} {name}" if honorific else name


def _to_utc(day: date, moment: time) -> datetime:
    """A WITA wall time as a UTC moment."""
    return datetime.combine(day, moment, tzinfo=event_zone()).astimezone(UTC)


def _check_placement(details: SessionDetails) -> tuple[datetime | None, datetime | None]:
    """The UTC start and end from the local day, start and end; all three or none."""
    given = {"day": details.day, "start": details.start, "end": details.end}
    missing = [name for name, value in given.items() if value is None]
    if len(missing) == len(given):
        return None, None
    if missing:
        raise ProgrammeError(
            _l(
                "Give the day, start and end together, or none of them to keep the session "
                "off the timetable for now."
            ),
            "incomplete_time",
            field=missing[0],
        )
    validation.check_date_in_range(details.day, field="day", error=ProgrammeError)
    if details.end <= details.start:
        raise ProgrammeError(
            _l("The session must end after it starts."), "ends_before_start", field="end"
        )
    return _to_utc(details.day, details.start), _to_utc(details.day, details.end)


def _event_room(event: Event, room_id: int | None) -> Room | None:
    """The event's room with this id; refuses another event's or an unknown one."""
    if room_id is None:
        return None
    room = db.session.get(Room, room_id)
    if room is None or room.event_id != event.id:
        raise ProgrammeError(_l("Choose a room from the list."), "unknown_room", field="room_id")
    return room


def _event_track(event: Event, track_id: int | None) -> Track | None:
    """The event's track with this id; refuses another event's or an unknown one."""
    if track_id is None:
        return None
    track = db.session.get(Track, track_id)
    if track is None or track.event_id != event.id:
        raise ProgrammeError(_l("Choose a track from the list."), "unknown_track", field="track_id")
    return track


def _event_speakers(event: Event, ids: Sequence[int], field_name: str) -> list[Speaker]:
    """The event's speakers with these ids, in the order given (repeats dropped)."""
    wanted = list(dict.fromkeys(ids))
    if not wanted:
        return []
    found = {
        speaker.id: speaker
        for speaker in db.session.scalars(
            select(Speaker).where(Speaker.id.in_(wanted), Speaker.event_id == event.id)
        )
    }
    if len(found) != len(wanted):
        raise ProgrammeError(
            _l("Choose people from the list of speakers."), "unknown_speaker", field=field_name
        )
    return [found[speaker_id] for speaker_id in wanted]


def _check_session(
    event: Event, details: SessionDetails
) -> tuple[dict[str, object], list[tuple[Speaker, PersonRole]]]:
    """A session's checked values and its people as (speaker, role) pairs in order."""
    if details.kind not in {kind.value for kind in SessionKind}:
        raise ProgrammeError(_l("Choose the kind of session."), "unknown_kind", field="kind")
    title = _clean_translated(
        details.title,
        "title",
        TITLE_MAX,
        required=_l("Give the title in at least one language."),
    )
    starts_at, ends_at = _check_placement(details)
    room = _event_room(event, details.room_id)
    track = _event_track(event, details.track_id)
    if details.spoken_language not in SPOKEN_LANGUAGES:
        raise ProgrammeError(
            _l("Choose the language spoken in the session."),
            "unknown_language",
            field="spoken_language",
        )
    if details.requires_signup and details.kind == SessionKind.BREAK:
        raise ProgrammeError(
            _l("Delegates cannot sign up for a break."), "break_signup", field="requires_signup"
        )
    chairs = _event_speakers(event, details.chair_ids, "chair_ids")
    speakers_ = _event_speakers(event, details.speaker_ids, "speaker_ids")
    both = [speaker for speaker in speakers_ if speaker in chairs]
    if both:
        raise ProgrammeError(
            _l(
                "%(name)s cannot be both chair and speaker of the same session.",
                name=both[0].name,
            ),
            "chair_and_speaker",
            field="speaker_ids",
        )
    values = {
        "kind": details.kind,
        "title": title,
        "abstract": _clean_translated(details.abstract, "abstract", ABSTRACT_MAX, multiline=True),
        "starts_at": starts_at,
        "ends_at": ends_at,
        "room": room,
        "location_note": _clean(details.location_note, "location_note", LOCATION_NOTE_MAX),
        "track": track,
        "spoken_language": details.spoken_language,
        "interpretation": bool(details.interpretation),
        "capacity": _check_capacity(details.capacity, required=False),
        "requires_signup": bool(details.requires_signup),
    }
    people = [(chair, PersonRole.CHAIR) for chair in chairs] + [
        (speaker, PersonRole.SPEAKER) for speaker in speakers_
    ]
    return values, people


def _set_people(session: ProgrammeSession, people: list[tuple[Speaker, PersonRole]]) -> None:
    """Make the session's chairs and speakers these, keeping the rows of those who stay."""
    current = {person.speaker_id: person for person in session.people}
    positions: dict[PersonRole, int] = {}
    wanted = []
    for speaker, role in people:
        position = positions.get(role, 0)
        positions[role] = position + 1
        person = current.pop(speaker.id, None) or SessionPerson(speaker=speaker)
        person.role = role.value
        person.position = position
        wanted.append(person)
    session.people = wanted


def create_session(
    event: Event, details: SessionDetails, *, actor: User | None
) -> ProgrammeSession:
    """Add a session, placed on the timetable when it has a day and times."""
    values, people = _check_session(event, details)
    session = ProgrammeSession(event_id=event.id, **values)
    _set_people(session, people)
    db.session.add(session)
    db.session.flush()
    return session


def update_session(
    session: ProgrammeSession, details: SessionDetails, *, actor: User | None
) -> None:
    """Change a session's details, time, room and people."""
    values, people = _check_session(session.event, details)
    _assign(session, values)
    _set_people(session, people)
    db.session.flush()


def delete_session(session: ProgrammeSession, *, actor: User | None) -> None:
    """Remove a session. Refused while delegates hold places in it: publishing the programme
    without it tells them, and then it may go."""
    signed_up = db.session.scalar(
        select(func.count())
        .select_from(SessionSignup)
        .where(SessionSignup.session_id == session.id)
    )
    if signed_up:
        raise ProgrammeError(
            ngettext(
                "%(num)d delegate has signed up for this session. Take it off the timetable "
                "and publish the programme, so that they are told, before deleting it.",
                "%(num)d delegates have signed up for this session. Take it off the timetable "
                "and publish the programme, so that they are told, before deleting it.",
                signed_up,
            ),
            "session_has_signups",
        )
    db.session.delete(session)
    db.session.flush()


def move_session(
    session: ProgrammeSession,
    *,
    day: date | None,
    start: time | None,
    room_id: int | None,
    actor: User | None,
) -> None:
    """Move a session to a day, start and room keeping its length (a session placed for the
    first time lasts an hour); no day takes it off the timetable."""
    room = _event_room(session.event, room_id)
    if day is None:
        session.starts_at = session.ends_at = None
        session.room = room
        db.session.flush()
        return
    validation.check_date_in_range(day, field="day", error=ProgrammeError)
    if start is None:
        raise ProgrammeError(_l("Give the start time."), "required", field="start")
    duration = (
        _aware(session.ends_at) - _aware(session.starts_at)
        if session.starts_at is not None and session.ends_at is not None
        else DEFAULT_DURATION
    )
    starts_at = _to_utc(day, start)
    ends_at = starts_at + duration
    if to_event_time(ends_at).date() != day:
        raise ProgrammeError(
            _l("The session would run past midnight; choose an earlier start."),
            "past_midnight",
            field="start",
        )
    session.starts_at, session.ends_at = starts_at, ends_at
    session.room = room
    db.session.flush()
