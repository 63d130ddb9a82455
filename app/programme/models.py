"""Rooms, tracks, speakers, sessions, published versions, delegates' sign-ups and agenda feeds."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.auth.models import User
from app.events.models import Event
from app.extensions import db, one_of
from app.i18n.text import TranslatedText, TranslatedTextType
from app.partners.models import Partner
from app.registration.models import Registration


class SessionKind(StrEnum):
    """What sort of programme item a session is."""

    PLENARY = "plenary"
    THEMATIC = "thematic"
    WORKSHOP = "workshop"
    SIDE_EVENT = "side_event"
    CEREMONY = "ceremony"
    BREAK = "break"
    STUDY_VISIT = "study_visit"

    @property
    def label(self) -> str:
        """The kind's name in the current language."""
        return str(SESSION_KIND_LABELS[self])


SESSION_KIND_LABELS = {
    SessionKind.PLENARY: _l("Plenary"),
    SessionKind.THEMATIC: _l("Thematic session"),
    SessionKind.WORKSHOP: _l("Workshop"),
    SessionKind.SIDE_EVENT: _l("Side event"),
    SessionKind.CEREMONY: _l("Ceremony"),
    SessionKind.BREAK: _l("Break"),
    SessionKind.STUDY_VISIT: _l("Study visit"),
}


class PersonRole(StrEnum):
    """What a person does in a session."""

    CHAIR = "chair"
    SPEAKER = "speaker"

    @property
    def label(self) -> str:
        """The role's name in the current language."""
        return str(PERSON_ROLE_LABELS[self])


PERSON_ROLE_LABELS = {
    PersonRole.CHAIR: _l("Chair"),
    PersonRole.SPEAKER: _l("Speaker"),
}


class SignupStatus(StrEnum):
    """A delegate's place in a session: taken, or waiting for one."""

    CONFIRMED = "confirmed"
    WAITLISTED = "waitlisted"

    @property
    def label(self) -> str:
        """The state's name in the current language."""
        return str(SIGNUP_STATUS_LABELS[self])


SIGNUP_STATUS_LABELS = {
    SignupStatus.CONFIRMED: _l("Place confirmed"),
    SignupStatus.WAITLISTED: _l("On the waiting list"),
}

# The languages a session may be held in (interpretation covers the other one).
SPOKEN_LANGUAGES = ("id", "en")


