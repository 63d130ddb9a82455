"""Personal data: passport numbers encrypted at rest and masked, logged full views, the
delegate's export, erasure that keeps the statistics, the purge after the congress, and the
encryption key's configuration."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, timedelta

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select, text

from app import create_app
from app.auth.models import Role, User
from app.config import ConfigError, load_config
from app.extensions import db
from app.registration import personal_data, services, visa
from app.registration.models import (
    PassportAccess,
    Registration,
    RegistrationHistory,
    RegistrationStatus,
    VisaLetter,
)
from app.registration.passports import PassportKeyError, mask_number
from tests.registration.factories import (
    WCPP_ENDS_ON,
    count_rows,
    make_event,
    make_type,
    open_registration,
    visa_details,
)
from tests.registration.test_visa import PASSPORT, visa_registration


@pytest.fixture
def wcpp(db):
    """WCPP 2026 with a type of one place (so that an erasure frees it) and an open one."""
    event = make_event()
    types = {"small": make_type(event, "small", capacity=1), "open": make_type(event, "open")}
    db.session.commit()
    return event, types


@pytest.fixture
def organiser(db, make_user) -> User:
    """An organiser, attached to the test's session."""
    return db.session.get(User, make_user(roles=[Role.ORGANISER]).id)


def raw_passport_column(registration_id: int) -> str | None:
    """What the database itself holds, read past the ORM."""
    return db.session.execute(
        text("SELECT passport_number_encrypted FROM registrations WHERE id = :id"),
        {"id": registration_id},
    ).scalar_one()


# --- encryption and masking -----------------------------------------------------------------


def test_a_passport_number_survives_the_round_trip_and_never_encrypts_the_same_twice(db):
    token = personal_data.encrypt_passport(" X1234567 ")
    assert "X1234567" not in token
    assert personal_data.decrypt_passport(token) == "X1234567"
    assert personal_data.encrypt_passport("X1234567") != token


def test_the_database_holds_only_the_encrypted_number(db, wcpp):
    event, types = wcpp
    registration = visa_registration(event, types["open"])
    db.session.commit()
    stored = raw_passport_column(registration.id)
    assert stored
    assert PASSPORT not in stored
    assert personal_data.decrypt_passport(stored) == PASSPORT
    row = db.session.execute(
        text("SELECT * FROM registrations WHERE id = :id"), {"id": registration.id}
    ).one()
    assert not any(PASSPORT in str(value) for value in row)


def test_another_key_cannot_read_the_number_and_a_rotated_key_still_can(app, db, monkeypatch):
    old_key = app.config["PASSPORT_ENCRYPTION_KEY"]
    token = personal_data.encrypt_passport(PASSPORT)
    new_key = Fernet.generate_key().decode()

    monkeypatch.setitem(app.config, "PASSPORT_ENCRYPTION_KEY", new_key)
    with pytest.raises(PassportKeyError, match="PASSPORT_ENCRYPTION_KEY"):
        personal_data.decrypt_passport(token)

    monkeypatch.setitem(app.config, "PASSPORT_ENCRYPTION_KEY", f"{new_key}, {old_key}")
    assert personal_data.decrypt_passport(token) == PASSPORT
    fresh = personal_data.encrypt_passport(PASSPORT)
    assert Fernet(new_key).decrypt(fresh.encode()).decode() == PASSPORT


def test_the_masked_number_shows_only_its_last_characters(db, wcpp):
    event, types = wcpp
    registration = visa_registration(event, types["open"])
    assert personal_data.masked_passport(registration) == "•••••5432"
    without = services.register_delegate(
        event, visa_details(types["open"], needs_visa_letter=False)
    )
    assert personal_data.masked_passport(without[0]) == ""
    # A short number never shows more than half of itself, and the mask hides its length.
    assert mask_number("AB12") == "•••••12"
    assert mask_number("A12345678901234567") == "•••••4567"


def test_an_organiser_sees_the_number_in_full_and_each_view_is_logged(db, wcpp, organiser):
    event, types = wcpp
    registration = visa_registration(event, types["open"])
    for _ in range(2):
        shown = personal_data.reveal_passport(
            registration, viewer=organiser, purpose="organiser_view"
        )
        assert shown == PASSPORT
    db.session.commit()
    logged = db.session.scalars(select(PassportAccess)).all()
    assert [(access.user_id, access.purpose) for access in logged] == [
        (organiser.id, "organiser_view")
    ] * 2


