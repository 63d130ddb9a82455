"""Badges: each confirmed delegate's signed QR badge, and the event's signing key."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, Date, DateTime, ForeignKey, Integer, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.events.models import Event
from app.extensions import db, one_of
from app.registration.models import Registration


class BadgeRole(StrEnum):
    """A role printed on a badge beside the category, which door rules may look at."""

    DELEGATE = "delegate"
    SPEAKER = "speaker"
    PRESS = "press"
    STAFF = "staff"

    @property
    def label(self) -> str:
        """The role's name in the current language."""
        return str(BADGE_ROLE_LABELS[self])


BADGE_ROLE_LABELS = {
    BadgeRole.DELEGATE: _l("Delegate"),
    BadgeRole.SPEAKER: _l("Speaker"),
    BadgeRole.PRESS: _l("Press"),
    BadgeRole.STAFF: _l("Staff"),
}


class BadgeSigningKey(db.Model):
    """An event's Ed25519 key pair: the private half (encrypted) signs, scanners get the public."""

    __tablename__ = "badge_signing_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    # Fernet token of the raw 32-byte private key (the same keys that protect passport numbers).
    private_key_encrypted: Mapped[str] = mapped_column(Text)
    # Raw 32-byte public key, URL-safe base64 without padding.
    public_key: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    retired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Badge(db.Model):
    """A registration's badge; reissuing bumps the version, which revokes every older token."""

    __tablename__ = "badges"
    __table_args__ = (
        CheckConstraint("version > 0", name="version"),
        CheckConstraint(one_of("role", BadgeRole), name="role"),
        CheckConstraint("valid_to >= valid_from", name="valid_days"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("registrations.id", ondelete="CASCADE"), unique=True
    )
    # What gate staff type when a badge is damaged: short, random, not a count of badges.
    number: Mapped[str] = mapped_column(String(12), unique=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    role: Mapped[str] = mapped_column(String(16), default=BadgeRole.DELEGATE.value)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date] = mapped_column(Date)
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    reissued_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The whole badge withdrawn (registration cancelled); None while it opens doors.
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    event: Mapped[Event] = relationship()
    registration: Mapped[Registration] = relationship()
