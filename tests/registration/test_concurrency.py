"""Capacity and idempotency under concurrency: many real threads, each with its own session,
registering at the same moment against PostgreSQL (issue 4, item 6)."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select

from app.auth.models import User
from app.events.models import Event
from app.extensions import db as _db
from app.registration import services
from app.registration.models import Registration, RegistrationStatus, RegistrationType
from tests.conftest import requires_postgres
from tests.registration.factories import count_rows, details, make_event, make_type

BARRIER_TIMEOUT = 30


@pytest.fixture
def busy_app(make_app, smtp_server):
    """An application whose pool has a connection for every thread, so that they really
    run at once (the default pool would queue most of them)."""
    return make_app(
        SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 60, "max_overflow": 0, "pool_pre_ping": True},
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=smtp_server[0],
        SERVER_BASE_URL="http://kongres.test",
    )


def _set_up(app, **type_options: Any) -> tuple[int, int]:
    """The event and a registration type, committed; returns their ids."""
    with app.test_request_context():
        event = make_event()
        registration_type = make_type(event, "limited", **type_options)
        _db.session.commit()
        ids = event.id, registration_type.id
        _db.session.remove()
    return ids


def _run_at_once(app, count: int, register: Callable[[Event, RegistrationType, int], Any]):
    """Run `register` in `count` threads released together; each commits its own session.
    Returns (results, errors)."""
    barrier = threading.Barrier(count, timeout=BARRIER_TIMEOUT)
    results: list[Any] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def worker(number: int) -> None:
        """One visitor: waits for the others, registers, commits."""
        with app.test_request_context():
            try:
                # No connection is checked out before the barrier: all start together.
                barrier.wait()
                event = _db.session.scalar(select(Event))
                registration_type = _db.session.scalar(select(RegistrationType))
                result = register(event, registration_type, number)
                _db.session.commit()
                with lock:
                    results.append(result)
            except BaseException as error:  # reported by the test below
                _db.session.rollback()
                with lock:
                    errors.append(error)
            finally:
                _db.session.remove()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    return results, errors


@requires_postgres
def test_fifty_registrations_at_once_admit_exactly_the_capacity(busy_app, mailbox):
    _set_up(busy_app, capacity=10)

    def register(event, registration_type, number):
        """Each thread a different delegate."""
        registration, created = services.register_delegate(
            event, details(registration_type, email=f"rush{number}@probation.example")
        )
        return registration.email, registration.status, created

    results, errors = _run_at_once(busy_app, 50, register)

    assert errors == []
    assert len(results) == 50
    assert all(created for _email, _status, created in results)
    with busy_app.app_context():
        rows = _db.session.execute(select(Registration.email, Registration.status)).all()
        statuses = Counter(status for _email, status in rows)
        assert statuses == {
            RegistrationStatus.AWAITING_PAYMENT.value: 10,
            RegistrationStatus.WAITLISTED.value: 40,
        }
        emails = Counter(email for email, _status in rows)
        assert len(rows) == 50
        assert set(emails) == {f"rush{n}@probation.example" for n in range(50)}
        assert set(emails.values()) == {1}
        assert count_rows(User) == 50
        # The waiting list is in order of arrival: every waiting one came after the admitted.
        admitted_last = _db.session.scalar(
            select(func.max(Registration.id)).where(
                Registration.status == RegistrationStatus.AWAITING_PAYMENT.value
            )
        )
        waiting_first = _db.session.scalar(
            select(func.min(Registration.id)).where(
                Registration.status == RegistrationStatus.WAITLISTED.value
            )
        )
        assert admitted_last < waiting_first
        _db.session.remove()
    assert len(mailbox.wait_for(50, timeout=30)) == 50


@requires_postgres
def test_the_same_address_from_ten_threads_registers_once(busy_app, mailbox):
    _set_up(busy_app)

    def register(event, registration_type, number):
        """Every thread the same delegate (a double click, many times over)."""
        registration, created = services.register_delegate(
            event, details(registration_type, email="double.click@probation.example")
        )
        return registration.id, created

    results, errors = _run_at_once(busy_app, 10, register)

    assert errors == []
    assert len({registration_id for registration_id, _created in results}) == 1
    assert sorted(created for _id, created in results) == [False] * 9 + [True]
    with busy_app.app_context():
        assert count_rows(Registration) == 1
        assert count_rows(User) == 1
        _db.session.remove()
    mailbox.wait_for(1)
    assert len(mailbox.to("double.click@probation.example")) == 1


def test_a_racing_duplicate_is_caught_by_the_constraint_inside_a_savepoint(
    db, monkeypatch, mailbox
):
    """The unique constraint has the last word: when another request's row appears between
    the look-up and the insert, the existing registration is returned and the caller's
    transaction stays usable (on SQLite too)."""
    event = make_event()
    registration_type = make_type(event, "delegate")
    first, _created = services.register_delegate(
        event, details(registration_type, email="race@probation.example")
    )
    db.session.commit()

    real_lookup = services.registration_for_email
    calls = []

    def missing_once(*args, **kwargs):
        """The first look-up misses the row, as when the other request had not committed."""
        calls.append(args)
        return None if len(calls) == 1 else real_lookup(*args, **kwargs)

    monkeypatch.setattr(services, "registration_for_email", missing_once)
    other_type = make_type(event, "other")  # pending work of the caller's transaction
    again, created = services.register_delegate(
        event, details(registration_type, email="race@probation.example")
    )
    db.session.commit()

    assert len(calls) == 2
    assert not created
    assert again.id == first.id
    assert db.session.get(RegistrationType, other_type.id) is not None
    assert count_rows(Registration) == 1
    mailbox.wait_for(1)
    assert len(mailbox.to("race@probation.example")) == 1
