"""Registration rules: states, waiting list, emails, history, delegations, bad input, counts."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from app.auth.models import Role, User
from app.extensions import db as _db
from app.registration import services
from app.registration.models import (
    Delegation,
    Registration,
    RegistrationHistory,
    RegistrationStatus,
)
from app.registration.passports import decrypt_passport
from app.registration.services import MemberInvite, RegistrationError
from tests.registration.factories import (
    IDR_FEE,
    USD_FEE,
    count_rows,
    details,
    make_event,
    make_registration,
    make_type,
    open_registration,
    visa_details,
)

NOW = datetime(2026, 1, 10, 2, 0, tzinfo=UTC)


def body_of(message) -> str:
    """A received message's text."""
    return message.get_payload(decode=True).decode()


def link_in(message, path: str) -> str:
    """The first link in a message whose path starts with `path`."""
    match = re.search(r"https?://\S+" + re.escape(path) + r"\S*", body_of(message))
    assert match, body_of(message)
    return match.group(0)


def token_in(message, path: str) -> str:
    """The token at the end of such a link."""
    return link_in(message, path).rstrip("/").rsplit("/", 1)[-1]


def history_of(registration: Registration) -> list[tuple[str, str | None, str | None]]:
    """(action, from, to) of a registration's history, oldest first."""
    rows = _db.session.scalars(
        select(RegistrationHistory)
        .where(RegistrationHistory.registration_id == registration.id)
        .order_by(RegistrationHistory.id)
    )
    return [(row.action, row.from_status, row.to_status) for row in rows]


@pytest.fixture
def event(db):
    """WCPP 2026 with registration open."""
    return make_event()


@pytest.fixture
def organiser(db, make_user):
    """An organiser, attached to the test's session."""
    return _db.session.get(User, make_user(roles=[Role.ORGANISER], name="Rika").id)


# --- the normal paths ------------------------------------------------------------------------


def test_a_free_type_confirms_at_once_and_creates_a_delegate_account(db, event, mailbox):
    speaker = make_type(event, "speaker", is_free=True)
    registration, created = services.register_delegate(
        event, details(speaker, email="Amara@Probation.Example")
    )
    db.session.commit()

    assert created
    assert registration.status == RegistrationStatus.CONFIRMED
    assert registration.email == "amara@probation.example"
    assert registration.fee_minor == 0
    assert re.fullmatch(r"[A-Z2-9]{8}", registration.reference)
    assert registration.privacy_consent_at is not None
    user = registration.user
    assert user.email == "amara@probation.example"
    assert user.roles == {Role.DELEGATE}
    assert user.password_hash is None
    assert history_of(registration) == [("registered", "submitted", "confirmed")]

    (message,) = mailbox.wait_for(1)
    assert message["To"] == "amara@probation.example"
    assert registration.reference in message["Subject"]
    assert "Confirmed" in message["Subject"]
    assert "/register/confirm/" in body_of(message)
    assert services.next_step(registration) == "confirm_email"


def test_a_paid_type_awaits_payment_in_usd_or_idr(db, event):
    delegate = make_type(event, "delegate")
    foreign = make_registration(event, delegate, nationality="JP", residence_country="JP")
    resident = make_registration(event, delegate, nationality="AU", residence_country="ID")
    indonesian = make_registration(event, delegate, nationality="ID", residence_country="NL")

    assert foreign.status == RegistrationStatus.AWAITING_PAYMENT
    assert (foreign.currency, foreign.fee_minor) == ("USD", USD_FEE)
    assert (resident.currency, resident.fee_minor) == ("IDR", IDR_FEE)
    assert (indonesian.currency, indonesian.fee_minor) == ("IDR", IDR_FEE)


def test_the_early_bird_fee_applies_until_its_deadline(db, event):
    today = services.event_today()
    early = make_type(event, "early", early_bird_usd=35_000, early_bird_until=today)
    late = make_type(event, "late", early_bird_usd=35_000, early_bird_until=today - timedelta(1))

    assert make_registration(event, early).fee_minor == 35_000
    assert make_registration(event, late).fee_minor == USD_FEE
    assert services.fee_for(early, "USD", today + timedelta(days=1)) == USD_FEE
    assert services.currency_for("ID", "ID") == "IDR"
    assert services.currency_for("SG", "MY") == "USD"


def test_a_type_without_a_fee_in_the_delegates_currency_is_refused(db, event):
    usd_only = make_type(event, "usd-only", idr=None)
    with pytest.raises(RegistrationError) as refused:
        services.register_delegate(event, details(usd_only, nationality="ID"))
    assert refused.value.field == "registration_type_id"
    assert count_rows(Registration) == 0


