"""Registration settings, types and fees, registrations, delegations, visa letters, history."""

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
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.audit.actions import register_action_labels
from app.auth.models import User
from app.events.models import Event
from app.extensions import db, one_of
from app.i18n.formatting import country_name
from app.i18n.text import TranslatedText, TranslatedTextType
from app.partners.models import Partner

CURRENCIES = ("USD", "IDR")


class RegistrationStatus(StrEnum):
    """Where a registration stands.

    submitted: created for a delegation member who has not completed their details yet;
    pending_approval → awaiting_payment (or confirmed for free types) → confirmed;
    waitlisted when the type is full (with an offer while offer_expires_at is in the future);
    cancelled, rejected (with a reason) and refunded end it.
    """

    SUBMITTED = "submitted"
    PENDING_APPROVAL = "pending_approval"
    AWAITING_PAYMENT = "awaiting_payment"
    CONFIRMED = "confirmed"
    WAITLISTED = "waitlisted"
    CANCELLED = "cancelled"
    REJECTED = "rejected"
    REFUNDED = "refunded"

    @property
    def label(self) -> str:
        """The state's name in the current language."""
        return str(REGISTRATION_STATUS_LABELS[self])


REGISTRATION_STATUS_LABELS = {
    RegistrationStatus.SUBMITTED: _l("Details to complete"),
    RegistrationStatus.PENDING_APPROVAL: _l("Awaiting approval"),
    RegistrationStatus.AWAITING_PAYMENT: _l("Awaiting payment"),
    RegistrationStatus.CONFIRMED: _l("Confirmed"),
    RegistrationStatus.WAITLISTED: _l("On the waiting list"),
    RegistrationStatus.CANCELLED: _l("Cancelled"),
    RegistrationStatus.REJECTED: _l("Rejected"),
    RegistrationStatus.REFUNDED: _l("Refunded"),
}

# How each RegistrationHistory.action reads on the delegate's and the organisers' pages.
HISTORY_ACTION_LABELS = {
    "created": _l("Created"),
    "registered": _l("Registered"),
    "invited": _l("Invited by the head of delegation"),
    "completed": _l("Details completed"),
    "delegation_head": _l("Became head of a delegation"),
    "email_confirmed": _l("Email address confirmed"),
    "edited": _l("Details changed"),
    "approved": _l("Approved"),
    "rejected": _l("Rejected"),
    "cancelled": _l("Cancelled"),
    "offer_made": _l("A place was offered"),
    "offer_expired": _l("The offer expired"),
    "offer_accepted": _l("Offer accepted"),
    "paid": _l("Payment received"),
    "email_resent": _l("Email sent again"),
    "visa_letter_issued": _l("Visa letter issued"),
    "visa_letter_revoked": _l("Visa letter revoked"),
    "personal_data_erased": _l("Personal data erased"),
    "passport_data_purged": _l("Passport data removed after the congress"),
    "refunded": _l("Refunded"),
    "badge_reissued": _l("Badge reissued"),
    "badge_revoked": _l("Badge revoked"),
    "badge_restored": _l("Badge restored"),
}
register_action_labels("registration", HISTORY_ACTION_LABELS)

# Why Kongres itself revoked a visa letter (VisaLetter.revocation_reason holds the code; an
# organiser's reason is stored as typed).
VISA_REVOCATION_REASONS = {
    "details_changed": _l("The delegate's details changed after the letter was issued."),
    "registration_ended": _l("The registration was cancelled, rejected or refunded."),
}

# States that hold a place of the registration type's capacity (an open waitlist offer does
# too, while it lasts).
PLACE_HOLDING = (
    RegistrationStatus.PENDING_APPROVAL,
    RegistrationStatus.AWAITING_PAYMENT,
    RegistrationStatus.CONFIRMED,
)


class RegistrationSettings(db.Model):
    """An event's registration window and rules, set by organisers."""

    __tablename__ = "registration_settings"
    __table_args__ = (
        CheckConstraint("closes_on >= opens_on", name="window_in_order"),
        CheckConstraint("waitlist_offer_hours BETWEEN 1 AND 720", name="offer_hours"),
        CheckConstraint("passport_retention_days BETWEEN 0 AND 3650", name="retention_days"),
    )

    event_id: Mapped[int] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), primary_key=True
    )
    opens_on: Mapped[date] = mapped_column(Date)
    closes_on: Mapped[date] = mapped_column(Date)
    edit_cutoff_on: Mapped[date | None] = mapped_column(Date)
    waitlist_offer_hours: Mapped[int] = mapped_column(Integer, default=48)
    passport_retention_days: Mapped[int] = mapped_column(Integer, default=90)

    event: Mapped[Event] = relationship()


