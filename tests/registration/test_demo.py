"""The registration demo data: settings, types with fees, 420 synthetic delegates from 44
countries in every state, delegations and visa letters; loading it twice adds nothing."""

from __future__ import annotations

from collections import Counter
from datetime import date

from sqlalchemy import func, select

from app.demo import load_demo
from app.registration import services
from app.registration.demo import (
    COUNTRIES,
    DEMO_DELEGATE_EMAIL,
    ISSUED_VISA_LETTERS,
    SYNTHETIC_DELEGATES,
    load_demo_registration,
)
from app.registration.models import (
    Delegation,
    Registration,
    RegistrationFee,
    RegistrationHistory,
    RegistrationStatus,
    RegistrationType,
    VisaLetter,
)
from app.registration.passports import decrypt_passport
from tests.registration.factories import count_rows

TABLES = (
    RegistrationType,
    RegistrationFee,
    Registration,
    RegistrationHistory,
    Delegation,
    VisaLetter,
)


def _counts() -> tuple[int, ...]:
    return tuple(count_rows(table) for table in TABLES)


def test_the_demo_loads_twice_without_duplicates(app, db):
    load_demo()
    db.session.commit()
    first = _counts()
    references = set(db.session.scalars(select(Registration.reference)))
    load_demo()
    db.session.commit()
    assert _counts() == first
    assert set(db.session.scalars(select(Registration.reference))) == references
    # The synthetic delegates and the demo delegate account's own registration.
    assert count_rows(Registration) == SYNTHETIC_DELEGATES + 1


def test_the_demo_covers_44_countries_and_every_state(app, db):
    load_demo()
    db.session.commit()
    countries = set(db.session.scalars(select(Registration.nationality).distinct()))
    assert countries == set(COUNTRIES)
    assert len(countries) == 44
    states = Counter(db.session.scalars(select(Registration.status)))
    assert set(states) == {status.value for status in RegistrationStatus}
    assert states[RegistrationStatus.CONFIRMED] > SYNTHETIC_DELEGATES / 2  # most are confirmed
    event = db.session.scalars(select(Registration)).first().event
    assert len(services.counts_by_country(event)) == 44


def test_the_demo_types_have_bilingual_names_and_usd_and_idr_fees(app, db):
    load_demo()
    db.session.commit()
    types = {item.code: item for item in db.session.scalars(select(RegistrationType))}
    assert set(types) == {
        "delegate",
        "government-delegate",
        "academic",
        "ngo",
        "student",
        "speaker",
        "accompanying",
        "press",
        "sponsored",
    }
    assert all(not item.name.missing_languages() for item in types.values())
    assert all(not item.description.missing_languages() for item in types.values())
    delegate = types["delegate"]
    assert services.fee_for(delegate, "USD", date(2026, 2, 1)) == 45_000
    assert services.fee_for(delegate, "IDR", date(2026, 2, 1)) == 450_000_000
    assert services.fee_for(delegate, "USD", date(2026, 1, 31)) == 37_500
    assert services.fee_for(delegate, "IDR", date(2026, 1, 31)) == 375_000_000
    student = types["student"]
    assert services.fee_for(student, "USD", date(2026, 3, 1)) < 45_000
    assert (student.capacity, types["press"].capacity) == (40, 20)
    for code in ("speaker", "press", "sponsored"):
        assert types[code].is_free
    assert {code for code, item in types.items() if item.needs_approval} == {
        "government-delegate",
        "press",
    }
    settings = services.settings_for(delegate.event)
    assert settings.opens_on == date(2025, 11, 1)
    # Closed on 31 March 2026 in reality; a later demo stays open so the form can be tried.
    assert settings.closes_on >= date(2026, 3, 31)
    assert services.is_open(delegate.event, services.event_today())
    assert settings.edit_cutoff_on == settings.closes_on
    assert (settings.waitlist_offer_hours, settings.passport_retention_days) == (48, 90)


def test_the_demo_registrations_are_consistent(app, db):
    load_demo()
    db.session.commit()
    now = services.utc_now()
    registrations = list(db.session.scalars(select(Registration)))
    for registration in registrations:
        assert registration.email.endswith(("@example.org", "@wcpp2026.example"))
        status = RegistrationStatus(registration.status)
        if status is RegistrationStatus.SUBMITTED:
            assert registration.delegation_id is not None
            assert registration.fee_minor is None
            continue
        assert registration.privacy_consent_at is not None
        expected = services.currency_for(registration.nationality, registration.residence_country)
        assert registration.currency == expected
        if registration.registration_type.is_free:
            assert registration.fee_minor == 0
        else:
            assert registration.fee_minor > 0
        if status is RegistrationStatus.PENDING_APPROVAL:
            assert registration.registration_type.needs_approval
        if status is RegistrationStatus.AWAITING_PAYMENT:
            assert not registration.registration_type.is_free
        if status is RegistrationStatus.WAITLISTED:
            assert registration.waitlisted_at is not None
        if registration.needs_visa_letter:
            assert decrypt_passport(registration.passport_number_encrypted).startswith("S")
    # No type holds more places than it has; the full one has a waiting list.
    for registration_type in db.session.scalars(select(RegistrationType)):
        if registration_type.capacity is not None:
            assert services.places_taken(registration_type, now) <= registration_type.capacity
    waiting = {r.registration_type.code for r in registrations if r.status == "waitlisted"}
    assert waiting == {"student"}
    # Every registration has its "created (demo)" history row.
    created = db.session.scalars(
        select(RegistrationHistory).where(RegistrationHistory.action == "created")
    ).all()
    assert len(created) == len(registrations)
    assert all(entry.details["source"] == "demo" for entry in created)
    rejected = [r for r in registrations if r.status == "rejected"]
    assert rejected
    assert all(r.rejection_reason.startswith("Sample data") for r in rejected)


def test_the_demo_has_delegations_with_heads_and_visa_letters(app, db):
    load_demo()
    db.session.commit()
    event = db.session.scalars(select(Registration)).first().event
    summaries = services.delegations_by_country(event)
    assert len(summaries) == 6
    assert all(summary.head is not None and summary.member_count > 1 for summary in summaries)
    letters = db.session.scalars(select(VisaLetter).order_by(VisaLetter.sequence)).all()
    assert len(letters) == ISSUED_VISA_LETTERS
    assert [letter.sequence for letter in letters] == list(range(1, ISSUED_VISA_LETTERS + 1))
    assert all(letter.registration.needs_visa_letter for letter in letters)
    asked = db.session.scalar(
        select(func.count()).select_from(Registration).where(Registration.needs_visa_letter)
    )
    assert asked > ISSUED_VISA_LETTERS  # the rest wait in the organisers' queue


def test_the_demo_delegate_account_has_its_own_registration(app, db):
    load_demo()
    db.session.commit()
    registration = db.session.scalars(
        select(Registration).where(Registration.email == DEMO_DELEGATE_EMAIL)
    ).one()
    assert registration.user is not None
    assert registration.status == RegistrationStatus.AWAITING_PAYMENT
    assert (registration.currency, registration.fee_minor) == ("USD", 45_000)


def test_the_registration_demo_alone_creates_the_event(app, db):
    load_demo_registration()
    db.session.commit()
    assert count_rows(Registration) == SYNTHETIC_DELEGATES  # no demo account to link to
    load_demo_registration()
    db.session.commit()
    assert count_rows(Registration) == SYNTHETIC_DELEGATES