def test_approval_then_payment_then_confirmed(db, event, organiser, mailbox):
    government = make_type(event, "government", needs_approval=True)
    registration = make_registration(event, government)
    db.session.commit()
    assert registration.status == RegistrationStatus.PENDING_APPROVAL
    assert services.next_step(registration) == "confirm_email"
    registration.email_confirmed_at = NOW
    assert services.next_step(registration) == "await_approval"

    services.approve_registration(registration, actor=organiser)
    db.session.commit()
    assert registration.status == RegistrationStatus.AWAITING_PAYMENT
    assert services.next_step(registration) == "pay"

    assert services.mark_paid(registration) is True
    db.session.commit()
    assert registration.status == RegistrationStatus.CONFIRMED
    assert services.mark_paid(registration) is False  # a repeated notice changes nothing
    db.session.commit()
    assert services.next_step(registration) == "none"

    assert history_of(registration) == [
        ("registered", "submitted", "pending_approval"),
        ("approved", "pending_approval", "awaiting_payment"),
        ("paid", "awaiting_payment", "confirmed"),
    ]
    approved = db.session.scalar(
        select(RegistrationHistory).where(RegistrationHistory.action == "approved")
    )
    assert approved.actor_id == organiser.id
    messages = mailbox.wait_for(3)
    assert [m["Subject"].rsplit(": ", 1)[-1] for m in messages] == [
        "Awaiting approval",
        "Awaiting payment",
        "Confirmed",
    ]
    assert "$450.00" in body_of(messages[1])


def test_approving_a_free_type_confirms(db, event, organiser):
    sponsored = make_type(event, "sponsored", needs_approval=True, is_free=True)
    registration = make_registration(event, sponsored)
    services.approve_registration(registration, actor=organiser)
    assert registration.status == RegistrationStatus.CONFIRMED


def test_only_organisers_approve_and_only_pending_registrations(db, event, organiser, make_user):
    government = make_type(event, "government", needs_approval=True)
    registration = make_registration(event, government)
    delegate = registration.user
    with pytest.raises(RegistrationError) as refused:
        services.approve_registration(registration, actor=delegate)
    assert refused.value.code == "organisers_only"
    services.approve_registration(registration, actor=organiser)
    with pytest.raises(RegistrationError) as again:
        services.approve_registration(registration, actor=organiser)
    assert again.value.code == "not_pending"


def test_marking_paid_needs_a_registration_awaiting_payment(db, event):
    free = make_registration(event, make_type(event, "free", is_free=True))
    assert services.mark_paid(free) is False  # already confirmed
    waiting = make_registration(event, make_type(event, "full", capacity=0))
    with pytest.raises(RegistrationError):
        services.mark_paid(waiting)


def test_a_rejection_needs_a_reason_which_the_delegate_reads(db, event, organiser, mailbox):
    government = make_type(event, "government", needs_approval=True)
    registration = make_registration(event, government, language="en")
    db.session.commit()
    mailbox.wait_for(1)
    mailbox.clear()

    with pytest.raises(RegistrationError) as refused:
        services.reject_registration(registration, "   ", actor=organiser)
    assert refused.value.field == "reason"
    assert registration.status == RegistrationStatus.PENDING_APPROVAL

    services.reject_registration(
        registration, "Government delegates are nominated by their ministry.", actor=organiser
    )
    db.session.commit()
    assert registration.status == RegistrationStatus.REJECTED
    assert registration.rejection_reason == "Government delegates are nominated by their ministry."
    assert services.next_step(registration) == "none"
    (message,) = mailbox.wait_for(1)
    assert "Rejected" in message["Subject"]
    assert "Reason: Government delegates are nominated by their ministry." in body_of(message)
    assert history_of(registration)[-1] == ("rejected", "pending_approval", "rejected")


# --- capacity and the waiting list -------------------------------------------------------------


def test_registrations_beyond_capacity_join_the_waiting_list(db, event, mailbox):
    student = make_type(event, "student", capacity=2)
    first, second, third = (make_registration(event, student) for _ in range(3))
    db.session.commit()

    assert first.status == second.status == RegistrationStatus.AWAITING_PAYMENT
    assert third.status == RegistrationStatus.WAITLISTED
    assert third.waitlisted_at is not None
    assert services.places_taken(student, services.utc_now()) == 2
    third.email_confirmed_at = NOW
    assert services.next_step(third) == "wait"
    message = mailbox.wait_for(3)[2]
    assert "On the waiting list" in message["Subject"]
    assert "waiting list" in body_of(message)


