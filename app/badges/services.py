"""Badge rules: the event's signing key, issuing, reissuing and revoking badges, their tokens,
what a badge shows (its holder), and verifying a scanned token.

Functions take model objects and an explicit `actor`; they add and flush, the caller commits.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, case, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import contains_eager, joinedload

from app.auth.models import Role, User
from app.badges.models import Badge, BadgeRole, BadgeSigningKey
from app.badges.tokens import InvalidToken, TokenHeader, decode_token, encode_token, read_header
from app.crypto import decrypt_secret, encrypt_secret
from app.errors import DomainError
from app.events.models import Event
from app.extensions import db
from app.i18n.formatting import country_name
from app.partners.models import Partner
from app.registration.models import Registration, RegistrationStatus, RegistrationType
from app.registration.services import record_history

__all__ = [
    "BADGE_STATES",
    "NUMBER_ALPHABET",
    "VERIFY_REASONS",
    "BadgeCounts",
    "BadgeError",
    "BadgeFilters",
    "BadgeHolder",
    "badge_counts",
    "badge_for_registration",
    "badge_list_query",
    "badge_token",
    "badge_tokens",
    "badges_by_registration",
    "holder",
    "holders",
    "issue_badge",
    "issue_missing_badges",
    "load_badges",
    "printable_badges",
    "public_keys",
    "reissue_badge",
    "restore_badge",
    "revoke_badge",
    "role_for",
    "signing_key",
    "valid_day_mask",
    "verify_token",
]

# Badge numbers are typed by gate staff from a damaged badge: no 0/O or 1/I.
NUMBER_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
NUMBER_HALF = 4
# Registration type codes that give their badges a role other than delegate.
ROLE_CODES = {role.value: role for role in BadgeRole if role is not BadgeRole.DELEGATE}
# The token's day mask has eight bits: days beyond the eighth are not encoded (valid on none).
MASK_DAYS = 8
# Round after round of number clashes is astronomically unlikely (32^8 numbers); this bounds it.
ISSUE_ATTEMPTS = 10
ORGANISER_ROLES = (Role.ORGANISER, Role.ADMIN)
# Why verify_token refused a token, for the check-in answer.
VERIFY_REASONS = (
    "malformed",
    "bad_signature",
    "unknown_key",
    "wrong_event",
    "unknown_badge",
    "old_version",
    "badge_revoked",
)


class BadgeError(DomainError):
    """A badge rule refused the action."""


@dataclass(frozen=True)
class BadgeHolder:
    """What a badge shows about its holder: for scanners, lists and the PDF."""

    badge_id: int
    number: str
    version: int
    name: str
    country: str
    country_name: str
    category: str
    organisation: str
    role: BadgeRole


def _now() -> datetime:
    """The current moment in UTC."""
    return datetime.now(UTC)


def _check_organiser(actor: User | None) -> None:
    """Refuse an organisers' action to anyone else (None is the system itself)."""
    if actor is not None and not actor.has_role(*ORGANISER_ROLES):
        raise BadgeError(_l("Only the organisers can do this."), "organisers_only")


# --- the event's key ------------------------------------------------------------------------


def _encode_public(key: Ed25519PublicKey) -> str:
    """A public key as URL-safe base64 of its 32 raw bytes, without padding."""
    raw = key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _decode_public(text: str) -> Ed25519PublicKey:
    """The public key stored as URL-safe base64 without padding."""
    return Ed25519PublicKey.from_public_bytes(
        base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    )


def _key_id(key: BadgeSigningKey) -> int:
    """The byte a token carries to name its key."""
    return key.id % 256


def _active_keys(event: Event) -> list[BadgeSigningKey]:
    """The event's keys that still verify tokens, oldest first."""
    return list(
        db.session.scalars(
            select(BadgeSigningKey)
            .where(BadgeSigningKey.event_id == event.id, BadgeSigningKey.retired_at.is_(None))
            .order_by(BadgeSigningKey.id)
        )
    )


def signing_key(event: Event) -> BadgeSigningKey:
    """The key that signs the event's badges, made on first use."""
    keys = _active_keys(event)
    if keys:
        return keys[-1]
    # Two first uses at once: the event row lock makes the second wait and find the first's key
    # (SQLite writes one at a time anyway).
    db.session.execute(select(Event.id).where(Event.id == event.id).with_for_update())
    keys = _active_keys(event)
    if keys:
        return keys[-1]
    private = Ed25519PrivateKey.generate()
    raw = private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    key = BadgeSigningKey(
        event_id=event.id,
        private_key_encrypted=encrypt_secret(raw),
        public_key=_encode_public(private.public_key()),
    )
    db.session.add(key)
    db.session.flush()
    return key


