"""The registration review's findings, one test (or more) each: visa letters that keep what
they said and end with the registration (B1), delegations that cannot be hijacked or used to
probe who is registered (B2), type changes with capacity (B3), locked state changes (B4),
junk references (B5), passport data in history (B6), organisers editing unfinished members
(B7), and the smaller points."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import date, timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import event as sqlalchemy_event
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.models import Role, User
from app.auth.services import change_password
from app.events.models import Event
from app.extensions import db as _db
from app.registration import personal_data, services, visa
from app.registration.models import (
    HISTORY_ACTION_LABELS,
    Delegation,
    Registration,
    RegistrationHistory,
    RegistrationStatus,
    RegistrationType,
    VisaLetter,
)
from app.registration.organiser_views import history_lines
from app.registration.services import MemberInvite, RegistrationError
from tests.conftest import TEST_PASSWORD, requires_postgres
from tests.registration.factories import (
    WCPP_ENDS_ON,
    count_rows,
    details,
    make_event,
    make_registration,
    make_type,
    open_registration,
)
from tests.registration.test_public_views import delegation_data, field_error, form_data
from tests.registration.test_visa import pdf_text, visa_registration

GENERIC_MEMBER_REFUSAL = "cannot be invited with this form"


@pytest.fixture
def wcpp(db):
    """WCPP 2026 open for registration, with a paid type and a free one (committed)."""
    event = make_event()
    types = {
        "paid": make_type(event, "delegate"),
        "free": make_type(event, "speaker", is_free=True),
    }
    db.session.commit()
    return event, types


@pytest.fixture
def organiser(db, make_user) -> User:
    """An organiser, attached to the test's session."""
    return db.session.get(User, make_user(roles=[Role.ORGANISER], name="Rika").id)


@pytest.fixture
def public_wcpp(wcpp) -> dict:
    """The same congress as the public form tests know it: ids."""
    event, types = wcpp
    return {"event_id": event.id, "paid": types["paid"].id, "free": types["free"].id}


def with_password(registration: Registration) -> str:
    """Give the registration's account a password (committed); returns its email address."""
    change_password(registration.user, TEST_PASSWORD)
    _db.session.commit()
    return registration.email


def edit(registration: Registration, *, actor: User | None, **changes) -> dict:
    """update_registration with the registration's own details and some changes."""
    return services.update_registration(
        registration, replace(services.details_of(registration), **changes), actor=actor
    )


def history(registration: Registration, action: str) -> list[RegistrationHistory]:
    """The registration's history rows of one action, oldest first."""
    return list(
        _db.session.scalars(
            select(RegistrationHistory)
            .where(
                RegistrationHistory.registration_id == registration.id,
                RegistrationHistory.action == action,
            )
            .order_by(RegistrationHistory.id)
        )
    )


def in_queue(event: Event) -> set[int]:
    """The ids of the registrations waiting for a visa letter."""
    return {registration.id for registration in _db.session.scalars(visa.visa_queue(event))}


# --- B1: a visa letter says what it said when issued, and ends with the registration ---------