def test_nobody_else_sees_the_number_in_full(db, wcpp, make_user):
    event, types = wcpp
    registration = visa_registration(event, types["open"])
    for role in (Role.DELEGATE, Role.REGISTRY_OFFICER, Role.GATE_STAFF):
        viewer = db.session.get(User, make_user(roles=[role]).id)
        with pytest.raises(services.RegistrationError):
            personal_data.reveal_passport(registration, viewer=viewer, purpose="organiser_view")
    assert count_rows(PassportAccess) == 0


# --- the delegate's export ------------------------------------------------------------------


def test_the_export_holds_everything_about_the_delegate(db, wcpp, organiser):
    event, types = wcpp
    registration = visa_registration(
        event, types["open"], given_name="Amara", dietary_needs="Halal", media_consent=True
    )
    visa.issue_visa_letter(registration, actor=organiser)
    personal_data.reveal_passport(registration, viewer=organiser, purpose="organiser_view")
    db.session.commit()

    data = personal_data.export_personal_data(registration)
    json.dumps(data)  # JSON-ready as it is
    assert data["registration"]["reference"] == registration.reference
    assert data["person"]["given_name"] == "Amara"
    assert data["person"]["email"] == registration.email
    assert data["person"]["dietary_needs"] == "Halal"
    assert data["visa"]["passport_number"] == PASSPORT
    assert data["visa"]["birth_place"] == "Lagos"
    assert [letter["number"] for letter in data["visa"]["letters"]] == ["WCPP2026/VISA/0001"]
    assert data["consents"]["media_consent"] is True
    assert data["consents"]["privacy_consent_at"]
    assert data["account"]["email"] == registration.email
    actions = [entry["action"] for entry in data["history"]]
    assert actions[0] == "registered"
    assert "visa_letter_issued" in actions
    assert [view["purpose"] for view in data["passport_views"]] == ["organiser_view"]


# --- erasure --------------------------------------------------------------------------------


def test_erasure_anonymises_the_person_frees_the_place_and_keeps_the_statistics(
    db, wcpp, organiser
):
    event, types = wcpp
    erased = visa_registration(
        event,
        types["small"],
        given_name="Amara",
        family_name="Okonkwo",
        nationality="KE",
        residence_country="UG",
        phone="+254 20 555 0100",
        dietary_needs="Vegetarian",
        accessibility_needs="Wheelchair",
        emergency_contact_name="Chidi Okonkwo",
        emergency_contact_phone="+254 20 555 0199",
    )
    waiting = visa_registration(event, types["small"], given_name="Next")
    assert erased.status == RegistrationStatus.AWAITING_PAYMENT
    assert waiting.status == RegistrationStatus.WAITLISTED
    letter = visa.issue_visa_letter(erased, actor=organiser)
    services.update_registration(
        erased,
        replace(services.details_of(erased), given_name="Amarachi"),
        actor=organiser,
        today=services.event_today(),
    )
    db.session.commit()
    user_id, created_at, email = erased.user_id, erased.created_at, erased.email

    personal_data.erase_personal_data(erased, actor=erased.user)
    db.session.commit()

    registration = db.session.get(Registration, erased.id)
    assert registration.erased_at is not None
    assert registration.status == RegistrationStatus.CANCELLED
    assert registration.given_name == registration.badge_name == personal_data.ERASED_NAME
    assert registration.email == f"erased-{registration.reference.lower()}@erased.invalid"
    for name in (
        "title",
        "family_name",
        "phone",
        "dietary_needs",
        "accessibility_needs",
        "emergency_contact_name",
        "emergency_contact_phone",
        "passport_expiry",
        "birth_date",
        "birth_place",
        "position",
    ):
        assert getattr(registration, name) is None
    assert raw_passport_column(registration.id) is None
    assert registration.user_id is None
    # What the statistics count stays.
    assert (registration.nationality, registration.residence_country) == ("KE", "UG")
    assert registration.registration_type_id == types["small"].id
    assert registration.created_at == created_at
    # The place went to the waiting list, the letter was revoked.
    assert db.session.get(Registration, waiting.id).offer_expires_at is not None
    assert db.session.get(VisaLetter, letter.id).is_revoked
    # No old value survives in the history, which records the erasure.
    history = db.session.scalars(
        select(RegistrationHistory).where(RegistrationHistory.registration_id == erased.id)
    ).all()
    assert "Amara" not in json.dumps([entry.details for entry in history])
    assert [entry.action for entry in history].count("personal_data_erased") == 1
    # The delegate-only account is anonymised and closed.
    account = db.session.get(User, user_id)
    assert account.active is False
    assert account.email != email
    assert account.password_hash is None
    assert "Amara" not in account.name

    entries = count_rows(RegistrationHistory)
    personal_data.erase_personal_data(registration, actor=None)
    db.session.commit()
    assert count_rows(RegistrationHistory) == entries


