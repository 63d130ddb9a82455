"""Registration rules: settings, fees, registering, states, waiting list, delegations, counts.

Every function takes plain values or model objects and an explicit `actor`; it adds and
flushes, and the caller commits once. A refused rule raises RegistrationError naming the form
field it concerns, before anything is written. Each change of state writes a history row and
emails the delegate in their own language.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any, NamedTuple

from flask import current_app, has_request_context
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import Select, and_, exists, false, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from app.audit import services as audit
from app.auth.models import Role, User
from app.auth.services import create_user, find_user_by_email, grant_role, normalise_email
from app.errors import DomainError
from app.events.models import Event
from app.extensions import db
from app.i18n.formatting import country_name, format_day, to_event_time
from app.i18n.text import CONTENT_LANGUAGES, TranslatedText
from app.mail.services import send_email
from app.partners.models import Partner
from app.partners.services import clean_phone, known_country_codes
from app.registration.models import (
    CURRENCIES,
    PLACE_HOLDING,
    Delegation,
    Registration,
    RegistrationFee,
    RegistrationHistory,
    RegistrationSettings,
    RegistrationStatus,
    RegistrationType,
    VisaLetter,
)
from app.registration.passports import decrypt_passport, encrypt_passport
from app.validation import check_date_in_range, clean_text, clean_translated_text
from app.web import absolute_url

# Text limits: the columns' sizes.
MAX_NAME_LENGTH = 100
MAX_TITLE_LENGTH = 50
MAX_BADGE_NAME_LENGTH = 60
MAX_ORGANISATION_LENGTH = 300
MAX_POSITION_LENGTH = 200
MAX_EMAIL_LENGTH = 254
MAX_CONTACT_NAME_LENGTH = 200
MAX_PLACE_LENGTH = 200
MAX_NEEDS_LENGTH = 1000
MAX_REASON_LENGTH = 2000
MAX_SEARCH_LENGTH = 200
MAX_DELEGATION_NAME_LENGTH = 200
MAX_DELEGATION_MEMBERS = 50
MAX_USER_NAME_LENGTH = 200
EARLIEST_BIRTH_DATE = date(1900, 1, 1)
PASSPORT_NUMBER = re.compile(r"^[A-Z0-9]{4,20}$")
DEFAULT_OFFER_HOURS = 48
# Confirmation and completion links: long enough for a delegate back from holiday.
EMAIL_CONFIRMATION_MAX_AGE = 30 * 24 * 3600
MEMBER_LINK_MAX_AGE = 60 * 24 * 3600
# References are read out on the phone: no 0/O or 1/I.
REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
REFERENCE_LENGTH = 8
REFERENCE_PATTERN = re.compile(f"[{REFERENCE_ALPHABET}]{{{REFERENCE_LENGTH}}}")
ORGANISER_ROLES = (Role.ORGANISER, Role.ADMIN)
ENDED = (RegistrationStatus.CANCELLED, RegistrationStatus.REJECTED, RegistrationStatus.REFUNDED)
EMAIL_KINDS = ("confirmation", "status")
# Personal data whose old and new values the history never keeps: only that they changed.
CHANGED_ONLY_FIELDS = frozenset({"passport_number", "passport_expiry", "birth_date", "birth_place"})


class RegistrationError(DomainError):
    """A registration rule refused the action."""


# --- inputs ---------------------------------------------------------------------------------


@dataclass(kw_only=True)
class RegistrationDetails:
    """Everything a person enters when registering (or editing a registration).

    When editing, a blank passport_number keeps the stored one (the form never shows it).
    """

    registration_type_id: int | None
    given_name: str | None
    nationality: str | None
    residence_country: str | None
    email: str | None
    title: str | None = None
    family_name: str | None = None
    badge_name: str | None = None
    partner_id: int | None = None
    organisation_name: str | None = None
    position: str | None = None
    phone: str | None = None
    dietary_needs: str | None = None
    accessibility_needs: str | None = None
    emergency_contact_name: str | None = None
    emergency_contact_phone: str | None = None
    language: str = "en"
    needs_visa_letter: bool = False
    passport_number: str | None = None
    passport_expiry: date | None = None
    birth_date: date | None = None
    birth_place: str | None = None
    privacy_consent: bool = False
    media_consent: bool = False


@dataclass(frozen=True)
class MemberInvite:
    """A delegation member as the head enters them; they complete their own details."""

    email: str | None
    given_name: str | None
    family_name: str | None = None
    registration_type_id: int | None = None


@dataclass(frozen=True)
class _Checked:
    """Details checked and cleaned: the column values, the type and the plain passport."""

    values: dict[str, Any]
    registration_type: RegistrationType
    passport_number: str | None = None
    passport_given: bool = False


class CountryCount(NamedTuple):
    """How many active registrations come from one country (by nationality)."""

    country: str
    count: int


class TypeCount(NamedTuple):
    """How many active registrations a registration type has."""

    registration_type: RegistrationType
    count: int


@dataclass(frozen=True)
class DelegationSummary:
    """A delegation with its head and how many members it has, for the organisers' list."""

    delegation: Delegation
    head: Registration | None
    member_count: int

    @property
    def country(self) -> str:
        """The delegation's country (ISO code)."""
        return self.delegation.country


# --- small helpers --------------------------------------------------------------------------


def utc_now() -> datetime:
    """The current moment in UTC."""
    return datetime.now(UTC)


def _aware(moment: datetime | None) -> datetime | None:
    """A stored moment as UTC-aware (SQLite hands back naive values)."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def event_today(now: datetime | None = None) -> date:
    """Today's date at the congress (its time zone), not the server's."""
    return to_event_time(now or utc_now()).date()


def _clean(
    value: str | None,
    field_name: str,
    max_length: int,
    *,
    required: object = None,
    multiline: bool = False,
) -> str | None:
    """Trimmed text or None; refuses a missing required text, too long a text and control
    characters, as a RegistrationError naming the field."""
    return clean_text(
        value,
        field=field_name,
        max_length=max_length,
        required=required,
        multiline=multiline,
        error=RegistrationError,
    )


@contextmanager
def _as_field(field_name: str) -> Iterator[None]:
    """Turn another domain's refusal (an address, a telephone number) into ours, on a field."""
    try:
        yield
    except DomainError as error:
        if isinstance(error, RegistrationError):
            raise
        raise RegistrationError(error.message, error.code, field=field_name) from error


def _is_organiser(actor: User | None) -> bool:
    """Whether the actor manages registrations (organisers and administrators)."""
    return actor is not None and actor.has_role(*ORGANISER_ROLES)


def check_may_manage(actor: User | None) -> None:
    """Refuse an organiser's action to anyone else (None is the system itself)."""
    if actor is not None and not _is_organiser(actor):
        raise RegistrationError(_l("Only the organisers can do this."), "organisers_only")


def _acts_for(registration: Registration, actor: User | None) -> bool:
    """Whether the signed-in actor owns the registration or manages registrations (None, a
    visitor who is not signed in, does not)."""
    return actor is not None and (actor.id == registration.user_id or _is_organiser(actor))


def _check_own(registration: Registration, actor: User | None) -> None:
    """Refuse a delegate's action on somebody else's registration."""
    if actor is None or _is_organiser(actor) or actor.id == registration.user_id:
        return
    raise RegistrationError(
        _l("You can only change your own registration."), "not_your_registration"
    )


def email_link(endpoint: str, **values: Any) -> str:
    """A full link for an email; the one place emails build links."""
    if has_request_context():
        return absolute_url(endpoint, **values)
    # Cron and CLI runs have no request, which url_for needs for a route's path;
    # absolute_url takes the host from SERVER_BASE_URL, never from this stand-in.
    with current_app.test_request_context():
        return absolute_url(endpoint, **values)


def _my_page_link(registration: Registration) -> str:
    """The delegate's own registration page (they sign in to see it)."""
    return email_link("registration.my_registration")


def record_history(
    registration: Registration,
    action: str,
    *,
    actor: User | None,
    from_status: str | None = None,
    to_status: str | None = None,
    now: datetime | None = None,
    **details: Any,
) -> RegistrationHistory:
    """Write down who did what to a registration (details: plain JSON values)."""
    entry = RegistrationHistory(
        registration=registration,
        action=action,
        actor_id=actor.id if actor is not None else None,
        from_status=from_status,
        to_status=to_status,
        details={key: value for key, value in details.items() if value is not None},
        at=now or utc_now(),
    )
    db.session.add(entry)
    status = {"status": [from_status, to_status]} if to_status else {}
    audited = {**status, **entry.details}
    if "changes" in audited:
        # Only which fields changed: the values are personal data that an erasure removes from
        # the registration's own history, but an entry of the hash chain can never be edited.
        audited["changes"] = sorted(audited["changes"])
    audit.record(f"registration.{action}", actor=actor, target=registration, details=audited)
    return entry