def test_a_letter_keeps_its_details_and_a_change_of_identity_revokes_it(
    db, client, wcpp, organiser, mailbox
):
    event, types = wcpp
    registration = visa_registration(
        event, types["paid"], given_name="Amara", family_name="Okonkwo", nationality="NG"
    )
    letter = visa.issue_visa_letter(registration, actor=organiser)
    db.session.commit()
    assert (letter.holder_name, letter.holder_nationality) == ("Amara Okonkwo", "NG")
    assert letter.passport_number_encrypted is not None

    # What the letter does not print leaves it valid.
    edit(registration, actor=registration.user, phone="+234 803 555 0199")
    db.session.commit()
    assert visa.current_letter(registration).id == letter.id
    mailbox.clear()

    edit(registration, actor=organiser, given_name="Mallory", nationality="GB")
    db.session.commit()
    assert letter.is_revoked
    assert letter.revocation_reason == "details_changed"
    assert registration.id in in_queue(event)
    # The old letter still reads as issued: its PDF and its check show the old details.
    text = pdf_text(visa.letter_pdf(letter))
    assert "Amara Okonkwo" in text
    assert "Mallory" not in text
    page = client.get(f"/visa/verify/{letter.verification_code}").get_data(as_text=True)
    assert "Revoked" in page
    assert "Amara Okonkwo" in page
    assert "Mallory" not in page
    (notice,) = mailbox.to(registration.email)
    assert (
        "Your details changed after your visa invitation letter"
        in notice.get_payload(decode=True).decode()
    )

    # A new letter names the new details.
    new = visa.issue_visa_letter(registration, actor=organiser)
    db.session.commit()
    assert "Mallory Okonkwo" in pdf_text(visa.letter_pdf(new))


def test_a_new_passport_number_revokes_the_letter(db, wcpp, organiser):
    event, types = wcpp
    registration = visa_registration(event, types["paid"])
    letter = visa.issue_visa_letter(registration, actor=organiser)
    db.session.commit()

    edit(registration, actor=registration.user, passport_number="C7654321")
    db.session.commit()
    assert letter.is_revoked
    assert "C7654321" not in pdf_text(visa.letter_pdf(letter))
    assert "C7654321" in pdf_text(
        visa.letter_pdf(visa.issue_visa_letter(registration, actor=organiser))
    )


@pytest.mark.parametrize("ending", ["cancelled", "rejected", "refunded"])
def test_a_letter_is_revoked_when_the_registration_ends(db, wcpp, organiser, mailbox, ending):
    event, types = wcpp
    registration = visa_registration(event, types["paid"])
    letter = visa.issue_visa_letter(registration, actor=organiser)
    db.session.commit()

    if ending == "cancelled":
        services.cancel_registration(registration, actor=registration.user)
    elif ending == "rejected":
        services.reject_registration(registration, "Not eligible", actor=organiser)
    else:
        services.mark_paid(registration)
        services.mark_refunded(registration, actor=organiser)
    db.session.commit()

    assert registration.status == ending
    assert letter.is_revoked
    assert letter.revocation_reason == "registration_ended"
    assert str(letter.revocation_reason_text).startswith("The registration was cancelled")
    assert len(history(registration, "visa_letter_revoked")) == 1
    assert visa.downloadable_letter(registration) is None
    assert registration.id not in in_queue(event)


def test_no_pdf_for_an_ended_registration_even_with_an_unrevoked_letter(
    app, db, client, auth, wcpp, organiser
):
    event, types = wcpp
    registration = visa_registration(event, types["paid"])
    visa.issue_visa_letter(registration, actor=organiser)
    email = with_password(registration)
    reference = registration.reference
    auth.login(email)
    assert client.get("/my/registration/visa-letter.pdf").status_code == 200

    # Data from before the letters were revoked on ending: the letter is still current.
    registration.status = RegistrationStatus.CANCELLED.value
    db.session.commit()
    assert client.get("/my/registration/visa-letter.pdf").status_code == 404
    auth.logout()
    auth.login_as(Role.ORGANISER)
    assert client.get(f"/registrations/{reference}/visa-letter.pdf").status_code == 404


def test_erasure_and_the_purge_empty_the_letters_copies(db, wcpp, organiser):
    event, types = wcpp
    erased = visa_registration(event, types["paid"])
    purged = visa_registration(event, types["paid"])
    erased_letter = visa.issue_visa_letter(erased, actor=organiser)
    purged_letter = visa.issue_visa_letter(purged, actor=organiser)
    db.session.commit()

    personal_data.erase_personal_data(erased, actor=erased.user)
    db.session.commit()
    assert erased_letter.is_revoked
    assert erased_letter.holder_name == personal_data.ERASED_NAME
    assert erased_letter.passport_number_encrypted is None
    assert erased_letter.birth_date is None

    # The purge also finds data that is left only on a letter.
    purged.passport_number_encrypted = purged.birth_date = purged.birth_place = None
    purged.passport_expiry = None
    db.session.commit()
    assert personal_data.purge_passport_data(date(2027, 1, 1)) == 1
    db.session.commit()
    db.session.expire_all()
    for column in personal_data.PASSPORT_COLUMNS:
        assert getattr(purged_letter, column) is None
    assert purged_letter.holder_name == purged.full_name


