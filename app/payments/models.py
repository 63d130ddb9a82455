"""Payments, the registrations they pay for, Stripe events seen, vouchers, refunds, receipts."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
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
from app.registration.models import Registration, RegistrationType


class PaymentMethod(StrEnum):
    """How a payment is made."""

    CARD = "card"
    BANK_TRANSFER = "bank_transfer"
    WAIVER = "waiver"


PAYMENT_METHOD_LABELS = {
    PaymentMethod.CARD: _l("Card"),
    PaymentMethod.BANK_TRANSFER: _l("Bank transfer"),
    PaymentMethod.WAIVER: _l("Fee waived"),
}


class PaymentStatus(StrEnum):
    """A payment's state; it only moves forward (see STATUS_RANK)."""

    PENDING = "pending"
    PROCESSING = "processing"
    FAILED = "failed"
    CANCELED = "canceled"
    SUCCEEDED = "succeeded"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"


PAYMENT_STATUS_LABELS = {
    PaymentStatus.PENDING: _l("Waiting for payment"),
    PaymentStatus.PROCESSING: _l("Processing"),
    PaymentStatus.FAILED: _l("Failed"),
    PaymentStatus.CANCELED: _l("Cancelled"),
    PaymentStatus.SUCCEEDED: _l("Paid"),
    PaymentStatus.PARTIALLY_REFUNDED: _l("Partly refunded"),
    PaymentStatus.REFUNDED: _l("Refunded"),
}

# A late or repeated event never moves a payment backwards: a move is allowed only to a higher
# rank (failed may still be followed by a success of a retried card, never the reverse).
STATUS_RANK = {
    PaymentStatus.PENDING: 0,
    PaymentStatus.PROCESSING: 1,
    PaymentStatus.FAILED: 2,
    PaymentStatus.CANCELED: 2,
    PaymentStatus.SUCCEEDED: 3,
    PaymentStatus.PARTIALLY_REFUNDED: 4,
    PaymentStatus.REFUNDED: 5,
}


class PaymentSettings(db.Model):
    """An event's payment rules: refund deadline and bank-transfer instructions."""

    __tablename__ = "payment_settings"

    event_id: Mapped[int] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), primary_key=True
    )
    refund_until: Mapped[date | None] = mapped_column(Date)
    bank_name: Mapped[str | None] = mapped_column(String(200))
    bank_account_name: Mapped[str | None] = mapped_column(String(200))
    bank_account_number: Mapped[str | None] = mapped_column(String(64))
    bank_swift: Mapped[str | None] = mapped_column(String(20))
    bank_instructions: Mapped[TranslatedText | None] = mapped_column(TranslatedTextType)

    event: Mapped[Event] = relationship()


class Payment(db.Model):
    """Money received (or expected) for one or more registrations, by one payer."""

    __tablename__ = "payments"
    __table_args__ = (
        CheckConstraint(one_of("method", PaymentMethod), name="method"),
        CheckConstraint(one_of("status", PaymentStatus), name="status"),
        CheckConstraint("currency IN ('USD', 'IDR')", name="currency"),
        CheckConstraint("amount_minor >= 0", name="amount"),
        CheckConstraint("refunded_minor >= 0 AND refunded_minor <= amount_minor", name="refunded"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    payer_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    method: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), index=True)
    currency: Mapped[str] = mapped_column(String(3))
    amount_minor: Mapped[int] = mapped_column(Integer)
    refunded_minor: Mapped[int] = mapped_column(Integer, default=0)
    stripe_payment_intent_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(255), unique=True)
    bank_reference: Mapped[str | None] = mapped_column(String(100))
    received_on: Mapped[date | None] = mapped_column(Date)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    failure_message: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )
    succeeded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    event: Mapped[Event] = relationship()
    payer: Mapped[User | None] = relationship(foreign_keys=[payer_id])
    recorded_by: Mapped[User | None] = relationship(foreign_keys=[recorded_by_id])
    allocations: Mapped[list[PaymentAllocation]] = relationship(
        back_populates="payment", cascade="all, delete-orphan", lazy="selectin"
    )
    refunds: Mapped[list[Refund]] = relationship(
        back_populates="payment", cascade="all, delete-orphan", order_by="Refund.id"
    )
    receipts: Mapped[list[Receipt]] = relationship(
        back_populates="payment", cascade="all, delete-orphan", order_by="Receipt.id"
    )


