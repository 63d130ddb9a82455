"""Vouchers: organiser-made codes for a percentage or fixed discount or a full waiver.

A code is limited in uses; the counter is raised by one conditional UPDATE, so concurrent
redemptions can never push it past its limit (the database's CHECK is the backstop). Each
registration takes at most one voucher (VoucherRedemption's primary key).
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from app.auth.models import User
from app.errors import DomainError
from app.events.models import Event
from app.extensions import db
from app.i18n.formatting import (
    WHOLE_UNIT_CURRENCIES,
    event_zone,
    format_day,
    format_money,
    minor_unit_exponent,
)
from app.payments.models import VOUCHER_KIND_LABELS, Voucher, VoucherKind, VoucherRedemption
from app.registration.models import CURRENCIES, Registration, RegistrationStatus, RegistrationType
from app.registration.services import check_may_manage, event_today, utc_now
from app.validation import check_date_in_range, clean_text

MIN_CODE_LENGTH = 3
MAX_CODE_LENGTH = 40
MAX_NOTE_LENGTH = 300
MAX_USES_LIMIT = 100_000
# Codes are read out and typed from paper: letters, digits, dashes and underscores.
CODE_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9_-]*$")
# Generated codes avoid look-alikes (0/O, 1/I), like registration references.
GENERATED_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
GENERATED_CODE_LENGTH = 10


class VoucherError(DomainError):
    """A voucher rule refused an action."""


@dataclass
class VoucherDetails:
    """What an organiser types to create a voucher."""

    code: str | None
    kind: str
    percent_off: int | None = None
    amount_off_minor: int | None = None
    amount_off_currency: str | None = None
    max_uses: int = 1
    registration_type_id: int | None = None
    valid_until: date | None = None
    note: str | None = None


# --- codes and amounts ----------------------------------------------------------------------


def normalise_code(code: str | None) -> str:
    """A code as stored: trimmed and upper-case (codes are case-insensitive)."""
    return (code or "").strip().upper()


def _generated_code() -> str:
    """A random code that is easy to read out."""
    return "".join(secrets.choice(GENERATED_CODE_ALPHABET) for _ in range(GENERATED_CODE_LENGTH))


def _whole_unit(currency: str) -> int:
    """The smallest amount worth charging: a whole rupiah, a cent."""
    return 10 ** minor_unit_exponent(currency) if currency in WHOLE_UNIT_CURRENCIES else 1


def voucher_discount(voucher: Voucher, fee_minor: int, currency: str | None) -> int:
    """What the voucher takes off a fee (minor units), never more than the fee itself.

    Percentages are rounded half up to the currency's whole unit (a whole rupiah), so the
    amount left to pay is always one a bank or Stripe accepts.
    """
    if fee_minor <= 0:
        return 0
    if voucher.kind == VoucherKind.WAIVER.value:
        return fee_minor
    if voucher.kind == VoucherKind.PERCENT.value:
        unit = _whole_unit(currency or "USD")
        share = Decimal(fee_minor) * Decimal(voucher.percent_off or 0) / Decimal(100 * unit)
        discount = int(share.quantize(Decimal(1), rounding=ROUND_HALF_UP)) * unit
        return min(discount, fee_minor)
    if voucher.amount_off_currency != currency:
        return 0
    return min(voucher.amount_off_minor or 0, fee_minor)


def voucher_terms(voucher: Voucher) -> str:
    """What a voucher gives, in words: "20% off", "US$50.00 off", "Full waiver"."""
    if voucher.kind == VoucherKind.PERCENT.value:
        return gettext("%(percent)d%% off", percent=voucher.percent_off or 0)
    if voucher.kind == VoucherKind.FIXED.value:
        amount = format_money(voucher.amount_off_minor, voucher.amount_off_currency or "USD")
        return gettext("%(amount)s off", amount=amount)
    return str(VOUCHER_KIND_LABELS[VoucherKind.WAIVER])


def expiry_moment(valid_until: date) -> datetime:
    """The first moment after the last valid day (midnight at the congress's place), in UTC."""
    local_midnight = datetime.combine(valid_until + timedelta(days=1), time(), event_zone())
    return local_midnight.astimezone(UTC)


def _aware(moment: datetime) -> datetime:
    """A stored moment as UTC-aware (SQLite hands back naive UTC values)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def last_valid_day(voucher: Voucher) -> date | None:
    """The voucher's last valid day at the congress's place (None: it does not expire)."""
    if voucher.expires_at is None:
        return None
    return (_aware(voucher.expires_at).astimezone(event_zone()) - timedelta(microseconds=1)).date()


def _is_expired(voucher: Voucher, now: datetime) -> bool:
    """Whether the voucher's last day has passed."""
    return voucher.expires_at is not None and _aware(voucher.expires_at) <= now


def voucher_status(voucher: Voucher, now: datetime | None = None) -> str:
    """Whether a voucher can be applied now: "usable", or why not ("withdrawn", "expired",
    "used_up")."""
    if not voucher.active:
        return "withdrawn"
    if _is_expired(voucher, now or utc_now()):
        return "expired"
    if voucher.uses >= voucher.max_uses:
        return "used_up"
    return "usable"


# --- organisers -----------------------------------------------------------------------------


def _clean_code(code: str | None) -> str:
    """The organiser's code normalised and checked, or a generated one when left blank."""
    text = normalise_code(code)
    if not text:
        return _generated_code()
    if not MIN_CODE_LENGTH <= len(text) <= MAX_CODE_LENGTH or not CODE_PATTERN.match(text):
        raise VoucherError(
            _l(
                "Use %(min)d to %(max)d letters, digits, dashes or underscores, starting with a "
                "letter or digit.",
                min=MIN_CODE_LENGTH,
                max=MAX_CODE_LENGTH,
            ),
            "invalid_code",
            field="code",
        )
    return text


def _check_terms(details: VoucherDetails) -> dict[str, Any]:
    """The kind and its amount checked: only the columns that kind uses are kept."""
    if details.kind not in {kind.value for kind in VoucherKind}:
        raise VoucherError(_l("Choose what the voucher gives."), "invalid_kind", field="kind")
    if details.kind == VoucherKind.PERCENT.value:
        if details.percent_off is None or not 1 <= details.percent_off <= 100:
            raise VoucherError(
                _l("Give a percentage from 1 to 100."), "invalid_percent", field="percent_off"
            )
        return {"percent_off": details.percent_off}
    if details.kind == VoucherKind.FIXED.value:
        currency = details.amount_off_currency
        if currency not in CURRENCIES:
            raise VoucherError(
                _l("Choose the currency of the discount."),
                "invalid_currency",
                field="amount_off_currency",
            )
        amount = details.amount_off_minor
        if amount is None or amount <= 0:
            raise VoucherError(
                _l("Give the amount the voucher takes off."),
                "invalid_amount",
                field="amount_off_minor",
            )
        if amount % _whole_unit(currency):
            raise VoucherError(
                _l("Give a whole amount of rupiah, without sen."),
                "invalid_amount",
                field="amount_off_minor",
            )
        return {"amount_off_minor": amount, "amount_off_currency": currency}
    return {}


def _check_type(event: Event, type_id: int | None) -> int | None:
    """The registration type the voucher is limited to, which must be the event's."""
    if type_id is None:
        return None
    registration_type = db.session.get(RegistrationType, type_id)
    if registration_type is None or registration_type.event_id != event.id:
        raise VoucherError(
            _l("Choose one of the congress's registration types."),
            "unknown_type",
            field="registration_type_id",
        )
    return type_id


def _code_taken(event: Event, code: str) -> bool:
    """Whether the event already has a voucher with this code."""
    return (
        db.session.scalar(
            select(Voucher.id).where(Voucher.event_id == event.id, Voucher.code == code)
        )
        is not None
    )


def create_voucher(event: Event, details: VoucherDetails, *, actor: User | None) -> Voucher:
    """Create a voucher from the organiser's details (refused, naming the field, if wrong)."""
    check_may_manage(actor)
    code = _clean_code(details.code)
    terms = _check_terms(details)
    if details.max_uses is None or not 1 <= details.max_uses <= MAX_USES_LIMIT:
        raise VoucherError(
            _l("Allow from 1 to %(max)d uses.", max=MAX_USES_LIMIT),
            "invalid_max_uses",
            field="max_uses",
        )
    type_id = _check_type(event, details.registration_type_id)
    expires_at = None
    if details.valid_until is not None:
        check_date_in_range(details.valid_until, field="valid_until", error=VoucherError)
        if details.valid_until < event_today():
            raise VoucherError(
                _l("Choose today or a later day."), "valid_until_past", field="valid_until"
            )
        expires_at = expiry_moment(details.valid_until)
    note = clean_text(details.note, field="note", max_length=MAX_NOTE_LENGTH, error=VoucherError)
    duplicate = VoucherError(
        _l("The code %(code)s is already in use; choose another one.", code=code),
        "duplicate_code",
        field="code",
    )
    if _code_taken(event, code):
        raise duplicate
    voucher = Voucher(
        event_id=event.id,
        code=code,
        kind=details.kind,
        max_uses=details.max_uses,
        uses=0,
        registration_type_id=type_id,
        expires_at=expires_at,
        active=True,
        note=note,
        **terms,
    )
    try:
        # Two organisers saving the same code at once: the unique constraint decides.
        with db.session.begin_nested():
            db.session.add(voucher)
            db.session.flush()
    except IntegrityError as error:
        raise duplicate from error
    return voucher


def set_voucher_active(voucher: Voucher, active: bool, *, actor: User | None) -> None:
    """Withdraw a voucher (codes already applied keep their discount) or offer it again."""
    check_may_manage(actor)
    voucher.active = active
    db.session.flush()


def vouchers_query(event: Event) -> Select[Any]:
    """The event's vouchers, newest first, with their registration types."""
    return (
        select(Voucher)
        .where(Voucher.event_id == event.id)
        .options(selectinload(Voucher.registration_type))
        .order_by(Voucher.created_at.desc(), Voucher.id.desc())
    )


def find_voucher(event: Event, code: str | None) -> Voucher | None:
    """The event's voucher with this code (in any letter case)."""
    text = normalise_code(code)
    if not text:
        return None
    return db.session.scalar(
        select(Voucher).where(Voucher.event_id == event.id, Voucher.code == text)
    )


def redemptions_of(voucher: Voucher) -> list[VoucherRedemption]:
    """Who used a voucher, earliest first, with their registrations."""
    return list(
        db.session.scalars(
            select(VoucherRedemption)
            .where(VoucherRedemption.voucher_id == voucher.id)
            .options(selectinload(VoucherRedemption.registration))
            .order_by(VoucherRedemption.redeemed_at, VoucherRedemption.registration_id)
        )
    )


# --- delegates ------------------------------------------------------------------------------


def redemption_for(registration: Registration) -> VoucherRedemption | None:
    """The voucher applied to a registration, if any."""
    return db.session.get(VoucherRedemption, registration.id)


def redemptions_for(registrations: list[Registration]) -> dict[int, VoucherRedemption]:
    """The vouchers applied to these registrations, by registration id, in one query."""
    ids = [registration.id for registration in registrations]
    return {
        redemption.registration_id: redemption
        for redemption in db.session.scalars(
            select(VoucherRedemption)
            .where(VoucherRedemption.registration_id.in_(ids))
            .options(selectinload(VoucherRedemption.voucher))
        )
    }


def discounts_for(registrations: list[Registration]) -> dict[int, int]:
    """Each registration's voucher discount (minor units) on its fee, in one query."""
    redemptions = redemptions_for(registrations)
    return {
        registration.id: (
            voucher_discount(
                redemptions[registration.id].voucher,
                registration.fee_minor or 0,
                registration.currency,
            )
            if registration.id in redemptions
            else 0
        )
        for registration in registrations
    }


def discount_for(registration: Registration, fee_minor: int | None = None) -> int:
    """The voucher's discount on the registration's fee (or on `fee_minor`); 0 without one.

    Recomputed from the voucher's terms, so a fee changed by the organisers keeps a percentage
    right; it never exceeds the fee.
    """
    redemption = redemption_for(registration)
    if redemption is None:
        return 0
    base = registration.fee_minor or 0 if fee_minor is None else fee_minor
    return voucher_discount(redemption.voucher, base, registration.currency)


def _refusal(voucher: Voucher, now: datetime) -> VoucherError | None:
    """Why the voucher cannot be used right now (for any registration), else None."""
    if not voucher.active:
        return VoucherError(_l("This voucher code has been withdrawn."), "inactive", field="code")
    if _is_expired(voucher, now):
        return VoucherError(
            _l(
                "This voucher code was valid until %(day)s.",
                day=format_day(last_valid_day(voucher)),
            ),
            "expired",
            field="code",
        )
    if voucher.uses >= voucher.max_uses:
        return VoucherError(
            _l("This voucher code has already been used as many times as allowed."),
            "used_up",
            field="code",
        )
    return None


def _check_fits(voucher: Voucher, registration: Registration) -> None:
    """Refuse a voucher for another registration type or a fixed amount in another currency."""
    type_id = voucher.registration_type_id
    if type_id is not None and type_id != registration.registration_type_id:
        raise VoucherError(
            _l(
                "This voucher code is not valid for the registration type %(type)s.",
                type=registration.registration_type.name,
            ),
            "wrong_type",
            field="code",
        )
    if voucher.kind == VoucherKind.FIXED.value and (
        voucher.amount_off_currency != registration.currency
    ):
        raise VoucherError(
            _l(
                "This voucher code is for fees paid in %(currency)s only.",
                currency=voucher.amount_off_currency,
            ),
            "wrong_currency",
            field="code",
        )


def _take_one_use(voucher: Voucher, registration: Registration, now: datetime) -> bool:
    """Raise the voucher's use counter by one if it still may be used; False if not.

    One conditional UPDATE: on PostgreSQL concurrent updates of the row queue and each
    re-checks the condition on the row as the previous one left it, so the counter never
    passes the limit; SQLite serialises writers anyway.
    """
    result = db.session.execute(
        update(Voucher)
        .where(
            Voucher.id == voucher.id,
            Voucher.uses < Voucher.max_uses,
            Voucher.active.is_(True),
            or_(Voucher.expires_at.is_(None), Voucher.expires_at > now),
            or_(
                Voucher.registration_type_id.is_(None),
                Voucher.registration_type_id == registration.registration_type_id,
            ),
        )
        .values(uses=Voucher.uses + 1)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def redeem_voucher(
    registration: Registration, code: str | None, *, now: datetime | None = None
) -> VoucherRedemption:
    """Apply a voucher code to a registration awaiting payment.

    Refused, with the reason on the "code" field, when the code is unknown, withdrawn,
    expired, used up, for another type or currency, or the registration already has one.
    """
    now = now or utc_now()
    if registration.status != RegistrationStatus.AWAITING_PAYMENT.value:
        raise VoucherError(
            _l("A voucher can only be applied to a registration awaiting payment."),
            "not_awaiting_payment",
            field="code",
        )
    if not normalise_code(code):
        raise VoucherError(_l("Enter the voucher code."), "required", field="code")
    voucher = find_voucher(registration.event, code)
    if voucher is None:
        raise VoucherError(
            _l("This voucher code is not valid. Please check it and try again."),
            "unknown_code",
            field="code",
        )
    already = VoucherError(
        _l("A voucher has already been applied to this registration."),
        "already_redeemed",
        field="code",
    )
    if redemption_for(registration) is not None:
        raise already
    refusal = _refusal(voucher, now)
    if refusal is not None:
        raise refusal
    _check_fits(voucher, registration)
    if not _take_one_use(voucher, registration, now):
        # Someone else took the last use (or an organiser withdrew it) a moment ago.
        db.session.refresh(voucher)
        raise _refusal(voucher, now) or VoucherError(
            _l("This voucher code has already been used as many times as allowed."),
            "used_up",
            field="code",
        )
    redemption = VoucherRedemption(
        registration_id=registration.id,
        voucher_id=voucher.id,
        discount_minor=voucher_discount(
            voucher, registration.fee_minor or 0, registration.currency
        ),
        redeemed_at=now,
    )
    try:
        # The same registration redeeming twice at once: the primary key decides.
        with db.session.begin_nested():
            db.session.add(redemption)
            db.session.flush()
    except IntegrityError as error:
        raise already from error
    db.session.refresh(voucher)
    return redemption


def usable_vouchers_exist(event: Event, now: datetime | None = None) -> bool:
    """Whether any voucher could still be redeemed (the pay page hides the form otherwise)."""
    now = now or utc_now()
    return (
        db.session.scalar(
            select(Voucher.id)
            .where(
                Voucher.event_id == event.id,
                Voucher.active.is_(True),
                Voucher.uses < Voucher.max_uses,
                or_(Voucher.expires_at.is_(None), Voucher.expires_at > now),
            )
            .limit(1)
        )
        is not None
    )