class Room(db.Model):
    """A room at the venue, in the order its column takes on the timetable."""

    __tablename__ = "programme_rooms"
    __table_args__ = (
        CheckConstraint("capacity > 0", name="capacity"),
        UniqueConstraint("event_id", "name", name="uq_programme_rooms_event_name"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    # Rooms carry their venue names ("Nusa Dua Hall"), the same in both languages.
    name: Mapped[str] = mapped_column(String(120))
    capacity: Mapped[int] = mapped_column(Integer)
    floor: Mapped[str | None] = mapped_column(String(60))
    accessible: Mapped[bool] = mapped_column(Boolean, default=True)
    interpretation_booth: Mapped[bool] = mapped_column(Boolean, default=False)
    position: Mapped[int] = mapped_column(Integer, default=0)

    event: Mapped[Event] = relationship()


class Track(db.Model):
    """A theme of the programme with the colour its sessions wear."""

    __tablename__ = "programme_tracks"
    __table_args__ = (
        CheckConstraint("length(colour) = 7 AND substr(colour, 1, 1) = '#'", name="colour"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    name: Mapped[TranslatedText] = mapped_column(TranslatedTextType)
    colour: Mapped[str] = mapped_column(String(7))
    position: Mapped[int] = mapped_column(Integer, default=0)

    event: Mapped[Event] = relationship()


class Speaker(db.Model):
    """A person who speaks at or chairs sessions."""

    __tablename__ = "programme_speakers"
    __table_args__ = (CheckConstraint("length(country) = 2", name="country_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    honorific: Mapped[str | None] = mapped_column(String(50))
    position_title: Mapped[str | None] = mapped_column(String(200))
    partner_id: Mapped[int | None] = mapped_column(
        ForeignKey("partners.id", ondelete="SET NULL"), index=True
    )
    # Typed when the organisation is not (yet) in the partner module.
    organisation_name: Mapped[str | None] = mapped_column(String(300))
    country: Mapped[str] = mapped_column(String(2))
    biography: Mapped[TranslatedText | None] = mapped_column(TranslatedTextType)
    # A re-encoded JPEG under instance/speaker_photos/ (the name is random, never the upload's).
    photo_filename: Mapped[str | None] = mapped_column(String(64), unique=True)
    email: Mapped[str | None] = mapped_column(String(254))

    event: Mapped[Event] = relationship()
    partner: Mapped[Partner | None] = relationship()

    @property
    def organisation(self) -> str:
        """The organisation's name, from the partner module or as typed."""
        return self.partner.name if self.partner else (self.organisation_name or "")


class ProgrammeSession(db.Model):
    """A plenary, thematic session, workshop, ceremony, break or study visit.

    A session without a start is still being prepared and waits beside the timetable; a
    session without a room takes place elsewhere (a study visit) or spans every room (a break).
    """

    __tablename__ = "programme_sessions"
    __table_args__ = (
        CheckConstraint(one_of("kind", SessionKind), name="kind"),
        CheckConstraint("spoken_language IN ('id', 'en')", name="spoken_language"),
        CheckConstraint("(starts_at IS NULL) = (ends_at IS NULL)", name="placed_whole"),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint("capacity IS NULL OR capacity > 0", name="capacity"),
        Index("ix_programme_sessions_event_starts", "event_id", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    title: Mapped[TranslatedText] = mapped_column(TranslatedTextType)
    abstract: Mapped[TranslatedText | None] = mapped_column(TranslatedTextType)
    starts_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    room_id: Mapped[int | None] = mapped_column(
        ForeignKey("programme_rooms.id", ondelete="SET NULL"), index=True
    )
    # Where a session away from the rooms takes place ("Bapas Denpasar").
    location_note: Mapped[str | None] = mapped_column(String(200))
    track_id: Mapped[int | None] = mapped_column(
        ForeignKey("programme_tracks.id", ondelete="SET NULL"), index=True
    )
    spoken_language: Mapped[str] = mapped_column(String(5), default="en")
    interpretation: Mapped[bool] = mapped_column(Boolean, default=False)
    # None: the room's capacity.
    capacity: Mapped[int | None] = mapped_column(Integer)
    requires_signup: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )

    event: Mapped[Event] = relationship()
    room: Mapped[Room | None] = relationship()
    track: Mapped[Track | None] = relationship()
    people: Mapped[list[SessionPerson]] = relationship(
        back_populates="session",
        cascade="all, delete-orphan",
        order_by="(SessionPerson.role, SessionPerson.position)",
    )

    @property
    def effective_capacity(self) -> int | None:
        """The session's own capacity, else its room's; None when neither limits it."""
        if self.capacity is not None:
            return self.capacity
        return self.room.capacity if self.room is not None else None

    @property
    def is_placed(self) -> bool:
        """Whether the session has a time on the timetable."""
        return self.starts_at is not None


class SessionPerson(db.Model):
    """A speaker or chair of a session, in the order they are listed."""

    __tablename__ = "programme_session_people"
    __table_args__ = (CheckConstraint(one_of("role", PersonRole), name="role"),)

    session_id: Mapped[int] = mapped_column(
        ForeignKey("programme_sessions.id", ondelete="CASCADE"), primary_key=True
    )
    speaker_id: Mapped[int] = mapped_column(
        ForeignKey("programme_speakers.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    role: Mapped[str] = mapped_column(String(16))
    position: Mapped[int] = mapped_column(Integer, default=0)

    session: Mapped[ProgrammeSession] = relationship(back_populates="people")
    speaker: Mapped[Speaker] = relationship()


class ProgrammeVersion(db.Model):
    """A published programme: numbered, with the whole timetable as it was published.

    The public programme, the API and the iCal feeds read the latest snapshot, so that the
    organisers' work in progress is never seen before they publish it.
    """

    __tablename__ = "programme_versions"
    __table_args__ = (
        UniqueConstraint("event_id", "number", name="uq_programme_versions_event_number"),
        CheckConstraint("number > 0", name="number"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    published_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    note: Mapped[str | None] = mapped_column(Text)
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON)
    # Ids of the sessions added, changed or removed since the previous version.
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    published_by: Mapped[User | None] = relationship()


class SessionSignup(db.Model):
    """A confirmed delegate's place (or waiting-list spot) in a session."""

    __tablename__ = "programme_signups"
    __table_args__ = (
        UniqueConstraint("session_id", "registration_id", name="uq_programme_signups_session_reg"),
        CheckConstraint(one_of("status", SignupStatus), name="status"),
        # Places are counted and the waiting list read in order, per session and state.
        Index("ix_programme_signups_session_status", "session_id", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("programme_sessions.id", ondelete="CASCADE"))
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("registrations.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    promoted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    session: Mapped[ProgrammeSession] = relationship()
    registration: Mapped[Registration] = relationship()


class AgendaFeed(db.Model):
    """The private link to a delegate's agenda as iCalendar; a new token revokes the old."""

    __tablename__ = "programme_agenda_feeds"

    registration_id: Mapped[int] = mapped_column(
        ForeignKey("registrations.id", ondelete="CASCADE"), primary_key=True
    )
    token: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    registration: Mapped[Registration] = relationship()