# --- B2: delegations ------------------------------------------------------------------------


def test_a_stranger_cannot_make_a_registered_delegate_head_of_a_delegation(
    app, db, client, public_wcpp, mailbox
):
    event = db.session.get(Event, public_wcpp["event_id"])
    victim = make_registration(
        event,
        db.session.get(RegistrationType, public_wcpp["paid"]),
        email="head@example.org",
        given_name="Victoria",
    )
    db.session.commit()
    mailbox.clear()

    response = client.post("/register/delegation", data=delegation_data(public_wcpp))
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/register/received")
    # The same answer as a fresh submission, but nothing changed and nobody was written to.
    received = client.get("/register/received").get_data(as_text=True)
    assert "member1@example.org" in received
    assert "Victoria" not in received
    db.session.expire_all()
    assert count_rows(Delegation) == 0
    assert count_rows(Registration) == 1
    assert victim.delegation_id is None
    assert not victim.is_delegation_head
    assert mailbox.messages == []


def test_the_signed_in_owner_may_make_their_registration_head_of_a_delegation(
    app, db, client, auth, public_wcpp, mailbox
):
    event = db.session.get(Event, public_wcpp["event_id"])
    head = make_registration(
        event, db.session.get(RegistrationType, public_wcpp["paid"]), email="head@example.org"
    )
    auth.login(with_password(head))
    mailbox.clear()

    response = client.post("/register/delegation", data=delegation_data(public_wcpp))
    assert response.status_code == 302
    db.session.expire_all()
    assert head.is_delegation_head
    assert {member.email for member in head.delegation.members} == {
        "head@example.org",
        "member1@example.org",
        "member2@example.org",
    }
    mailbox.wait_for(2)
    assert len(mailbox.to("member1@example.org")) == 1


def test_registered_members_are_refused_with_one_message_that_tells_nothing_more(
    db, client, public_wcpp
):
    event = db.session.get(Event, public_wcpp["event_id"])
    paid = db.session.get(RegistrationType, public_wcpp["paid"])
    make_registration(event, paid, email="alone@example.org")
    services.register_delegation(
        event,
        details(paid, email="other-head@example.org"),
        [MemberInvite("in-a-delegation@example.org", "Nur", None, paid.id)],
    )
    cancelled = make_registration(event, paid, email="cancelled@example.org")
    services.cancel_registration(cancelled, actor=None)
    db.session.commit()

    messages = set()
    for address in ("alone@example.org", "in-a-delegation@example.org", "cancelled@example.org"):
        data = delegation_data(public_wcpp)
        data["email"] = "new-head@example.org"
        data["members-0-email"] = address
        html = client.post("/register/delegation", data=data).get_data(as_text=True)
        message = field_error(html, "members")
        assert GENERIC_MEMBER_REFUSAL in message
        messages.add(message.replace(address, "…"))
    assert len(messages) == 1
    assert count_rows(Registration) == 4


def test_a_default_delegation_name_is_shown_in_the_readers_language(db, wcpp):
    event, types = wcpp
    delegation = services.register_delegation(
        event,
        details(types["paid"], nationality="DE", organisation_name=None),
        [MemberInvite("member@example.org", "Ana", None, types["paid"].id)],
    )
    db.session.commit()
    assert delegation.chosen_name is None
    with force_locale("en"):
        assert delegation.name == "Delegation of Germany"
    with force_locale("id"):
        assert "Jerman" in delegation.name
    named = db.session.scalar(select(Delegation).order_by(Delegation.name.is_(None)))
    assert named.id == delegation.id


