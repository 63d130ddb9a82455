"""Visa invitation letters: the organisers' queue, numbered letters with a verification code,
revocation, and the lookup behind the public verification page.

A letter is issued only to a registration the organisers have accepted: awaiting payment or
confirmed (a registration pending approval holds a place but has not been approved yet; a
waitlisted one holds none), with a confirmed email address and the passport details the
letter prints. A registration has at most one current (unrevoked) letter; revoking it puts
the registration back in the queue for a new letter with a new number.
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from app.auth.models import User
from app.events.models import Event
from app.extensions import db
from app.mail.services import send_email
from app.registration import services
from app.registration.models import Registration, RegistrationStatus, VisaLetter
from app.registration.pdf import LETTER_LANGUAGES, letter_pdf
from app.validation import clean_text

__all__ = [
    "ISSUABLE_STATES",
    "current_letter",
    "downloadable_letter",
    "find_letter_by_code",
    "issue_blocker",
    "issue_visa_letter",
    "issued_letters",
    "letter_pdf",
    "revoke_visa_letter",
    "visa_queue",
]

# States in which a letter can be issued (see the module's docstring).
ISSUABLE_STATES = (RegistrationStatus.AWAITING_PAYMENT, RegistrationStatus.CONFIRMED)
# Ended registrations leave the queue.
ENDED_STATES = (
    RegistrationStatus.CANCELLED,
    RegistrationStatus.REJECTED,
    RegistrationStatus.REFUNDED,
)
# Letters and digits nobody confuses when reading a code aloud or off paper (no 0/O, 1/I/L).
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 10
_CODE_PATTERN = re.compile(f"[{CODE_ALPHABET}]{{{CODE_LENGTH}}}")
_CODE_SEPARATORS = re.compile(r"[\s\-–.]")
REASON_MAX = 500
NUMBER_PREFIX_MAX = 24
# Each round of simultaneous issues lets at least one through, so this covers that many
# organisers pressing "issue" in the same instant.
ISSUE_ATTEMPTS = 20


def letter_number(event: Event, sequence: int) -> str:
    """A letter's printed number, e.g. WCPP2026/VISA/0001."""
    prefix = re.sub(r"[^A-Z0-9]", "", event.slug.upper())[:NUMBER_PREFIX_MAX]
    return f"{prefix}/VISA/{sequence:04d}"


def new_verification_code() -> str:
    """A random code of unambiguous capitals and digits (about 50 bits)."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(text: str | None) -> str:
    """A typed verification code in its stored form: capitals, no spaces or dashes."""
    return _CODE_SEPARATORS.sub("", (text or "").strip()).upper()


def is_well_formed_code(text: str | None) -> bool:
    """Whether typed text can be a verification code at all (checked before any lookup)."""
    return bool(_CODE_PATTERN.fullmatch(normalise_code(text)))


def _has_current_letter() -> Any:
    """SQL condition: the registration holds an unrevoked letter."""
    return exists().where(
        VisaLetter.registration_id == Registration.id, VisaLetter.revoked_at.is_(None)
    )


def visa_queue(event: Event) -> Select[tuple[Registration]]:
    """Registrations that asked for a letter, still running, without a current letter; oldest
    first, with what the queue page shows loaded in the same query."""
    return (
        select(Registration)
        .where(
            Registration.event_id == event.id,
            Registration.needs_visa_letter.is_(True),
            Registration.status.not_in([str(state) for state in ENDED_STATES]),
            Registration.erased_at.is_(None),
            ~_has_current_letter(),
        )
        .options(joinedload(Registration.registration_type), joinedload(Registration.partner))
        .order_by(Registration.created_at, Registration.id)
    )


def issued_letters(event: Event) -> Select[tuple[VisaLetter]]:
    """The event's letters, newest first, with their registrations."""
    return (
        select(VisaLetter)
        .where(VisaLetter.event_id == event.id)
        .options(joinedload(VisaLetter.registration))
        .order_by(VisaLetter.sequence.desc())
    )


def current_letter(registration: Registration) -> VisaLetter | None:
    """The registration's unrevoked letter, if it has one."""
    return services.current_visa_letter(registration)


