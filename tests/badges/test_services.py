"""Badge services: the signing key, issuing, reissuing, revoking, holders and verifying."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.auth.models import Role
from app.badges import services
from app.badges.models import Badge, BadgeRole, BadgeSigningKey
from app.badges.services import BadgeError
from app.badges.tokens import read_header
from app.registration.models import RegistrationStatus
from app.registration.services import cancel_registration
from tests.badges.factories import confirmed_registration, make_badge
from tests.registration.factories import (
    WCPP_ENDS_ON,
    WCPP_STARTS_ON,
    count_rows,
    make_event,
    make_registration,
    make_type,
)


def test_signing_key_is_made_once_and_encrypted(db):
    event = make_event()
    key = services.signing_key(event)
    assert services.signing_key(event).id == key.id
    assert count_rows(BadgeSigningKey) == 1
    assert len(key.public_key) == 43
    assert key.public_key not in key.private_key_encrypted
    assert services.public_keys(event) == [{"key_id": key.id % 256, "public_key": key.public_key}]


def test_issue_badge_for_a_confirmed_registration(db):
    event = make_event()
    registration = confirmed_registration(event)
    badge = services.issue_badge(registration, actor=None)
    assert re.fullmatch(r"[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}", badge.number)
    assert badge.version == 1
    assert badge.role == BadgeRole.DELEGATE
    assert (badge.valid_from, badge.valid_to) == (WCPP_STARTS_ON, WCPP_ENDS_ON)
    # Idempotent: the same badge again, nothing new.
    assert services.issue_badge(registration, actor=None).id == badge.id
    assert count_rows(Badge) == 1


def test_role_comes_from_the_type_code(db):
    event = make_event()
    for code, role in (("speaker", BadgeRole.SPEAKER), ("press", BadgeRole.PRESS)):
        badge = make_badge(event, make_type(event, code, is_free=True))
        assert badge.role == role
        assert read_header(services.badge_token(badge)).role is role


def test_only_confirmed_registrations_get_badges(db):
    event = make_event()
    paying = make_registration(event, make_type(event))
    assert paying.status == RegistrationStatus.AWAITING_PAYMENT
    with pytest.raises(BadgeError) as refused:
        services.issue_badge(paying, actor=None)
    assert refused.value.code == "not_confirmed"


def test_only_the_holder_or_organisers_issue(db, make_user):
    event = make_event()
    registration = confirmed_registration(event)
    stranger = db.session.merge(make_user(roles=[Role.DELEGATE]))
    with pytest.raises(BadgeError):
        services.issue_badge(registration, actor=stranger)
    organiser = db.session.merge(make_user(roles=[Role.ORGANISER]))
    assert services.issue_badge(registration, actor=organiser).id


def test_issue_missing_badges(db):
    event = make_event()
    free = make_type(event, is_free=True)
    first = confirmed_registration(event, free)
    services.issue_badge(first, actor=None)
    for _ in range(3):
        confirmed_registration(event, free)
    make_registration(event, make_type(event))  # awaiting payment: no badge
    assert services.issue_missing_badges(event, actor=None) == 3
    assert count_rows(Badge) == 4
    assert services.issue_missing_badges(event, actor=None) == 0


def test_organiser_actions_are_refused_to_delegates(db, make_user):
    event = make_event()
    badge = make_badge(event)
    delegate = db.session.merge(make_user(roles=[Role.DELEGATE]))
    for action in (services.reissue_badge, services.revoke_badge, services.restore_badge):
        with pytest.raises(BadgeError):
            action(badge, actor=delegate)
    with pytest.raises(BadgeError):
        services.issue_missing_badges(event, actor=delegate)


def test_token_verifies(db):
    event = make_event()
    badge = make_badge(event, make_type(event, "staff", is_free=True))
    token = services.badge_token(badge)
    assert token == services.badge_token(badge)  # stable: the printed badge keeps working
    found, header, reason = services.verify_token(event, token)
    assert (found, reason) == (badge, None)
    assert header.badge_id == badge.id
    assert header.category == badge.registration.registration_type_id
    assert header.role is BadgeRole.STAFF
    assert header.valid_day_mask == 0b1111


def test_reissue_revokes_the_old_version(db):
    event = make_event()
    badge = make_badge(event)
    old = services.badge_token(badge)
    services.reissue_badge(badge, actor=None)
    assert badge.version == 2
    new = services.badge_token(badge)
    assert new != old
    assert services.verify_token(event, new)[2] is None
    found, header, reason = services.verify_token(event, old)
    assert (found, header.version, reason) == (badge, 1, "old_version")


def test_revoke_and_restore(db):
    event = make_event()
    badge = make_badge(event)
    token = services.badge_token(badge)
    services.revoke_badge(badge, actor=None)
    assert services.verify_token(event, token)[2] == "badge_revoked"
    services.restore_badge(badge, actor=None)
    assert services.verify_token(event, token)[2] is None
    actions = [entry.action for entry in badge.registration.history]
    assert "badge_revoked" in actions
    assert "badge_restored" in actions


def test_verify_refusals(db):
    event = make_event()
    other = make_event(slug="other2027", short_name="Other 2027")
    badge = make_badge(event)
    token = services.badge_token(badge)
    foreign = services.badge_token(make_badge(other))

    assert services.verify_token(event, "nonsense") == (None, None, "malformed")
    assert services.verify_token(event, token[:-3])[2] == "malformed"
    assert services.verify_token(event, foreign)[2] == "wrong_event"
    flipped = token[:40] + ("A" if token[40] != "A" else "B") + token[41:]
    assert services.verify_token(event, flipped)[2] in {"bad_signature", "malformed"}

    # A token signed by a key the event does not have.
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from app.badges.tokens import TokenHeader, encode_token

    header = read_header(token)
    forged = encode_token(header, Ed25519PrivateKey.generate())
    assert services.verify_token(event, forged)[2] == "bad_signature"
    unknown_key = TokenHeader(**{**header.__dict__, "key_id": (header.key_id + 1) % 256})
    assert services.verify_token(event, encode_token(unknown_key, Ed25519PrivateKey.generate()))[
        2
    ] == ("unknown_key")

    # A properly signed token for a badge that does not exist.
    key = services.signing_key(event)
    ghost = TokenHeader(**{**header.__dict__, "badge_id": badge.id + 1000})
    private = services._private_key(key)
    assert services.verify_token(event, encode_token(ghost, private)) == (
        None,
        ghost,
        "unknown_badge",
    )


def test_holders_in_constant_queries(db, count_queries):
    event = make_event()
    free = make_type(event, is_free=True, name="Government delegate")
    for index in range(3):
        make_badge(event, free, badge_name=f"Name {index}", nationality="ID")
    db.session.commit()
    db.session.expire_all()
    with count_queries() as few:
        services.holders(event)
    for index in range(3, 10):
        make_badge(event, free, badge_name=f"Name {index}", nationality="ID")
    db.session.commit()
    db.session.expire_all()
    with count_queries() as many:
        people = services.holders(event)
    assert few.count == many.count
    assert len(people) == 10
    first = people[0]
    assert first.name == "Name 0"
    assert (first.country, first.country_name) == ("ID", "Indonesia")
    assert first.category == "Government delegate"
    assert first.organisation == "Nigerian Correctional Service"
    assert first.role is BadgeRole.DELEGATE


def test_holder_of_one_badge(db):
    event = make_event()
    badge = make_badge(event, badge_name="Ni Luh Putu")
    shown = services.holder(badge)
    assert (shown.badge_id, shown.number, shown.version, shown.name) == (
        badge.id,
        badge.number,
        1,
        "Ni Luh Putu",
    )


def test_cancelled_registration_keeps_its_badge_row(db):
    event = make_event()
    badge = make_badge(event)
    cancel_registration(badge.registration, actor=None)
    # Check-in refuses it ("registration_ended"); the token itself stays genuine.
    assert services.verify_token(event, services.badge_token(badge))[2] is None
    assert db.session.scalar(select(Badge.id)) == badge.id


def test_number_clash_falls_back_to_one_at_a_time(db, monkeypatch):
    event = make_event()
    free = make_type(event, is_free=True)
    taken = make_badge(event, free).number
    for _ in range(3):
        confirmed_registration(event, free)
    fresh = iter(["ZZZZ-ZZZ2", "ZZZZ-ZZZ3", "ZZZZ-ZZZ4"])
    numbers = iter([taken, taken, taken])  # the batch clashes, then the first retry too
    monkeypatch.setattr(services, "_new_number", lambda: next(numbers, None) or next(fresh))
    assert services.issue_missing_badges(event, actor=None) == 3
    assert count_rows(Badge) == 4
    assert set(db.session.scalars(select(Badge.number))) == {
        taken,
        "ZZZZ-ZZZ2",
        "ZZZZ-ZZZ3",
        "ZZZZ-ZZZ4",
    }