def _move(
    registration: Registration,
    to_status: RegistrationStatus,
    action: str,
    *,
    actor: User | None,
    now: datetime,
    **details: Any,
) -> None:
    """Change the state and record it; the caller sends the email."""
    from_status = registration.status
    registration.status = to_status.value
    if to_status is not RegistrationStatus.WAITLISTED:
        registration.offer_expires_at = None
    if to_status is not RegistrationStatus.REJECTED:
        registration.rejection_reason = None
    record_history(
        registration,
        action,
        actor=actor,
        from_status=from_status,
        to_status=to_status.value,
        now=now,
        **details,
    )


def _send(registration: Registration, template: str, **context: Any) -> None:
    """Email the delegate in their language (never an erased registration)."""
    if registration.erased_at is not None:
        return
    send_email(
        registration.email,
        registration.language,
        template,
        registration=registration,
        event=registration.event,
        status=RegistrationStatus(registration.status),
        my_link=_my_page_link(registration),
        **context,
    )


def _send_status(
    registration: Registration, *, reason: str | None = None, change: str | None = None
) -> None:
    """Tell the delegate their registration's new state and what comes next."""
    _send(registration, "mail/registration_status.txt", reason=reason, change=change)


def _new_reference() -> str:
    """A random reference for links and the phone (unguessable, unlike the numeric id)."""
    return "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(REFERENCE_LENGTH))


def find_registration(event: Event, reference: str | None, *options: Any) -> Registration | None:
    """The event's registration with this reference (loaded with `options`), if any.

    Text that cannot be a reference (wrong length, other characters, a NUL byte that
    PostgreSQL refuses) is answered None without a query.
    """
    text = (reference or "").strip().upper()
    if not REFERENCE_PATTERN.fullmatch(text):
        return None
    return db.session.scalar(
        select(Registration)
        .where(Registration.event_id == event.id, Registration.reference == text)
        .options(*options)
    )


def registration_for_email(event: Event, email: str) -> Registration | None:
    """The event's registration for an address, if any."""
    return db.session.scalar(
        select(Registration).where(
            Registration.event_id == event.id, Registration.email == email.strip().lower()
        )
    )


def registrations_of_user(user: User) -> list[Registration]:
    """A delegate account's registrations, newest first."""
    return list(
        db.session.scalars(
            select(Registration)
            .where(Registration.user_id == user.id)
            .options(joinedload(Registration.registration_type), joinedload(Registration.event))
            .order_by(Registration.created_at.desc(), Registration.id.desc())
        )
    )


# --- settings -------------------------------------------------------------------------------


def settings_for(event: Event) -> RegistrationSettings | None:
    """The event's registration settings, if the organisers have set them."""
    return db.session.get(RegistrationSettings, event.id)


def save_settings(
    event: Event,
    *,
    opens_on: date | None,
    closes_on: date | None,
    edit_cutoff_on: date | None,
    waitlist_offer_hours: int | None,
    passport_retention_days: int | None,
    actor: User | None,
) -> RegistrationSettings:
    """Set the registration window and rules of an event."""
    check_may_manage(actor)
    if opens_on is None:
        raise RegistrationError(
            _l("Enter the day registration opens."), "required", field="opens_on"
        )
    if closes_on is None:
        raise RegistrationError(
            _l("Enter the day registration closes."), "required", field="closes_on"
        )
    for day, name in (
        (opens_on, "opens_on"),
        (closes_on, "closes_on"),
        (edit_cutoff_on, "edit_cutoff_on"),
    ):
        check_date_in_range(day, field=name, error=RegistrationError)
    if closes_on < opens_on:
        raise RegistrationError(
            _l("Registration must close on or after the day it opens."),
            "window_out_of_order",
            field="closes_on",
        )
    if waitlist_offer_hours is None or not 1 <= waitlist_offer_hours <= 720:
        raise RegistrationError(
            _l("An offer to the waiting list must last between 1 and 720 hours."),
            "invalid_offer_hours",
            field="waitlist_offer_hours",
        )
    if passport_retention_days is None or not 0 <= passport_retention_days <= 3650:
        raise RegistrationError(
            _l("Keep passport data between 0 and 3650 days after the congress."),
            "invalid_retention_days",
            field="passport_retention_days",
        )
    settings = settings_for(event) or RegistrationSettings(event_id=event.id)
    settings.opens_on = opens_on
    settings.closes_on = closes_on
    settings.edit_cutoff_on = edit_cutoff_on
    settings.waitlist_offer_hours = waitlist_offer_hours
    settings.passport_retention_days = passport_retention_days
    db.session.add(settings)
    db.session.flush()
    return settings


def is_open(event: Event, today: date) -> bool:
    """Whether the public may register on this day."""
    settings = settings_for(event)
    return settings is not None and settings.opens_on <= today <= settings.closes_on


def _offer_hours(event: Event) -> int:
    """How long a waiting-list offer lasts for this event."""
    settings = settings_for(event)
    return settings.waitlist_offer_hours if settings is not None else DEFAULT_OFFER_HOURS


# --- registration types and fees ------------------------------------------------------------


@dataclass(kw_only=True)
class FeeDetails:
    """A type's fee in one currency, in minor units."""

    currency: str
    amount_minor: int | None
    early_bird_amount_minor: int | None = None


@dataclass(kw_only=True)
class RegistrationTypeDetails:
    """Everything an organiser enters about a registration type."""

    code: str | None
    name: TranslatedText | None
    description: TranslatedText | None = None
    capacity: int | None = None
    needs_approval: bool = False
    is_free: bool = False
    early_bird_until: date | None = None
    active: bool = True
    position: int = 0
    fees: list[FeeDetails] = field(default_factory=list)


def registration_types(event: Event, *, active_only: bool = True) -> list[RegistrationType]:
    """The event's registration types in their display order (fees loaded with them)."""
    query = select(RegistrationType).where(RegistrationType.event_id == event.id)
    if active_only:
        query = query.where(RegistrationType.active.is_(True))
    return list(db.session.scalars(query.order_by(RegistrationType.position, RegistrationType.id)))


def _clean_translated(
    text: TranslatedText | None,
    field_name: str,
    max_length: int,
    *,
    required: object = None,
    multiline: bool = False,
) -> TranslatedText | None:
    """A text in both languages, each checked like any text; None when both are empty."""
    return clean_translated_text(
        text,
        field=field_name,
        max_length=max_length,
        required=required,
        multiline=multiline,
        error=RegistrationError,
    )


def save_registration_type(
    event: Event,
    registration_type: RegistrationType | None,
    details: RegistrationTypeDetails,
    *,
    actor: User | None,
) -> RegistrationType:
    """Create a registration type (when None is given) or change one; a raised capacity
    offers the freed places to the waiting list."""
    check_may_manage(actor)
    code = _clean(details.code, "code", 64, required=_l("Enter a short code for the type."))
    code = code.lower()
    if not re.fullmatch(r"[a-z0-9_-]+", code):
        raise RegistrationError(
            _l("Use only letters, digits, - and _ in the code."), "invalid_code", field="code"
        )
    clash = db.session.scalar(
        select(RegistrationType.id).where(
            RegistrationType.event_id == event.id,
            RegistrationType.code == code,
            RegistrationType.id != (registration_type.id if registration_type else -1),
        )
    )
    if clash is not None:
        raise RegistrationError(
            _l("Another registration type already uses this code."), "duplicate_code", field="code"
        )
    name = _clean_translated(details.name, "name", 200, required=_l("Enter the type's name."))
    description = _clean_translated(details.description, "description", 2000, multiline=True)
    if details.capacity is not None and not 0 <= details.capacity <= 100_000:
        raise RegistrationError(
            _l("The capacity must be between 0 and 100,000 places, or empty for no limit."),
            "invalid_capacity",
            field="capacity",
        )
    check_date_in_range(details.early_bird_until, field="early_bird_until", error=RegistrationError)
    fees: dict[str, FeeDetails] = {}
    for fee in details.fees:
        if fee.currency not in CURRENCIES:
            raise RegistrationError(_l("Fees are in USD or IDR."), "unknown_currency", field="fees")
        if fee.amount_minor is None and fee.early_bird_amount_minor is None:
            continue
        amounts = (fee.amount_minor, fee.early_bird_amount_minor)
        if fee.amount_minor is None or any(a is not None and a < 0 for a in amounts):
            raise RegistrationError(
                _l("Give each fee as an amount of zero or more."), "invalid_fee", field="fees"
            )
        fees[fee.currency] = fee
    if not details.is_free and not fees:
        raise RegistrationError(
            _l("Give a fee in at least one currency, or mark the type as free."),
            "no_fee",
            field="fees",
        )
    creating = registration_type is None
    if registration_type is None:
        registration_type = RegistrationType(event_id=event.id)
        db.session.add(registration_type)
    registration_type.code = code
    registration_type.name = name
    registration_type.description = description
    registration_type.capacity = details.capacity
    registration_type.needs_approval = details.needs_approval
    registration_type.is_free = details.is_free
    registration_type.early_bird_until = details.early_bird_until
    registration_type.active = details.active
    registration_type.position = details.position
    current = {fee.currency: fee for fee in registration_type.fees}
    for currency, fee in current.items():
        if currency not in fees:
            registration_type.fees.remove(fee)
    for currency, wanted in fees.items():
        row = current.get(currency) or RegistrationFee(currency=currency)
        row.amount_minor = wanted.amount_minor
        row.early_bird_amount_minor = wanted.early_bird_amount_minor
        if currency not in current:
            registration_type.fees.append(row)
    db.session.flush()
    if not creating:
        _fill_free_places(registration_type, utc_now())
    return registration_type


