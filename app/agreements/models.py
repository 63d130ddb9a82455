"""Agreements, their parties, scope areas, obligations, documents, evaluations and history."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    JSON,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Table,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.auth.models import User
from app.extensions import db, one_of
from app.i18n.text import TranslatedText, TranslatedTextType
from app.partners.models import Partner

EXPIRING_WITHIN_DAYS = 90


def _labelled(enum_cls: type[StrEnum], labels: dict) -> None:
    enum_cls.label = property(lambda self: str(labels[self]))  # type: ignore[attr-defined]


class AgreementKind(StrEnum):
    """The instrument: memorandum, cooperation agreement, letter of intent, ..."""

    MOU = "mou"
    PKS = "pks"
    LETTER_OF_INTENT = "letter_of_intent"
    IMPLEMENTING_ARRANGEMENT = "implementing_arrangement"
    ADDENDUM = "addendum"


AGREEMENT_KIND_LABELS = {
    AgreementKind.MOU: _l("Memorandum of understanding (MoU)"),
    AgreementKind.PKS: _l("Cooperation agreement (PKS)"),
    AgreementKind.LETTER_OF_INTENT: _l("Letter of intent"),
    AgreementKind.IMPLEMENTING_ARRANGEMENT: _l("Implementing arrangement"),
    AgreementKind.ADDENDUM: _l("Addendum"),
}
_labelled(AgreementKind, AGREEMENT_KIND_LABELS)


class AgreementStatus(StrEnum):
    """The stored life-cycle state; "expiring soon" is derived from the end date."""

    DRAFT = "draft"
    IN_NEGOTIATION = "in_negotiation"
    ACTIVE = "active"
    EXPIRED = "expired"
    TERMINATED = "terminated"


AGREEMENT_STATUS_LABELS = {
    AgreementStatus.DRAFT: _l("Draft"),
    AgreementStatus.IN_NEGOTIATION: _l("In negotiation"),
    AgreementStatus.ACTIVE: _l("Active"),
    AgreementStatus.EXPIRED: _l("Expired"),
    AgreementStatus.TERMINATED: _l("Terminated"),
}
_labelled(AgreementStatus, AGREEMENT_STATUS_LABELS)

# Which stored status may follow which (forward only, terminated and expired are final but
# an expired agreement is renewed by a new, linked agreement).
STATUS_TRANSITIONS = {
    AgreementStatus.DRAFT: {
        AgreementStatus.IN_NEGOTIATION,
        AgreementStatus.ACTIVE,
        AgreementStatus.TERMINATED,
    },
    AgreementStatus.IN_NEGOTIATION: {
        AgreementStatus.DRAFT,
        AgreementStatus.ACTIVE,
        AgreementStatus.TERMINATED,
    },
    AgreementStatus.ACTIVE: {AgreementStatus.EXPIRED, AgreementStatus.TERMINATED},
    AgreementStatus.EXPIRED: set(),
    AgreementStatus.TERMINATED: set(),
}


class DerivedStatus(StrEnum):
    """What the registry shows: the stored status, with "expiring soon" and lapsed dates."""

    DRAFT = "draft"
    IN_NEGOTIATION = "in_negotiation"
    ACTIVE = "active"
    EXPIRING = "expiring"
    EXPIRED = "expired"
    TERMINATED = "terminated"


DERIVED_STATUS_LABELS = {
    **{DerivedStatus(status.value): label for status, label in AGREEMENT_STATUS_LABELS.items()},
    DerivedStatus.EXPIRING: _l("Expiring soon"),
}
_labelled(DerivedStatus, DERIVED_STATUS_LABELS)


class UnitLevel(StrEnum):
    """Where in Ditjenpas the agreement is made and looked after."""

    CENTRAL = "central"
    REGIONAL = "regional"
    TECHNICAL_UNIT = "technical_unit"


UNIT_LEVEL_LABELS = {
    UnitLevel.CENTRAL: _l("Central office"),
    UnitLevel.REGIONAL: _l("Regional office (Kanwil)"),
    UnitLevel.TECHNICAL_UNIT: _l("Technical unit (UPT)"),
}
_labelled(UnitLevel, UNIT_LEVEL_LABELS)


class AgreementRelation(StrEnum):
    """How an agreement changes an earlier one."""

    RENEWAL = "renewal"
    ADDENDUM = "addendum"


AGREEMENT_RELATION_LABELS = {
    AgreementRelation.RENEWAL: _l("Renewal of"),
    AgreementRelation.ADDENDUM: _l("Addendum to"),
}
_labelled(AgreementRelation, AGREEMENT_RELATION_LABELS)


class ObligationStatus(StrEnum):
    """Progress on one party's deliverable."""

    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    CANCELLED = "cancelled"