def _private_key(key: BadgeSigningKey) -> Ed25519PrivateKey:
    """The usable private half of a stored key."""
    return Ed25519PrivateKey.from_private_bytes(decrypt_secret(key.private_key_encrypted))


def public_keys(event: Event) -> list[dict]:
    """The keys scanners verify the event's tokens with: [{"key_id", "public_key"}]."""
    return [{"key_id": _key_id(key), "public_key": key.public_key} for key in _active_keys(event)]


# --- issuing --------------------------------------------------------------------------------


def role_for(registration: Registration) -> BadgeRole:
    """The role a registration's type gives its badge (speaker, press, staff; else delegate)."""
    code = (registration.registration_type.code or "").strip().lower()
    return ROLE_CODES.get(code, BadgeRole.DELEGATE)


def _new_number() -> str:
    """A random badge number such as "K7QM-2XHP"."""
    chars = "".join(secrets.choice(NUMBER_ALPHABET) for _ in range(2 * NUMBER_HALF))
    return f"{chars[:NUMBER_HALF]}-{chars[NUMBER_HALF:]}"


def badge_for_registration(registration: Registration) -> Badge | None:
    """The registration's badge, if one was issued."""
    return db.session.scalar(select(Badge).where(Badge.registration_id == registration.id))


def _new_badge(registration: Registration) -> Badge:
    """A first badge for a confirmed registration, valid on every day of the event."""
    event = registration.event
    return Badge(
        event_id=registration.event_id,
        registration=registration,
        number=_new_number(),
        version=1,
        role=role_for(registration).value,
        valid_from=event.starts_on,
        valid_to=event.ends_on,
        issued_at=_now(),
    )


def issue_badge(registration: Registration, *, actor: User | None) -> Badge:
    """The registration's badge, issued now if it has none (confirmed registrations only)."""
    if actor is not None and actor.id != registration.user_id:
        _check_organiser(actor)
    existing = badge_for_registration(registration)
    if existing is not None:
        return existing
    if registration.status != RegistrationStatus.CONFIRMED:
        raise BadgeError(
            _l("A badge is issued only once the registration is confirmed."), "not_confirmed"
        )
    for _attempt in range(ISSUE_ATTEMPTS):
        badge = _new_badge(registration)
        try:
            # A savepoint: a clash (the same number, or the same registration issued by a
            # simultaneous request) must not undo the caller's other work.
            with db.session.begin_nested():
                db.session.add(badge)
        except IntegrityError:
            existing = badge_for_registration(registration)
            if existing is not None:
                return existing
            continue
        return badge
    raise BadgeError(_l("The badge could not be issued. Please try again."), "issue_failed")


def _issue_all(registrations: Sequence[Registration]) -> list[Badge]:
    """First badges for confirmed registrations without one, in one flush; after a clash (a
    number, or a badge issued meanwhile) one at a time."""
    if not registrations:
        return []
    try:
        with db.session.begin_nested():
            badges = [_new_badge(registration) for registration in registrations]
            db.session.add_all(badges)
    except IntegrityError:
        return [issue_badge(registration, actor=None) for registration in registrations]
    return badges


def issue_missing_badges(event: Event, *, actor: User | None) -> int:
    """Issue a badge to every confirmed registration of the event without one; how many."""
    _check_organiser(actor)
    registrations = db.session.scalars(
        select(Registration)
        .where(
            Registration.event_id == event.id,
            Registration.status == RegistrationStatus.CONFIRMED.value,
            ~select(Badge.id).where(Badge.registration_id == Registration.id).exists(),
        )
        .options(joinedload(Registration.registration_type), joinedload(Registration.event))
        .order_by(Registration.id)
    ).all()
    return len(_issue_all(registrations))


def reissue_badge(badge: Badge, *, actor: User | None) -> Badge:
    """A new version of a (lost) badge: every token of the older versions is revoked."""
    _check_organiser(actor)
    if badge.version >= 0xFFFF:
        raise BadgeError(_l("This badge cannot be reissued again."), "too_many_versions")
    badge.version += 1
    badge.reissued_at = _now()
    # The holder may have changed type since: the new token carries today's role.
    badge.role = role_for(badge.registration).value
    record_history(badge.registration, "badge_reissued", actor=actor, version=badge.version)
    db.session.flush()
    return badge


def revoke_badge(badge: Badge, *, actor: User | None) -> None:
    """Withdraw the whole badge: no version opens doors until it is restored."""
    _check_organiser(actor)
    if badge.revoked_at is None:
        badge.revoked_at = _now()
        record_history(badge.registration, "badge_revoked", actor=actor)
        db.session.flush()