def test_a_cancelled_place_is_offered_to_the_first_waiting_who_accepts(db, event, mailbox):
    student = make_type(event, "student", capacity=1)
    holder = make_registration(event, student)
    first = make_registration(event, student)
    second = make_registration(event, student)
    db.session.commit()
    mailbox.wait_for(3)
    mailbox.clear()

    services.cancel_registration(holder, actor=holder.user, reason="Cannot travel", now=NOW)
    db.session.commit()

    assert holder.status == RegistrationStatus.CANCELLED
    assert first.status == RegistrationStatus.WAITLISTED
    assert services._aware(first.offer_expires_at) == NOW + timedelta(hours=48)
    assert second.offer_expires_at is None
    assert services.next_step(first, NOW) == "accept_offer"
    # The offer holds the place: a newcomer waits too.
    assert services.places_taken(student, NOW) == 1
    messages = mailbox.wait_for(2)
    assert {m["To"] for m in messages} == {holder.email, first.email}
    offer = next(m for m in messages if m["To"] == first.email)
    assert offer["Subject"] == "A place at WCPP 2026 is free for you"
    assert "WITA" in body_of(offer)  # the deadline in the congress's time zone
    assert ("offer_made", "waitlisted", "waitlisted") in history_of(first)

    services.accept_offer(first, actor=first.user, now=NOW + timedelta(hours=47))
    db.session.commit()
    assert first.status == RegistrationStatus.AWAITING_PAYMENT
    assert first.offer_expires_at is None
    assert history_of(first)[-1] == ("offer_accepted", "waitlisted", "awaiting_payment")
    assert second.status == RegistrationStatus.WAITLISTED


def test_an_expired_offer_passes_to_the_next_and_ends_the_registration(
    db, event, mailbox, runner, app
):
    student = make_type(event, "student", capacity=1)
    holder = make_registration(event, student)
    first = make_registration(event, student)
    second = make_registration(event, student)
    services.cancel_registration(holder, actor=None, now=NOW)
    db.session.commit()
    mailbox.wait_for(5)
    mailbox.clear()

    with pytest.raises(RegistrationError) as too_late:
        services.accept_offer(first, actor=first.user, now=NOW + timedelta(hours=49))
    assert too_late.value.code == "offer_expired"
    db.session.rollback()

    later = (NOW + timedelta(hours=49)).strftime("%Y-%m-%dT%H:%M:%S")
    result = runner.invoke(args=["kongres", "waitlist-offers", "--now", later])
    assert result.exit_code == 0, result.output
    assert "1 expired offer(s) passed on" in result.output

    db.session.expire_all()
    assert first.status == RegistrationStatus.CANCELLED
    expired = db.session.scalar(
        select(RegistrationHistory).where(
            RegistrationHistory.registration_id == first.id,
            RegistrationHistory.action == "offer_expired",
        )
    )
    # The action says why; no English reason is stored for the pages to show.
    assert expired.details == {}
    assert second.offer_expires_at is not None
    messages = mailbox.wait_for(2)
    to_first = next(m for m in messages if m["To"] == first.email)
    assert "not taken up in time" in body_of(to_first)
    assert any(m["To"] == second.email and "is free for you" in m["Subject"] for m in messages)

    # Nothing more to do: running again passes nothing on.
    again = runner.invoke(args=["kongres", "waitlist-offers", "--now", later])
    assert "0 expired offer(s) passed on" in again.output


def test_a_raised_capacity_offers_the_new_places(db, event, organiser):
    student = make_type(event, "student", capacity=1)
    make_registration(event, student)
    waiting = [make_registration(event, student) for _ in range(3)]
    type_details = services.RegistrationTypeDetails(
        code="student",
        name=student.name,
        capacity=3,
        fees=[
            services.FeeDetails(currency=fee.currency, amount_minor=fee.amount_minor)
            for fee in student.fees
        ],
    )
    services.save_registration_type(event, student, type_details, actor=organiser)
    assert [w.offer_expires_at is not None for w in waiting] == [True, True, False]