def test_a_staff_account_only_loses_the_link_and_others_may_not_erase(
    db, wcpp, organiser, make_user
):
    event, types = wcpp
    registration = visa_registration(event, types["open"], email=organiser.email)
    assert registration.user_id == organiser.id
    stranger = db.session.get(User, make_user(roles=[Role.DELEGATE]).id)
    with pytest.raises(services.RegistrationError):
        personal_data.erase_personal_data(registration, actor=stranger)
    assert registration.erased_at is None

    personal_data.erase_personal_data(registration, actor=organiser)
    db.session.commit()
    account = db.session.get(User, organiser.id)
    assert account.active is True
    assert account.email == organiser.email
    assert registration.user_id is None


# --- the purge after the congress -----------------------------------------------------------


def test_passport_data_is_purged_only_after_the_retention_period(db, wcpp):
    event, types = wcpp
    with_visa = [visa_registration(event, types["open"]) for _ in range(3)]
    without = services.register_delegate(
        event, visa_details(types["open"], needs_visa_letter=False)
    )
    db.session.commit()
    last_kept_day = WCPP_ENDS_ON + timedelta(days=89)

    assert personal_data.purge_passport_data(last_kept_day) == 0
    assert all(raw_passport_column(r.id) for r in with_visa)

    assert personal_data.purge_passport_data(last_kept_day + timedelta(days=1)) == 3
    db.session.commit()
    db.session.expire_all()
    for registration in with_visa:
        assert raw_passport_column(registration.id) is None
        assert registration.passport_expiry is None
        assert registration.birth_date is None
        assert registration.birth_place is None
        assert registration.given_name.startswith("Amara")  # nothing else is touched
        assert registration.needs_visa_letter is True
    purged = db.session.scalars(
        select(RegistrationHistory.registration_id).where(
            RegistrationHistory.action == "passport_data_purged"
        )
    ).all()
    assert sorted(purged) == sorted(r.id for r in with_visa)
    assert without[0].id not in purged

    assert personal_data.purge_passport_data(date(2030, 1, 1)) == 0


def test_the_purge_follows_the_event_s_retention_setting(db, wcpp):
    event, types = wcpp
    open_registration(event, passport_retention_days=10)
    registration = visa_registration(event, types["open"])
    db.session.commit()
    assert personal_data.purge_passport_data(WCPP_ENDS_ON + timedelta(days=9)) == 0
    assert personal_data.purge_passport_data(WCPP_ENDS_ON + timedelta(days=10)) == 1
    db.session.commit()
    assert raw_passport_column(registration.id) is None


# --- the key's configuration ----------------------------------------------------------------


def test_production_refuses_to_start_without_a_passport_key(monkeypatch, tmp_path):
    monkeypatch.setenv("KONGRES_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "a-long-production-secret")
    monkeypatch.delenv("PASSPORT_ENCRYPTION_KEY", raising=False)
    with pytest.raises(ConfigError, match="PASSPORT_ENCRYPTION_KEY is not set"):
        create_app({"INSTANCE_PATH": str(tmp_path)})
    assert not (tmp_path / "passport_key").exists()


def test_a_key_that_is_not_a_fernet_key_is_a_clear_start_up_error(monkeypatch, tmp_path):
    monkeypatch.setenv("PASSPORT_ENCRYPTION_KEY", "not-a-key")
    with pytest.raises(ConfigError, match="must be a Fernet key"):
        load_config(tmp_path)


def test_development_generates_a_passport_key_once_and_keeps_it(monkeypatch, tmp_path):
    monkeypatch.delenv("KONGRES_ENV", raising=False)
    monkeypatch.delenv("PASSPORT_ENCRYPTION_KEY", raising=False)
    first = load_config(tmp_path)["PASSPORT_ENCRYPTION_KEY"]
    assert load_config(tmp_path)["PASSPORT_ENCRYPTION_KEY"] == first
    Fernet(first)  # a usable key
    assert (tmp_path / "passport_key").stat().st_mode & 0o077 == 0