class PaymentAllocation(db.Model):
    """The part of a payment that pays one registration (a head pays for their delegation)."""

    __tablename__ = "payment_allocations"
    __table_args__ = (CheckConstraint("amount_minor >= 0", name="amount"),)

    payment_id: Mapped[int] = mapped_column(
        ForeignKey("payments.id", ondelete="CASCADE"), primary_key=True
    )
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("registrations.id", ondelete="RESTRICT"), primary_key=True, index=True
    )
    amount_minor: Mapped[int] = mapped_column(Integer)

    payment: Mapped[Payment] = relationship(back_populates="allocations")
    registration: Mapped[Registration] = relationship()


class StripeEvent(db.Model):
    """A Stripe webhook event, stored so that each id is processed once."""

    __tablename__ = "stripe_events"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    type: Mapped[str] = mapped_column(String(100))
    payment_intent_id: Mapped[str | None] = mapped_column(String(255), index=True)
    received_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    outcome: Mapped[str | None] = mapped_column(String(100))


class VoucherKind(StrEnum):
    """What a voucher takes off the fee."""

    PERCENT = "percent"
    FIXED = "fixed"
    WAIVER = "waiver"


VOUCHER_KIND_LABELS = {
    VoucherKind.PERCENT: _l("Percentage discount"),
    VoucherKind.FIXED: _l("Fixed discount"),
    VoucherKind.WAIVER: _l("Full waiver"),
}


class Voucher(db.Model):
    """An organiser-made code for a discount or a waiver, limited in uses."""

    __tablename__ = "vouchers"
    __table_args__ = (
        UniqueConstraint("event_id", "code", name="uq_vouchers_event_code"),
        CheckConstraint(one_of("kind", VoucherKind), name="kind"),
        CheckConstraint("max_uses >= 1", name="max_uses"),
        # The use counter can never pass the limit, whatever the application does.
        CheckConstraint("uses >= 0 AND uses <= max_uses", name="uses_within_limit"),
        CheckConstraint(
            "(kind <> 'percent') OR (percent_off BETWEEN 1 AND 100)", name="percent_off"
        ),
        CheckConstraint(
            "(kind <> 'fixed') OR (amount_off_minor > 0 AND amount_off_currency IS NOT NULL)",
            name="amount_off",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(20))
    percent_off: Mapped[int | None] = mapped_column(Integer)
    amount_off_minor: Mapped[int | None] = mapped_column(Integer)
    amount_off_currency: Mapped[str | None] = mapped_column(String(3))
    max_uses: Mapped[int] = mapped_column(Integer)
    uses: Mapped[int] = mapped_column(Integer, default=0)
    registration_type_id: Mapped[int | None] = mapped_column(
        ForeignKey("registration_types.id", ondelete="CASCADE")
    )
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    note: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    registration_type: Mapped[RegistrationType | None] = relationship()


class VoucherRedemption(db.Model):
    """A voucher applied to one registration (once per registration)."""

    __tablename__ = "voucher_redemptions"

    registration_id: Mapped[int] = mapped_column(
        ForeignKey("registrations.id", ondelete="CASCADE"), primary_key=True
    )
    voucher_id: Mapped[int] = mapped_column(
        ForeignKey("vouchers.id", ondelete="RESTRICT"), index=True
    )
    discount_minor: Mapped[int] = mapped_column(Integer)
    redeemed_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )

    voucher: Mapped[Voucher] = relationship()
    registration: Mapped[Registration] = relationship()


class Refund(db.Model):
    """Money given back on a payment, with its reason."""

    __tablename__ = "refunds"
    __table_args__ = (
        CheckConstraint("amount_minor > 0", name="amount"),
        CheckConstraint("status IN ('requested', 'pending', 'succeeded', 'failed')", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int] = mapped_column(
        ForeignKey("payments.id", ondelete="CASCADE"), index=True
    )
    amount_minor: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20))
    stripe_refund_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    details: Mapped[dict] = mapped_column(JSON, default=dict)

    payment: Mapped[Payment] = relationship(back_populates="refunds")


class Receipt(db.Model):
    """A numbered receipt for a payment, or a credit note for a refund."""

    __tablename__ = "receipts"
    __table_args__ = (
        UniqueConstraint("event_id", "kind", "sequence", name="uq_receipts_event_kind_sequence"),
        CheckConstraint("kind IN ('receipt', 'credit_note')", name="kind"),
        CheckConstraint("language IN ('id', 'en')", name="language"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    payment_id: Mapped[int] = mapped_column(
        ForeignKey("payments.id", ondelete="CASCADE"), index=True
    )
    refund_id: Mapped[int | None] = mapped_column(ForeignKey("refunds.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    sequence: Mapped[int] = mapped_column(Integer)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    amount_minor: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    language: Mapped[str] = mapped_column(String(5))
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    payment: Mapped[Payment] = relationship(back_populates="receipts")