def test_registration_types_are_checked(db, event, organiser):
    base = services.RegistrationTypeDetails(
        code="ngo", name=None, fees=[services.FeeDetails(currency="USD", amount_minor=100)]
    )
    with pytest.raises(RegistrationError) as no_name:
        services.save_registration_type(event, None, base, actor=organiser)
    assert no_name.value.field == "name"
    named = replace(base, name=services.TranslatedText(en="NGO", id="LSM"))
    for broken, field in (
        (replace(named, code="no spaces"), "code"),
        (replace(named, capacity=-1), "capacity"),
        (replace(named, fees=[]), "fees"),
        (replace(named, fees=[services.FeeDetails(currency="EUR", amount_minor=1)]), "fees"),
        (replace(named, fees=[services.FeeDetails(currency="USD", amount_minor=-5)]), "fees"),
    ):
        with pytest.raises(RegistrationError) as refused:
            services.save_registration_type(event, None, broken, actor=organiser)
        assert refused.value.field == field
    created = services.save_registration_type(event, None, named, actor=organiser)
    assert [(f.currency, f.amount_minor) for f in created.fees] == [("USD", 100)]
    with pytest.raises(RegistrationError) as duplicate:
        services.save_registration_type(event, None, named, actor=organiser)
    assert duplicate.value.code == "duplicate_code"


# --- idempotency and bad input -----------------------------------------------------------------


def test_a_resubmission_returns_the_first_registration(db, event, mailbox):
    delegate = make_type(event, "delegate")
    submitted = details(delegate, email="twice@probation.example")
    first, created = services.register_delegate(event, submitted)
    db.session.commit()
    again, created_again = services.register_delegate(
        event, replace(submitted, email="  TWICE@probation.example ")
    )
    db.session.commit()

    assert created
    assert not created_again
    assert again.id == first.id
    assert count_rows(Registration) == 1
    assert count_rows(User) == 1
    mailbox.wait_for(1)
    assert len(mailbox.to("twice@probation.example")) == 1


LONG = "x" * 10_000


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"email": "not-an-address"}, "email", "Enter a valid email address."),
        ({"email": ""}, "email", "Enter your email address."),
        ({"nationality": "XX"}, "nationality", "Choose your nationality from the list."),
        ({"residence_country": "ZZ"}, "residence_country", "country of residence"),
        ({"given_name": LONG}, "given_name", "Use at most 100 characters."),
        ({"family_name": LONG}, "family_name", "Use at most 100 characters."),
        ({"badge_name": "b" * 61}, "badge_name", "Use at most 60 characters."),
        ({"given_name": "  "}, "given_name", "Enter your given name."),
        ({"family_name": "Okon\x00kwo"}, "family_name", "control characters"),
        ({"given_name": "Amara\nOkonkwo"}, "given_name", "control characters"),
        ({"dietary_needs": LONG}, "dietary_needs", "Use at most 1000 characters."),
        ({"phone": "call me"}, "phone", "telephone number"),
        ({"emergency_contact_phone": "x"}, "emergency_contact_phone", "telephone number"),
        ({"language": "fr"}, "language", "Indonesian or English"),
        ({"privacy_consent": False}, "privacy_consent", "privacy notice"),
        ({"partner_id": 987654}, "partner_id", "organisation"),
        ({"registration_type_id": 987654}, "registration_type_id", "registration type"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_saved(db, event, mailbox, overrides, field, message):
    delegate = make_type(event, "delegate")
    db.session.commit()
    with pytest.raises(RegistrationError) as refused:
        services.register_delegate(event, details(delegate, **overrides))
    db.session.rollback()
    assert refused.value.field == field
    assert message in str(refused.value)
    assert count_rows(Registration) == 0
    assert count_rows(User) == 0
    assert count_rows(RegistrationHistory) == 0
    db.session.commit()
    assert mailbox.messages == []


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        (
            {"passport_expiry": date(2026, 1, 31)},
            "passport_expiry",
            "The passport must be valid after the congress ends (April 17, 2026).",
        ),
        ({"passport_expiry": date(2026, 4, 17)}, "passport_expiry", "April 17, 2026"),
        ({"passport_expiry": None}, "passport_expiry", "expires"),
        ({"passport_number": None}, "passport_number", "passport number"),
        ({"passport_number": "12"}, "passport_number", "4 to 20 letters and digits"),
        ({"passport_number": "<b>A1234</b>"}, "passport_number", "4 to 20 letters and digits"),
        ({"birth_date": date(2099, 1, 1)}, "birth_date", "date of birth"),
        ({"birth_date": date(1850, 1, 1)}, "birth_date", "date of birth"),
        ({"birth_place": ""}, "birth_place", "place of birth"),
    ],
)
def test_bad_visa_details_are_refused(db, event, overrides, field, message):
    delegate = make_type(event, "delegate")
    with pytest.raises(RegistrationError) as refused:
        services.register_delegate(event, visa_details(delegate, **overrides))
    assert refused.value.field == field
    assert message in str(refused.value)
    assert count_rows(Registration) == 0


