"""Session places under concurrency: many real threads, each with its own session, signing
up at the same moment against PostgreSQL (issue 6, item 5)."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import func, select

from app.extensions import db as _db
from app.programme import agenda
from app.programme.models import SessionSignup, SignupStatus
from app.programme.publishing import publish_programme
from app.registration.models import Registration
from tests.conftest import requires_postgres
from tests.programme.factories import make_room, make_session
from tests.registration.factories import count_rows, make_event, make_registration, make_type

# The registration tests' pool (a connection for most threads) and their barrier runner.
from tests.registration.test_concurrency import _run_at_once, busy_app  # noqa: F401

PLACES = 30


def _set_up(app, delegates: int) -> tuple[int, list[int]]:
    """A published workshop of PLACES places and `delegates` confirmed registrations,
    committed; returns the session's id and the registrations' ids."""
    with app.test_request_context():
        event = make_event()
        room = make_room(event, "Studio 3", capacity=40)
        workshop = make_session(
            event, title_en="Risk workshop", room=room, requires_signup=True, capacity=PLACES
        )
        publish_programme(event, actor=None)
        free = make_type(event, "speaker", is_free=True)
        registrations = [
            make_registration(event, free, email=f"rush{number}@probation.example")
            for number in range(delegates)
        ]
        _db.session.commit()
        ids = workshop.id, [registration.id for registration in registrations]
        _db.session.remove()
    return ids


@requires_postgres
def test_a_hundred_delegates_at_once_take_exactly_the_places(busy_app, mailbox):  # noqa: F811
    session_id, registration_ids = _set_up(busy_app, 100)
    mailbox.wait_for(100, timeout=30)  # the registrations' own messages
    mailbox.clear()

    def sign_up(_event, _registration_type, number):
        """Each thread a different delegate."""
        registration = _db.session.get(Registration, registration_ids[number])
        return agenda.sign_up(registration, session_id).status

    results, errors = _run_at_once(busy_app, 100, sign_up)

    assert errors == []
    assert Counter(results) == {"confirmed": PLACES, "waitlisted": 100 - PLACES}
    with busy_app.app_context():
        rows = _db.session.execute(
            select(SessionSignup.status, func.count()).group_by(SessionSignup.status)
        )
        assert dict(rows.all()) == {"confirmed": PLACES, "waitlisted": 100 - PLACES}
        assert count_rows(SessionSignup) == 100
        # The waiting list is in order of arrival: everyone waiting came after the last place.
        last_place = _db.session.scalar(
            select(func.max(SessionSignup.created_at)).where(
                SessionSignup.status == SignupStatus.CONFIRMED.value
            )
        )
        first_waiting = _db.session.scalar(
            select(func.min(SessionSignup.created_at)).where(
                SessionSignup.status == SignupStatus.WAITLISTED.value
            )
        )
        assert last_place <= first_waiting
        positions = [
            agenda.waiting_positions(registration)[session_id]
            for registration in _db.session.scalars(
                select(Registration)
                .join(SessionSignup, SessionSignup.registration_id == Registration.id)
                .where(SessionSignup.status == SignupStatus.WAITLISTED.value)
            )
        ]
        assert sorted(positions) == list(range(1, 100 - PLACES + 1))
        _db.session.remove()
    messages = mailbox.wait_for(100 - PLACES, timeout=30)
    assert len(messages) == 100 - PLACES
    assert {message["Subject"] for message in messages} == {"Waiting list: Risk workshop"}


@requires_postgres
def test_the_same_delegate_from_ten_threads_signs_up_once(busy_app):  # noqa: F811
    session_id, (registration_id,) = _set_up(busy_app, 1)

    def sign_up(_event, _registration_type, _number):
        """Every thread the same delegate (a double click, many times over)."""
        registration = _db.session.get(Registration, registration_id)
        return agenda.sign_up(registration, session_id).id

    results, errors = _run_at_once(busy_app, 10, sign_up)

    assert errors == []
    assert len(results) == 10
    assert len(set(results)) == 1
    with busy_app.app_context():
        assert count_rows(SessionSignup) == 1
        _db.session.remove()


@requires_postgres
def test_leaving_and_joining_at_once_keep_the_capacity(busy_app):  # noqa: F811
    """Delegates holding places leave while as many newcomers sign up: the places never
    exceed the capacity and nobody is left waiting for a free place."""
    threads = 10
    session_id, registration_ids = _set_up(busy_app, PLACES + threads)
    with busy_app.test_request_context():
        for registration_id in registration_ids[:PLACES]:
            agenda.sign_up(_db.session.get(Registration, registration_id), session_id)
        _db.session.commit()
        _db.session.remove()
    leaving = registration_ids[:threads]
    joining = registration_ids[PLACES:]

    def change(_event, _registration_type, number):
        """Even threads leave, odd ones join."""
        if number % 2 == 0:
            registration = _db.session.get(Registration, leaving[number // 2])
            return agenda.withdraw(registration, session_id)
        registration = _db.session.get(Registration, joining[number // 2])
        return agenda.sign_up(registration, session_id).status

    _results, errors = _run_at_once(busy_app, 2 * threads, change)

    assert errors == []
    with busy_app.app_context():
        statuses = Counter(_db.session.scalars(select(SessionSignup.status)))
        assert statuses == {"confirmed": PLACES}
        _db.session.remove()
