"""Factories shared by the programme tests: rooms, tracks, speakers, sessions and confirmed
delegates, made through the services. They add and flush; the test commits when it needs to."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import date, time
from typing import Any

from app.events.models import Event
from app.extensions import db
from app.i18n.text import TranslatedText
from app.programme import services
from app.programme.models import (
    ProgrammeSession,
    Room,
    SessionKind,
    SessionSignup,
    SignupStatus,
    Speaker,
    Track,
)
from app.programme.services import RoomDetails, SessionDetails, SpeakerDetails, TrackDetails
from app.registration.models import Registration, RegistrationStatus
from tests.registration.factories import WCPP_STARTS_ON, make_registration, make_type

_numbers = itertools.count(1)

# The first congress day, 09:00–10:30 WITA: a slot most tests place their sessions in.
FIRST_DAY = WCPP_STARTS_ON
MORNING = time(9, 0)
MID_MORNING = time(10, 30)


def make_room(
    event: Event,
    name: str | None = None,
    *,
    capacity: int = 100,
    floor: str | None = None,
    accessible: bool = True,
    interpretation_booth: bool = False,
    position: int = 0,
) -> Room:
    """A room of the venue (flushed)."""
    details = RoomDetails(
        name=name or f"Room {next(_numbers)}",
        capacity=capacity,
        floor=floor,
        accessible=accessible,
        interpretation_booth=interpretation_booth,
        position=position,
    )
    return services.create_room(event, details, actor=None)


def make_track(
    event: Event,
    name_en: str | None = None,
    *,
    name_id: str | None = None,
    colour: str = "#1f6feb",
    position: int = 0,
) -> Track:
    """A track with an English and an Indonesian name (flushed)."""
    number = next(_numbers)
    details = TrackDetails(
        name=TranslatedText(
            en=name_en or f"Track {number}", id=name_id or f"Jalur {name_en or number}"
        ),
        colour=colour,
        position=position,
    )
    return services.create_track(event, details, actor=None)


def make_speaker(
    event: Event,
    name: str | None = None,
    *,
    honorific: str | None = None,
    position_title: str | None = None,
    partner_id: int | None = None,
    organisation_name: str | None = "Directorate General of Corrections",
    country: str = "ID",
    biography: TranslatedText | None = None,
    email: str | None = None,
) -> Speaker:
    """A speaker with a typed organisation unless a partner is given (flushed)."""
    details = SpeakerDetails(
        name=name or f"Speaker {next(_numbers)}",
        honorific=honorific,
        position_title=position_title,
        partner_id=partner_id,
        organisation_name=None if partner_id is not None else organisation_name,
        country=country,
        biography=biography,
        email=email,
    )
    return services.create_speaker(event, details, actor=None)


def session_details(
    *,
    title_en: str | None = None,
    title_id: str | None = None,
    kind: SessionKind | str = SessionKind.THEMATIC,
    day: date | None = FIRST_DAY,
    start: time | None = MORNING,
    end: time | None = MID_MORNING,
    room: Room | None = None,
    track: Track | None = None,
    speakers: Sequence[Speaker] = (),
    chairs: Sequence[Speaker] = (),
    requires_signup: bool = False,
    capacity: int | None = None,
    spoken_language: str = "en",
    interpretation: bool = False,
    abstract: TranslatedText | None = None,
    location_note: str | None = None,
) -> SessionDetails:
    """Valid SessionDetails; day/start/end are WITA wall times (all None = not placed)."""
    number = next(_numbers)
    title_en = title_en or f"Session {number}"
    return SessionDetails(
        kind=str(kind),
        title=TranslatedText(en=title_en, id=title_id or f"Sesi {title_en}"),
        abstract=abstract,
        day=day,
        start=start,
        end=end,
        room_id=room.id if room is not None else None,
        location_note=location_note,
        track_id=track.id if track is not None else None,
        spoken_language=spoken_language,
        interpretation=interpretation,
        capacity=capacity,
        requires_signup=requires_signup,
        chair_ids=tuple(chair.id for chair in chairs),
        speaker_ids=tuple(speaker.id for speaker in speakers),
    )


def make_session(event: Event, **values: Any) -> ProgrammeSession:
    """A session made through create_session (flushed); keywords as for session_details."""
    return services.create_session(event, session_details(**values), actor=None)


def confirmed_registration(event: Event, **overrides: Any) -> Registration:
    """A CONFIRMED registration (a free type confirms at once); overrides go to the details
    (email=..., language="id", given_name=...)."""
    registration_type = make_type(event, is_free=True)
    registration = make_registration(event, registration_type, **overrides)
    assert registration.status == RegistrationStatus.CONFIRMED.value, registration.status
    return registration


def make_signup(
    session: ProgrammeSession,
    registration: Registration,
    status: SignupStatus = SignupStatus.CONFIRMED,
) -> SessionSignup:
    """A sign-up row as it stands after agenda.sign_up (flushed), for tests of what happens to
    signed-up delegates elsewhere (publishing, deleting) without the sign-up rules."""
    signup = SessionSignup(
        session_id=session.id, registration_id=registration.id, status=status.value
    )
    db.session.add(signup)
    db.session.flush()
    return signup


class SetUpContext:
    """A request context for setting data up, closed before the test client's requests.

    The `db` fixture keeps a context open for the whole test, and Flask reuses its app context
    (and so one `g`, with Flask-Babel's cached language and Flask-Login's user) for every client
    request made inside it; pages tested in two languages set their data up in this instead.
    """

    def __init__(self, app: Any, language: str = "en") -> None:
        self.context = app.test_request_context(headers={"Accept-Language": language})

    def __enter__(self) -> SetUpContext:
        self.context.push()
        return self

    def __exit__(self, *exc_info: object) -> None:
        db.session.remove()
        self.context.pop()