def test_types_of_another_event_or_inactive_ones_are_refused(db, event):
    other = make_event(slug="other2027", short_name="Other 2027")
    for registration_type in (
        make_type(other, "elsewhere"),
        make_type(event, "retired", active=False),
    ):
        with pytest.raises(RegistrationError) as refused:
            services.register_delegate(event, details(registration_type))
        assert refused.value.field == "registration_type_id"


def test_html_in_names_is_kept_as_typed(db, event, mailbox):
    delegate = make_type(event, "delegate")
    registration = make_registration(
        event, delegate, given_name="<script>alert(1)</script>", family_name="O'Brien & Co"
    )
    db.session.commit()
    assert registration.given_name == "<script>alert(1)</script>"
    assert registration.badge_name == "<script>alert(1)</script> O'Brien & Co"
    # Plain-text mail shows it as typed; the pages escape it.
    assert "Hello <script>alert(1)</script> O'Brien & Co," in body_of(mailbox.wait_for(1)[0])


def test_the_passport_is_stored_encrypted_and_only_with_a_visa_letter(db, event):
    delegate = make_type(event, "delegate")
    with_visa = services.register_delegate(
        event, visa_details(delegate, passport_number="a 1234 5678")
    )[0]
    without = services.register_delegate(
        event, details(delegate, passport_number="B9999999", birth_place="Abuja")
    )[0]
    assert with_visa.passport_number_encrypted
    assert "A12345678" not in with_visa.passport_number_encrypted
    assert decrypt_passport(with_visa.passport_number_encrypted) == "A12345678"
    assert (with_visa.birth_place, with_visa.passport_expiry) == ("Lagos", date(2031, 6, 30))
    assert without.passport_number_encrypted is None
    assert without.birth_place is None


def test_registration_outside_the_window_is_refused_except_for_organisers(db, event, organiser):
    today = services.event_today()
    open_registration(event, opens_on=today + timedelta(days=1), closes_on=today + timedelta(10))
    delegate = make_type(event, "delegate")
    with pytest.raises(RegistrationError) as not_yet:
        services.register_delegate(event, details(delegate))
    assert not_yet.value.code == "registration_closed"
    assert "Registration opens on" in str(not_yet.value)

    open_registration(event, opens_on=today - timedelta(10), closes_on=today - timedelta(1))
    assert not services.is_open(event, today)
    with pytest.raises(RegistrationError, match="closed"):
        services.register_delegate(event, details(delegate))
    registration, created = services.register_delegate(event, details(delegate), actor=organiser)
    assert created
    assert registration.status == RegistrationStatus.AWAITING_PAYMENT


def test_settings_are_checked(db, event, organiser):
    today = date(2026, 1, 1)
    good = {
        "opens_on": today,
        "closes_on": today + timedelta(days=30),
        "edit_cutoff_on": None,
        "waitlist_offer_hours": 24,
        "passport_retention_days": 30,
    }
    for broken, field in (
        ({"opens_on": None}, "opens_on"),
        ({"closes_on": today - timedelta(days=1)}, "closes_on"),
        ({"waitlist_offer_hours": 0}, "waitlist_offer_hours"),
        ({"waitlist_offer_hours": 721}, "waitlist_offer_hours"),
        ({"passport_retention_days": -1}, "passport_retention_days"),
        ({"edit_cutoff_on": date(9999, 1, 1)}, "edit_cutoff_on"),
    ):
        with pytest.raises(RegistrationError) as refused:
            services.save_settings(event, actor=organiser, **{**good, **broken})
        assert refused.value.field == field
    settings = services.save_settings(event, actor=organiser, **good)
    assert services.settings_for(event) is settings
    assert settings.waitlist_offer_hours == 24
    assert services.is_open(event, today)
    assert not services.is_open(event, today - timedelta(1))


# --- accounts, languages and links -------------------------------------------------------------


def test_an_existing_account_is_linked_and_gains_the_delegate_role(db, event, make_user):
    staff = make_user(roles=[Role.ORGANISER], email="rika@wcpp2026.example")
    registration = make_registration(event, make_type(event), email="rika@wcpp2026.example")
    assert registration.user_id == staff.id
    assert registration.user.roles == {Role.ORGANISER, Role.DELEGATE}
    assert count_rows(User) == 1


