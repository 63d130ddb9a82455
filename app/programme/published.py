"""The published programme as every public page, the API and iCal read it.

The newest ProgrammeVersion's snapshot is parsed once into frozen dataclasses and kept in a
small in-process cache keyed by database, event, version number and publishing moment. A page
then costs one query (the newest version's number) however many sessions there are; a new
version is a new key, so every process sees it on its next request, and publish_programme
drops this process's old entries at once.
"""

from __future__ import annotations

import copy
import threading
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select

from app.events.models import Event
from app.extensions import db
from app.i18n.text import TranslatedText
from app.programme.grid import event_days
from app.programme.models import ProgrammeVersion, SessionKind
from app.programme.services import display_name

# Parsed programmes kept per process: a few events, one version each.
_CACHE_LIMIT = 16
_cache: dict[tuple[Any, ...], PublishedProgramme] = {}
_cache_lock = threading.Lock()


@dataclass(frozen=True)
class PublishedRoom:
    """A room as published."""

    id: int
    name: str
    capacity: int
    floor: str | None
    accessible: bool
    interpretation_booth: bool
    position: int


@dataclass(frozen=True)
class PublishedTrack:
    """A track as published."""

    id: int
    name: TranslatedText
    colour: str


@dataclass(frozen=True)
class PublishedSpeaker:
    """A speaker or chair as published."""

    id: int
    name: str
    honorific: str | None
    position_title: str | None
    organisation: str
    partner_id: int | None
    country: str
    biography: TranslatedText
    has_photo: bool

    @property
    def display_name(self) -> str:
        """The name with the honorific: "Dr Jane Doe"."""
        return display_name(self.honorific, self.name)


@dataclass(frozen=True)
class PublishedSession:
    """A session as published, with its room, track and people resolved."""

    id: int
    kind: SessionKind
    title: TranslatedText
    abstract: TranslatedText
    starts_at: datetime
    ends_at: datetime
    room: PublishedRoom | None
    room_id: int | None
    location_note: str | None
    track: PublishedTrack | None
    spoken_language: str
    interpretation: bool
    capacity: int | None
    requires_signup: bool
    chairs: tuple[PublishedSpeaker, ...]
    speakers: tuple[PublishedSpeaker, ...]

    @property
    def kind_label(self) -> str:
        """The kind's name in the current language."""
        return self.kind.label

    @property
    def people(self) -> tuple[PublishedSpeaker, ...]:
        """Chairs, then speakers."""
        return self.chairs + self.speakers


