"""Delegates' personal data under Indonesia's Law 27/2022: passport numbers encrypted at rest
and shown masked (a full view by an organiser is logged), a delegate's export of everything
held about them, erasure on request, and the purge of passport data after the congress."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import insert, or_, select, update
from sqlalchemy.orm import load_only

from app.audit import services as audit
from app.auth.models import User
from app.events.models import Event
from app.extensions import db
from app.registration import services, visa
from app.registration.models import (
    PassportAccess,
    Registration,
    RegistrationHistory,
    RegistrationSettings,
    VisaLetter,
)
from app.registration.passports import (
    decrypt_passport,
    encrypt_passport,
    masked_passport,
    stored_passport_number,
)

__all__ = [
    "PASSPORT_ACCESS_PURPOSES",
    "decrypt_passport",
    "encrypt_passport",
    "erase_personal_data",
    "export_personal_data",
    "log_passport_access",
    "masked_passport",
    "purge_passport_data",
    "reveal_passport",
]

# Why an organiser saw a passport number in full (PassportAccess.purpose), in words.
PASSPORT_ACCESS_PURPOSES = {
    "organiser_view": _l("Registration page"),
    "visa_letter": _l("Visa invitation letter"),
}
# What an erased registration keeps in place of the name (the columns need a value).
ERASED_NAME = "[erased]"
ERASED_EMAIL_DOMAIN = "erased.invalid"  # RFC 2606: a domain that can never receive mail
DEFAULT_RETENTION_DAYS = RegistrationSettings.passport_retention_days.default.arg
# The passport and birth columns the purge empties (registrations and the copies on their
# visa letters have the same names).
PASSPORT_COLUMNS = ("passport_number_encrypted", "passport_expiry", "birth_date", "birth_place")


def _iso(value: date | datetime | None) -> str | None:
    """A date or moment for the JSON export."""
    return value.isoformat() if value is not None else None


# --- passport numbers in full ---------------------------------------------------------------


def log_passport_access(registration: Registration, *, viewer: User, purpose: str) -> None:
    """Record that a staff member saw this registration's passport number in full."""
    db.session.add(
        PassportAccess(
            registration_id=registration.id,
            user_id=viewer.id,
            purpose=purpose[: PassportAccess.__table__.c.purpose.type.length],
            at=services.utc_now(),
        )
    )
    audit.record(
        "registration.passport_viewed",
        actor=viewer,
        target=registration,
        details={"purpose": purpose},
    )
    db.session.flush()


def reveal_passport(registration: Registration, *, viewer: User, purpose: str) -> str:
    """The passport number in full for an organiser, each view logged; "" when none is held."""
    services.check_may_manage(viewer)
    number = stored_passport_number(registration)
    if number is None:
        return ""
    log_passport_access(registration, viewer=viewer, purpose=purpose)
    return number


# --- the delegate's own copy ----------------------------------------------------------------