def test_emails_arrive_in_the_delegates_language(db, event, mailbox):
    delegate = make_type(event, "delegate")
    make_registration(
        event,
        delegate,
        email="wayan@lapas.example",
        language="id",
        nationality="ID",
        residence_country="ID",
    )
    make_registration(event, delegate, email="jane@probation.example", language="en")
    db.session.commit()
    mailbox.wait_for(2)
    (indonesian,) = mailbox.to("wayan@lapas.example")
    (english,) = mailbox.to("jane@probation.example")
    assert indonesian["Content-Language"] == "id"
    assert "Halo " in body_of(indonesian)
    assert "Panitia penyelenggara WCPP 2026" in body_of(indonesian)
    assert "Rp" in body_of(indonesian)  # Indonesians pay in rupiah
    assert english["Content-Language"] == "en"
    assert "Hello " in body_of(english)
    assert "Kongres Dunia ke-7" in body_of(indonesian)
    assert "7th World Congress on Probation and Parole" in body_of(english)


def test_the_confirmation_link_confirms_the_address(db, event, mailbox, app):
    registration = make_registration(event, make_type(event))
    db.session.commit()
    token = token_in(mailbox.wait_for(1)[0], "/register/confirm/")

    confirmed = services.confirm_email(token, now=NOW)
    db.session.commit()
    assert confirmed.id == registration.id
    assert services._aware(registration.email_confirmed_at) == NOW
    assert services.confirm_email(token).id == registration.id  # again is harmless
    assert [row[0] for row in history_of(registration)] == ["registered", "email_confirmed"]
    assert services.next_step(registration) == "pay"

    for broken in ("nonsense", token[:-2] + "xx"):
        with pytest.raises(RegistrationError) as refused:
            services.confirm_email(broken)
        assert refused.value.code == "link_invalid"
    # A member's completion token is no confirmation token.
    with pytest.raises(RegistrationError):
        services.confirm_email(services.member_token(registration))


def test_resending_emails(db, event, mailbox, organiser):
    registration = make_registration(event, make_type(event))
    db.session.commit()
    mailbox.wait_for(1)
    mailbox.clear()

    services.resend_email(registration, "confirmation", actor=organiser)
    services.resend_email(registration, "status", actor=organiser)
    db.session.commit()
    confirmation, status = mailbox.wait_for(2)
    assert "confirm your email address" in confirmation["Subject"]
    assert "/register/confirm/" in body_of(confirmation)
    assert "Awaiting payment" in status["Subject"]
    assert [row[0] for row in history_of(registration)][-2:] == ["email_resent"] * 2

    with pytest.raises(RegistrationError):
        services.resend_email(registration, "something", actor=organiser)
    registration.email_confirmed_at = NOW
    with pytest.raises(RegistrationError) as already:
        services.resend_email(registration, "confirmation", actor=organiser)
    assert already.value.code == "already_confirmed"


# --- editing and cancelling --------------------------------------------------------------------


def test_a_delegate_edits_until_the_cut_off_and_history_hides_the_passport(db, event, organiser):
    delegate = make_type(event, "delegate")
    registration = services.register_delegate(event, visa_details(delegate))[0]
    user = registration.user
    today = services.event_today()
    open_registration(event, edit_cutoff_on=today)

    edited = replace(
        services.details_of(registration),
        position="Director",
        passport_number="B7654321",
        nationality="GH",
    )
    changes = services.update_registration(registration, edited, actor=user, today=today)
    assert changes["position"] == ["Deputy Controller", "Director"]
    assert changes["passport_number"] == "changed"
    assert decrypt_passport(registration.passport_number_encrypted) == "B7654321"
    entry = db.session.scalar(
        select(RegistrationHistory).where(RegistrationHistory.action == "edited")
    )
    stored = json.dumps(entry.details)
    assert "B7654321" not in stored
    assert "A12345678" not in stored
    assert entry.actor_id == user.id

    # A blank passport number keeps the stored one; nothing changed, nothing recorded.
    assert (
        services.update_registration(
            registration, services.details_of(registration), actor=user, today=today
        )
        == {}
    )
    assert decrypt_passport(registration.passport_number_encrypted) == "B7654321"

    with pytest.raises(RegistrationError) as late:
        services.update_registration(
            registration, edited, actor=user, today=today + timedelta(days=1)
        )
    assert late.value.code == "edit_closed"
    other_type = make_type(event, "academic")
    moved = replace(services.details_of(registration), registration_type_id=other_type.id)
    with pytest.raises(RegistrationError) as type_change:
        services.update_registration(registration, moved, actor=user, today=today)
    assert type_change.value.field == "registration_type_id"
    # Organisers may change anything at any time.
    services.update_registration(
        registration, moved, actor=organiser, today=today + timedelta(days=30)
    )
    assert registration.registration_type_id == other_type.id


