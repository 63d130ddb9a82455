"""Check-in under concurrency on PostgreSQL: real threads, each with its own session and
transaction, scanning at the same moment (issue 7, item 5)."""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select

from app.badges.services import badge_tokens, issue_badge
from app.checkin import services
from app.checkin.models import Admission, GateDevice, Scan
from app.events.models import Event
from app.extensions import db as _db
from tests.badges.factories import confirmed_registration
from tests.checkin.factories import FIRST_MORNING, make_checkpoint, make_device
from tests.conftest import requires_postgres
from tests.registration.factories import count_rows, make_event, make_type

BARRIER_TIMEOUT = 60


@pytest.fixture
def busy_app(make_app, smtp_server):
    """An application whose pool has a connection for every thread, so that they really run
    at once (the default pool would queue most of them)."""
    return make_app(
        SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 60, "max_overflow": 0, "pool_pre_ping": True},
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=smtp_server[0],
        SERVER_BASE_URL="http://kongres.test",
    )


def _set_up(app, badge_count: int, gates: int) -> tuple[list[str], list[int]]:
    """The congress, its entrance, `gates` devices and `badge_count` badges, committed;
    returns the badges' tokens and the devices' ids."""
    with app.test_request_context():
        event = make_event()
        make_checkpoint(event, "entrance", "Venue entrance")
        registration_type = make_type(event, "delegate", is_free=True)
        badges = [
            issue_badge(confirmed_registration(event, registration_type), actor=None)
            for _number in range(badge_count)
        ]
        device_ids = [make_device(event, f"Gate {number}")[0].id for number in range(gates)]
        tokens = badge_tokens(badges)
        _db.session.commit()
        result = [tokens[badge.id] for badge in badges], device_ids
        _db.session.remove()
    return result


def _run_at_once(app, count: int, work: Callable[[Event, int], Any]) -> tuple[list, list]:
    """Run `work(event, number)` in `count` threads released together; each commits its own
    session after every scan. Returns (results, errors)."""
    barrier = threading.Barrier(count, timeout=BARRIER_TIMEOUT)
    results: list[Any] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def worker(number: int) -> None:
        """One gate: waits for the others, then scans."""
        with app.test_request_context(headers={"Accept-Language": "en"}):
            try:
                barrier.wait()
                event = _db.session.scalar(select(Event))
                result = work(event, number)
                with lock:
                    results.append(result)
            except BaseException as error:  # reported by the test
                _db.session.rollback()
                with lock:
                    errors.append(error)
            finally:
                _db.session.remove()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=240)
    assert not any(thread.is_alive() for thread in threads)
    return results, errors


def _scan_once(event: Event, token: str, nonce: str, device_id: int) -> dict[str, Any]:
    """One scan as the API makes it: its own transaction, committed."""
    answer = services.record_scan(
        event,
        token=token,
        checkpoint_code="entrance",
        nonce=nonce,
        scanned_at=None,
        device=_db.session.get(GateDevice, device_id),
        user=None,
        now=FIRST_MORNING,
    )
    _db.session.commit()
    return answer


def _counts(app) -> tuple[int, int, Counter]:
    """Scans, admissions, and the scans' results."""
    with app.app_context():
        results = Counter(
            dict(_db.session.execute(select(Scan.result, func.count()).group_by(Scan.result)).all())
        )
        counts = count_rows(Scan), count_rows(Admission), results
        _db.session.remove()
    return counts


@requires_postgres
def test_fifty_gates_scanning_one_badge_at_once_admit_it_once(busy_app):
    [token], [device_id] = _set_up(busy_app, 1, 1)

    results, errors = _run_at_once(
        busy_app, 50, lambda event, n: _scan_once(event, token, f"same-badge-{n}", device_id)
    )

    assert errors == []
    assert Counter(answer["result"] for answer in results) == {
        "admitted": 1,
        "already_admitted": 49,
    }
    [admitted] = [answer for answer in results if answer["result"] == "admitted"]
    assert all(answer["first_admitted_at"] == admitted["first_admitted_at"] for answer in results)
    scans, admissions, by_result = _counts(busy_app)
    assert (scans, admissions) == (50, 1)
    assert by_result == {"admitted": 1, "already_admitted": 49}


@requires_postgres
def test_eight_gates_scanning_500_badges_lose_no_scan(busy_app):
    tokens, device_ids = _set_up(busy_app, 500, 8)
    shares = [tokens[gate::8] for gate in range(8)]

    def gate(event: Event, number: int) -> list[str]:
        """One gate scans its share of the queue, one transaction per scan."""
        return [
            _scan_once(event, token, f"gate{number}-{index}", device_ids[number])["result"]
            for index, token in enumerate(shares[number])
        ]

    results, errors = _run_at_once(busy_app, 8, gate)

    assert errors == []
    assert Counter(result for share in results for result in share) == {"admitted": 500}
    scans, admissions, by_result = _counts(busy_app)
    assert (scans, admissions) == (500, 500)
    assert by_result == {"admitted": 500}


@requires_postgres
def test_ten_copies_of_one_scan_at_once_record_it_once(busy_app):
    [token], [device_id] = _set_up(busy_app, 1, 1)

    results, errors = _run_at_once(
        busy_app, 10, lambda event, n: _scan_once(event, token, "one-scan-ten-copies", device_id)
    )

    assert errors == []
    assert len(results) == 10
    assert all(answer == results[0] for answer in results)
    assert results[0]["result"] == "admitted"
    scans, admissions, _results = _counts(busy_app)
    assert (scans, admissions) == (1, 1)


@requires_postgres
def test_overlapping_offline_uploads_in_different_orders_do_not_deadlock(busy_app):
    """Four scanners upload the same 60 badges, each in its own order, at once: batches take
    badge locks in one order, so none waits for another forever; each badge admitted once."""
    tokens, device_ids = _set_up(busy_app, 60, 4)
    uploads = []
    for gate in range(4):
        order = list(enumerate(tokens))
        random.Random(gate).shuffle(order)
        uploads.append(
            [
                {
                    "token": token,
                    "checkpoint": "entrance",
                    "nonce": f"up{gate}-{index}",
                    "client_result": "admitted",
                }
                for index, token in order
            ]
        )

    def upload(event: Event, number: int) -> list[dict[str, Any]]:
        """One scanner back online: the whole queue in one request."""
        answers = services.record_scans(
            event,
            uploads[number],
            device=_db.session.get(GateDevice, device_ids[number]),
            user=None,
            now=FIRST_MORNING,
        )
        _db.session.commit()
        return answers

    results, errors = _run_at_once(busy_app, 4, upload)

    assert errors == []
    assert Counter(answer["result"] for batch in results for answer in batch) == {
        "admitted": 60,
        "already_admitted": 180,
    }
    scans, admissions, _results = _counts(busy_app)
    assert (scans, admissions) == (240, 60)
    with busy_app.app_context():
        assert len(services.conflicts(_db.session.scalar(select(Event)))) == 180
        _db.session.remove()