def export_personal_data(
    registration: Registration, *, actor: User | None = None
) -> dict[str, Any]:
    """Everything Kongres holds about a delegate's registration, as JSON-ready values
    (the passport number in full: this is the delegate's own download)."""
    audit.record("registration.personal_data_exported", actor=actor, target=registration)
    event = registration.event
    user = registration.user
    delegation = registration.delegation
    return {
        "exported_at": _iso(services.utc_now()),
        "event": {
            "name": event.name.as_dict(),
            "starts_on": _iso(event.starts_on),
            "ends_on": _iso(event.ends_on),
        },
        "registration": {
            "reference": registration.reference,
            "status": registration.status,
            "type": registration.registration_type.name.as_dict(),
            "created_at": _iso(registration.created_at),
            "updated_at": _iso(registration.updated_at),
            "email_confirmed_at": _iso(registration.email_confirmed_at),
            "waitlisted_at": _iso(registration.waitlisted_at),
            "offer_expires_at": _iso(registration.offer_expires_at),
            "rejection_reason": registration.rejection_reason,
            "currency": registration.currency,
            "fee_minor": registration.fee_minor,
            "erased_at": _iso(registration.erased_at),
        },
        "person": {
            "title": registration.title,
            "given_name": registration.given_name,
            "family_name": registration.family_name,
            "badge_name": registration.badge_name,
            "nationality": registration.nationality,
            "residence_country": registration.residence_country,
            "organisation": registration.organisation or None,
            "position": registration.position,
            "email": registration.email,
            "phone": registration.phone,
            "language": registration.language,
            "dietary_needs": registration.dietary_needs,
            "accessibility_needs": registration.accessibility_needs,
            "emergency_contact_name": registration.emergency_contact_name,
            "emergency_contact_phone": registration.emergency_contact_phone,
        },
        "visa": {
            "needs_visa_letter": registration.needs_visa_letter,
            "passport_number": stored_passport_number(registration),
            "passport_expiry": _iso(registration.passport_expiry),
            "birth_date": _iso(registration.birth_date),
            "birth_place": registration.birth_place,
            "letters": [
                {
                    "number": letter.number,
                    "language": letter.language,
                    "issued_at": _iso(letter.issued_at),
                    "revoked_at": _iso(letter.revoked_at),
                }
                for letter in registration.visa_letters
            ],
        },
        "consents": {
            "privacy_consent_at": _iso(registration.privacy_consent_at),
            "media_consent": registration.media_consent,
        },
        "delegation": (
            {
                "name": delegation.name,
                "country": delegation.country,
                "head": registration.is_delegation_head,
            }
            if delegation
            else None
        ),
        "account": (
            {
                "email": user.email,
                "name": user.name,
                "language": user.language,
                "created_at": _iso(user.created_at),
                "last_login_at": _iso(user.last_login_at),
            }
            if user
            else None
        ),
        "history": [
            {
                "at": _iso(entry.at),
                "action": entry.action,
                "from_status": entry.from_status,
                "to_status": entry.to_status,
                "details": entry.details or {},
            }
            for entry in reversed(registration.history)
        ],
        "passport_views": [
            {"at": _iso(access.at), "purpose": access.purpose}
            for access in db.session.scalars(
                select(PassportAccess)
                .where(PassportAccess.registration_id == registration.id)
                .order_by(PassportAccess.at, PassportAccess.id)
            )
        ],
    }


# --- erasure --------------------------------------------------------------------------------


def _check_may_erase(registration: Registration, actor: User | None) -> None:
    """Only the delegate themself, an organiser or the system may erase a registration."""
    if actor is None or actor.id == registration.user_id:
        return
    services.check_may_manage(actor)


def _erase_account(user: User, registration: Registration) -> None:
    """Anonymise and deactivate a delegate-only account that has no other live registration;
    a staff account only loses the link (it is somebody's work account)."""
    if user.is_staff:
        return
    others = db.session.scalar(
        select(Registration.id)
        .where(
            Registration.user_id == user.id,
            Registration.id != registration.id,
            Registration.erased_at.is_(None),
        )
        .limit(1)
    )
    if others is not None:
        return
    user.email = f"erased-user-{user.id}@{ERASED_EMAIL_DOMAIN}"
    user.name = ERASED_NAME
    user.password_hash = None
    user.active = False


def erase_personal_data(
    registration: Registration, *, actor: User | None, now: datetime | None = None
) -> None:
    """Erase a delegate's personal data on request: names, contact details, passport, birth,
    needs and emergency contact are anonymised; type, nationality, residence, organisation,
    state and dates stay for the statistics. A running registration is cancelled first so that
    its place goes to the waiting list, and a current visa letter is revoked. Erasing twice
    changes nothing."""
    _check_may_erase(registration, actor)
    if registration.erased_at is not None:
        return
    now = now or services.utc_now()
    if registration.status not in services.ENDED:
        services.cancel_registration(registration, actor=actor, now=now)
    letter = visa.current_letter(registration)
    if letter is not None:
        visa.revoke_visa_letter(
            letter,
            str(_l("Personal data erased at the delegate's request.")),
            actor=None,  # a consequence of the erasure, done by Kongres itself
            now=now,
            notify=False,
        )
    # Earlier history may quote old values of the erased fields (edits list them).
    for entry in registration.history:
        entry.details = {}
    # The letters' copies of the holder's details go too (a revoked letter is kept as a
    # numbered record, naming nobody).
    for letter in registration.visa_letters:
        letter.holder_name = ERASED_NAME
        letter.holder_organisation = None
        for column in PASSPORT_COLUMNS:
            setattr(letter, column, None)
    registration.title = None
    registration.given_name = ERASED_NAME
    registration.family_name = None
    registration.badge_name = ERASED_NAME
    registration.email = f"erased-{registration.reference.lower()}@{ERASED_EMAIL_DOMAIN}"
    registration.phone = None
    registration.position = None
    registration.dietary_needs = None
    registration.accessibility_needs = None
    registration.emergency_contact_name = None
    registration.emergency_contact_phone = None
    for column in PASSPORT_COLUMNS:
        setattr(registration, column, None)
    registration.media_consent = False
    registration.erased_at = now
    user = registration.user
    registration.user_id = None
    if user is not None:
        _erase_account(user, registration)
    services.record_history(registration, "personal_data_erased", actor=actor, now=now)
    db.session.flush()