def test_addresses_are_changed_by_organisers_only_and_stay_unique(db, event, organiser, mailbox):
    delegate = make_type(event, "delegate")
    first = make_registration(event, delegate)
    second = make_registration(event, delegate)
    second.email_confirmed_at = NOW
    db.session.commit()
    mailbox.wait_for(2)
    mailbox.clear()
    moved = replace(services.details_of(second), email="new.address@probation.example")
    with pytest.raises(RegistrationError) as by_delegate:
        services.update_registration(second, moved, actor=second.user)
    assert by_delegate.value.field == "email"
    taken = replace(services.details_of(second), email=first.email)
    with pytest.raises(RegistrationError) as clash:
        services.update_registration(second, taken, actor=organiser)
    assert clash.value.field == "email"

    changes = services.update_registration(second, moved, actor=organiser)
    db.session.commit()
    assert changes["email"][1] == "new.address@probation.example"
    assert second.email_confirmed_at is None
    assert second.user.email == "new.address@probation.example"
    (message,) = mailbox.wait_for(1)
    assert message["To"] == "new.address@probation.example"
    assert "/register/confirm/" in body_of(message)


def test_a_delegate_cannot_touch_someone_elses_registration(db, event):
    delegate = make_type(event, "delegate")
    mine = make_registration(event, delegate)
    theirs = make_registration(event, delegate)
    with pytest.raises(RegistrationError) as refused:
        services.cancel_registration(theirs, actor=mine.user)
    assert refused.value.code == "not_your_registration"
    services.cancel_registration(mine, actor=mine.user)
    with pytest.raises(RegistrationError) as twice:
        services.cancel_registration(mine, actor=mine.user)
    assert twice.value.code == "already_ended"


# --- delegations -------------------------------------------------------------------------------


def test_a_head_registers_a_delegation_and_members_complete_their_details(db, event, mailbox):
    government = make_type(event, "government")
    head = details(government, email="head@kemlu.example", nationality="PH")
    members = [
        MemberInvite(f"member{n}@bjmp.example", f"Member{n}", "Santos", government.id)
        for n in (1, 2, 3)
    ]
    delegation = services.register_delegation(event, head, members)
    db.session.commit()

    assert delegation.country == "PH"
    registrations = db.session.scalars(
        select(Registration).where(Registration.delegation_id == delegation.id)
    ).all()
    assert len(registrations) == 4
    head_registration = next(r for r in registrations if r.is_delegation_head)
    assert head_registration.email == "head@kemlu.example"
    invited = [r for r in registrations if not r.is_delegation_head]
    assert {r.status for r in invited} == {RegistrationStatus.SUBMITTED}
    assert {r.nationality for r in invited} == {"PH"}
    assert all(services.next_step(r) == "complete_details" for r in invited)

    mailbox.wait_for(4)
    (to_head,) = mailbox.to("head@kemlu.example")
    assert "member1@bjmp.example" in body_of(to_head)
    (to_member,) = mailbox.to("member2@bjmp.example")
    assert "has registered you as a member of the delegation" in body_of(to_member)
    token = token_in(to_member, "/register/member/")

    member = services.member_from_token(token)
    assert member.email == "member2@bjmp.example"
    completed = replace(
        details(government, email="", given_name="Maria", family_name="Santos"),
        nationality="PH",
        residence_country="PH",
    )
    services.complete_member_registration(member, completed, now=NOW)
    db.session.commit()
    assert member.status == RegistrationStatus.AWAITING_PAYMENT
    assert member.given_name == "Maria"
    assert member.email_confirmed_at is not None
    assert services.next_step(member) == "pay"
    assert history_of(member) == [
        ("invited", None, "submitted"),
        ("completed", "submitted", "awaiting_payment"),
    ]
    with pytest.raises(RegistrationError) as again:
        services.complete_member_registration(member, completed)
    assert again.value.code == "already_completed"

    (summary,) = services.delegations_by_country(event)
    assert summary.country == "PH"
    assert summary.head.id == head_registration.id
    assert summary.member_count == 4

    # The same form sent again by the head (signed in) changes nothing.
    again = services.register_delegation(event, head, members, actor=head_registration.user)
    assert again.id == delegation.id
    assert count_rows(Delegation) == 1
    assert count_rows(Registration) == 4


def test_a_member_must_complete_with_the_invited_address(db, event):
    government = make_type(event, "government")
    delegation = services.register_delegation(
        event,
        details(government),
        [MemberInvite("invited@bjmp.example", "Ana", None, government.id)],
    )
    member = next(m for m in delegation.members if not m.is_delegation_head)
    with pytest.raises(RegistrationError) as refused:
        services.complete_member_registration(
            member, details(government, email="someone-else@bjmp.example")
        )
    assert refused.value.field == "email"