def currency_for(nationality: str | None, residence_country: str | None) -> str:
    """IDR for Indonesians and residents of Indonesia, USD for everyone else."""
    return "IDR" if "ID" in (nationality, residence_country) else "USD"


def fee_for(registration_type: RegistrationType, currency: str, today: date) -> int | None:
    """The fee in minor units on this day (early-bird until its deadline); 0 when free;
    None when the type has no fee in that currency."""
    if registration_type.is_free:
        return 0
    fee = next((f for f in registration_type.fees if f.currency == currency), None)
    if fee is None:
        return None
    early = registration_type.early_bird_until
    if early is not None and today <= early and fee.early_bird_amount_minor is not None:
        return fee.early_bird_amount_minor
    return fee.amount_minor


# --- capacity -------------------------------------------------------------------------------


def _holds_place(now: datetime) -> Any:
    """SQL condition: the registration takes one of its type's places at this moment."""
    return or_(
        Registration.status.in_([status.value for status in PLACE_HOLDING]),
        and_(
            Registration.status == RegistrationStatus.WAITLISTED.value,
            Registration.offer_expires_at > now,
        ),
    )


def places_taken(registration_type: RegistrationType, now: datetime) -> int:
    """Places of the type held right now (including open waiting-list offers)."""
    return db.session.scalar(
        select(func.count())
        .select_from(Registration)
        .where(Registration.registration_type_id == registration_type.id, _holds_place(now))
    )


def places_taken_by_type(type_ids: list[int], now: datetime) -> dict[int, int]:
    """Places held right now for several types, in one grouped query."""
    if not type_ids:
        return {}
    rows = db.session.execute(
        select(Registration.registration_type_id, func.count())
        .where(Registration.registration_type_id.in_(type_ids), _holds_place(now))
        .group_by(Registration.registration_type_id)
    )
    return dict(rows.all())


@dataclass(frozen=True)
class FeeOffer:
    """A type's fee in one currency today, with its regular amount after the early bird."""

    currency: str
    amount: int
    regular: int
    early_bird_until: date | None


@dataclass(frozen=True)
class TypeOffer:
    """A registration type as the registration form presents it."""

    registration_type: RegistrationType
    fees: list[FeeOffer]
    full: bool


def type_offers(types: list[RegistrationType], now: datetime | None = None) -> list[TypeOffer]:
    """Each type with today's fees and whether it is full (a new delegate would wait)."""
    now = now or utc_now()
    today = event_today(now)
    taken = places_taken_by_type([registration_type.id for registration_type in types], now)
    offers = []
    for registration_type in types:
        fees = []
        if not registration_type.is_free:
            for fee in sorted(registration_type.fees, key=lambda item: item.currency != "USD"):
                amount = fee_for(registration_type, fee.currency, today)
                if amount is None:
                    continue
                early = amount != fee.amount_minor
                fees.append(
                    FeeOffer(
                        fee.currency,
                        amount,
                        fee.amount_minor,
                        registration_type.early_bird_until if early else None,
                    )
                )
        capacity = registration_type.capacity
        full = capacity is not None and taken.get(registration_type.id, 0) >= capacity
        offers.append(TypeOffer(registration_type, fees, full))
    return offers


def _someone_waiting(registration_type: RegistrationType) -> bool:
    """Whether anybody waits for a place of this type without an offer yet."""
    return bool(
        db.session.scalar(
            select(
                exists().where(
                    Registration.registration_type_id == registration_type.id,
                    Registration.status == RegistrationStatus.WAITLISTED.value,
                    Registration.offer_expires_at.is_(None),
                )
            )
        )
    )


