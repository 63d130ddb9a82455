"""The audit log's hash chain: entries are chained at commit, vanish with a rollback, and
verify finds an edited, deleted, reordered or inserted entry; `flask kongres audit verify`."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import delete, insert, select

from app.audit import services
from app.audit.models import AuditChainHead, AuditEntry
from app.auth.models import Role
from app.extensions import db as _db
from tests.audit.factories import actions, entries, record_entries, tamper
from tests.conftest import requires_postgres

THREADS = 8
APPENDS_PER_THREAD = 5
BARRIER_TIMEOUT = 30


def test_entries_are_chained_in_commit_order_and_verify(db, make_user):
    admin = make_user(roles=[Role.ADMIN], name="Ayu Lestari", email="ayu@wcpp2026.example")
    actor = _db.session.get(type(admin), admin.id)
    services.record(
        "auth.role_changed",
        actor=actor,
        target=actor,
        details={"roles": [["organiser"], ["admin", "organiser"]]},
    )
    services.record("auth.logout", actor=actor)
    _db.session.commit()

    first, second = entries()
    assert (first.position, second.position) == (1, 2)
    assert first.previous_hash is None
    assert second.previous_hash == first.entry_hash
    assert first.actor_email == "ayu@wcpp2026.example"
    assert first.actor_name == "Ayu Lestari"
    assert (first.target_type, first.target_id, first.target_label) == (
        "user",
        str(admin.id),
        "Ayu Lestari",
    )
    assert first.details == {"roles": [["organiser"], ["admin", "organiser"]]}
    assert first.entry_hash == services.entry_hash(services._entry_values(first))
    head = _db.session.get(AuditChainHead, 1)
    assert (head.last_position, head.last_hash) == (2, second.entry_hash)
    assert services.verify_chain() is None
    assert services.check_chain().entries == 2


def test_a_rolled_back_transaction_leaves_no_entry_and_no_gap(db):
    services.record("auth.login", actor=None)
    _db.session.rollback()
    assert entries() == []
    record_entries(1)
    (entry,) = entries()
    assert entry.position == 1
    assert services.verify_chain() is None


def test_a_rolled_back_savepoint_drops_only_its_own_entries(db):
    services.record("partners.created", actor=None)
    with _db.session.begin_nested() as savepoint:
        services.record("partners.deleted", actor=None)
        savepoint.rollback()
    _db.session.commit()
    assert actions() == ["partners.created"]
    assert services.verify_chain() is None


def test_entries_are_chained_at_the_real_commit_not_at_a_savepoint(db):
    with _db.session.begin_nested():
        entry = services.record("partners.created", actor=None)
    assert entry.position is None  # released savepoint: not yet chained, head not locked
    _db.session.commit()
    assert entry.position == 1
    assert services.verify_chain() is None


def test_details_never_hold_passwords_or_passport_numbers(db):
    services.record(
        "registration.edited",
        actor=None,
        details={"changes": {"passport_number": ["A123", "B456"], "family_name": ["A", "B"]}},
    )
    services.record("auth.login", actor=None, details={"password": "hunter2hunter2"})
    _db.session.commit()
    edited, login = entries()
    assert edited.details == {"changes": {"family_name": ["A", "B"], "passport_number": "changed"}}
    assert login.details == {"password": "changed"}


def test_an_empty_log_is_intact(db):
    assert services.check_chain() == services.ChainStatus(0, None)


def test_verify_finds_an_edited_entry(db):
    record_entries(5)
    tamper(3, actor_email="someone-else@example.org")
    broken = services.verify_chain()
    assert broken is not None
    assert (broken.position, broken.reason) == (3, services.BreakReason.EDITED)
    assert broken.entry_id == entries(position=3)[0].id


def test_verify_finds_edited_details(db):
    record_entries(3)
    tamper(2, details={"roles": [[], ["admin"]]})
    broken = services.verify_chain()
    assert (broken.position, broken.reason) == (2, services.BreakReason.EDITED)


def test_verify_finds_an_entry_deleted_from_the_middle(db):
    record_entries(5)
    _db.session.execute(delete(AuditEntry).where(AuditEntry.position == 2))
    _db.session.commit()
    broken = services.verify_chain()
    assert (broken.position, broken.reason) == (2, services.BreakReason.MISSING)
    # The entry found where number 2 should be is the one that was number 3.
    assert broken.entry_id == entries(position=3)[0].id


def test_verify_finds_the_last_entry_deleted(db):
    record_entries(4)
    _db.session.execute(delete(AuditEntry).where(AuditEntry.position == 4))
    _db.session.commit()
    broken = services.verify_chain()
    assert (broken.position, broken.entry_id, broken.reason) == (
        4,
        None,
        services.BreakReason.REMOVED,
    )


def _rehashed(entry: AuditEntry, **changes: object) -> dict[str, object]:
    """An entry's columns with changes and the entry hash an intruder would recompute."""
    values = {**services._entry_values(entry), **changes}
    values["entry_hash"] = services.entry_hash(values)
    return values