def restore_badge(badge: Badge, *, actor: User | None) -> None:
    """Give a revoked badge back its current version."""
    _check_organiser(actor)
    if badge.revoked_at is not None:
        badge.revoked_at = None
        record_history(badge.registration, "badge_restored", actor=actor)
        db.session.flush()


# --- tokens ---------------------------------------------------------------------------------


def valid_day_mask(badge: Badge, event: Event) -> int:
    """Bit i set when the badge is valid on the day event.starts_on + i (i = 0..7)."""
    mask = 0
    for offset in range(MASK_DAYS):
        day = event.starts_on.toordinal() + offset
        if badge.valid_from.toordinal() <= day <= badge.valid_to.toordinal():
            mask |= 1 << offset
    return mask


def _header(badge: Badge, key: BadgeSigningKey) -> TokenHeader:
    """What the badge's current token says."""
    return TokenHeader(
        event_id=badge.event_id,
        badge_id=badge.id,
        version=badge.version,
        role=BadgeRole(badge.role),
        category=badge.registration.registration_type_id,
        valid_day_mask=valid_day_mask(badge, badge.event),
        key_id=_key_id(key),
    )


def badge_token(badge: Badge, *, key: BadgeSigningKey | None = None) -> str:
    """The badge's current token, as its QR carries it (the same text every time)."""
    key = key or signing_key(badge.event)
    return encode_token(_header(badge, key), _private_key(key))


def badge_tokens(badges: Sequence[Badge]) -> dict[int, str]:
    """Tokens for many badges of one event, decrypting the key once."""
    if not badges:
        return {}
    key = signing_key(badges[0].event)
    private = _private_key(key)
    return {badge.id: encode_token(_header(badge, key), private) for badge in badges}


def verify_token(event: Event, token: str) -> tuple[Badge | None, TokenHeader | None, str | None]:
    """(badge, header, None) for a token that admits its badge; otherwise the reason it does
    not, with whatever could be read: one of VERIFY_REASONS."""
    try:
        header = read_header(token)
    except InvalidToken as error:
        return None, None, error.reason
    if header.event_id != event.id:
        return None, header, "wrong_event"
    keys = {_key_id(key): _decode_public(key.public_key) for key in _active_keys(event)}
    try:
        decode_token(token, keys)
    except InvalidToken as error:
        return None, header, error.reason
    badge = db.session.get(Badge, header.badge_id)
    if badge is None or badge.event_id != event.id:
        return None, header, "unknown_badge"
    if header.version != badge.version:
        return badge, header, "old_version" if header.version < badge.version else "unknown_badge"
    if badge.revoked_at is not None:
        return badge, header, "badge_revoked"
    return badge, header, None


# --- what a badge shows ---------------------------------------------------------------------


def _holder_of(badge: Badge) -> BadgeHolder:
    """The holder of a badge whose registration, type and partner are loaded."""
    registration = badge.registration
    country = registration.nationality
    return BadgeHolder(
        badge_id=badge.id,
        number=badge.number,
        version=badge.version,
        name=registration.badge_name,
        country=country,
        country_name=country_name(country),
        category=registration.registration_type.name.get(),
        organisation=registration.organisation,
        role=BadgeRole(badge.role),
    )


def _with_holder_data(statement):
    """A badge query that loads what BadgeHolder needs in the same query."""
    return statement.options(
        joinedload(Badge.registration).joinedload(Registration.registration_type),
        joinedload(Badge.registration).joinedload(Registration.partner),
    )


def holder(badge: Badge) -> BadgeHolder:
    """What the badge shows about its holder."""
    return _holder_of(badge)


def holders(event: Event) -> list[BadgeHolder]:
    """Every badge of the event with its holder, by name (one query)."""
    badges = db.session.scalars(
        _with_holder_data(select(Badge).where(Badge.event_id == event.id)).order_by(Badge.id)
    ).all()
    return sorted(
        (_holder_of(badge) for badge in badges),
        key=lambda item: (item.name.casefold(), item.badge_id),
    )


def load_badges(badge_ids: Iterable[int]) -> list[Badge]:
    """Badges by id with their holder data and event loaded, in the order given."""
    ids = list(badge_ids)
    if not ids:
        return []
    found = {
        badge.id: badge
        for badge in db.session.scalars(
            _with_holder_data(select(Badge).where(Badge.id.in_(ids))).options(
                joinedload(Badge.event)
            )
        ).unique()
    }
    return [found[badge_id] for badge_id in ids if badge_id in found]


# --- the organisers' list -------------------------------------------------------------------

# The list's "badge" filter: issued (and valid), not issued yet, revoked.
BADGE_STATES = ("issued", "missing", "revoked")
MAX_SEARCH_LENGTH = 200