OBLIGATION_STATUS_LABELS = {
    ObligationStatus.PLANNED: _l("Planned"),
    ObligationStatus.IN_PROGRESS: _l("In progress"),
    ObligationStatus.DONE: _l("Done"),
    ObligationStatus.CANCELLED: _l("Cancelled"),
}
_labelled(ObligationStatus, OBLIGATION_STATUS_LABELS)


agreement_scope_areas = Table(
    "agreement_scope_areas",
    db.metadata,
    Column("agreement_id", ForeignKey("agreements.id", ondelete="CASCADE"), primary_key=True),
    Column("scope_area_id", ForeignKey("scope_areas.id", ondelete="RESTRICT"), primary_key=True),
)


class ScopeArea(db.Model):
    """A managed, bilingual area of cooperation (e.g. identity and population data)."""

    __tablename__ = "scope_areas"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[TranslatedText] = mapped_column(TranslatedTextType)
    active: Mapped[bool] = mapped_column(default=True)
    position: Mapped[int] = mapped_column(default=0)


class Agreement(db.Model):
    """A cooperation agreement between Ditjenpas and one or more partners."""

    __tablename__ = "agreements"
    __table_args__ = (
        CheckConstraint(one_of("kind", AgreementKind), name="kind"),
        CheckConstraint(one_of("status", AgreementStatus), name="status"),
        CheckConstraint(one_of("unit_level", UnitLevel), name="unit_level"),
        CheckConstraint(
            "relation IS NULL OR " + one_of("relation", AgreementRelation), name="relation"
        ),
        # A linked agreement says how it changes its parent; the relation outlives a deleted
        # parent (parent_id is SET NULL on delete), so a relation alone is allowed.
        CheckConstraint("parent_id IS NULL OR relation IS NOT NULL", name="parent_needs_relation"),
        CheckConstraint(
            "ends_on IS NULL OR starts_on IS NULL OR ends_on >= starts_on", name="dates_in_order"
        ),
        CheckConstraint(
            "evaluation_interval_months IS NULL OR evaluation_interval_months BETWEEN 1 AND 60",
            name="evaluation_interval",
        ),
        CheckConstraint("parent_id IS NULL OR parent_id <> id", name="not_own_parent"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    reference_number: Mapped[str | None] = mapped_column(String(100))
    title: Mapped[TranslatedText] = mapped_column(TranslatedTextType)
    summary: Mapped[TranslatedText | None] = mapped_column(TranslatedTextType)
    status: Mapped[str] = mapped_column(String(32), default=AgreementStatus.DRAFT.value, index=True)
    unit_level: Mapped[str] = mapped_column(String(32), index=True)
    unit_name: Mapped[str] = mapped_column(String(200))
    responsible_officer_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    signed_on: Mapped[date | None] = mapped_column(Date, index=True)
    signed_place: Mapped[str | None] = mapped_column(String(200))
    starts_on: Mapped[date | None] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date, index=True)
    evaluation_interval_months: Mapped[int | None] = mapped_column(Integer)
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("agreements.id", ondelete="SET NULL"), index=True
    )
    relation: Mapped[str | None] = mapped_column(String(32))
    is_sample: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )

    parties: Mapped[list[AgreementParty]] = relationship(
        back_populates="agreement", cascade="all, delete-orphan"
    )
    scope_areas: Mapped[list[ScopeArea]] = relationship(
        secondary=agreement_scope_areas, order_by="ScopeArea.position"
    )
    responsible_officer: Mapped[User | None] = relationship()
    parent: Mapped[Agreement | None] = relationship(remote_side=[id], back_populates="changes")
    changes: Mapped[list[Agreement]] = relationship(back_populates="parent")
    obligations: Mapped[list[Obligation]] = relationship(
        back_populates="agreement", cascade="all, delete-orphan", order_by="Obligation.due_on"
    )
    documents: Mapped[list[AgreementDocument]] = relationship(
        back_populates="agreement",
        cascade="all, delete-orphan",
        order_by="AgreementDocument.uploaded_at",
    )
    evaluations: Mapped[list[Evaluation]] = relationship(
        back_populates="agreement",
        cascade="all, delete-orphan",
        order_by="Evaluation.evaluated_on.desc()",
    )
    history: Mapped[list[AgreementHistory]] = relationship(
        back_populates="agreement",
        cascade="all, delete-orphan",
        # Rows written in one transaction share a timestamp; the id keeps their order.
        order_by="[AgreementHistory.at.desc(), AgreementHistory.id.desc()]",
    )

    def derived_status(self, today: date) -> DerivedStatus:
        """The status on a day: an active agreement past its end is expired, near it expiring."""
        if self.status == AgreementStatus.ACTIVE and self.ends_on is not None:
            if self.ends_on < today:
                return DerivedStatus.EXPIRED
            if self.ends_on <= today + timedelta(days=EXPIRING_WITHIN_DAYS):
                return DerivedStatus.EXPIRING
        return DerivedStatus(self.status)

    @property
    def partners(self) -> list[Partner]:
        """The partner organisations party to this agreement."""
        return [party.partner for party in self.parties]