# --- B3: a new type is admitted with its capacity -------------------------------------------


def test_moving_to_a_full_type_waitlists_and_offers_the_old_place(db, organiser, mailbox):
    event = make_event()
    delegate = make_type(event, "delegate", capacity=1)
    workshop = make_type(event, "workshop", capacity=1)
    make_registration(event, workshop)
    moving = make_registration(event, delegate)
    waiting = make_registration(event, delegate)
    db.session.commit()
    assert (moving.status, waiting.status) == ("awaiting_payment", "waitlisted")
    mailbox.clear()

    changes = edit(moving, actor=organiser, registration_type_id=workshop.id)
    db.session.commit()
    assert changes["registration_type_id"] == [delegate.id, workshop.id]
    assert moving.status == RegistrationStatus.WAITLISTED
    assert moving.waitlisted_at is not None
    (edited,) = history(moving, "edited")
    assert (edited.from_status, edited.to_status) == ("awaiting_payment", "waitlisted")
    assert services.places_taken(workshop, services.utc_now()) == 1
    # The place it left is offered to the first waiting for the old type.
    assert services.has_open_offer(waiting)
    mailbox.wait_for(2)
    assert len(mailbox.to(moving.email)) == 1


def test_moving_to_a_type_that_needs_approval_waits_for_it(db, organiser):
    event = make_event()
    delegate = make_type(event, "delegate")
    government = make_type(event, "government", needs_approval=True)
    registration = make_registration(event, delegate)
    edit(registration, actor=organiser, registration_type_id=government.id)
    db.session.commit()
    assert registration.status == RegistrationStatus.PENDING_APPROVAL
    services.approve_registration(registration, actor=organiser)
    assert registration.status == RegistrationStatus.AWAITING_PAYMENT


def test_a_confirmed_place_is_not_moved_into_a_full_type(db, organiser):
    event = make_event()
    delegate = make_type(event, "delegate")
    workshop = make_type(event, "workshop", capacity=1)
    make_registration(event, workshop)
    confirmed = make_registration(event, delegate)
    services.mark_paid(confirmed)
    db.session.commit()

    with pytest.raises(RegistrationError) as refused:
        edit(confirmed, actor=organiser, registration_type_id=workshop.id)
    assert refused.value.code == "type_full"
    assert refused.value.field == "registration_type_id"
    db.session.rollback()
    assert confirmed.registration_type_id == delegate.id
    assert confirmed.status == RegistrationStatus.CONFIRMED


# --- B4: state changes are locked and checked again ------------------------------------------


def test_every_state_change_checks_the_state_again(db, organiser):
    event = make_event()
    delegate = make_type(event, "delegate", capacity=1)
    first = make_registration(event, delegate)
    second = make_registration(event, delegate)
    services.cancel_registration(first, actor=None)
    services.accept_offer(second, actor=second.user)
    with pytest.raises(RegistrationError) as again:
        services.accept_offer(second, actor=second.user)
    assert again.value.code == "no_offer"
    with pytest.raises(RegistrationError):
        services.cancel_registration(first, actor=None)
    assert services.mark_paid(second)
    assert not services.mark_paid(second)