@pytest.mark.parametrize(
    ("members", "code"),
    [
        ([], "no_members"),
        ([("a@x.example", "A"), ("A@x.example", "B")], "duplicate_member"),
        ([("head@kemlu.example", "A")], "duplicate_member"),
        ([("not an address", "A")], "invalid_email"),
        ([("a@x.example", "")], "required"),
        ([("taken@x.example", "A")], "member_registered"),
    ],
)
def test_bad_delegations_are_refused(db, event, members, code):
    government = make_type(event, "government")
    make_registration(event, government, email="taken@x.example")
    invites = [MemberInvite(email, name, None, government.id) for email, name in members]
    with pytest.raises(RegistrationError) as refused:
        services.register_delegation(
            event, details(government, email="head@kemlu.example"), invites
        )
    assert refused.value.code == code
    assert refused.value.field == "members"
    assert count_rows(Delegation) == 0
    assert count_rows(Registration) == 1


# --- lists and counts --------------------------------------------------------------------------


def test_counts_by_country_and_type_leave_out_ended_registrations(db, event, count_queries):
    delegate = make_type(event, "delegate")
    student = make_type(event, "student")
    make_type(event, "press")
    for nationality in ("JP", "JP", "KE"):
        make_registration(event, delegate, nationality=nationality)
    cancelled = make_registration(event, student, nationality="FR")
    services.cancel_registration(cancelled, actor=None)
    make_registration(event, student, nationality="KE")

    with count_queries() as counter:
        by_country = services.counts_by_country(event)
    assert counter.count == 1
    assert by_country == [("JP", 2), ("KE", 2)]
    by_type = [(row.registration_type.code, row.count) for row in services.counts_by_type(event)]
    assert by_type == [("delegate", 3), ("student", 1), ("press", 0)]


def test_the_registration_query_searches_and_filters(db, event):
    delegate = make_type(event, "delegate")
    student = make_type(event, "student")
    amara = make_registration(event, delegate, given_name="Amara", nationality="NG")
    keiko = make_registration(
        event, student, given_name="Keiko", family_name="Sato", nationality="JP",
        organisation_name="Ministry of Justice of Japan",
    )  # fmt: skip

    def found(**filters) -> list[int]:
        return [r.id for r in db.session.scalars(services.registration_query(event, **filters))]

    assert found(q="keiko") == [keiko.id]
    assert found(q=keiko.reference.lower()) == [keiko.id]
    assert found(q="justice of japan") == [keiko.id]
    assert found(q=amara.email) == [amara.id]
    assert found(q="100%_") == []
    assert found(country="jp") == [keiko.id]
    assert found(type_id=delegate.id) == [amara.id]
    assert found(status="awaiting_payment") == [keiko.id, amara.id]
    assert found(status="nonsense") == []
    assert found(delegation_id=12345) == []


def test_the_purge_command_removes_passport_data_after_the_retention_period(db, event, runner):
    # WCPP ends on 17 April 2026 and the factory keeps passports for 90 days after it.
    registration = services.register_delegate(event, visa_details(make_type(event)))[0]
    db.session.commit()

    early = runner.invoke(args=["kongres", "purge-personal-data", "--today", "2026-07-15"])
    assert early.exit_code == 0, early.output
    assert "from 0 registration(s) as of 2026-07-15" in early.output

    due = runner.invoke(args=["kongres", "purge-personal-data", "--today", "2026-07-16"])
    assert "from 1 registration(s) as of 2026-07-16" in due.output
    db.session.expire_all()
    assert registration.passport_number_encrypted is None
    assert registration.birth_date is None


def test_an_edit_keeps_the_early_bird_fee_but_follows_a_new_currency(db, event):
    today = services.event_today()
    delegate = make_type(event, "delegate", early_bird_usd=35_000, early_bird_until=today)
    registration = make_registration(event, delegate, nationality="JP", residence_country="JP")
    assert registration.fee_minor == 35_000
    later = today + timedelta(days=5)

    moved = replace(services.details_of(registration), position="Director")
    services.update_registration(registration, moved, actor=registration.user, today=later)
    assert (registration.currency, registration.fee_minor) == ("USD", 35_000)

    resident = replace(moved, residence_country="ID")
    changes = services.update_registration(
        registration, resident, actor=registration.user, today=later
    )
    assert (registration.currency, registration.fee_minor) == ("IDR", IDR_FEE)
    assert changes["fee_minor"] == [35_000, IDR_FEE]
