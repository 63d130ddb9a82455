"""Partner rules: creating and editing partners and contacts, search, similar names, deletion."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from difflib import SequenceMatcher
from functools import cache
from typing import Any
from urllib.parse import urlsplit

from email_validator import EmailNotValidError, validate_email
from flask_babel import LazyString, force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, false, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from app import validation
from app.audit import services as audit
from app.auth.models import User
from app.errors import DomainError
from app.extensions import db
from app.i18n.formatting import country_choices, country_name
from app.partners.models import Contact, Partner, PartnerHistory, PartnerKind, name_key

NAME_MAX = 300
ACRONYM_MAX = 50
ADDRESS_MAX = 2000
WEBSITE_MAX = 300
NOTES_MAX = 5000
CONTACT_NAME_MAX = 200
POSITION_MAX = 200
EMAIL_MAX = 254
PHONE_MAX = 50
# Longer search text finds nothing more and only makes the query slower.
SEARCH_MAX = 200

SIMILAR_LIMIT = 5
SIMILAR_RATIO = 0.8
# "PT", "CV" or "UN" would be contained in half the registry; shorter keys only match exactly.
MIN_CONTAINED_LENGTH = 4

_PHONE = re.compile(r"^\+?[0-9 ()./-]+(?: ?(?:ext\.?|x) ?[0-9]+)?$", re.IGNORECASE)
_MIN_PHONE_DIGITS = 5
_HOST = re.compile(r"^[\w-]+(?:\.[\w-]+)+$")


class PartnerError(DomainError):
    """A partner rule refused the action."""


# --- checking input -------------------------------------------------------------------------


@cache
def known_country_codes() -> frozenset[str]:
    """The ISO country codes Babel knows (the same whatever the page's language)."""
    with force_locale("en"):
        return frozenset(code for code, _name in country_choices())


def clean_text(
    value: str | None,
    *,
    field: str,
    max_length: int,
    required: object = None,
    multiline: bool = False,
) -> str | None:
    """Trimmed text or None when blank, refused as a PartnerError when it breaks the rules."""
    return validation.clean_text(
        value,
        field=field,
        max_length=max_length,
        required=required,
        multiline=multiline,
        error=PartnerError,
    )


def clean_kind(kind: str | None) -> str:
    """A known partner kind, else refused."""
    if kind not in {member.value for member in PartnerKind}:
        raise PartnerError(_l("Choose the kind of organisation."), "unknown_kind", field="kind")
    return kind


def clean_country(code: str | None) -> str:
    """An ISO country code from Babel's list, upper-cased, else refused."""
    code = (code or "").strip().upper()
    if code not in known_country_codes():
        raise PartnerError(
            _l("Choose a country from the list."), "unknown_country", field="country"
        )
    return code


def clean_website(url: str | None) -> str | None:
    """An http(s) address with a proper host name, or None when blank."""
    text = clean_text(url, field="website", max_length=WEBSITE_MAX)
    if text is None:
        return None
    invalid = PartnerError(
        _l("Enter a full web address starting with http:// or https://."),
        "invalid_website",
        field="website",
    )
    if any(ch.isspace() for ch in text):
        raise invalid
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 (raises ValueError on a malformed port)
    except ValueError as exc:
        raise invalid from exc
    if parts.scheme.lower() not in {"http", "https"} or not _HOST.match(parts.hostname or ""):
        raise invalid
    return text


def clean_email(address: str | None) -> str | None:
    """A contact's email address in its normalised form, or None when blank."""
    text = clean_text(address, field="email", max_length=EMAIL_MAX)
    if text is None:
        return None
    try:
        return validate_email(text, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise PartnerError(
            _l("Enter a valid email address."), "invalid_email", field="email"
        ) from exc


def clean_phone(number: str | None) -> str | None:
    """A telephone number of digits, spaces and + ( ) - . /, or None when blank."""
    text = clean_text(number, field="phone", max_length=PHONE_MAX)
    if text is None:
        return None
    if not _PHONE.match(text) or sum(ch.isdigit() for ch in text) < _MIN_PHONE_DIGITS:
        raise PartnerError(
            _l("Enter a telephone number, e.g. +62 21 1234 5678."), "invalid_phone", field="phone"
        )
    return text


@dataclass(frozen=True)
class PartnerDetails:
    """Everything a person enters about a partner organisation."""

    name: str | None
    kind: str | None
    country: str | None
    acronym: str | None = None
    address: str | None = None
    website: str | None = None
    notes: str | None = None


@dataclass(frozen=True)
class ContactDetails:
    """Everything a person enters about a contact at a partner."""

    name: str | None
    position: str | None = None
    email: str | None = None
    phone: str | None = None


def _partner_fields(details: PartnerDetails) -> dict[str, str | None]:
    """Every partner field checked and cleaned, ready to set on the model."""
    clean_name = clean_text(
        details.name,
        field="name",
        max_length=NAME_MAX,
        required=_l("Enter the organisation's name."),
    )
    key = name_key(clean_name)
    if not key:
        raise PartnerError(
            _l("The name needs at least one letter or digit."), "name_without_letters", field="name"
        )
    return {
        "name": clean_name,
        "name_key": key,
        "acronym": clean_text(details.acronym, field="acronym", max_length=ACRONYM_MAX),
        "kind": clean_kind(details.kind),
        "country": clean_country(details.country),
        "address": clean_text(
            details.address, field="address", max_length=ADDRESS_MAX, multiline=True
        ),
        "website": clean_website(details.website),
        "notes": clean_text(details.notes, field="notes", max_length=NOTES_MAX, multiline=True),
    }


def _contact_fields(details: ContactDetails) -> dict[str, str | None]:
    """Every contact field checked and cleaned."""
    return {
        "name": clean_text(
            details.name,
            field="name",
            max_length=CONTACT_NAME_MAX,
            required=_l("Enter the contact's name."),
        ),
        "position": clean_text(details.position, field="position", max_length=POSITION_MAX),
        "email": clean_email(details.email),
        "phone": clean_phone(details.phone),
    }


# --- history --------------------------------------------------------------------------------

# The fields a partner's history compares; name_key only mirrors the name.
PARTNER_HISTORY_FIELDS = ("name", "acronym", "kind", "country", "address", "website", "notes")


def _partner_snapshot(partner: Partner) -> dict[str, str | None]:
    """A partner's fields as history stores them."""
    return {name: getattr(partner, name) for name in PARTNER_HISTORY_FIELDS}


def _contact_snapshot(contact: Contact) -> dict[str, str | None]:
    """A contact's fields as history stores them ("contact" is its name)."""
    return {
        "contact": contact.name,
        "position": contact.position,
        "email": contact.email,
        "phone": contact.phone,
    }


def _differences(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, list[Any]]:
    """The fields whose values changed, as {field: [old, new]}."""
    return {
        key: [before.get(key), value] for key, value in after.items() if before.get(key) != value
    }


def _record_history(
    partner: Partner,
    action: str,
    changes: Mapping[str, list[Any]],
    actor: User | None,
    *,
    deleted: bool = False,
) -> PartnerHistory:
    """Write down who did what to a partner; a deleted partner's entry keeps only its name."""
    entry = PartnerHistory(
        partner_id=None if deleted else partner.id,
        partner_name=partner.name,
        action=action,
        changes=dict(changes),
        actor_id=actor.id if actor is not None else None,
    )
    db.session.add(entry)
    audit.record(f"partners.{action}", actor=actor, target=partner, details=changes)
    return entry


def partner_history(partner_id: int, limit: int) -> list[PartnerHistory]:
    """A partner's latest history entries, newest first, with who made them."""
    return list(
        db.session.scalars(
            select(PartnerHistory)
            .where(PartnerHistory.partner_id == partner_id)
            # Entries written in one transaction share a timestamp; the id keeps their order.
            .order_by(PartnerHistory.at.desc(), PartnerHistory.id.desc())
            .limit(limit)
            .options(joinedload(PartnerHistory.actor))
        )
    )


# --- partners -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SimilarPartner:
    """An existing partner whose name resembles a new one, as the warning lists it."""

    id: int
    display_name: str
    country: str


class SimilarNamesError(PartnerError):
    """A new partner's name resembles existing ones: the user must confirm it is another."""

    def __init__(self, matches: list[Partner]):
        super().__init__(
            _l(
                "Partners with similar names are already registered. Open one of them if it is "
                "the same organisation; if yours is a different one, choose “Create anyway”."
            ),
            "similar_names",
        )
        # Plain values: the caller rolls back, which would expire the partners themselves.
        self.matches = [
            SimilarPartner(partner.id, partner.display_name, partner.country) for partner in matches
        ]


def _duplicate_error(name: str, country: str) -> PartnerError:
    """The refusal of a second partner with the same name in the same country."""
    return PartnerError(
        _l(
            "“%(name)s” is already registered in %(country)s. Open that partner instead of "
            "creating a second one.",
            name=name,
            # The country is named when the message is shown, in the reader's language.
            country=LazyString(country_name, country),
        ),
        "duplicate_partner",
        field="name",
    )


def _partner_named(name: str, country: str, exclude_id: int | None = None) -> Partner | None:
    """The partner with this name (compared by its folded key) in this country, if any."""
    query = select(Partner).where(
        Partner.name_key == name_key(name or ""), Partner.country == (country or "").upper()
    )
    if exclude_id is not None:
        query = query.where(Partner.id != exclude_id)
    return db.session.scalar(query.limit(1))


def find_partner(name: str, country: str) -> Partner | None:
    """The partner with this name (compared by its folded key) in this country, if any."""
    return _partner_named(name, country)


def check_not_duplicate(name: str, country: str, exclude_id: int | None = None) -> None:
    """Refuse a name (compared by its folded key) and country another partner already has."""
    existing = _partner_named(name, country, exclude_id)
    if existing is not None:
        raise _duplicate_error(existing.name, existing.country)


def _write_refusing_duplicate(change: Callable[[], None], name: str, country: str) -> None:
    """Apply and flush a change in a savepoint; a duplicate that slipped past the check is
    refused too, and the caller's transaction stays usable."""
    try:
        with db.session.begin_nested():
            change()
    except IntegrityError as exc:
        # The unique constraint is the last word when two people save the same name at once.
        raise _duplicate_error(name, country) from exc


def create_partner(
    details: PartnerDetails, *, actor: User | None, confirmed_similar: bool = False
) -> Partner:
    """Register a partner organisation. The same name in the same country is refused; a name
    resembling other partners' is refused until the user confirms it is another organisation."""
    fields = _partner_fields(details)
    # A true duplicate is refused at once, before any "similar names" question.
    check_not_duplicate(fields["name"], fields["country"])
    if not confirmed_similar:
        similar = similar_partners(fields["name"], acronym=fields["acronym"])
        if similar:
            raise SimilarNamesError(similar)
    partner = Partner(**fields)
    _write_refusing_duplicate(lambda: db.session.add(partner), fields["name"], fields["country"])
    _record_history(partner, "created", _differences({}, _partner_snapshot(partner)), actor)
    return partner


def update_partner(partner: Partner, details: PartnerDetails, *, actor: User | None) -> None:
    """Change a partner's details; it may not take another partner's name and country."""
    fields = _partner_fields(details)
    check_not_duplicate(fields["name"], fields["country"], exclude_id=partner.id)
    before = _partner_snapshot(partner)

    def change() -> None:
        for attribute, value in fields.items():
            setattr(partner, attribute, value)

    _write_refusing_duplicate(change, fields["name"], fields["country"])
    changes = _differences(before, _partner_snapshot(partner))
    if changes:
        _record_history(partner, "updated", changes, actor)


def delete_partner(partner: Partner, *, actor: User | None) -> None:
    """Delete a partner and its contacts; refused while an agreement or other record names it.

    Its history stays, with an entry saying who deleted it and what it held.
    """
    name = partner.name
    last_state: dict[str, list[Any]] = {
        key: [value, None] for key, value in _partner_snapshot(partner).items() if value
    }
    contacts = [contact.name for contact in partner.contacts]
    if contacts:
        last_state["contacts"] = [contacts, None]
    try:
        with db.session.begin_nested():
            db.session.delete(partner)
    except IntegrityError as exc:
        # The foreign keys from agreement parties and obligations are ON DELETE RESTRICT, so
        # the database itself says whether anything still refers to the partner.
        raise PartnerError(
            _l(
                "“%(name)s” cannot be deleted because it is a party to one or more agreements "
                "or is named in other records. Remove it from them first.",
                name=name,
            ),
            "partner_in_use",
        ) from exc
    _record_history(partner, "deleted", last_state, actor, deleted=True)


# --- contacts -------------------------------------------------------------------------------


def add_contact(partner: Partner, details: ContactDetails, *, actor: User | None) -> Contact:
    """Add a person to contact at a partner."""
    contact = Contact(**_contact_fields(details))
    partner.contacts.append(contact)
    db.session.flush()
    _record_history(partner, "contact_added", _differences({}, _contact_snapshot(contact)), actor)
    return contact


def update_contact(contact: Contact, details: ContactDetails, *, actor: User | None) -> None:
    """Change a contact's details."""
    before = _contact_snapshot(contact)
    for attribute, value in _contact_fields(details).items():
        setattr(contact, attribute, value)
    db.session.flush()
    changes = _differences(before, _contact_snapshot(contact))
    if changes:
        # Which contact it was, also when the name itself did not change.
        which = {"contact": [before["contact"], contact.name]}
        _record_history(contact.partner, "contact_updated", {**which, **changes}, actor)


def remove_contact(contact: Contact, *, actor: User | None) -> None:
    """Remove a contact from its partner; history keeps only the name of who was removed."""
    partner = contact.partner
    partner.contacts.remove(contact)
    db.session.flush()
    _record_history(partner, "contact_removed", {"contact": [contact.name, None]}, actor)


# --- finding partners -----------------------------------------------------------------------


def search_partners(
    query: str | None = None, kind: str | None = None, country: str | None = None
) -> Select:
    """Partners whose name, acronym or contact matches the text, filtered, ordered by name."""
    statement = select(Partner)
    text = (query or "").strip()[:SEARCH_MAX].strip()
    if text:
        key = name_key(text)
        statement = statement.where(
            or_(
                Partner.name.icontains(text, autoescape=True),
                # The folded key also finds "Ecole" for "École", on SQLite too (whose lower()
                # only knows ASCII).
                Partner.name_key.contains(key, autoescape=True) if key else false(),
                Partner.acronym.icontains(text, autoescape=True),
                Partner.contacts.any(
                    or_(
                        Contact.name.icontains(text, autoescape=True),
                        Contact.email.icontains(text, autoescape=True),
                    )
                ),
            )
        )
    if kind:
        statement = statement.where(Partner.kind == kind)
    if country:
        statement = statement.where(Partner.country == country.upper())
    return statement.order_by(Partner.name_key, Partner.id)


def contact_counts(partner_ids: list[int]) -> dict[int, int]:
    """How many contacts each of these partners has, in one grouped query."""
    if not partner_ids:
        return {}
    rows = db.session.execute(
        select(Contact.partner_id, func.count())
        .where(Contact.partner_id.in_(partner_ids))
        .group_by(Contact.partner_id)
    )
    return dict(rows.all())


def countries_in_use() -> list[str]:
    """The country codes partners are registered in."""
    return list(db.session.scalars(select(Partner.country).distinct()))


def _resemblance(
    key: str, acronym_key: str, other_key: str, other_acronym: str | None, matcher: SequenceMatcher
) -> tuple[int, float] | None:
    """How closely another partner's name resembles this one (lower ranks first), or None."""
    other_acronym_key = name_key(other_acronym or "")
    if other_key == key:
        return (0, 1.0)
    if other_acronym_key and other_acronym_key in {key, acronym_key}:
        return (1, 1.0)
    shorter, longer = sorted((key, other_key), key=len)
    if len(shorter) >= MIN_CONTAINED_LENGTH and f" {shorter} " in f" {longer} ":
        return (2, 1.0)
    matcher.set_seq1(other_key)
    # The quick upper bounds skip most names without the full (slow) comparison.
    if (
        matcher.real_quick_ratio() >= SIMILAR_RATIO
        and matcher.quick_ratio() >= SIMILAR_RATIO
        and (ratio := matcher.ratio()) >= SIMILAR_RATIO
    ):
        return (3, ratio)
    return None


def similar_partners(
    name: str, exclude_id: int | None = None, *, acronym: str | None = None
) -> list[Partner]:
    """Up to five partners whose names resemble this one, the closest first."""
    key = name_key(name or "")
    acronym_key = name_key(acronym or "")
    if not key:
        return []
    matcher = SequenceMatcher(None, autojunk=False)
    matcher.set_seq2(key)  # SequenceMatcher caches what it learns about the second sequence
    candidates = db.session.execute(select(Partner.id, Partner.name_key, Partner.acronym))
    scored = []
    for partner_id, other_key, other_acronym in candidates:
        if partner_id == exclude_id:
            continue
        score = _resemblance(key, acronym_key, other_key, other_acronym, matcher)
        if score is not None:
            scored.append((score[0], -score[1], other_key, partner_id))
    best_ids = [partner_id for *_, partner_id in sorted(scored)[:SIMILAR_LIMIT]]
    if not best_ids:
        return []
    partners = {
        partner.id: partner
        for partner in db.session.scalars(select(Partner).where(Partner.id.in_(best_ids)))
    }
    return [partners[partner_id] for partner_id in best_ids]