class RegistrationType(db.Model):
    """A kind of registration (delegate, government delegate, student, ...) with its rules."""

    __tablename__ = "registration_types"
    __table_args__ = (
        UniqueConstraint("event_id", "code", name="uq_registration_types_event_code"),
        CheckConstraint("capacity IS NULL OR capacity >= 0", name="capacity"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[TranslatedText] = mapped_column(TranslatedTextType)
    description: Mapped[TranslatedText | None] = mapped_column(TranslatedTextType)
    capacity: Mapped[int | None] = mapped_column(Integer)
    needs_approval: Mapped[bool] = mapped_column(Boolean, default=False)
    is_free: Mapped[bool] = mapped_column(Boolean, default=False)
    early_bird_until: Mapped[date | None] = mapped_column(Date)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    position: Mapped[int] = mapped_column(Integer, default=0)

    event: Mapped[Event] = relationship()
    fees: Mapped[list[RegistrationFee]] = relationship(
        back_populates="registration_type", cascade="all, delete-orphan", lazy="selectin"
    )


class RegistrationFee(db.Model):
    """A type's fee in one currency, in minor units, with an optional early-bird amount."""

    __tablename__ = "registration_fees"
    __table_args__ = (
        CheckConstraint("currency IN ('USD', 'IDR')", name="currency"),
        CheckConstraint("amount_minor >= 0", name="amount"),
        CheckConstraint(
            "early_bird_amount_minor IS NULL OR early_bird_amount_minor >= 0", name="early_bird"
        ),
    )

    registration_type_id: Mapped[int] = mapped_column(
        ForeignKey("registration_types.id", ondelete="CASCADE"), primary_key=True
    )
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    amount_minor: Mapped[int] = mapped_column(Integer)
    early_bird_amount_minor: Mapped[int | None] = mapped_column(Integer)

    registration_type: Mapped[RegistrationType] = relationship(back_populates="fees")


class Delegation(db.Model):
    """A country's delegation registered together by its head."""

    __tablename__ = "delegations"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    country: Mapped[str] = mapped_column(String(2), index=True)
    # The name the head gave; None: "Delegation of <country>" in the reader's language.
    chosen_name: Mapped[str | None] = mapped_column("name", String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    members: Mapped[list[Registration]] = relationship(back_populates="delegation")

    @hybrid_property
    def name(self) -> str:
        """The name the head gave, else "Delegation of <country>" in the current language."""
        if self.chosen_name:
            return self.chosen_name
        return str(_l("Delegation of %(country)s", country=country_name(self.country)))

    @name.inplace.setter
    def _name_setter(self, value: str | None) -> None:
        """Keep the name the head gave (None or blank: the translated default name)."""
        self.chosen_name = value or None

    @name.inplace.expression
    @classmethod
    def _name_expression(cls) -> Any:
        """In queries: the stored name (NULL for the default one)."""
        return cls.chosen_name


class Registration(db.Model):
    """One person's registration for an event, with their details and state."""

    __tablename__ = "registrations"
    __table_args__ = (
        # One registration per address and event: a double click or a resubmission finds it.
        UniqueConstraint("event_id", "email", name="uq_registrations_event_email"),
        CheckConstraint(one_of("status", RegistrationStatus), name="status"),
        CheckConstraint("language IN ('id', 'en')", name="language"),
        CheckConstraint("currency IS NULL OR currency IN ('USD', 'IDR')", name="currency"),
        CheckConstraint("fee_minor IS NULL OR fee_minor >= 0", name="fee"),
        CheckConstraint("email = lower(email)", name="email_lowercase"),
        CheckConstraint(
            "(status = 'rejected') = (rejection_reason IS NOT NULL)", name="rejection_reason"
        ),
        # Capacity counts and the waiting-list order both read by type and state.
        Index("ix_registrations_type_status", "registration_type_id", "status", "waitlisted_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(16), unique=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    registration_type_id: Mapped[int] = mapped_column(
        ForeignKey("registration_types.id", ondelete="RESTRICT")
    )
    status: Mapped[str] = mapped_column(String(32), index=True)

    title: Mapped[str | None] = mapped_column(String(50))
    given_name: Mapped[str] = mapped_column(String(100))
    family_name: Mapped[str | None] = mapped_column(String(100))
    badge_name: Mapped[str] = mapped_column(String(60))
    nationality: Mapped[str] = mapped_column(String(2), index=True)
    residence_country: Mapped[str] = mapped_column(String(2))
    partner_id: Mapped[int | None] = mapped_column(
        ForeignKey("partners.id", ondelete="SET NULL"), index=True
    )
    organisation_name: Mapped[str | None] = mapped_column(String(300))
    position: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(50))
    dietary_needs: Mapped[str | None] = mapped_column(Text)
    accessibility_needs: Mapped[str | None] = mapped_column(Text)
    emergency_contact_name: Mapped[str | None] = mapped_column(String(200))
    emergency_contact_phone: Mapped[str | None] = mapped_column(String(50))
    language: Mapped[str] = mapped_column(String(5))

    needs_visa_letter: Mapped[bool] = mapped_column(Boolean, default=False)
    # Fernet token (app/registration/personal_data.py); never the plain number.
    passport_number_encrypted: Mapped[str | None] = mapped_column(Text)
    passport_expiry: Mapped[date | None] = mapped_column(Date)
    birth_date: Mapped[date | None] = mapped_column(Date)
    birth_place: Mapped[str | None] = mapped_column(String(200))

    privacy_consent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    media_consent: Mapped[bool] = mapped_column(Boolean, default=False)

    currency: Mapped[str | None] = mapped_column(String(3))
    fee_minor: Mapped[int | None] = mapped_column(Integer)

    delegation_id: Mapped[int | None] = mapped_column(
        ForeignKey("delegations.id", ondelete="SET NULL"), index=True
    )
    is_delegation_head: Mapped[bool] = mapped_column(Boolean, default=False)

    email_confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    waitlisted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    offer_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    rejection_reason: Mapped[str | None] = mapped_column(Text)
    erased_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )

    event: Mapped[Event] = relationship()
    user: Mapped[User | None] = relationship()
    registration_type: Mapped[RegistrationType] = relationship()
    partner: Mapped[Partner | None] = relationship()
    delegation: Mapped[Delegation | None] = relationship(back_populates="members")
    history: Mapped[list[RegistrationHistory]] = relationship(
        back_populates="registration",
        cascade="all, delete-orphan",
        order_by="(RegistrationHistory.at.desc(), RegistrationHistory.id.desc())",
    )
    visa_letters: Mapped[list[VisaLetter]] = relationship(
        back_populates="registration", cascade="all, delete-orphan", order_by="VisaLetter.id"
    )

    @property
    def full_name(self) -> str:
        """Given and family names as one."""
        return " ".join(part for part in (self.given_name, self.family_name) if part)

    @property
    def organisation(self) -> str:
        """The organisation's name, from the partner module or as typed."""
        return self.partner.name if self.partner else (self.organisation_name or "")


class RegistrationHistory(db.Model):
    """A change of a registration: state moves, edits, emails resent, with who did it."""

    __tablename__ = "registration_history"

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("registrations.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(64))
    from_status: Mapped[str | None] = mapped_column(String(32))
    to_status: Mapped[str | None] = mapped_column(String(32))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    registration: Mapped[Registration] = relationship(back_populates="history")
    actor: Mapped[User | None] = relationship()


class VisaLetter(db.Model):
    """A numbered visa invitation letter; revoking it makes the verification page say so.

    The holder's details are copied at issue: the PDF and the verification page show what the
    letter says, never the registration's later details (a change revokes the letter).
    """

    __tablename__ = "visa_letters"
    __table_args__ = (
        UniqueConstraint("event_id", "sequence", name="uq_visa_letters_event_sequence"),
        CheckConstraint("language IN ('id', 'en')", name="language"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("registrations.id", ondelete="CASCADE"), index=True
    )
    sequence: Mapped[int] = mapped_column(Integer)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    verification_code: Mapped[str] = mapped_column(String(16), unique=True)
    language: Mapped[str] = mapped_column(String(5))
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    revocation_reason: Mapped[str | None] = mapped_column(Text)

    # The holder as the letter names them (the passport number encrypted, as on registrations).
    holder_name: Mapped[str] = mapped_column(String(201))
    holder_nationality: Mapped[str] = mapped_column(String(2))
    holder_organisation: Mapped[str | None] = mapped_column(String(300))
    passport_number_encrypted: Mapped[str | None] = mapped_column(Text)
    passport_expiry: Mapped[date | None] = mapped_column(Date)
    birth_date: Mapped[date | None] = mapped_column(Date)
    birth_place: Mapped[str | None] = mapped_column(String(200))

    registration: Mapped[Registration] = relationship(back_populates="visa_letters")

    @property
    def is_revoked(self) -> bool:
        """Whether the letter has been withdrawn."""
        return self.revoked_at is not None

    @property
    def revocation_reason_text(self) -> str | None:
        """Why the letter was revoked, in the current language for Kongres's own reasons."""
        reason = VISA_REVOCATION_REASONS.get(self.revocation_reason or "")
        return str(reason) if reason is not None else self.revocation_reason


class PassportAccess(db.Model):
    """Each time a staff member saw a passport number in full (personal data law)."""

    __tablename__ = "passport_access_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("registrations.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    purpose: Mapped[str] = mapped_column(String(64))
