"""Delegates' agendas through the services: signing up within capacity, the waiting list and
its promotions, overlaps, who may sign up for what, and the private calendar link."""

from __future__ import annotations

from datetime import time

import pytest
from sqlalchemy import select

from app.programme import agenda
from app.programme.agenda import AgendaError
from app.programme.models import (
    AgendaFeed,
    ProgrammeSession,
    SessionKind,
    SessionSignup,
    SignupStatus,
)
from app.programme.published import published_programme
from app.programme.publishing import publish_programme
from app.registration import services as registration_services
from app.registration.models import RegistrationStatus
from tests.programme.factories import confirmed_registration, make_room, make_session
from tests.registration.factories import count_rows, make_event, make_registration, make_type


@pytest.fixture
def wcpp(db):
    """The congress with two rooms and, published, a plenary (no sign-up), a workshop of two
    places at the same time, and a later thematic session."""
    event = make_event()
    hall = make_room(event, "Nusa Dua Hall", capacity=1200)
    studio = make_room(event, "Studio 3", capacity=40, position=1)
    plenary = make_session(event, title_en="Opening plenary", kind=SessionKind.PLENARY, room=hall)
    workshop = make_session(
        event,
        title_en="Risk assessment workshop",
        title_id="Lokakarya penilaian risiko",
        kind=SessionKind.WORKSHOP,
        room=studio,
        requires_signup=True,
        capacity=2,
    )
    later = make_session(
        event,
        title_en="Community service orders",
        room=studio,
        start=time(10, 30),
        end=time(12, 0),
    )
    coffee = make_session(
        event, title_en="Coffee", kind=SessionKind.BREAK, start=time(12, 0), end=time(12, 30)
    )
    publish_programme(event, actor=None)
    db.session.commit()
    return {
        "event": event,
        "plenary": plenary.id,
        "workshop": workshop.id,
        "later": later.id,
        "coffee": coffee.id,
        "studio": studio,
    }


def test_signing_up_puts_the_session_in_the_agenda(db, wcpp):
    delegate = confirmed_registration(wcpp["event"])

    signup = agenda.sign_up(delegate, wcpp["plenary"])
    db.session.commit()

    assert signup.status == SignupStatus.CONFIRMED.value
    assert agenda.signup_states(delegate) == {wcpp["plenary"]: "confirmed"}
    assert [session.id for _signup, session in agenda.agenda_of(delegate)] == [wcpp["plenary"]]


def test_signing_up_twice_keeps_one_sign_up(db, wcpp):
    delegate = confirmed_registration(wcpp["event"])

    first = agenda.sign_up(delegate, wcpp["workshop"])
    second = agenda.sign_up(delegate, wcpp["workshop"])
    db.session.commit()

    assert first.id == second.id
    assert count_rows(SessionSignup) == 1


def test_an_overlapping_session_is_refused_naming_the_other_and_its_time(db, wcpp):
    delegate = confirmed_registration(wcpp["event"])
    agenda.sign_up(delegate, wcpp["plenary"])

    with pytest.raises(AgendaError) as refused:
        agenda.sign_up(delegate, wcpp["workshop"])

    assert refused.value.code == "overlap"
    message = str(refused.value)
    assert "“Opening plenary”" in message
    assert "“Risk assessment workshop”" in message
    assert "Tuesday, April 14, 2026, 09:00–10:30 WITA" in message
    assert agenda.signup_states(delegate) == {wcpp["plenary"]: "confirmed"}


def test_a_session_starting_as_another_ends_does_not_overlap(db, wcpp):
    delegate = confirmed_registration(wcpp["event"])
    agenda.sign_up(delegate, wcpp["plenary"])

    agenda.sign_up(delegate, wcpp["later"])

    assert set(agenda.signup_states(delegate)) == {wcpp["plenary"], wcpp["later"]}