def test_verify_finds_reordered_entries(db):
    record_entries(4)
    second, third = entries()[1:3]
    # Swapped places, each entry's own hash recomputed for its new place: the links break.
    moved_second = _rehashed(second, position=3)
    moved_third = _rehashed(third, position=2)
    tamper(2, position=-2)
    tamper(3, position=moved_third["position"], entry_hash=moved_third["entry_hash"])
    tamper(-2, position=moved_second["position"], entry_hash=moved_second["entry_hash"])
    broken = services.verify_chain()
    assert (broken.position, broken.entry_id, broken.reason) == (
        2,
        third.id,
        services.BreakReason.REORDERED,
    )


def test_verify_finds_an_entry_inserted_behind_the_chains_back(db):
    record_entries(3)
    last = entries()[-1]
    # A well-formed fourth entry with a correct hash, written without going through the head.
    forged = _rehashed(
        last, id=last.id + 100, position=4, previous_hash=last.entry_hash, action="auth.logout"
    )
    _db.session.execute(insert(AuditEntry).values(**forged))
    _db.session.commit()
    broken = services.verify_chain()
    assert (broken.position, broken.entry_id, broken.reason) == (
        4,
        last.id + 100,
        services.BreakReason.UNCHAINED,
    )


def test_verify_finds_an_entry_inserted_in_the_middle(db):
    record_entries(3)
    first, second = entries()[:2]
    forged = _rehashed(
        second, id=second.id + 100, previous_hash=first.entry_hash, action="auth.role_changed"
    )
    tamper(3, position=4)
    tamper(2, position=3)
    _db.session.execute(insert(AuditEntry).values(**forged))
    _db.session.commit()
    broken = services.verify_chain()
    # The forged entry links to the first; the real second no longer links to it.
    assert (broken.position, broken.entry_id, broken.reason) == (
        3,
        second.id,
        services.BreakReason.REORDERED,
    )


# --- the command ----------------------------------------------------------------------------


def test_the_verify_command_reports_an_intact_chain(app, runner):
    with app.app_context():
        record_entries(3)
    result = runner.invoke(args=["kongres", "audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "3 entries, chain intact." in result.output


def test_the_verify_command_fails_naming_the_first_broken_entry(app, runner):
    with app.app_context():
        record_entries(3)
        tamper(2, target_label="Somebody else")
        entry_id = entries(position=2)[0].id
    result = runner.invoke(args=["kongres", "audit", "verify"])
    assert result.exit_code == 1
    assert f"Audit chain broken at entry 2 (row id {entry_id})" in result.output
    assert "its contents were changed after it was recorded" in result.output


def test_the_verify_command_fails_when_the_newest_entry_is_gone(app, runner):
    with app.app_context():
        record_entries(2)
        _db.session.execute(delete(AuditEntry).where(AuditEntry.position == 2))
        _db.session.commit()
    result = runner.invoke(args=["kongres", "audit", "verify"])
    assert result.exit_code == 1
    assert "Audit chain broken at entry 2: the newest entries, from this one on, were removed." in (
        result.output
    )


# --- concurrency ----------------------------------------------------------------------------


@pytest.fixture
def busy_app(make_app):
    """An application with a connection for every thread, so that they really run at once."""
    return make_app(SQLALCHEMY_ENGINE_OPTIONS={"pool_size": THREADS + 2, "max_overflow": 0})


@requires_postgres
def test_concurrent_appends_keep_one_unbroken_chain(busy_app):
    barrier = threading.Barrier(THREADS, timeout=BARRIER_TIMEOUT)
    errors: list[BaseException] = []

    def worker(number: int) -> None:
        with busy_app.test_request_context():
            try:
                barrier.wait()
                for index in range(APPENDS_PER_THREAD):
                    services.record("auth.login", actor=None, target=("user", number, str(index)))
                    _db.session.commit()
            except BaseException as error:  # reported by the test
                _db.session.rollback()
                errors.append(error)
            finally:
                _db.session.remove()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    assert errors == []
    with busy_app.test_request_context():
        total = THREADS * APPENDS_PER_THREAD
        # Ids are taken when a request inserts, positions when it commits: one chain, no gaps.
        positions = list(_db.session.scalars(select(AuditEntry.position)))
        assert sorted(positions) == list(range(1, total + 1))
        assert services.check_chain() == services.ChainStatus(total, None)


def test_the_verify_command_speaks_the_cli_language(app, runner, monkeypatch):
    monkeypatch.setitem(app.config, "CLI_LANGUAGE", "id")
    with app.app_context():
        record_entries(3)
    intact = runner.invoke(args=["kongres", "audit", "verify"])
    assert intact.exit_code == 0, intact.output
    assert "3 entri, rantai utuh." in intact.output

    with app.app_context():
        tamper(2, target_label="Somebody else")
        entry_id = entries(position=2)[0].id
    broken = runner.invoke(args=["kongres", "audit", "verify"])
    assert broken.exit_code == 1
    assert f"Rantai audit terputus pada entri 2 (id baris {entry_id})" in broken.output
    assert "chain" not in broken.output