def _lock_type(type_id: int) -> RegistrationType:
    """The type's row, locked until the transaction ends: on PostgreSQL this serialises
    every decision about its places (SQLite serialises writers anyway)."""
    return db.session.execute(
        select(RegistrationType)
        .where(RegistrationType.id == type_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()


def _lock_registration(registration: Registration) -> Registration:
    """The registration's row, locked until the transaction ends and read again (PostgreSQL):
    a double submission waits for the first and then sees its result, so every caller checks
    the state after this."""
    return db.session.execute(
        select(Registration)
        .where(Registration.id == registration.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()


def _lock_for_change(registration: Registration) -> RegistrationType:
    """Lock the registration's type, then the registration itself, and return the type.

    Always in this order: filling a type's free places holds its lock while it changes that
    type's waiting registrations, so taking a registration's lock first could deadlock.
    """
    registration_type = _lock_type(registration.registration_type_id)
    _lock_registration(registration)
    if registration.registration_type_id != registration_type.id:
        # An organiser moved it to another type while we waited; the row lock keeps it there.
        registration_type = _lock_type(registration.registration_type_id)
    return registration_type


def _free_places(registration_type: RegistrationType, now: datetime) -> int | None:
    """How many places are free (None: no limit)."""
    if registration_type.capacity is None:
        return None
    return max(registration_type.capacity - places_taken(registration_type, now), 0)


def _was_approved(registration: Registration) -> bool:
    """Whether the organisers approved the registration at some point."""
    return bool(
        db.session.scalar(
            select(
                exists().where(
                    RegistrationHistory.registration_id == registration.id,
                    RegistrationHistory.action == "approved",
                )
            )
        )
    )


def _admitted_status(registration: Registration) -> RegistrationStatus:
    """Where a registration goes once it has a place: approval first where the type needs
    it, then payment, or straight to confirmed when there is nothing to pay."""
    if registration.registration_type.needs_approval and not _was_approved(registration):
        return RegistrationStatus.PENDING_APPROVAL
    if not registration.fee_minor:
        return RegistrationStatus.CONFIRMED
    return RegistrationStatus.AWAITING_PAYMENT


def _has_room(registration_type: RegistrationType, now: datetime) -> bool:
    """Whether a newcomer to the type gets a place now: one is free and nobody waits for it
    (the caller holds the type's lock)."""
    free = _free_places(registration_type, now)
    return free is None or (free > 0 and not _someone_waiting(registration_type))


def _status_for_newcomer(
    registration_type: RegistrationType, fee: int, now: datetime
) -> RegistrationStatus:
    """A new registration's state, decided while the type's row is locked."""
    if not _has_room(registration_type, now):
        return RegistrationStatus.WAITLISTED
    if registration_type.needs_approval:
        return RegistrationStatus.PENDING_APPROVAL
    return RegistrationStatus.CONFIRMED if fee == 0 else RegistrationStatus.AWAITING_PAYMENT


# --- checking details -----------------------------------------------------------------------


def _check_country(code: str | None, field_name: str, message: object) -> str:
    """An ISO country code Babel knows, upper-cased, else refused."""
    text = (code or "").strip().upper()
    if text not in known_country_codes():
        raise RegistrationError(message, "unknown_country", field=field_name)
    return text


def _check_type(
    event: Event, type_id: int | None, current: RegistrationType | None
) -> RegistrationType:
    """The chosen type: the event's own and active (or the one the registration has)."""
    if current is not None and type_id == current.id:
        return current
    registration_type = db.session.get(RegistrationType, type_id) if type_id else None
    if (
        registration_type is None
        or registration_type.event_id != event.id
        or not registration_type.active
    ):
        raise RegistrationError(
            _l("Choose a registration type from the list."),
            "unknown_type",
            field="registration_type_id",
        )
    return registration_type


def clean_email(address: str | None, field_name: str = "email", *, required: object = None) -> str:
    """A required email address in its canonical lower-case form."""
    text = _clean(
        address,
        field_name,
        MAX_EMAIL_LENGTH,
        required=required or _l("Enter your email address."),
    )
    with _as_field(field_name):
        return normalise_email(text)


def _check_visa_details(event: Event, details: RegistrationDetails, today: date) -> dict[str, Any]:
    """Passport expiry, birth date and place for a visa letter (the number is checked apart)."""
    if details.passport_expiry is None:
        raise RegistrationError(
            _l("Enter the date your passport expires."), "required", field="passport_expiry"
        )
    check_date_in_range(details.passport_expiry, field="passport_expiry", error=RegistrationError)
    if details.passport_expiry <= event.ends_on:
        raise RegistrationError(
            _l(
                "The passport must be valid after the congress ends (%(day)s).",
                day=format_day(event.ends_on),
            ),
            "passport_expires_too_soon",
            field="passport_expiry",
        )
    if details.birth_date is None:
        raise RegistrationError(_l("Enter your date of birth."), "required", field="birth_date")
    if not EARLIEST_BIRTH_DATE <= details.birth_date < today:
        raise RegistrationError(
            _l(
                "Enter a date of birth between %(first)s and yesterday.",
                first=format_day(EARLIEST_BIRTH_DATE),
            ),
            "invalid_birth_date",
            field="birth_date",
        )
    return {
        "passport_expiry": details.passport_expiry,
        "birth_date": details.birth_date,
        "birth_place": _clean(
            details.birth_place,
            "birth_place",
            MAX_PLACE_LENGTH,
            required=_l("Enter your place of birth."),
        ),
    }


def _clean_passport_number(number: str | None) -> str | None:
    """A passport number as printed, without spaces, upper-cased; None when blank."""
    text = _clean(number, "passport_number", 40)
    if text is None:
        return None
    text = re.sub(r"[\s-]", "", text).upper()
    if not PASSPORT_NUMBER.match(text):
        raise RegistrationError(
            _l("Enter the passport number as printed: 4 to 20 letters and digits."),
            "invalid_passport_number",
            field="passport_number",
        )
    return text


def check_details(
    event: Event,
    details: RegistrationDetails,
    *,
    registration: Registration | None = None,
    today: date | None = None,
    consent_required: bool = True,
) -> _Checked:
    """Check and clean what a person entered; refuses the first broken rule, naming its field.

    consent_required=False when an organiser edits: the privacy consent is the delegate's own
    to give (a delegation member may not have completed their details yet).
    """
    today = today or event_today()
    registration_type = _check_type(
        event,
        details.registration_type_id,
        registration.registration_type if registration is not None else None,
    )
    given_name = _clean(
        details.given_name,
        "given_name",
        MAX_NAME_LENGTH,
        required=_l("Enter your given name."),
    )
    family_name = _clean(details.family_name, "family_name", MAX_NAME_LENGTH)
    full_name = " ".join(part for part in (given_name, family_name) if part)
    badge_name = _clean(details.badge_name, "badge_name", MAX_BADGE_NAME_LENGTH)
    values: dict[str, Any] = {
        "registration_type_id": registration_type.id,
        "title": _clean(details.title, "title", MAX_TITLE_LENGTH),
        "given_name": given_name,
        "family_name": family_name,
        "badge_name": badge_name or full_name[:MAX_BADGE_NAME_LENGTH].strip(),
        "nationality": _check_country(
            details.nationality, "nationality", _l("Choose your nationality from the list.")
        ),
        "residence_country": _check_country(
            details.residence_country,
            "residence_country",
            _l("Choose your country of residence from the list."),
        ),
    }
    partner = db.session.get(Partner, details.partner_id) if details.partner_id else None
    if details.partner_id and partner is None:
        raise RegistrationError(
            _l("Choose an organisation from the list, or type its name."),
            "unknown_partner",
            field="partner_id",
        )
    values["partner_id"] = partner.id if partner is not None else None
    organisation = _clean(details.organisation_name, "organisation_name", MAX_ORGANISATION_LENGTH)
    values["organisation_name"] = None if partner is not None else organisation
    values["position"] = _clean(details.position, "position", MAX_POSITION_LENGTH)
    values["email"] = clean_email(details.email)
    with _as_field("phone"):
        values["phone"] = clean_phone(details.phone)
    values["dietary_needs"] = _clean(
        details.dietary_needs, "dietary_needs", MAX_NEEDS_LENGTH, multiline=True
    )
    values["accessibility_needs"] = _clean(
        details.accessibility_needs, "accessibility_needs", MAX_NEEDS_LENGTH, multiline=True
    )
    values["emergency_contact_name"] = _clean(
        details.emergency_contact_name, "emergency_contact_name", MAX_CONTACT_NAME_LENGTH
    )
    with _as_field("emergency_contact_phone"):
        values["emergency_contact_phone"] = clean_phone(details.emergency_contact_phone)
    if details.language not in CONTENT_LANGUAGES:
        raise RegistrationError(
            _l("Choose Indonesian or English for your emails and documents."),
            "unknown_language",
            field="language",
        )
    values["language"] = details.language
    values["media_consent"] = bool(details.media_consent)
    if (
        consent_required
        and not details.privacy_consent
        and (registration is None or not registration.privacy_consent_at)
    ):
        raise RegistrationError(
            _l("Please accept the privacy notice: we cannot register you without it."),
            "privacy_consent_required",
            field="privacy_consent",
        )
    values["needs_visa_letter"] = bool(details.needs_visa_letter)
    passport_number = None
    if details.needs_visa_letter:
        passport_number = _clean_passport_number(details.passport_number)
        has_stored = registration is not None and registration.passport_number_encrypted
        if passport_number is None and not has_stored:
            raise RegistrationError(
                _l("Enter your passport number: the visa letter names it."),
                "required",
                field="passport_number",
            )
        values.update(_check_visa_details(event, details, today))
    else:
        # Passport data only where a letter needs it (data minimisation).
        values.update(passport_expiry=None, birth_date=None, birth_place=None)
    return _Checked(
        values=values,
        registration_type=registration_type,
        passport_number=passport_number,
        passport_given=passport_number is not None or not details.needs_visa_letter,
    )


def _encrypted_passport(number: str | None) -> str | None:
    """The passport number encrypted for storage (never stored in plain)."""
    return encrypt_passport(number) if number is not None else None


def _apply(registration: Registration, checked: _Checked) -> None:
    """Put checked values on the registration, the passport encrypted."""
    for name, value in checked.values.items():
        setattr(registration, name, value)
    registration.registration_type = checked.registration_type
    if checked.passport_given:
        registration.passport_number_encrypted = _encrypted_passport(checked.passport_number)


def _price(registration: Registration, today: date) -> None:
    """Snapshot the fee and currency the delegate pays (refused when the type has none)."""
    currency = currency_for(registration.nationality, registration.residence_country)
    fee = fee_for(registration.registration_type, currency, today)
    if fee is None:
        raise RegistrationError(
            _l(
                "This registration type has no fee in %(currency)s yet; please choose another "
                "type or write to the organisers.",
                currency=currency,
            ),
            "no_fee_in_currency",
            field="registration_type_id",
        )
    registration.currency = currency
    registration.fee_minor = fee


# --- accounts -------------------------------------------------------------------------------


def _delegate_account(email: str, name: str, language: str) -> User:
    """The delegate's account: created without a password, or the existing one linked."""
    user = find_user_by_email(email)
    if user is None:
        return create_user(
            email, name[:MAX_USER_NAME_LENGTH], roles=[Role.DELEGATE], language=language
        )
    grant_role(user, Role.DELEGATE)
    return user


# --- registering ----------------------------------------------------------------------------


def _check_window(event: Event, actor: User | None, today: date) -> None:
    """Refuse public registration outside the window (organisers may register anyone)."""
    if _is_organiser(actor) or is_open(event, today):
        return
    settings = settings_for(event)
    if settings is not None and today < settings.opens_on:
        message = _l("Registration opens on %(day)s.", day=format_day(settings.opens_on))
    else:
        message = _l("Registration for this congress is closed.")
    raise RegistrationError(message, "registration_closed")


def _admit(
    registration: Registration,
    registration_type: RegistrationType,
    *,
    actor: User | None,
    now: datetime,
    action: str,
) -> None:
    """Decide a new or completed registration's state and record it; the caller holds the
    type's lock (_lock_type) so that no other decision about its places interleaves."""
    status = _status_for_newcomer(registration_type, registration.fee_minor or 0, now)
    if status is RegistrationStatus.WAITLISTED:
        registration.waitlisted_at = now
    _move(
        registration,
        status,
        action,
        actor=actor,
        now=now,
        type=registration_type.code,
        fee=registration.fee_minor,
        currency=registration.currency,
    )


def register_delegate(
    event: Event,
    details: RegistrationDetails,
    *,
    actor: User | None = None,
    now: datetime | None = None,
    delegation: Delegation | None = None,
) -> tuple[Registration, bool]:
    """Register a person, or find their registration: (registration, whether it is new).

    A second submission with the same address for the same event returns the first
    registration, with no second row and no second email. With a delegation, the person
    registers as its head.
    """
    now = now or utc_now()
    today = event_today(now)
    _check_window(event, actor, today)
    checked = check_details(event, details, today=today)
    email = checked.values["email"]
    existing = registration_for_email(event, email)
    if existing is not None:
        return existing, False
    # Taken before writing: every decision about this type's places waits for this one.
    registration_type = _lock_type(checked.registration_type.id)
    registration = Registration(event=event, reference=_new_reference(), status="submitted")
    _apply(registration, checked)
    _price(registration, today)
    registration.privacy_consent_at = now
    try:
        # The unique (event, email) constraint has the last word on a double submission
        # racing this one; the savepoint keeps the caller's transaction usable.
        with db.session.begin_nested():
            registration.user = _delegate_account(
                email, registration.full_name, registration.language
            )
            db.session.add(registration)
            if delegation is not None:
                registration.delegation = delegation
                registration.is_delegation_head = True
            db.session.flush()
    except IntegrityError:
        existing = registration_for_email(event, email)
        if existing is None:
            raise
        return existing, False
    _admit(registration, registration_type, actor=actor, now=now, action="registered")
    db.session.flush()
    members = delegation.members if delegation is not None else []
    _send(
        registration,
        "mail/registration_received.txt",
        confirm_link=_confirmation_link(registration),
        members=[member for member in members if member.id != registration.id],
    )
    return registration, True


# --- email confirmation ---------------------------------------------------------------------


def _serializer(salt: str) -> URLSafeTimedSerializer:
    """Signs emailed links; the salt keeps one kind of link from passing for another."""
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=salt)


def email_confirmation_token(registration: Registration) -> str:
    """A signed token proving the registration's address received our email."""
    return _serializer("kongres-registration-email").dumps(
        {"r": registration.id, "e": registration.email}
    )


def _confirmation_link(registration: Registration) -> str:
    """The link that confirms the registration's address."""
    return email_link("registration.confirm_email", token=email_confirmation_token(registration))


def _registration_from_token(token: str, salt: str, max_age: int) -> Registration:
    """The registration a signed link was made for, while its address is unchanged."""
    try:
        payload = _serializer(salt).loads(token, max_age=max_age)
    except SignatureExpired as exc:
        raise RegistrationError(
            _l("This link has expired. Please ask the organisers for a new one."), "link_expired"
        ) from exc
    except BadSignature as exc:
        raise RegistrationError(_l("This link is not valid."), "link_invalid") from exc
    registration = (
        db.session.get(Registration, payload.get("r")) if isinstance(payload, dict) else None
    )
    if registration is None or registration.email != payload.get("e"):
        raise RegistrationError(_l("This link is not valid."), "link_invalid")
    return registration


def confirm_email(token: str, *, now: datetime | None = None) -> Registration:
    """Mark the address confirmed (again is harmless) and return the registration."""
    registration = _registration_from_token(
        token, "kongres-registration-email", EMAIL_CONFIRMATION_MAX_AGE
    )
    _lock_registration(registration)
    if registration.email_confirmed_at is None:
        now = now or utc_now()
        registration.email_confirmed_at = now
        record_history(registration, "email_confirmed", actor=registration.user, now=now)
        db.session.flush()
    return registration


# --- editing --------------------------------------------------------------------------------


def _snapshot(registration: Registration) -> dict[str, Any]:
    """The registration's editable fields as plain JSON values, for comparing."""
    values: dict[str, Any] = {}
    for name in (
        "registration_type_id", "title", "given_name", "family_name", "badge_name",
        "nationality", "residence_country", "partner_id", "organisation_name", "position",
        "email", "phone", "dietary_needs", "accessibility_needs", "emergency_contact_name",
        "emergency_contact_phone", "language", "needs_visa_letter", "passport_expiry",
        "birth_date", "birth_place", "media_consent", "currency", "fee_minor",
    ):  # fmt: skip
        value = getattr(registration, name)
        values[name] = value.isoformat() if isinstance(value, date) else value
    return values


def update_registration(
    registration: Registration,
    details: RegistrationDetails,
    *,
    actor: User | None,
    today: date | None = None,
) -> dict[str, list[Any]]:
    """Change a registration's details; delegates until the edit cut-off, organisers any time.

    A move to another type is admitted there like a newcomer (its waiting list when full,
    approval when it needs it). A change to what the current visa letter names revokes it.
    Returns the changes as {field: [old, new]} (passport and birth details only as "changed").
    """
    _check_own(registration, actor)
    today = today or event_today()
    organiser = _is_organiser(actor) or actor is None
    if not organiser:
        settings = settings_for(registration.event)
        if settings is not None and settings.edit_cutoff_on and today > settings.edit_cutoff_on:
            raise RegistrationError(
                _l(
                    "Details could be changed until %(day)s; please write to the organisers.",
                    day=format_day(settings.edit_cutoff_on),
                ),
                "edit_closed",
            )
        if registration.status in ENDED or registration.erased_at is not None:
            raise RegistrationError(
                _l("This registration can no longer be changed."), "registration_ended"
            )
        if details.registration_type_id != registration.registration_type_id:
            raise RegistrationError(
                _l("To change your registration type, please write to the organisers."),
                "type_change_by_organisers",
                field="registration_type_id",
            )
        if (details.email or "").strip().lower() != registration.email:
            # The address is the delegate's sign-in: a typo here would lock them out.
            raise RegistrationError(
                _l("To change your email address, please write to the organisers."),
                "email_change_by_organisers",
                field="email",
            )
    checked = check_details(
        registration.event,
        details,
        registration=registration,
        today=today,
        consent_required=not organiser,
    )
    new_email = checked.values["email"]
    if new_email != registration.email:
        clash = registration_for_email(registration.event, new_email)
        if clash is not None:
            raise RegistrationError(
                _l("Another registration for this congress already uses this email address."),
                "email_taken",
                field="email",
            )
    now = utc_now()
    old_type = registration.registration_type
    new_type = checked.registration_type
    has_room = _lock_for_type_change(registration, old_type, new_type, now)
    readmit = has_room is not None
    frees_old_place = readmit and _frees_place(registration, now)
    before = _snapshot(registration)
    from_status = registration.status
    old_passport = registration.passport_number_encrypted
    old_currency = registration.currency
    _apply(registration, checked)
    repriced = old_type.id != registration.registration_type_id or old_currency != currency_for(
        registration.nationality, registration.residence_country
    )
    if repriced and registration.status not in (RegistrationStatus.CONFIRMED.value, *ENDED):
        # Not yet paid: the fee follows a new type or currency (a paid one stays as paid; an
        # unchanged one keeps the early-bird amount it was registered at).
        _price(registration, today)
    changes = {
        key: [before.get(key), value]
        for key, value in _snapshot(registration).items()
        if before.get(key) != value
    }
    # Passport and birth details are personal data the history keeps only as "changed".
    changes.update(dict.fromkeys(CHANGED_ONLY_FIELDS & changes.keys(), "changed"))
    passport_changed = checked.passport_given and (
        checked.passport_number is not None or old_passport is not None
    )
    if passport_changed and checked.passport_number is not None and old_passport is not None:
        passport_changed = decrypt_passport(old_passport) != checked.passport_number
    if passport_changed:
        changes["passport_number"] = "changed"
    if not changes:
        return {}
    if readmit:
        _readmit(registration, has_room=bool(has_room), now=now)
    moved = registration.status != from_status
    if "email" in changes:
        registration.email_confirmed_at = None
        registration.user = _delegate_account(
            new_email, registration.full_name, registration.language
        )
    record_history(
        registration,
        "edited",
        actor=actor,
        from_status=from_status if moved else None,
        to_status=registration.status if moved else None,
        now=now,
        changes=changes,
    )
    letter = current_visa_letter(registration)
    if letter is not None and not _letter_is_current(letter, registration):
        # The letter names the old details: it is revoked and the registration is back in
        # the visa queue for a new one (the delegate is told, unless it has ended).
        withdraw_visa_letter(
            letter,
            "details_changed",
            actor=None,
            now=now,
            notify=registration.status not in ENDED,
        )
    db.session.flush()
    if "email" in changes:
        _send(
            registration,
            "mail/email_confirmation.txt",
            confirm_link=_confirmation_link(registration),
        )
    if moved:
        _send_status(registration)
    if frees_old_place:
        # Moving to another type frees a place in the old one.
        _fill_free_places(old_type, now)
    return changes


def _lock_for_type_change(
    registration: Registration,
    old_type: RegistrationType,
    new_type: RegistrationType,
    now: datetime,
) -> bool | None:
    """For a move to another type of a registration that holds or awaits a place: lock both
    types (in id order, like any two moves at once) and the registration, and say whether
    the new type has room for it; None when the move needs no new admission.

    A confirmed place is only moved into a type with room for it (it would not be right
    to put somebody who has paid on a waiting list).
    """
    if old_type.id == new_type.id or registration.status in (
        RegistrationStatus.SUBMITTED.value,
        *ENDED,
    ):
        return None
    for type_id in sorted((old_type.id, new_type.id)):
        _lock_type(type_id)
    _lock_registration(registration)
    if registration.status in (RegistrationStatus.SUBMITTED.value, *ENDED):
        return None
    # Decided before the move is written: the registration must not count in its new type.
    has_room = _has_room(new_type, now)
    if not has_room and registration.status == RegistrationStatus.CONFIRMED.value:
        raise RegistrationError(
            _l(
                "“%(type)s” has no free place for this confirmed registration. Raise its "
                "capacity first, or choose another type.",
                type=new_type.name,
            ),
            "type_full",
            field="registration_type_id",
        )
    return has_room


def _readmit(registration: Registration, *, has_room: bool, now: datetime) -> None:
    """Admit a registration moved to another type as that type admits newcomers: on its
    waiting list when full, else to approval, payment or confirmed (a confirmed place stays)."""
    if registration.status == RegistrationStatus.CONFIRMED.value:
        return
    # An offer was for a place of the old type.
    registration.offer_expires_at = None
    if has_room:
        registration.waitlisted_at = None
        registration.status = _admitted_status(registration).value
    else:
        registration.waitlisted_at = now
        registration.status = RegistrationStatus.WAITLISTED.value


def details_of(registration: Registration) -> RegistrationDetails:
    """A registration's details as the edit forms start from (the passport left blank)."""
    return RegistrationDetails(
        registration_type_id=registration.registration_type_id,
        title=registration.title,
        given_name=registration.given_name,
        family_name=registration.family_name,
        badge_name=registration.badge_name,
        nationality=registration.nationality,
        residence_country=registration.residence_country,
        partner_id=registration.partner_id,
        organisation_name=registration.organisation_name,
        position=registration.position,
        email=registration.email,
        phone=registration.phone,
        dietary_needs=registration.dietary_needs,
        accessibility_needs=registration.accessibility_needs,
        emergency_contact_name=registration.emergency_contact_name,
        emergency_contact_phone=registration.emergency_contact_phone,
        language=registration.language,
        needs_visa_letter=registration.needs_visa_letter,
        passport_expiry=registration.passport_expiry,
        birth_date=registration.birth_date,
        birth_place=registration.birth_place,
        privacy_consent=registration.privacy_consent_at is not None,
        media_consent=registration.media_consent,
    )


# --- visa letters: what other changes do to them --------------------------------------------


def current_visa_letter(registration: Registration) -> VisaLetter | None:
    """The registration's unrevoked visa letter, if it has one."""
    return db.session.scalar(
        select(VisaLetter)
        .where(VisaLetter.registration_id == registration.id, VisaLetter.revoked_at.is_(None))
        .order_by(VisaLetter.id.desc())
        .limit(1)
    )


def letter_holder(registration: Registration) -> dict[str, Any]:
    """What a letter issued now copies from the registration: VisaLetter's holder columns."""
    return {
        "holder_name": registration.full_name,
        "holder_nationality": registration.nationality,
        "holder_organisation": registration.organisation or None,
        "passport_number_encrypted": registration.passport_number_encrypted,
        "passport_expiry": registration.passport_expiry,
        "birth_date": registration.birth_date,
        "birth_place": registration.birth_place,
    }


def _plain_passport(token: str | None) -> str | None:
    """A stored passport token's number (tokens of one number differ: each has its own IV)."""
    return decrypt_passport(token) if token else None


def _letter_is_current(letter: VisaLetter, registration: Registration) -> bool:
    """Whether the letter still names what the registration now holds."""
    holder = letter_holder(registration)
    token = holder.pop("passport_number_encrypted")
    if any(getattr(letter, name) != value for name, value in holder.items()):
        return False
    return _plain_passport(letter.passport_number_encrypted) == _plain_passport(token)


def withdraw_visa_letter(
    letter: VisaLetter,
    reason: str,
    *,
    actor: User | None,
    now: datetime | None = None,
    notify: bool = True,
) -> VisaLetter:
    """Mark a letter revoked, record it and (notify) tell the delegate; a revoked letter stays
    as it is. No permission check: visa.revoke_visa_letter checks for organisers, and the
    rules here revoke on their own (reason: a code of VISA_REVOCATION_REASONS)."""
    if letter.is_revoked:
        return letter
    now = now or utc_now()
    letter.revoked_at = now
    letter.revoked_by_id = actor.id if actor else None
    letter.revocation_reason = reason
    registration = letter.registration
    record_history(registration, "visa_letter_revoked", actor=actor, now=now, number=letter.number)
    if notify:
        _send(registration, "mail/visa_letter_revoked.txt", letter=letter)
    db.session.flush()
    return letter


# --- state changes --------------------------------------------------------------------------


def _end_registration(
    registration: Registration,
    registration_type: RegistrationType,
    to_status: RegistrationStatus,
    action: str,
    *,
    actor: User | None,
    now: datetime,
    reason: str | None = None,
    change: str | None = None,
) -> None:
    """End a registration (cancelled, rejected, refunded) that the caller has locked with
    _lock_for_change and checked: its current visa letter is revoked, the delegate is told,
    and a place it held goes to the first on the waiting list."""
    frees = _frees_place(registration, now)
    if to_status is RegistrationStatus.REJECTED:
        registration.rejection_reason = reason
    _move(registration, to_status, action, actor=actor, now=now, reason=reason)
    letter = current_visa_letter(registration)
    if letter is not None:
        # Nobody may travel on a letter of a registration that has ended; the state email
        # already tells the delegate.
        withdraw_visa_letter(letter, "registration_ended", actor=None, now=now, notify=False)
    db.session.flush()
    _send_status(registration, reason=reason, change=change)
    if frees:
        _fill_free_places(registration_type, now)


def _frees_place(registration: Registration, now: datetime) -> bool:
    """Whether the registration holds a place its leaving gives back."""
    if registration.status in {status.value for status in PLACE_HOLDING}:
        return True
    expires = _aware(registration.offer_expires_at)
    return registration.status == RegistrationStatus.WAITLISTED.value and bool(
        expires and expires > now
    )


def cancel_registration(
    registration: Registration,
    *,
    actor: User | None,
    reason: str | None = None,
    now: datetime | None = None,
) -> None:
    """Cancel a registration; its place goes to the first on the waiting list."""
    _check_own(registration, actor)
    reason = _clean(reason, "reason", MAX_REASON_LENGTH, multiline=True)
    now = now or utc_now()
    registration_type = _lock_for_change(registration)
    if registration.status in ENDED:
        raise RegistrationError(
            _l("This registration is already cancelled or closed."), "already_ended"
        )
    _end_registration(
        registration,
        registration_type,
        RegistrationStatus.CANCELLED,
        "cancelled",
        actor=actor,
        now=now,
        reason=reason,
    )


def approve_registration(
    registration: Registration, *, actor: User | None, now: datetime | None = None
) -> None:
    """Approve a registration awaiting approval: on to payment, or confirmed when free;
    on the waiting list if the type has meanwhile become full."""
    check_may_manage(actor)
    registration_type = _lock_for_change(registration)
    if registration.status != RegistrationStatus.PENDING_APPROVAL.value:
        raise RegistrationError(
            _l("Only a registration awaiting approval can be approved."), "not_pending"
        )
    now = now or utc_now()
    capacity = registration_type.capacity
    # The pending registration already counts; others beyond capacity mean it shrank.
    if capacity is not None and places_taken(registration_type, now) > capacity:
        registration.waitlisted_at = now
        _move(registration, RegistrationStatus.WAITLISTED, "approved", actor=actor, now=now)
    else:
        target = (
            RegistrationStatus.CONFIRMED
            if not registration.fee_minor
            else RegistrationStatus.AWAITING_PAYMENT
        )
        _move(registration, target, "approved", actor=actor, now=now)
    db.session.flush()
    _send_status(registration)


def reject_registration(
    registration: Registration,
    reason: str | None,
    *,
    actor: User | None,
    now: datetime | None = None,
) -> None:
    """Refuse a registration, with the reason the delegate reads."""
    check_may_manage(actor)
    reason = _clean(
        reason,
        "reason",
        MAX_REASON_LENGTH,
        required=_l("Give the reason for the rejection: the delegate will read it."),
        multiline=True,
    )
    now = now or utc_now()
    registration_type = _lock_for_change(registration)
    if registration.status in ENDED or registration.status == RegistrationStatus.CONFIRMED.value:
        raise RegistrationError(
            _l("A confirmed or closed registration cannot be rejected; cancel it instead."),
            "cannot_reject",
        )
    _end_registration(
        registration,
        registration_type,
        RegistrationStatus.REJECTED,
        "rejected",
        actor=actor,
        now=now,
        reason=reason,
    )


def mark_paid(
    registration: Registration, *, actor: User | None = None, now: datetime | None = None
) -> bool:
    """The payments seam: the fee arrived, so the place is confirmed. Returns whether it
    changed anything (a repeated notice is harmless)."""
    _lock_registration(registration)
    if registration.status == RegistrationStatus.CONFIRMED.value:
        return False
    if registration.status != RegistrationStatus.AWAITING_PAYMENT.value:
        raise RegistrationError(
            _l("Only a registration awaiting payment can be marked as paid."),
            "not_awaiting_payment",
        )
    now = now or utc_now()
    _move(registration, RegistrationStatus.CONFIRMED, "paid", actor=actor, now=now)
    db.session.flush()
    _send_status(registration)
    return True


# --- waiting list ---------------------------------------------------------------------------


def _first_waiting(registration_type: RegistrationType) -> Registration | None:
    """The longest-waiting registration of the type without an offer."""
    return db.session.scalar(
        select(Registration)
        .where(
            Registration.registration_type_id == registration_type.id,
            Registration.status == RegistrationStatus.WAITLISTED.value,
            Registration.offer_expires_at.is_(None),
        )
        .order_by(Registration.waitlisted_at, Registration.id)
        .limit(1)
    )


def offer_next_place(registration_type: RegistrationType, now: datetime) -> Registration | None:
    """Offer a free place to the first on the waiting list, by email, for a limited time."""
    free = _free_places(registration_type, now)
    if free == 0:
        return None
    registration = _first_waiting(registration_type)
    if registration is None:
        return None
    hours = _offer_hours(registration_type.event)
    registration.offer_expires_at = now + timedelta(hours=hours)
    record_history(
        registration,
        "offer_made",
        actor=None,
        from_status=registration.status,
        to_status=registration.status,
        now=now,
        expires_at=registration.offer_expires_at.isoformat(),
    )
    db.session.flush()
    _send(registration, "mail/waitlist_offer.txt")
    return registration


def _fill_free_places(registration_type: RegistrationType, now: datetime) -> list[Registration]:
    """Offer every free place of the type to the waiting list, in order."""
    registration_type = _lock_type(registration_type.id)
    offered = []
    while (registration := offer_next_place(registration_type, now)) is not None:
        offered.append(registration)
    return offered


def expire_offers(now: datetime | None = None) -> int:
    """Close waiting-list offers whose time ran out and offer those places to the next.

    An expired offer ends the registration (cancelled, "offer expired"): sending it back to
    the end of the list would only repeat the offer to someone who did not answer.
    """
    now = now or utc_now()
    expired = list(
        db.session.scalars(
            select(Registration)
            .where(
                Registration.status == RegistrationStatus.WAITLISTED.value,
                Registration.offer_expires_at <= now,
            )
            .order_by(Registration.registration_type_id, Registration.id)
        )
    )
    types: dict[int, RegistrationType] = {}
    closed = 0
    for registration in expired:
        # In type order, as every other change locks (see _lock_for_change).
        registration_type = _lock_for_change(registration)
        types.setdefault(registration_type.id, registration_type)
        expires = _aware(registration.offer_expires_at)
        if registration.status != RegistrationStatus.WAITLISTED.value or not (
            expires and expires <= now
        ):
            continue  # accepted or cancelled while this run waited for its lock
        # The action names why: no English reason is stored for the pages to show.
        _end_registration(
            registration,
            registration_type,
            RegistrationStatus.CANCELLED,
            "offer_expired",
            actor=None,
            now=now,
            change="offer_expired",
        )
        closed += 1
    for registration_type in types.values():
        # The expired offers' places were no longer held: offer them to the next waiting.
        _fill_free_places(registration_type, now)
    return closed


def has_open_offer(registration: Registration, now: datetime | None = None) -> bool:
    """Whether the registration holds a waiting-list offer that has not expired."""
    expires = _aware(registration.offer_expires_at)
    return (
        registration.status == RegistrationStatus.WAITLISTED.value
        and expires is not None
        and expires > (now or utc_now())
    )


def accept_offer(
    registration: Registration, *, actor: User | None, now: datetime | None = None
) -> None:
    """Take up an offered place while the offer lasts: on to approval, payment or confirmed."""
    _check_own(registration, actor)
    now = now or utc_now()
    _lock_for_change(registration)
    if (
        registration.status != RegistrationStatus.WAITLISTED.value
        or not registration.offer_expires_at
    ):
        raise RegistrationError(_l("There is no place on offer for this registration."), "no_offer")
    if not has_open_offer(registration, now):
        raise RegistrationError(
            _l("This offer has expired and the place has gone to the next person waiting."),
            "offer_expired",
        )
    registration.waitlisted_at = None
    _move(registration, _admitted_status(registration), "offer_accepted", actor=actor, now=now)
    db.session.flush()
    _send_status(registration)


# --- emails on request ----------------------------------------------------------------------


def resend_email(registration: Registration, kind: str, *, actor: User | None) -> None:
    """Send a registration's confirmation link or state email again."""
    _check_own(registration, actor)
    if kind not in EMAIL_KINDS:
        raise RegistrationError(
            _l("Choose which email to send."), "unknown_email_kind", field="kind"
        )
    if kind == "confirmation":
        if registration.email_confirmed_at is not None:
            raise RegistrationError(
                _l("This email address is already confirmed."), "already_confirmed"
            )
        _send(
            registration,
            "mail/email_confirmation.txt",
            confirm_link=_confirmation_link(registration),
        )
    elif registration.status == RegistrationStatus.SUBMITTED.value:
        _send_member_invitation(registration)
    elif has_open_offer(registration):
        _send(registration, "mail/waitlist_offer.txt")
    else:
        _send_status(registration, reason=registration.rejection_reason)
    record_history(registration, "email_resent", actor=actor, kind=kind)
    db.session.flush()


def next_step(registration: Registration, now: datetime | None = None) -> str:
    """What the delegate should do next, as a stable code the pages translate."""
    status = registration.status
    if status == RegistrationStatus.SUBMITTED.value:
        return "complete_details"
    if status in ENDED:
        return "none"
    if has_open_offer(registration, now):
        return "accept_offer"
    if registration.email_confirmed_at is None:
        return "confirm_email"
    return {
        RegistrationStatus.PENDING_APPROVAL.value: "await_approval",
        RegistrationStatus.AWAITING_PAYMENT.value: "pay",
        RegistrationStatus.WAITLISTED.value: "wait",
    }.get(status, "none")


# --- delegations ----------------------------------------------------------------------------


def _check_members(
    event: Event, head_email: str, members: list[MemberInvite], *, new_only: bool = True
) -> list[tuple[str, str, str | None, RegistrationType]]:
    """The members checked: (email, given name, family name, type), all distinct and (with
    new_only) not registered yet."""
    if not members:
        raise RegistrationError(
            _l("Add at least one member to the delegation."), "no_members", field="members"
        )
    if len(members) > MAX_DELEGATION_MEMBERS:
        raise RegistrationError(
            _l("Register at most %(max)d members at once.", max=MAX_DELEGATION_MEMBERS),
            "too_many_members",
            field="members",
        )
    checked = []
    seen = {head_email}
    for member in members:
        email = clean_email(
            member.email, "members", required=_l("Enter each member's email address.")
        )
        if email in seen:
            raise RegistrationError(
                _l("%(email)s appears twice: each member needs their own address.", email=email),
                "duplicate_member",
                field="members",
            )
        seen.add(email)
        if new_only and registration_for_email(event, email) is not None:
            # Worded to say nothing about that person's registration or its state.
            raise RegistrationError(
                _l(
                    "%(email)s cannot be invited with this form. Please check the address, "
                    "or ask the organisers for help.",
                    email=email,
                ),
                "member_registered",
                field="members",
            )
        given = _clean(
            member.given_name,
            "members",
            MAX_NAME_LENGTH,
            required=_l("Enter each member's given name."),
        )
        family = _clean(member.family_name, "members", MAX_NAME_LENGTH)
        registration_type = _check_type(event, member.registration_type_id, None)
        checked.append((email, given, family, registration_type))
    return checked


def _existing_delegation(head: Registration, emails: set[str]) -> Delegation | None:
    """The delegation this head already registered with these members (a resubmission)."""
    delegation = head.delegation
    if delegation is None or not head.is_delegation_head:
        return None
    members = {member.email for member in delegation.members if member.id != head.id}
    return delegation if emails <= members else None


def register_delegation(
    event: Event,
    head: RegistrationDetails,
    members: list[MemberInvite],
    *,
    actor: User | None = None,
    now: datetime | None = None,
    name: str | None = None,
) -> Delegation | None:
    """A head of delegation registers themselves and invites members, who each get a link
    to complete and confirm their own details.

    An already registered head must be signed in as its owner (`actor`; organisers may act
    for anyone). For anybody else the answer is that of a fresh submission, but nothing
    changes and nobody is emailed (None is returned): the form must not let a stranger make
    someone a head of delegation, nor tell them whether that person is registered.
    """
    now = now or utc_now()
    today = event_today(now)
    _check_window(event, actor, today)
    checked_head = check_details(event, head, today=today)
    head_email = checked_head.values["email"]
    existing_head = registration_for_email(event, head_email)
    if existing_head is not None and not _acts_for(existing_head, actor):
        # The members' own mistakes are reported as for anyone (a repeated form too, so
        # that a double click is harmless).
        _check_members(event, head_email, members, new_only=False)
        return None
    if existing_head is not None:
        member_emails = {clean_email(member.email, "members") for member in members}
        delegation = _existing_delegation(existing_head, member_emails)
        if delegation is not None:
            return delegation
        if existing_head.delegation_id is not None:
            raise RegistrationError(
                _l("This address is already registered in a delegation."),
                "already_in_delegation",
                field="email",
            )
    checked_members = _check_members(event, head_email, members)
    country = checked_head.values["nationality"]
    delegation = Delegation(
        event_id=event.id,
        country=country,
        name=_clean(name, "delegation_name", MAX_DELEGATION_NAME_LENGTH)
        or _default_delegation_name(checked_head),
    )
    db.session.add(delegation)
    db.session.flush()
    for email, given, family, registration_type in checked_members:
        full_name = " ".join(part for part in (given, family) if part)
        language = checked_head.values["language"]
        member = Registration(
            event=event,
            reference=_new_reference(),
            status=RegistrationStatus.SUBMITTED.value,
            email=email,
            given_name=given,
            family_name=family,
            badge_name=full_name[:MAX_BADGE_NAME_LENGTH].strip(),
            # Placeholders until the member completes their own details.
            nationality=country,
            residence_country=country,
            language=language,
            registration_type=registration_type,
            # Looked up before the row joins the delegation (a query would flush it early).
            user=_delegate_account(email, full_name, language),
        )
        db.session.add(member)
        member.delegation = delegation
        db.session.flush()
        record_history(
            member,
            "invited",
            actor=actor,
            to_status=member.status,
            now=now,
            delegation=delegation.name,
        )
    if existing_head is not None:
        existing_head.delegation = delegation
        existing_head.is_delegation_head = True
        record_history(
            existing_head, "delegation_head", actor=actor, now=now, delegation=delegation.name
        )
        head_registration = existing_head
    else:
        head_registration, _created = register_delegate(
            event, head, actor=actor, now=now, delegation=delegation
        )
    db.session.flush()
    for member in delegation.members:
        if member.id != head_registration.id:
            _send_member_invitation(member, head=head_registration)
    return delegation


def _default_delegation_name(checked: _Checked) -> str | None:
    """A delegation's name when the head gives none: their organisation; else None, which
    reads "Delegation of <country>" in each reader's language (Delegation.name)."""
    partner_id = checked.values.get("partner_id")
    if partner_id:
        return db.session.get(Partner, partner_id).name[:MAX_DELEGATION_NAME_LENGTH]
    if checked.values.get("organisation_name"):
        return checked.values["organisation_name"][:MAX_DELEGATION_NAME_LENGTH]
    return None


def member_token(registration: Registration) -> str:
    """A signed token for a delegation member's completion link."""
    return _serializer("kongres-delegation-member").dumps(
        {"r": registration.id, "e": registration.email}
    )


def member_from_token(token: str) -> Registration:
    """The delegation member a completion link was made for."""
    return _registration_from_token(token, "kongres-delegation-member", MEMBER_LINK_MAX_AGE)


def _send_member_invitation(member: Registration, *, head: Registration | None = None) -> None:
    """Email a delegation member their link to complete their details."""
    if head is None and member.delegation is not None:
        head = next((m for m in member.delegation.members if m.is_delegation_head), None)
    _send(
        member,
        "mail/delegation_invitation.txt",
        head=head,
        delegation=member.delegation,
        complete_link=email_link("registration.complete_member", token=member_token(member)),
        days=MEMBER_LINK_MAX_AGE // 86400,
    )


def complete_member_registration(
    registration: Registration, details: RegistrationDetails, *, now: datetime | None = None
) -> Registration:
    """A delegation member completes their details and enters the normal flow; the link
    they followed confirmed their address."""
    _lock_for_change(registration)
    if registration.status != RegistrationStatus.SUBMITTED.value:
        raise RegistrationError(
            _l("These details have already been completed. Sign in to see your registration."),
            "already_completed",
        )
    now = now or utc_now()
    today = event_today(now)
    if not (details.email or "").strip():
        details = replace(details, email=registration.email)
    checked = check_details(registration.event, details, registration=registration, today=today)
    if checked.values["email"] != registration.email:
        raise RegistrationError(
            _l("Use the address the invitation was sent to: %(email)s.", email=registration.email),
            "email_differs",
            field="email",
        )
    _apply(registration, checked)
    _price(registration, today)
    registration.privacy_consent_at = now
    registration.email_confirmed_at = now
    db.session.flush()
    registration_type = _lock_type(registration.registration_type_id)
    _admit(registration, registration_type, actor=registration.user, now=now, action="completed")
    db.session.flush()
    _send(registration, "mail/registration_received.txt", confirm_link=None, members=[])
    return registration


def delegations_by_country(event: Event) -> list[DelegationSummary]:
    """The event's delegations with their heads and member counts, by country (3 queries)."""
    delegations = list(
        db.session.scalars(
            select(Delegation)
            .where(Delegation.event_id == event.id)
            .order_by(Delegation.country, Delegation.name, Delegation.id)
        )
    )
    ids = [delegation.id for delegation in delegations]
    if not ids:
        return []
    counts = dict(
        db.session.execute(
            select(Registration.delegation_id, func.count())
            .where(Registration.delegation_id.in_(ids))
            .group_by(Registration.delegation_id)
        ).all()
    )
    heads = {
        head.delegation_id: head
        for head in db.session.scalars(
            select(Registration).where(
                Registration.delegation_id.in_(ids), Registration.is_delegation_head.is_(True)
            )
        )
    }
    summaries = [
        DelegationSummary(delegation, heads.get(delegation.id), counts.get(delegation.id, 0))
        for delegation in delegations
    ]
    # By the country's name in the reader's language, as the organisers look it up.
    return sorted(summaries, key=lambda s: (country_name(s.country).casefold(), s.delegation.name))


# --- lists and counts -----------------------------------------------------------------------


def registration_query(
    event: Event,
    *,
    q: str | None = None,
    country: str | None = None,
    type_id: int | None = None,
    status: str | None = None,
    delegation_id: int | None = None,
) -> Select:
    """The event's registrations, searched and filtered, newest first, with their type,
    partner and delegation loaded (for the organisers' list and exports)."""
    statement = (
        select(Registration)
        .where(Registration.event_id == event.id)
        .options(
            joinedload(Registration.registration_type),
            joinedload(Registration.partner),
            joinedload(Registration.delegation),
        )
    )
    text = (q or "").strip()[:MAX_SEARCH_LENGTH].strip()
    if text:
        statement = statement.where(
            or_(
                Registration.given_name.icontains(text, autoescape=True),
                Registration.family_name.icontains(text, autoescape=True),
                Registration.badge_name.icontains(text, autoescape=True),
                Registration.email.icontains(text, autoescape=True),
                Registration.reference.icontains(text, autoescape=True),
                Registration.organisation_name.icontains(text, autoescape=True),
                Registration.partner.has(Partner.name.icontains(text, autoescape=True)),
            )
        )
    if country:
        statement = statement.where(Registration.nationality == country.strip().upper())
    if type_id is not None:
        statement = statement.where(Registration.registration_type_id == type_id)
    if status:
        valid = status in {member.value for member in RegistrationStatus}
        statement = statement.where(Registration.status == status if valid else false())
    if delegation_id is not None:
        statement = statement.where(Registration.delegation_id == delegation_id)
    return statement.order_by(Registration.created_at.desc(), Registration.id.desc())


def _active(event: Event) -> Any:
    """SQL condition: the event's registrations that still count (not cancelled or closed)."""
    return and_(
        Registration.event_id == event.id,
        Registration.status.not_in([status.value for status in ENDED]),
    )


def counts_by_country(event: Event) -> list[CountryCount]:
    """Active registrations per nationality, most first (one grouped query)."""
    rows = db.session.execute(
        select(Registration.nationality, func.count())
        .where(_active(event))
        .group_by(Registration.nationality)
        .order_by(func.count().desc(), Registration.nationality)
    )
    return [CountryCount(country, count) for country, count in rows]


def counts_by_type(event: Event) -> list[TypeCount]:
    """Active registrations per type, every type listed in display order (two queries)."""
    counts: Mapping[int, int] = dict(
        db.session.execute(
            select(Registration.registration_type_id, func.count())
            .where(_active(event))
            .group_by(Registration.registration_type_id)
        ).all()
    )
    return [
        TypeCount(registration_type, counts.get(registration_type.id, 0))
        for registration_type in registration_types(event, active_only=False)
    ]


# --- payments (issue 5): refunds (helper P4) ------------------------------------------------

# States a paid registration can be in when its fee goes back: a confirmed place, a place
# still shown as awaiting payment, or one the delegate or the organisers already ended.
REFUNDABLE_STATES = (
    RegistrationStatus.CONFIRMED,
    RegistrationStatus.AWAITING_PAYMENT,
    RegistrationStatus.CANCELLED,
    RegistrationStatus.REJECTED,
)


def mark_refunded(
    registration: Registration, *, actor: User | None = None, now: datetime | None = None
) -> bool:
    """The payments seam for refunds: the fee went back, so the registration ends as
    refunded and a place it held goes to the waiting list. Returns whether it changed
    anything (a repeated notice is harmless)."""
    # registration review fixes: locked and re-checked; ends like a cancellation (the
    # place, the visa letter) through _end_registration.
    registration_type = _lock_for_change(registration)
    if registration.status == RegistrationStatus.REFUNDED.value:
        return False
    if registration.status not in REFUNDABLE_STATES:
        raise RegistrationError(
            _l("Only a paid, cancelled or rejected registration can be marked as refunded."),
            "not_refundable",
        )
    now = now or utc_now()
    _end_registration(
        registration,
        registration_type,
        RegistrationStatus.REFUNDED,
        "refunded",
        actor=actor,
        now=now,
    )
    return True