def test_a_full_session_puts_the_next_delegate_on_the_waiting_list(db, wcpp, mailbox):
    first, second = (confirmed_registration(wcpp["event"]) for _ in range(2))
    third = confirmed_registration(wcpp["event"], email="third@probation.example")
    agenda.sign_up(first, wcpp["workshop"])
    agenda.sign_up(second, wcpp["workshop"])

    waiting = agenda.sign_up(third, wcpp["workshop"])
    db.session.commit()

    assert waiting.status == SignupStatus.WAITLISTED.value
    assert agenda.waiting_position(waiting) == 1
    assert agenda.waiting_positions(third) == {wcpp["workshop"]: 1}
    assert agenda.places_left([wcpp["workshop"], wcpp["plenary"]]) == {
        wcpp["workshop"]: 0,
        wcpp["plenary"]: None,
    }
    mailbox.wait_for(4)  # three registrations received, one waiting-list message
    (message,) = [m for m in mailbox.to("third@probation.example") if "Waiting" in m["Subject"]]
    assert message["Subject"] == "Waiting list: Risk assessment workshop"
    body = message.get_payload(decode=True).decode()
    assert "as number 1" in body
    assert "Tuesday, April 14, 2026, 09:00–10:30 WITA · Studio 3" in body
    assert f"/programme/sessions/{wcpp['workshop']}" in body


def test_withdrawing_gives_the_place_to_the_first_waiting_with_an_email(db, wcpp, mailbox):
    first, second = (confirmed_registration(wcpp["event"]) for _ in range(2))
    third = confirmed_registration(wcpp["event"], email="third@probation.example", language="id")
    fourth = confirmed_registration(wcpp["event"])
    for delegate in (first, second, third, fourth):
        agenda.sign_up(delegate, wcpp["workshop"])
    db.session.commit()
    mailbox.wait_for(6)
    mailbox.clear()

    agenda.withdraw(first, wcpp["workshop"])
    db.session.commit()

    states = {
        signup.registration_id: signup.status
        for signup in db.session.scalars(select(SessionSignup))
    }
    assert states == {
        second.id: "confirmed",
        third.id: "confirmed",
        fourth.id: "waitlisted",
    }
    promoted = db.session.scalar(
        select(SessionSignup).where(SessionSignup.registration_id == third.id)
    )
    assert promoted.promoted_at is not None
    assert agenda.waiting_positions(fourth) == {wcpp["workshop"]: 1}
    (message,) = mailbox.wait_for(1)
    assert message["To"] == "third@probation.example"
    assert message["Content-Language"] == "id"
    # The session's title in the delegate's language.
    assert "Lokakarya penilaian risiko" in message["Subject"]


def test_leaving_the_waiting_list_promotes_nobody(db, wcpp):
    delegates = [confirmed_registration(wcpp["event"]) for _ in range(4)]
    for delegate in delegates:
        agenda.sign_up(delegate, wcpp["workshop"])

    agenda.withdraw(delegates[2], wcpp["workshop"])

    assert agenda.signup_states(delegates[3]) == {wcpp["workshop"]: "waitlisted"}
    assert agenda.waiting_positions(delegates[3]) == {wcpp["workshop"]: 1}


def test_withdrawing_from_a_session_one_is_not_in_changes_nothing(db, wcpp):
    delegate = confirmed_registration(wcpp["event"])

    agenda.withdraw(delegate, wcpp["workshop"])

    assert count_rows(SessionSignup) == 0


def test_a_registration_that_is_not_confirmed_cannot_sign_up(db, wcpp):
    paid = make_type(wcpp["event"], "delegate")
    awaiting = make_registration(wcpp["event"], paid)
    assert awaiting.status == RegistrationStatus.AWAITING_PAYMENT.value

    with pytest.raises(AgendaError) as refused:
        agenda.sign_up(awaiting, wcpp["plenary"])

    assert refused.value.code == "not_confirmed"
    assert "Awaiting payment" in str(refused.value)
    assert count_rows(SessionSignup) == 0


def test_a_session_that_is_not_published_cannot_be_signed_up_for(db, wcpp):
    delegate = confirmed_registration(wcpp["event"])
    draft = make_session(wcpp["event"], title_en="Not yet", start=time(14, 0), end=time(15, 0))

    for session_id in (draft.id, 999_999):
        with pytest.raises(AgendaError) as refused:
            agenda.sign_up(delegate, session_id)
        assert refused.value.code == "not_published"


def test_a_break_cannot_be_signed_up_for(db, wcpp):
    delegate = confirmed_registration(wcpp["event"])

    with pytest.raises(AgendaError) as refused:
        agenda.sign_up(delegate, wcpp["coffee"])

    assert refused.value.code == "break"