@requires_postgres
def test_two_simultaneous_acceptances_of_one_offer_count_once(app, db, mailbox):
    event = make_event()
    delegate = make_type(event, "delegate", capacity=1)
    first = make_registration(event, delegate)
    offered = make_registration(event, delegate)
    services.cancel_registration(first, actor=None)
    db.session.commit()
    assert services.has_open_offer(offered)
    registration_id, user_id, email = offered.id, offered.user_id, offered.email
    mailbox.clear()
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def accept() -> None:
        """One click of the accept button."""
        with app.test_request_context():
            try:
                registration = _db.session.get(Registration, registration_id)
                actor = _db.session.get(User, user_id)
                barrier.wait()
                services.accept_offer(registration, actor=actor)
                _db.session.commit()
                outcomes.append("accepted")
            except RegistrationError as error:
                _db.session.rollback()
                outcomes.append(error.code)
            finally:
                _db.session.remove()

    threads = [threading.Thread(target=accept) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(outcomes) == ["accepted", "no_offer"]
    db.session.expire_all()
    assert len(history(offered, "offer_accepted")) == 1
    mailbox.wait_for(1)
    assert len(mailbox.to(email)) == 1


# --- B5: references that cannot be references -----------------------------------------------


def test_junk_in_a_reference_is_not_found_without_a_query(db, client, auth, wcpp, count_queries):
    event, types = wcpp
    registration = make_registration(event, types["paid"])
    db.session.commit()
    assert services.find_registration(event, registration.reference.lower()) == registration
    with count_queries() as counter:
        for junk in ("AB\x00CDEFG", "ABCDEFG", "ABCDEFGHJ", "ABCDEFG0", "ABC'--EF", None):
            assert services.find_registration(event, junk) is None
    assert counter.count == 0

    auth.login_as(Role.ORGANISER)
    for path in (
        "/registrations/AB%00CDEFG",
        "/registrations/AB%00CDEFG/edit",
        "/registrations/AB%00CDEFG/visa-letter.pdf",
        "/registrations/AB%00CDEFG/visa-letter/revoke",
    ):
        assert client.get(path).status_code == 404, path


# --- B6: passport and birth details in history -----------------------------------------------


def test_history_keeps_only_that_birth_and_passport_details_changed(db, wcpp, organiser):
    event, types = wcpp
    registration = visa_registration(event, types["paid"])
    db.session.commit()
    edit(
        registration,
        actor=registration.user,
        birth_date=date(1980, 1, 2),
        birth_place="Abuja",
        passport_expiry=date(2032, 1, 1),
        phone="+234 803 555 0111",
    )
    db.session.commit()
    (edited,) = history(registration, "edited")
    changes = edited.details["changes"]
    assert {name: changes[name] for name in ("birth_date", "birth_place", "passport_expiry")} == {
        "birth_date": "changed",
        "birth_place": "changed",
        "passport_expiry": "changed",
    }
    assert changes["phone"][1] == "+234 803 555 0111"
    assert ("Place of birth", "changed", None) in history_lines(edited)

    # An entry written before this rule is scrubbed by the purge.
    old = services.record_history(
        registration,
        "edited",
        actor=None,
        changes={"birth_place": ["Lagos", "Abuja"], "passport_expiry": ["2031-06-30", None]},
    )
    db.session.commit()
    assert personal_data.purge_passport_data(WCPP_ENDS_ON + timedelta(days=90)) == 1
    db.session.commit()
    db.session.expire_all()
    assert old.details["changes"] == {"birth_place": "changed", "passport_expiry": "changed"}
    assert edited.details["changes"]["phone"][1] == "+234 803 555 0111"


# --- B7: organisers edit members who have not completed their details ------------------------


def test_an_organiser_edits_a_member_who_has_not_consented_yet(db, wcpp, organiser):
    event, types = wcpp
    delegation = services.register_delegation(
        event,
        details(types["paid"]),
        [MemberInvite("member@example.org", "Ana", None, types["paid"].id)],
    )
    member = next(m for m in delegation.members if not m.is_delegation_head)
    assert member.privacy_consent_at is None

    changes = edit(member, actor=organiser, given_name="Anabel")
    assert changes["given_name"] == ["Ana", "Anabel"]
    assert member.status == RegistrationStatus.SUBMITTED
    assert member.privacy_consent_at is None
    # The member still gives their own consent when completing.
    with pytest.raises(RegistrationError) as refused:
        services.complete_member_registration(
            member, details(types["paid"], email="member@example.org", privacy_consent=False)
        )
    assert refused.value.code == "privacy_consent_required"


# --- the smaller points ----------------------------------------------------------------------


def test_a_member_chooses_a_password_after_completing(app, client, db, wcpp, public_wcpp):
    event, types = wcpp
    delegation = services.register_delegation(
        event,
        details(types["paid"]),
        [MemberInvite("member@example.org", "Ana", None, types["paid"].id)],
    )
    member = next(m for m in delegation.members if not m.is_delegation_head)
    db.session.commit()
    path = f"/register/member/{services.member_token(member)}"
    data = form_data(public_wcpp, given_name="Ana", language="en")
    del data["email"], data["registration_type_id"]
    response = client.post(path, data=data)
    assert response.headers["Location"].endswith(path)
    page = client.get(path).get_data(as_text=True)
    assert "Your registration is complete" in page
    assert "Choose a password" in page
    response = client.post(path, data={"password": TEST_PASSWORD, "confirm": TEST_PASSWORD})
    assert response.headers["Location"].endswith("/my/registration")
    assert "Awaiting payment" in client.get("/my/registration").get_data(as_text=True)


def test_confirming_an_address_commits_once_per_request(app, client, db, wcpp, mailbox):
    event, types = wcpp
    registration = make_registration(event, types["paid"])
    db.session.commit()
    path = f"/register/confirm/{services.email_confirmation_token(registration)}"
    commits = []

    def count(session) -> None:
        """One commit seen."""
        commits.append(session)

    sqlalchemy_event.listen(Session, "after_commit", count)
    try:
        assert client.get(path).status_code == 200
        assert len(commits) == 1
        response = client.post(path, data={"password": TEST_PASSWORD, "confirm": TEST_PASSWORD})
        assert response.status_code == 302
        assert len(commits) == 2
    finally:
        sqlalchemy_event.remove(Session, "after_commit", count)
    db.session.expire_all()
    assert registration.email_confirmed_at is not None
    assert registration.user.password_hash is not None


def test_a_letter_is_issued_outside_a_request(app, db, wcpp, organiser, mailbox):
    event, types = wcpp
    registration_id = visa_registration(event, types["paid"]).id
    organiser_id = organiser.id
    db.session.commit()
    mailbox.clear()
    errors: list[BaseException] = []

    def issue() -> None:
        """As a command or a job would: an application context, no request."""
        with app.app_context():
            try:
                registration = _db.session.get(Registration, registration_id)
                visa.issue_visa_letter(registration, actor=_db.session.get(User, organiser_id))
                _db.session.commit()
            except BaseException as error:  # reported below
                errors.append(error)
            finally:
                _db.session.remove()

    thread = threading.Thread(target=issue)
    thread.start()
    thread.join(timeout=60)
    assert errors == []
    (message,) = mailbox.wait_for(1)
    assert "/my/registration" in message.get_payload(decode=True).decode()
    assert count_rows(VisaLetter) == 1


def test_every_recorded_action_has_a_label_and_an_expired_offer_stores_no_english(db, organiser):
    event = make_event()
    open_registration(event, passport_retention_days=0)
    delegate = make_type(event, "delegate", capacity=1)
    first = make_registration(event, delegate)
    offered = make_registration(event, delegate)
    services.cancel_registration(first, actor=None)
    services.expire_offers(services.utc_now() + timedelta(days=3))
    visa_registration(event, make_type(event, "other"))
    personal_data.purge_passport_data(WCPP_ENDS_ON)
    db.session.commit()

    actions = set(db.session.scalars(select(RegistrationHistory.action)))
    assert {"offer_expired", "passport_data_purged"} <= actions
    assert actions <= HISTORY_ACTION_LABELS.keys()
    (expired,) = history(offered, "offer_expired")
    assert expired.details == {}
    assert history_lines(expired) == []