def downloadable_letter(registration: Registration) -> VisaLetter | None:
    """The current letter while the registration runs: none for an ended or erased one (its
    letter was revoked when it ended; an older one left unrevoked is not handed out either)."""
    if registration.status in ENDED_STATES or registration.erased_at is not None:
        return None
    return current_letter(registration)


def find_letter_by_code(code: str | None) -> VisaLetter | None:
    """The letter with this verification code (as typed or scanned), or None."""
    if not is_well_formed_code(code):
        return None
    return db.session.scalar(
        select(VisaLetter)
        .where(VisaLetter.verification_code == normalise_code(code))
        .options(joinedload(VisaLetter.registration))
    )


def issue_blocker(registration: Registration) -> str | None:
    """Why no letter can be issued for this registration now, or None when one can."""
    if registration.erased_at is not None:
        return str(_l("This registration's personal data has been erased."))
    if not registration.needs_visa_letter:
        return str(_l("The delegate did not ask for a visa invitation letter."))
    if registration.status not in ISSUABLE_STATES:
        return str(
            _l(
                "A letter can be issued once the registration is accepted (awaiting payment "
                "or confirmed); it is now: %(status)s.",
                status=RegistrationStatus(registration.status).label,
            )
        )
    if registration.email_confirmed_at is None:
        return str(_l("The delegate has not confirmed their email address yet."))
    if not (
        registration.passport_number_encrypted
        and registration.birth_date
        and registration.birth_place
    ):
        return str(_l("The passport number, date and place of birth are needed for the letter."))
    return None


def issue_visa_letter(
    registration: Registration, *, actor: User | None, now: datetime | None = None
) -> VisaLetter:
    """Issue the registration's letter with the event's next number; a registration that
    already holds a current letter gets that one back (a double click issues nothing)."""
    services.check_may_manage(actor)
    # Two organisers issuing at once: the second waits, then finds the first one's letter.
    registration = services._lock_registration(registration)
    existing = current_letter(registration)
    if existing is not None:
        return existing
    blocker = issue_blocker(registration)
    if blocker:
        raise services.RegistrationError(blocker, "visa_letter_not_issuable")
    now = now or services.utc_now()
    language = registration.language if registration.language in LETTER_LANGUAGES else "en"
    for _attempt in range(ISSUE_ATTEMPTS):
        # Max + 1 inside the transaction; a simultaneous issue taking the same number makes the
        # unique constraint refuse this one, and the savepoint lets it try the next number.
        sequence = db.session.scalar(
            select(func.coalesce(func.max(VisaLetter.sequence), 0) + 1).where(
                VisaLetter.event_id == registration.event_id
            )
        )
        # By id, not relationship: the backref would add the letter outside the savepoint.
        letter = VisaLetter(
            event_id=registration.event_id,
            registration_id=registration.id,
            sequence=sequence,
            number=letter_number(registration.event, sequence),
            verification_code=new_verification_code(),
            language=language,
            issued_at=now,
            issued_by_id=actor.id if actor else None,
            # What the letter says, fixed at issue (a later change revokes it instead).
            **services.letter_holder(registration),
        )
        try:
            with db.session.begin_nested():
                db.session.add(letter)
        except IntegrityError:
            continue
        break
    else:
        raise services.RegistrationError(
            _l("Many letters are being issued right now. Please try again."), "visa_number_busy"
        )
    db.session.expire(registration, ["visa_letters"])
    services.record_history(
        registration, "visa_letter_issued", actor=actor, now=now, number=letter.number
    )
    send_email(
        registration.email,
        registration.language,
        "mail/visa_letter_issued.txt",
        registration=registration,
        letter=letter,
        link=services.email_link("registration.my_registration"),
    )
    db.session.flush()
    return letter


def revoke_visa_letter(
    letter: VisaLetter,
    reason: str | None,
    *,
    actor: User | None,
    now: datetime | None = None,
    notify: bool = True,
) -> VisaLetter:
    """Withdraw a letter with a reason: the verification page then says it was revoked.
    Revoking a revoked letter changes nothing."""
    services.check_may_manage(actor)
    reason = clean_text(
        reason,
        field="reason",
        max_length=REASON_MAX,
        required=_l("Give the reason for revoking the letter."),
        multiline=True,
        error=services.RegistrationError,
    )
    return services.withdraw_visa_letter(letter, reason, actor=actor, now=now, notify=notify)