# --- purge after the congress ---------------------------------------------------------------


def _or_default(retention_days: int | None) -> int:
    """An event's retention period, the settings' default when none is set."""
    return DEFAULT_RETENTION_DAYS if retention_days is None else retention_days


def _holding_passport_data(model: Any, event_ids: list[int], column: Any = None) -> list[int]:
    """Ids (or `column`) of the events' registrations or letters that still hold passport data."""
    holding = or_(*(getattr(model, name).is_not(None) for name in PASSPORT_COLUMNS))
    return list(
        db.session.scalars(
            select(column if column is not None else model.id).where(
                model.event_id.in_(event_ids), holding
            )
        )
    )


def _scrub_history(event_ids: list[int]) -> None:
    """Earlier edits' history kept old and new passport and birth values: only "changed"
    stays (what edits record now). Entries already scrubbed are left alone."""
    entries = db.session.scalars(
        select(RegistrationHistory)
        .join(Registration, Registration.id == RegistrationHistory.registration_id)
        .where(Registration.event_id.in_(event_ids), RegistrationHistory.action == "edited")
        .options(load_only(RegistrationHistory.id, RegistrationHistory.details))
    )
    for entry in entries:
        changes = (entry.details or {}).get("changes") or {}
        quoted = services.CHANGED_ONLY_FIELDS & changes.keys()
        if any(changes[name] != "changed" for name in quoted):
            # A new dict, so that the JSON column sees the change.
            entry.details = {
                **entry.details,
                "changes": {**changes, **dict.fromkeys(quoted, "changed")},
            }


def purge_passport_data(today: date) -> int:
    """Remove passport numbers, expiry and birth data from every registration of events that
    ended at least their retention period (settings.passport_retention_days) before today,
    from their visa letters' copies and from their history. Returns how many registrations
    lost data; a second run finds none."""
    rows = db.session.execute(
        select(Event.id, Event.ends_on, RegistrationSettings.passport_retention_days).outerjoin(
            RegistrationSettings, RegistrationSettings.event_id == Event.id
        )
    ).all()
    event_ids = [
        event_id
        for event_id, ends_on, retention_days in rows
        if today >= ends_on + timedelta(days=_or_default(retention_days))
    ]
    if not event_ids:
        return 0
    # Also where the registration no longer holds the data (a visa letter no longer needed).
    _scrub_history(event_ids)
    registration_ids = sorted(
        set(_holding_passport_data(Registration, event_ids))
        | set(_holding_passport_data(VisaLetter, event_ids, VisaLetter.registration_id))
    )
    if not registration_ids:
        return 0
    for model, owner in ((Registration, Registration.id), (VisaLetter, VisaLetter.registration_id)):
        db.session.execute(
            update(model).where(owner.in_(registration_ids)).values(dict.fromkeys(PASSPORT_COLUMNS))
        )
    now = services.utc_now()
    db.session.execute(
        insert(RegistrationHistory),
        [
            {
                "registration_id": registration_id,
                "at": now,
                "action": "passport_data_purged",
                "details": {},
            }
            for registration_id in registration_ids
        ],
    )
    db.session.flush()
    return len(registration_ids)
