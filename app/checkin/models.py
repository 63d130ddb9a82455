"""Checkpoints, gate devices, every scan with its answer, admissions, certificates sent."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.auth.models import User
from app.badges.models import Badge
from app.events.models import Event
from app.extensions import db, one_of
from app.i18n.text import TranslatedText, TranslatedTextType
from app.programme.models import ProgrammeSession
from app.registration.models import Registration


class CheckpointKind(StrEnum):
    """Where a checkpoint stands."""

    ENTRANCE = "entrance"
    HALL = "hall"
    SESSION_DOOR = "session_door"

    @property
    def label(self) -> str:
        """The kind's name in the current language."""
        return str(CHECKPOINT_KIND_LABELS[self])


CHECKPOINT_KIND_LABELS = {
    CheckpointKind.ENTRANCE: _l("Venue entrance"),
    CheckpointKind.HALL: _l("Plenary hall"),
    CheckpointKind.SESSION_DOOR: _l("Session door"),
}


class EntryMode(StrEnum):
    """Whether a badge passes a checkpoint once per day or at every entry."""

    ONCE_PER_DAY = "once_per_day"
    EVERY_ENTRY = "every_entry"

    @property
    def label(self) -> str:
        """The mode's name in the current language."""
        return str(ENTRY_MODE_LABELS[self])


ENTRY_MODE_LABELS = {
    EntryMode.ONCE_PER_DAY: _l("Once per day"),
    EntryMode.EVERY_ENTRY: _l("Every entry"),
}


class ScanResult(StrEnum):
    """The answer a scan gets (the check-in API's stable vocabulary)."""

    ADMITTED = "admitted"
    ALREADY_ADMITTED = "already_admitted"
    REVOKED = "revoked"
    INVALID = "invalid"
    NOT_ALLOWED = "not_allowed"


class Checkpoint(db.Model):
    """A door where badges are scanned, with who may pass."""

    __tablename__ = "checkpoints"
    __table_args__ = (
        CheckConstraint(one_of("kind", CheckpointKind), name="kind"),
        CheckConstraint(one_of("entry_mode", EntryMode), name="entry_mode"),
        CheckConstraint(
            "(kind = 'session_door') = (session_id IS NOT NULL)", name="session_door_session"
        ),
        UniqueConstraint("event_id", "code", name="uq_checkpoints_event_code"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    # A short stable code the scanner API names the checkpoint by ("entrance", "hall", "s-42").
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[TranslatedText] = mapped_column(TranslatedTextType)
    kind: Mapped[str] = mapped_column(String(16))
    entry_mode: Mapped[str] = mapped_column(String(16), default=EntryMode.ONCE_PER_DAY.value)
    session_id: Mapped[int | None] = mapped_column(
        ForeignKey("programme_sessions.id", ondelete="CASCADE"), index=True
    )
    # Badge roles refused here (e.g. ["press"] at a closed session).
    refused_roles: Mapped[list[str]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    event: Mapped[Event] = relationship()
    session: Mapped[ProgrammeSession | None] = relationship()
    staff: Mapped[list[CheckpointStaff]] = relationship(
        back_populates="checkpoint", cascade="all, delete-orphan"
    )


class CheckpointStaff(db.Model):
    """A gate clerk assigned to a checkpoint."""

    __tablename__ = "checkpoint_staff"

    checkpoint_id: Mapped[int] = mapped_column(
        ForeignKey("checkpoints.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )

    checkpoint: Mapped[Checkpoint] = relationship(back_populates="staff")
    user: Mapped[User] = relationship()


class GateDevice(db.Model):
    """A scanner device with a bearer token (only its hash is kept), revocable."""

    __tablename__ = "gate_devices"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    # SHA-256 of the token, hex; the token itself is shown once, when issued.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    token_hint: Mapped[str] = mapped_column(String(8))
    checkpoint_id: Mapped[int | None] = mapped_column(
        ForeignKey("checkpoints.id", ondelete="SET NULL")
    )
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    last_seen_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    checkpoint: Mapped[Checkpoint | None] = relationship()


class Scan(db.Model):
    """One scan as a device sent it, refused ones included, with the answer it got.

    The nonce is the device's own unique id for the scan: the same nonce again returns the
    stored answer and records nothing new.
    """

    __tablename__ = "scans"
    __table_args__ = (
        CheckConstraint(one_of("result", ScanResult), name="result"),
        CheckConstraint(
            "client_result IS NULL OR " + one_of("client_result", ScanResult), name="client_result"
        ),
        Index("ix_scans_checkpoint_received", "checkpoint_id", "received_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    nonce: Mapped[str] = mapped_column(String(64), unique=True)
    checkpoint_id: Mapped[int | None] = mapped_column(
        ForeignKey("checkpoints.id", ondelete="SET NULL")
    )
    badge_id: Mapped[int | None] = mapped_column(
        ForeignKey("badges.id", ondelete="SET NULL"), index=True
    )
    badge_version: Mapped[int | None]
    device_id: Mapped[int | None] = mapped_column(
        ForeignKey("gate_devices.id", ondelete="SET NULL"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    scanned_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    received_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    offline: Mapped[bool] = mapped_column(Boolean, default=False)
    result: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(String(64))
    # What an offline scanner showed at the door; "admitted" there but not here is a conflict.
    client_result: Mapped[str | None] = mapped_column(String(20))
    # The answer as sent, so that a repeated nonce gets it again word for word.
    response: Mapped[dict[str, Any]] = mapped_column(JSON)

    checkpoint: Mapped[Checkpoint | None] = relationship()
    badge: Mapped[Badge | None] = relationship()
    device: Mapped[GateDevice | None] = relationship()

    @property
    def is_conflict(self) -> bool:
        """An offline scanner admitted a badge the server had already admitted elsewhere."""
        return (
            self.client_result == ScanResult.ADMITTED.value
            and self.result != ScanResult.ADMITTED.value
        )


class Admission(db.Model):
    """The first admission of a badge at a checkpoint on a day: the key that stops double entry."""

    __tablename__ = "admissions"

    checkpoint_id: Mapped[int] = mapped_column(
        ForeignKey("checkpoints.id", ondelete="CASCADE"), primary_key=True
    )
    badge_id: Mapped[int] = mapped_column(
        ForeignKey("badges.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    scan_id: Mapped[int] = mapped_column(ForeignKey("scans.id", ondelete="CASCADE"))
    admitted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    checkpoint: Mapped[Checkpoint] = relationship()
    badge: Mapped[Badge] = relationship()
    scan: Mapped[Scan] = relationship()


class CertificateDelivery(db.Model):
    """When a delegate's certificate of attendance was emailed (sent once)."""

    __tablename__ = "certificate_deliveries"

    registration_id: Mapped[int] = mapped_column(
        ForeignKey("registrations.id", ondelete="CASCADE"), primary_key=True
    )
    sent_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    registration: Mapped[Registration] = relationship()
