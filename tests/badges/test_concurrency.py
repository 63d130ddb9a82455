"""Badges under concurrency (PostgreSQL): simultaneous first downloads make one badge, and
simultaneous first uses of an event make one signing key."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest

from app.badges import services
from app.badges.models import Badge, BadgeSigningKey
from app.events.models import Event
from app.extensions import db as _db
from app.registration.models import Registration
from tests.badges.factories import confirmed_registration
from tests.conftest import requires_postgres
from tests.registration.factories import count_rows, make_event

THREADS = 12
BARRIER_TIMEOUT = 30


@pytest.fixture
def busy_app(make_app):
    """An application with a connection for every thread, so that they really run at once."""
    return make_app(
        SQLALCHEMY_ENGINE_OPTIONS={"pool_size": THREADS + 2, "max_overflow": 0},
    )


def _at_once(app, action: Callable[[], Any]) -> tuple[list[Any], list[BaseException]]:
    """Run action() in THREADS threads released together, each committing its own session."""
    barrier = threading.Barrier(THREADS, timeout=BARRIER_TIMEOUT)
    results: list[Any] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def worker() -> None:
        with app.test_request_context():
            try:
                barrier.wait()
                result = action()
                _db.session.commit()
                with lock:
                    results.append(result)
            except BaseException as error:  # reported by the test
                _db.session.rollback()
                with lock:
                    errors.append(error)
            finally:
                _db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    return results, errors


@requires_postgres
def test_simultaneous_first_downloads_issue_one_badge(busy_app):
    with busy_app.test_request_context():
        registration_id = confirmed_registration(make_event()).id
        _db.session.commit()

    def download() -> str:
        registration = _db.session.get(Registration, registration_id)
        badge = services.issue_badge(registration, actor=None)
        return services.badge_token(badge)

    tokens, errors = _at_once(busy_app, download)
    assert errors == []
    with busy_app.test_request_context():
        assert count_rows(Badge) == 1
        assert count_rows(BadgeSigningKey) == 1
    assert len(set(tokens)) == 1


@requires_postgres
def test_simultaneous_first_uses_make_one_key(busy_app):
    with busy_app.test_request_context():
        make_event()
        _db.session.commit()

    def first_use() -> int:
        event = _db.session.query(Event).one()
        return services.signing_key(event).id

    key_ids, errors = _at_once(busy_app, first_use)
    assert errors == []
    assert len(set(key_ids)) == 1
    with busy_app.test_request_context():
        assert count_rows(BadgeSigningKey) == 1