def test_places_of_cancelled_registrations_go_to_those_waiting(db, wcpp, mailbox):
    first, second, third = (confirmed_registration(wcpp["event"]) for _ in range(3))
    for delegate in (first, second, third):
        agenda.sign_up(delegate, wcpp["workshop"])
    registration_services.cancel_registration(first, actor=None)
    # The cancelled delegate's place is free at once; the one waiting takes it first.
    assert agenda.places_left([wcpp["workshop"]]) == {wcpp["workshop"]: 0}

    promoted = agenda.fill_free_places(wcpp["workshop"])

    assert [signup.registration_id for signup in promoted] == [third.id]
    assert agenda.signup_states(third) == {wcpp["workshop"]: "confirmed"}
    assert agenda.places_left([wcpp["workshop"]]) == {wcpp["workshop"]: 0}
    assert agenda.fill_free_places(wcpp["workshop"]) == []


def test_a_newcomer_does_not_pass_those_waiting(db, wcpp):
    first, second, third, newcomer = (confirmed_registration(wcpp["event"]) for _ in range(4))
    for delegate in (first, second, third):
        agenda.sign_up(delegate, wcpp["workshop"])
    registration_services.cancel_registration(first, actor=None)

    late = agenda.sign_up(newcomer, wcpp["workshop"])

    assert late.status == SignupStatus.WAITLISTED.value
    assert agenda.signup_states(third) == {wcpp["workshop"]: "confirmed"}


def test_places_left_uses_one_query_for_many_sessions(db, wcpp, count_queries):
    delegate = confirmed_registration(wcpp["event"])
    agenda.sign_up(delegate, wcpp["workshop"])
    ids = [wcpp["plenary"], wcpp["workshop"], wcpp["later"], wcpp["coffee"]]
    programme = published_programme(wcpp["event"])

    with count_queries() as counter:
        left = agenda.places_left(ids, programme)

    assert counter.count == 1
    assert left == {
        wcpp["plenary"]: None,
        wcpp["workshop"]: 1,
        wcpp["later"]: None,
        wcpp["coffee"]: None,
    }


def test_the_agenda_lists_sessions_in_time_order(db, wcpp):
    delegate = confirmed_registration(wcpp["event"])
    agenda.sign_up(delegate, wcpp["later"])
    agenda.sign_up(delegate, wcpp["workshop"])

    sessions = [session.id for _signup, session in agenda.agenda_of(delegate)]

    assert sessions == [wcpp["workshop"], wcpp["later"]]


def test_the_calendar_link_is_private_and_a_new_one_revokes_the_old(db, wcpp):
    delegate = confirmed_registration(wcpp["event"])

    token = agenda.feed_token(delegate)
    assert agenda.feed_token(delegate) == token
    assert len(token) == 43
    assert agenda.registration_for_feed(token).id == delegate.id

    new = agenda.reset_feed_token(delegate)
    db.session.commit()

    assert new != token
    assert agenda.registration_for_feed(token) is None
    assert agenda.registration_for_feed(new).id == delegate.id
    assert count_rows(AgendaFeed) == 1
    for nonsense in ("", "short", "x" * 43 + "\x00", "é" * 43):
        assert agenda.registration_for_feed(nonsense) is None


def test_the_calendar_link_stops_working_when_the_registration_ends(db, wcpp):
    delegate = confirmed_registration(wcpp["event"])
    token = agenda.feed_token(delegate)

    registration_services.cancel_registration(delegate, actor=None)

    assert agenda.registration_for_feed(token) is None


def test_publishing_a_larger_capacity_gives_the_new_places_to_those_waiting(db, wcpp, mailbox):
    delegates = [confirmed_registration(wcpp["event"]) for _ in range(3)]
    for registration in delegates:
        agenda.sign_up(registration, wcpp["workshop"])
    db.session.commit()
    workshop = db.session.get(ProgrammeSession, wcpp["workshop"])
    workshop.capacity = 3

    publish_programme(wcpp["event"], actor=None)
    db.session.commit()

    statuses = db.session.scalars(
        select(SessionSignup.status).where(SessionSignup.session_id == wcpp["workshop"])
    ).all()
    assert sorted(statuses) == ["confirmed"] * 3
    assert agenda.places_left([wcpp["workshop"]]) == {wcpp["workshop"]: 0}
