"""Partner organisations and the people to contact there."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from enum import StrEnum
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    JSON,
    CheckConstraint,
    DateTime,
    ForeignKey,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.auth.models import User
from app.extensions import db, one_of


class PartnerKind(StrEnum):
    """What sort of organisation a partner is."""

    GOVERNMENT = "government"
    TRAINING = "training"
    RELIGIOUS = "religious"
    NGO = "ngo"
    FOUNDATION = "foundation"
    BUSINESS = "business"
    INTERNATIONAL = "international"
    ACADEMIA = "academia"
    COMMUNITY_GROUP = "community_group"

    @property
    def label(self) -> str:
        """The kind's name in the current language."""
        return str(PARTNER_KIND_LABELS[self])


PARTNER_KIND_LABELS = {
    PartnerKind.GOVERNMENT: _l("Government ministry or agency"),
    PartnerKind.TRAINING: _l("HR or training institution"),
    PartnerKind.RELIGIOUS: _l("Religious or community organisation"),
    PartnerKind.NGO: _l("NGO / civil society"),
    PartnerKind.FOUNDATION: _l("Foundation"),
    PartnerKind.BUSINESS: _l("Business"),
    PartnerKind.INTERNATIONAL: _l("International organisation"),
    PartnerKind.ACADEMIA: _l("Academia"),
    PartnerKind.COMMUNITY_GROUP: _l("Community group"),
}


NAME_KEY_LENGTH = 300


def name_key(name: str) -> str:
    """A partner name folded for comparison: case, accents, punctuation and spacing ignored."""
    decomposed = unicodedata.normalize("NFKD", name)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()
    # Letters of every script count (partners come from 44 countries); NFKD can lengthen a
    # name, so the key is cut to its column's size.
    return re.sub(r"[\W_]+", " ", plain).strip()[:NAME_KEY_LENGTH].rstrip()


class Partner(db.Model):
    """An organisation Ditjenpas works with: agreement party, sponsor, delegates' employer."""

    __tablename__ = "partners"
    __table_args__ = (
        CheckConstraint(one_of("kind", PartnerKind), name="kind"),
        CheckConstraint("length(country) = 2", name="country_code"),
        UniqueConstraint("name_key", "country", name="uq_partners_name_key_country"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    name_key: Mapped[str] = mapped_column(String(NAME_KEY_LENGTH), index=True)
    acronym: Mapped[str | None] = mapped_column(String(50))
    kind: Mapped[str] = mapped_column(String(32), index=True)
    country: Mapped[str] = mapped_column(String(2), index=True)
    address: Mapped[str | None] = mapped_column(Text)
    website: Mapped[str | None] = mapped_column(String(300))
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )

    contacts: Mapped[list[Contact]] = relationship(
        back_populates="partner", cascade="all, delete-orphan", order_by="Contact.name"
    )

    @property
    def kind_label(self) -> str:
        """The partner's kind in the current language."""
        return PartnerKind(self.kind).label

    @property
    def display_name(self) -> str:
        """Name with acronym, e.g. "Institute for Criminal Justice Reform (ICJR)"."""
        if self.acronym and self.acronym.casefold() not in self.name.casefold():
            return f"{self.name} ({self.acronym})"
        return self.name

    def __repr__(self) -> str:
        return f"<Partner {self.name!r}>"


class Contact(db.Model):
    """A person at a partner organisation."""

    __tablename__ = "partner_contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(
        ForeignKey("partners.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    position: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(50))

    partner: Mapped[Partner] = relationship(back_populates="contacts")


class PartnerHistory(db.Model):
    """Who changed what in a partner or its contacts, and when; kept after a partner's deletion."""

    __tablename__ = "partner_history"

    id: Mapped[int] = mapped_column(primary_key=True)
    # SET NULL, not CASCADE: the log of a deleted partner (and of its deletion) stays.
    partner_id: Mapped[int | None] = mapped_column(
        ForeignKey("partners.id", ondelete="SET NULL"), index=True
    )
    # The partner's name when the entry was written: the one clue left once it is deleted.
    partner_name: Mapped[str] = mapped_column(String(300))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    action: Mapped[str] = mapped_column(String(64))
    # {field: [old, new]}
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    actor: Mapped[User | None] = relationship()