class AgreementParty(db.Model):
    """A partner's part in an agreement, with its own reference number."""

    __tablename__ = "agreement_parties"

    agreement_id: Mapped[int] = mapped_column(
        ForeignKey("agreements.id", ondelete="CASCADE"), primary_key=True
    )
    partner_id: Mapped[int] = mapped_column(
        ForeignKey("partners.id", ondelete="RESTRICT"), primary_key=True, index=True
    )
    reference_number: Mapped[str | None] = mapped_column(String(100))

    agreement: Mapped[Agreement] = relationship(back_populates="parties")
    partner: Mapped[Partner] = relationship()


class Obligation(db.Model):
    """A deliverable one party owes under an agreement; no partner means Ditjenpas owes it."""

    __tablename__ = "agreement_obligations"
    __table_args__ = (CheckConstraint(one_of("status", ObligationStatus), name="status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(
        ForeignKey("agreements.id", ondelete="CASCADE"), index=True
    )
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("partners.id", ondelete="RESTRICT"))
    description: Mapped[TranslatedText] = mapped_column(TranslatedTextType)
    due_on: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(32), default=ObligationStatus.PLANNED.value)

    agreement: Mapped[Agreement] = relationship(back_populates="obligations")
    partner: Mapped[Partner | None] = relationship()


class AgreementDocument(db.Model):
    """A signed PDF kept outside the web root under instance/."""

    __tablename__ = "agreement_documents"
    __table_args__ = (CheckConstraint("size_bytes > 0", name="size_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(
        ForeignKey("agreements.id", ondelete="CASCADE"), index=True
    )
    original_filename: Mapped[str] = mapped_column(String(255))
    stored_name: Mapped[str] = mapped_column(String(80), unique=True)
    size_bytes: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    uploaded_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )

    agreement: Mapped[Agreement] = relationship(back_populates="documents")
    uploaded_by: Mapped[User | None] = relationship()


class Evaluation(db.Model):
    """A periodic evaluation of how an agreement is carried out."""

    __tablename__ = "agreement_evaluations"
    __table_args__ = (
        CheckConstraint(
            "overall_rating IS NULL OR overall_rating BETWEEN 1 AND 5", name="overall_rating"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(
        ForeignKey("agreements.id", ondelete="CASCADE"), index=True
    )
    evaluated_on: Mapped[date] = mapped_column(Date)
    evaluator_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    evaluator_name: Mapped[str] = mapped_column(String(200))
    overall_rating: Mapped[int | None] = mapped_column(Integer)
    findings: Mapped[TranslatedText] = mapped_column(TranslatedTextType)
    follow_up: Mapped[TranslatedText | None] = mapped_column(TranslatedTextType)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    agreement: Mapped[Agreement] = relationship(back_populates="evaluations")
    evaluator: Mapped[User | None] = relationship()
    ratings: Mapped[list[ObligationRating]] = relationship(
        back_populates="evaluation", cascade="all, delete-orphan"
    )


class ObligationRating(db.Model):
    """An evaluation's 1–5 rating of one obligation."""

    __tablename__ = "agreement_obligation_ratings"
    __table_args__ = (CheckConstraint("rating BETWEEN 1 AND 5", name="rating"),)

    evaluation_id: Mapped[int] = mapped_column(
        ForeignKey("agreement_evaluations.id", ondelete="CASCADE"), primary_key=True
    )
    # A rated obligation is never removed (it is cancelled instead): its ratings belong to
    # past evaluations. No ON DELETE action: the database refuses, checking at the end of the
    # statement, so deleting a whole agreement (evaluations, ratings, obligations) still works.
    obligation_id: Mapped[int] = mapped_column(
        ForeignKey("agreement_obligations.id"), primary_key=True
    )
    rating: Mapped[int] = mapped_column(Integer)

    evaluation: Mapped[Evaluation] = relationship(back_populates="ratings")
    obligation: Mapped[Obligation] = relationship()


class AgreementHistory(db.Model):
    """Who changed what in an agreement, and when."""

    __tablename__ = "agreement_history"

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(
        ForeignKey("agreements.id", ondelete="CASCADE"), index=True
    )
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    action: Mapped[str] = mapped_column(String(64))
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    agreement: Mapped[Agreement] = relationship(back_populates="history")
    actor: Mapped[User | None] = relationship()


class ReminderSent(db.Model):
    """One reminder item emailed to one officer on one day; a rerun that day sends nothing new."""

    __tablename__ = "agreement_reminders_sent"
    __table_args__ = (
        UniqueConstraint(
            "user_id",
            "agreement_id",
            "reason",
            "sent_on",
            name="uq_agreement_reminders_sent_item_day",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    agreement_id: Mapped[int] = mapped_column(ForeignKey("agreements.id", ondelete="CASCADE"))
    reason: Mapped[str] = mapped_column(String(32))
    sent_on: Mapped[date] = mapped_column(Date)