def _folded(text: str) -> str:
    """Text for matching regardless of case and accents ("Müller" finds "muller")."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(char for char in decomposed if not unicodedata.combining(char)).casefold()


def _search_text(session: PublishedSession) -> str:
    """Everything a search looks in: titles and abstracts in both languages, people, room."""
    parts = [
        *session.title.as_dict().values(),
        *session.abstract.as_dict().values(),
        *(person.display_name for person in session.people),
        session.room.name if session.room else "",
        session.location_note or "",
    ]
    return _folded("\n".join(parts))


@dataclass(frozen=True)
class PublishedProgramme:
    """A published version of the programme: its rooms, tracks, speakers and sessions."""

    version: int
    published_at: datetime
    zone: ZoneInfo
    starts_on: date
    ends_on: date
    rooms: tuple[PublishedRoom, ...]
    tracks: tuple[PublishedTrack, ...]
    speakers: tuple[PublishedSpeaker, ...]
    sessions: tuple[PublishedSession, ...]
    snapshot: dict[str, Any] = field(repr=False, compare=False, default_factory=dict)
    _session_index: dict[int, PublishedSession] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )
    _speaker_index: dict[int, PublishedSpeaker] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )
    _search_index: dict[int, str] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )

    def __post_init__(self) -> None:
        # Indexes built once: the object is shared by every request while cached.
        self._session_index.update((session.id, session) for session in self.sessions)
        self._speaker_index.update((speaker.id, speaker) for speaker in self.speakers)
        self._search_index.update((session.id, _search_text(session)) for session in self.sessions)

    def days(self) -> list[date]:
        """Every day of the congress, first to last."""
        return event_days(self.starts_on, self.ends_on)

    def session(self, session_id: int) -> PublishedSession | None:
        """A published session by id."""
        return self._session_index.get(session_id)

    def speaker(self, speaker_id: int) -> PublishedSpeaker | None:
        """A published speaker by id."""
        return self._speaker_index.get(speaker_id)

    def sessions_of_speaker(self, speaker_id: int) -> list[PublishedSession]:
        """The sessions a speaker chairs or speaks in, in time order."""
        return [
            session
            for session in self.sessions
            if any(person.id == speaker_id for person in session.people)
        ]

    def search(
        self,
        *,
        track_id: int | None = None,
        kind: str | None = None,
        language: str | None = None,
        q: str | None = None,
    ) -> list[PublishedSession]:
        """Sessions matching every filter given; q's words must all appear (in either language,
        any case, with or without accents) in the title, abstract, people or room."""
        words = _folded(q or "").split()
        return [
            session
            for session in self.sessions
            if (track_id is None or (session.track is not None and session.track.id == track_id))
            and (kind is None or session.kind == kind)
            and (language is None or session.spoken_language == language)
            and all(word in self._search_index[session.id] for word in words)
        ]

    def as_dict(self) -> dict[str, Any]:
        """The snapshot as published (a copy: the cached one is shared)."""
        return copy.deepcopy(self.snapshot)


def _moment(text: str) -> datetime:
    """An ISO 8601 UTC moment from the snapshot ("2026-04-14T02:00:00Z")."""
    return datetime.fromisoformat(text)


def parse_snapshot(snapshot: dict[str, Any]) -> PublishedProgramme:
    """A published programme from a version's snapshot."""
    rooms = {
        data["id"]: PublishedRoom(
            id=data["id"],
            name=data["name"],
            capacity=data["capacity"],
            floor=data.get("floor"),
            accessible=data.get("accessible", True),
            interpretation_booth=data.get("interpretation_booth", False),
            position=data.get("position", 0),
        )
        for data in snapshot.get("rooms", [])
    }
    tracks = {
        data["id"]: PublishedTrack(
            id=data["id"], name=TranslatedText(data.get("name")), colour=data["colour"]
        )
        for data in snapshot.get("tracks", [])
    }
    speakers = {
        data["id"]: PublishedSpeaker(
            id=data["id"],
            name=data["name"],
            honorific=data.get("honorific"),
            position_title=data.get("position_title"),
            organisation=data.get("organisation") or "",
            partner_id=data.get("partner_id"),
            country=data["country"],
            biography=TranslatedText(data.get("biography")),
            has_photo=bool(data.get("has_photo")),
        )
        for data in snapshot.get("speakers", [])
    }
    sessions = []
    for data in snapshot.get("sessions", []):
        people = data.get("people", [])
        sessions.append(
            PublishedSession(
                id=data["id"],
                kind=SessionKind(data["kind"]),
                title=TranslatedText(data.get("title")),
                abstract=TranslatedText(data.get("abstract")),
                starts_at=_moment(data["starts_at"]),
                ends_at=_moment(data["ends_at"]),
                room=rooms.get(data.get("room_id")),
                room_id=data.get("room_id"),
                location_note=data.get("location_note"),
                track=tracks.get(data.get("track_id")),
                spoken_language=data["spoken_language"],
                interpretation=bool(data.get("interpretation")),
                capacity=data.get("capacity"),
                requires_signup=bool(data.get("requires_signup")),
                chairs=tuple(
                    speakers[person["speaker_id"]] for person in people if person["role"] == "chair"
                ),
                speakers=tuple(
                    speakers[person["speaker_id"]]
                    for person in people
                    if person["role"] == "speaker"
                ),
            )
        )
    return PublishedProgramme(
        version=snapshot["version"],
        published_at=_moment(snapshot["published_at"]),
        zone=ZoneInfo(snapshot["timezone"]),
        starts_on=date.fromisoformat(snapshot["starts_on"]),
        ends_on=date.fromisoformat(snapshot["ends_on"]),
        rooms=tuple(sorted(rooms.values(), key=lambda room: (room.position, room.name))),
        tracks=tuple(tracks.values()),
        speakers=tuple(
            sorted(speakers.values(), key=lambda speaker: (speaker.name.casefold(), speaker.id))
        ),
        sessions=tuple(sessions),
        snapshot=snapshot,
    )


def _database_key() -> str:
    """Which database the cache entries come from (tests run several apps side by side)."""
    return str(current_app.config["SQLALCHEMY_DATABASE_URI"])


def published_programme(event: Event) -> PublishedProgramme | None:
    """The newest published programme of the event, or None before the first publication.

    One query when the version is cached; a second one loads and parses its snapshot.
    """
    newest = db.session.execute(
        select(ProgrammeVersion.number, ProgrammeVersion.published_at)
        .where(ProgrammeVersion.event_id == event.id)
        .order_by(ProgrammeVersion.number.desc())
        .limit(1)
    ).first()
    if newest is None:
        return None
    # The publishing moment tells apart versions numbered alike in a database emptied and
    # filled again (tests, a re-imported demo).
    key = (_database_key(), event.id, newest.number, str(newest.published_at))
    with _cache_lock:
        cached = _cache.get(key)
    if cached is not None:
        return cached
    snapshot = db.session.scalar(
        select(ProgrammeVersion.snapshot).where(
            ProgrammeVersion.event_id == event.id, ProgrammeVersion.number == newest.number
        )
    )
    programme = parse_snapshot(snapshot)
    with _cache_lock:
        for old in [old for old in _cache if old[:2] == key[:2]]:
            del _cache[old]
        while len(_cache) >= _CACHE_LIMIT:
            del _cache[next(iter(_cache))]
        _cache[key] = programme
    return programme


def invalidate_cache(event: Event) -> None:
    """Forget this process's parsed programmes of the event (called on publishing)."""
    prefix = (_database_key(), event.id)
    with _cache_lock:
        for key in [key for key in _cache if key[:2] == prefix]:
            del _cache[key]