@dataclass(frozen=True)
class BadgeFilters:
    """The organisers' filters of the badge list (and of a print run); None: any."""

    q: str | None = None
    type_id: int | None = None
    country: str | None = None
    role: str | None = None
    badge: str | None = None

    def as_params(self) -> dict:
        """The filters as plain JSON values (a job's parameters), the empty ones left out."""
        return {key: value for key, value in self.__dict__.items() if value not in (None, "")}


def _role_expression():
    """SQL: the role a registration's badge has, or will have when issued."""
    code = func.lower(RegistrationType.code)
    return func.coalesce(
        Badge.role,
        case((code.in_(list(ROLE_CODES)), code), else_=BadgeRole.DELEGATE.value),
    )


def badge_list_query(event: Event, filters: BadgeFilters | None = None) -> Select:
    """Confirmed registrations and every registration holding a badge, filtered, by name, with
    their type and partner loaded (their badges: badges_by_registration)."""
    filters = filters or BadgeFilters()
    statement = (
        select(Registration)
        .join(Registration.registration_type)
        .outerjoin(Badge, Badge.registration_id == Registration.id)
        .where(
            Registration.event_id == event.id,
            or_(
                Registration.status == RegistrationStatus.CONFIRMED.value,
                Badge.id.is_not(None),
            ),
        )
        .options(contains_eager(Registration.registration_type), joinedload(Registration.partner))
    )
    text = (filters.q or "").strip()[:MAX_SEARCH_LENGTH].strip()
    if text:
        statement = statement.where(
            or_(
                Registration.badge_name.icontains(text, autoescape=True),
                Registration.given_name.icontains(text, autoescape=True),
                Registration.family_name.icontains(text, autoescape=True),
                Registration.reference.icontains(text, autoescape=True),
                Registration.organisation_name.icontains(text, autoescape=True),
                Registration.partner.has(Partner.name.icontains(text, autoescape=True)),
                Badge.number.icontains(text.upper(), autoescape=True),
            )
        )
    if filters.type_id is not None:
        statement = statement.where(Registration.registration_type_id == filters.type_id)
    if filters.country:
        statement = statement.where(Registration.nationality == filters.country.strip().upper())
    if filters.role:
        statement = statement.where(_role_expression() == filters.role)
    if filters.badge == "issued":
        statement = statement.where(Badge.id.is_not(None), Badge.revoked_at.is_(None))
    elif filters.badge == "missing":
        statement = statement.where(Badge.id.is_(None))
    elif filters.badge == "revoked":
        statement = statement.where(Badge.revoked_at.is_not(None))
    return statement.order_by(func.lower(Registration.badge_name), Registration.id)


def badges_by_registration(registrations: Iterable[Registration]) -> dict[int, Badge]:
    """The badges of these registrations, by registration id (one query)."""
    ids = [registration.id for registration in registrations]
    if not ids:
        return {}
    return {
        badge.registration_id: badge
        for badge in db.session.scalars(select(Badge).where(Badge.registration_id.in_(ids)))
    }


def printable_badges(event: Event, filters: BadgeFilters | None = None) -> list[Badge]:
    """Badges to print for the filtered confirmed registrations, issuing the missing ones
    first; revoked badges are left out. Loaded for the PDF, by name."""
    registrations = (
        db.session.scalars(
            badge_list_query(event, filters).where(
                Registration.status == RegistrationStatus.CONFIRMED.value
            )
        )
        .unique()
        .all()
    )
    existing = badges_by_registration(registrations)
    missing = [registration for registration in registrations if registration.id not in existing]
    for badge in _issue_all(missing):
        existing[badge.registration_id] = badge
    return load_badges(
        existing[registration.id].id
        for registration in registrations
        if existing[registration.id].revoked_at is None
    )


@dataclass(frozen=True)
class BadgeCounts:
    """The organisers' key figures: confirmed delegates, and their badges."""

    confirmed: int
    issued: int
    revoked: int

    @property
    def missing(self) -> int:
        """Confirmed delegates without a badge yet."""
        return self.confirmed - self.issued


def badge_counts(event: Event) -> BadgeCounts:
    """How many confirmed delegates there are, how many have a badge, how many are revoked
    (one query)."""
    confirmed, issued, revoked = db.session.execute(
        select(func.count(Registration.id), func.count(Badge.id), func.count(Badge.revoked_at))
        .select_from(Registration)
        .outerjoin(Badge, Badge.registration_id == Registration.id)
        .where(
            Registration.event_id == event.id,
            Registration.status == RegistrationStatus.CONFIRMED.value,
        )
    ).one()
    return BadgeCounts(confirmed=confirmed, issued=issued, revoked=revoked)
