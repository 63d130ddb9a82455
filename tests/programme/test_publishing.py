"""Publishing the programme: refused while conflicts remain, numbered versions with their
snapshot and changes, emails to signed-up delegates in their language, numbers that hold
under concurrency."""

from __future__ import annotations

import threading
from datetime import date, time

import pytest
from sqlalchemy import func, select

from app.events.models import Event
from app.extensions import db as _db
from app.i18n.text import TranslatedText
from app.programme import services
from app.programme.models import ProgrammeSession, ProgrammeVersion, SessionSignup, SignupStatus
from app.programme.publishing import build_snapshot, publish_programme, versions
from app.programme.services import ProgrammeError
from tests.conftest import requires_postgres
from tests.programme.factories import (
    FIRST_DAY,
    confirmed_registration,
    make_room,
    make_session,
    make_signup,
    make_speaker,
    make_track,
    session_details,
)
from tests.registration.factories import count_rows, make_event

CHANGE_SUBJECT = "Programme changes to your sessions at WCPP 2026"
CHANGE_SUBJECTS = {CHANGE_SUBJECT, "Perubahan program untuk sesi Anda di WCPP 2026"}


def _version_count() -> int:
    """How many versions were published."""
    return count_rows(ProgrammeVersion)


def _changes_mail(mailbox, address: str):
    """The one programme-change message an address received."""
    [message] = [m for m in mailbox.to(address) if m["Subject"] in CHANGE_SUBJECTS]
    return message


def _body(message) -> str:
    """A message's text."""
    return message.get_payload(decode=True).decode()


# --- refusals -------------------------------------------------------------------------------


def test_publishing_is_refused_while_conflicts_remain(db, make_user):
    event = make_event()
    room = make_room(event, capacity=50)
    jane = make_speaker(event)
    make_session(event, room=room, speakers=[jane])
    make_session(event, room=make_room(event), speakers=[jane])
    make_session(event, room=room, capacity=80, day=date(2026, 4, 15))
    with pytest.raises(ProgrammeError) as raised:
        publish_programme(event, actor=None)
    assert raised.value.code == "conflicts"
    assert str(raised.value) == (
        "Publishing is refused: 2 conflicts remain. They are listed on the timetable."
    )
    assert _version_count() == 0


def test_one_conflict_is_counted_in_the_singular(db):
    event = make_event()
    room = make_room(event)
    make_session(event, room=room)
    make_session(event, room=room)
    with pytest.raises(ProgrammeError) as raised:
        publish_programme(event, actor=None)
    assert str(raised.value) == (
        "Publishing is refused: 1 conflict remains. It is listed on the timetable."
    )


def test_there_is_nothing_to_publish_without_a_placed_session(db):
    event = make_event()
    with pytest.raises(ProgrammeError) as raised:
        publish_programme(event, actor=None)
    assert raised.value.code == "nothing_to_publish"
    make_session(event, day=None, start=None, end=None)
    with pytest.raises(ProgrammeError) as raised:
        publish_programme(event, actor=None)
    assert raised.value.code == "nothing_to_publish"
    assert _version_count() == 0


def test_an_unchanged_programme_is_not_published_again(db):
    event = make_event()
    make_session(event, room=make_room(event))
    publish_programme(event, actor=None)
    _db.session.commit()
    with pytest.raises(ProgrammeError) as raised:
        publish_programme(event, actor=None, note="again")
    assert raised.value.code == "unchanged"
    assert str(raised.value) == "Nothing changed since version 1 was published."
    assert _version_count() == 1


def test_a_note_too_long_is_refused(db):
    event = make_event()
    make_session(event)
    with pytest.raises(ProgrammeError) as raised:
        publish_programme(event, actor=None, note="x" * 1001)
    assert (raised.value.code, raised.value.field) == ("too_long", "note")


# --- versions and snapshots -----------------------------------------------------------------


def test_versions_are_numbered_and_listed_newest_first(db, make_user):
    organiser = make_user(name="Putu Organiser")
    event = make_event()
    session = make_session(event, room=make_room(event))
    actor = _db.session.merge(organiser)
    first = publish_programme(event, actor=actor, note="  First programme ")
    _db.session.commit()
    services.move_session(session, day=FIRST_DAY, start=time(11), room_id=None, actor=None)
    second = publish_programme(event, actor=None)
    _db.session.commit()
    assert (first.number, second.number) == (1, 2)
    assert first.note == "First programme"
    assert first.published_by.name == "Putu Organiser"
    assert [version.number for version in versions(event)] == [2, 1]
    assert first.snapshot["version"] == 1
    assert second.snapshot["version"] == 2


def test_the_snapshot_holds_the_placed_programme(db):
    event = make_event()
    hall = make_room(event, "Nusa Dua Hall", capacity=1200, floor="Ground", position=0)
    side = make_room(event, "Kintamani", capacity=120, position=1)
    track = make_track(event, "Reintegration", name_id="Reintegrasi", colour="#1f6feb")
    jane = make_speaker(event, "Jane Doe", honorific="Dr", country="GB")
    budi = make_speaker(event, "Budi Santoso")
    unused = make_speaker(event, "Not On Any Placed Session")
    later = make_session(event, title_en="Later", room=hall, start=time(11), end=time(12))
    parallel = make_session(
        event,
        title_en="Parallel",
        title_id="Paralel",
        room=side,
        track=track,
        start=time(9),
        end=time(10),
        chairs=[jane],
        speakers=[budi],
        requires_signup=True,
    )
    plenary = make_session(event, title_en="Plenary", room=hall, start=time(9), end=time(10))
    make_session(event, day=None, start=None, end=None, speakers=[unused])
    snapshot = build_snapshot(event)
    assert snapshot["timezone"] == "Asia/Makassar"
    assert (snapshot["starts_on"], snapshot["ends_on"]) == ("2026-04-14", "2026-04-17")
    assert [entry["id"] for entry in snapshot["sessions"]] == [plenary.id, parallel.id, later.id]
    assert [room["name"] for room in snapshot["rooms"]] == ["Nusa Dua Hall", "Kintamani"]
    assert snapshot["tracks"] == [
        {"id": track.id, "name": {"en": "Reintegration", "id": "Reintegrasi"}, "colour": "#1f6feb"}
    ]
    assert [speaker["name"] for speaker in snapshot["speakers"]] == ["Budi Santoso", "Jane Doe"]
    assert snapshot["sessions"][1] == {
        "id": parallel.id,
        "kind": "thematic",
        "title": {"en": "Parallel", "id": "Paralel"},
        "abstract": None,
        "starts_at": "2026-04-14T01:00:00Z",
        "ends_at": "2026-04-14T02:00:00Z",
        "room_id": side.id,
        "location_note": None,
        "track_id": track.id,
        "spoken_language": "en",
        "interpretation": False,
        "capacity": 120,
        "requires_signup": True,
        "people": [
            {"speaker_id": jane.id, "role": "chair"},
            {"speaker_id": budi.id, "role": "speaker"},
        ],
    }
    jane_entry = snapshot["speakers"][1]
    assert jane_entry["honorific"] == "Dr"
    assert jane_entry["organisation"] == "Directorate General of Corrections"
    assert jane_entry["has_photo"] is False


def test_each_version_records_what_was_added_changed_and_removed(db):
    event = make_event()
    room = make_room(event)
    kept = make_session(event, room=room, start=time(9), end=time(10))
    moved = make_session(event, room=room, start=time(10), end=time(11))
    dropped = make_session(event, room=room, start=time(11), end=time(12))
    first = publish_programme(event, actor=None)
    assert first.changes == {
        "added": sorted([kept.id, moved.id, dropped.id]),
        "changed": [],
        "removed": [],
    }
    _db.session.commit()
    services.move_session(moved, day=FIRST_DAY, start=time(14), room_id=room.id, actor=None)
    # Added before the deletion: SQLite would give the new session the deleted one's id.
    added = make_session(event, room=room, start=time(16), end=time(17))
    services.delete_session(dropped, actor=None)
    second = publish_programme(event, actor=None)
    assert second.changes == {"added": [added.id], "changed": [moved.id], "removed": [dropped.id]}


# --- telling delegates ----------------------------------------------------------------------


def _programme_with_delegates(event: Event):
    """Two rooms, a session three delegates signed up to (English, Indonesian, waiting) and
    another session one of them chose; published once and committed."""
    hall = make_room(event, "Nusa Dua Hall")
    side = make_room(event, "Kintamani")
    session = make_session(
        event,
        title_en="Community service orders",
        title_id="Pidana kerja sosial",
        room=hall,
        requires_signup=True,
    )
    other = make_session(event, title_en="Other", room=side, start=time(11), end=time(12))
    english = confirmed_registration(event, email="ayu@probation.example", language="en")
    indonesian = confirmed_registration(event, email="budi@probation.example", language="id")
    waiting = confirmed_registration(event, email="wait@probation.example", language="en")
    bystander = confirmed_registration(event, email="other@probation.example", language="en")
    make_signup(session, english)
    make_signup(session, indonesian)
    make_signup(session, waiting, SignupStatus.WAITLISTED)
    make_signup(other, bystander)
    publish_programme(event, actor=None)
    _db.session.commit()
    return hall, side, session, other


def test_the_first_publication_emails_nobody(db, mailbox):
    event = make_event()
    make_session(event)
    registration = confirmed_registration(event)
    _db.session.commit()
    mailbox.wait_for(1)
    mailbox.clear()
    publish_programme(event, actor=None)
    _db.session.commit()
    assert [m for m in mailbox.to(registration.email) if m["Subject"] == CHANGE_SUBJECT] == []


def test_delegates_of_a_moved_session_are_told_in_their_language(db, mailbox):
    event = make_event()
    _hall, side, session, _other = _programme_with_delegates(event)
    mailbox.wait_for(4)
    mailbox.clear()
    services.move_session(session, day=FIRST_DAY, start=time(14), room_id=side.id, actor=None)
    publish_programme(event, actor=None)
    _db.session.commit()
    mailbox.wait_for(3)

    english = _body(_changes_mail(mailbox, "ayu@probation.example"))
    assert "“Community service orders”" in english
    assert "Before: Tuesday, April 14, 2026, 09:00–10:30 WITA, Nusa Dua Hall" in english
    assert "Now: Tuesday, April 14, 2026, 14:00–15:30 WITA, Kintamani" in english
    assert "http://127.0.0.1:5000/programme/my-agenda" in english

    message = _changes_mail(mailbox, "budi@probation.example")
    assert message["Content-Language"] == "id"
    indonesian = _body(message)
    assert "“Pidana kerja sosial”" in indonesian
    assert "Selasa, 14 April 2026, 09:00–10:30 WITA, Nusa Dua Hall" in indonesian
    assert "Selasa, 14 April 2026, 14:00–15:30 WITA, Kintamani" in indonesian
    assert "Halo " in indonesian

    # The waiting list hears too; someone in an untouched session does not.
    _changes_mail(mailbox, "wait@probation.example")
    assert mailbox.to("other@probation.example") == []


def test_a_new_title_and_new_speakers_are_announced(db, mailbox):
    event = make_event()
    hall, _side, session, _other = _programme_with_delegates(event)
    mailbox.wait_for(4)
    mailbox.clear()
    speaker = make_speaker(event, "Jane Doe")
    services.update_session(
        session,
        session_details(title_en="Community service in practice", room=hall, speakers=[speaker]),
        actor=None,
    )
    publish_programme(event, actor=None)
    _db.session.commit()
    mailbox.wait_for(3)
    english = _body(_changes_mail(mailbox, "ayu@probation.example"))
    assert "“Community service in practice”" in english
    assert "New title (was “Community service orders”)." in english
    assert "The speakers or chairs have changed." in english


def test_a_change_nobody_needs_to_hear_about_sends_nothing(db, mailbox):
    event = make_event()
    hall, _side, session, _other = _programme_with_delegates(event)
    mailbox.wait_for(4)
    mailbox.clear()
    services.update_session(
        session,
        session_details(
            title_en="Community service orders",
            title_id="Pidana kerja sosial",
            room=hall,
            requires_signup=True,
            abstract=TranslatedText(en="Now with an abstract."),
        ),
        actor=None,
    )
    version = publish_programme(event, actor=None)
    _db.session.commit()
    assert version.changes["changed"] == [session.id]
    assert [m for m in mailbox.messages if m["Subject"] == CHANGE_SUBJECT] == []


def test_delegates_of_a_removed_session_are_told_and_their_places_released(db, mailbox):
    event = make_event()
    _hall, _side, session, other = _programme_with_delegates(event)
    mailbox.wait_for(4)
    mailbox.clear()
    services.move_session(session, day=None, start=None, room_id=None, actor=None)
    version = publish_programme(event, actor=None)
    _db.session.commit()
    assert version.changes["removed"] == [session.id]
    mailbox.wait_for(3)
    english = _body(_changes_mail(mailbox, "ayu@probation.example"))
    assert "“Community service orders” has been removed from the programme." in english
    assert "It was: Tuesday, April 14, 2026, 09:00–10:30 WITA, Nusa Dua Hall" in english
    remaining = _db.session.scalars(select(SessionSignup.session_id)).all()
    assert remaining == [other.id]
    # Nobody holds a place in it now, so it may be deleted.
    services.delete_session(session, actor=None)


def test_one_message_lists_every_changed_session_of_a_delegate(db, mailbox):
    event = make_event()
    _hall, side, session, other = _programme_with_delegates(event)
    registration = confirmed_registration(event, email="both@probation.example")
    make_signup(session, registration)
    make_signup(other, registration)
    _db.session.commit()
    mailbox.wait_for(5)
    mailbox.clear()
    services.move_session(session, day=FIRST_DAY, start=time(13), room_id=side.id, actor=None)
    services.move_session(other, day=FIRST_DAY, start=time(15), room_id=side.id, actor=None)
    publish_programme(event, actor=None)
    _db.session.commit()
    mailbox.wait_for(5)
    body = _body(_changes_mail(mailbox, "both@probation.example"))
    assert body.index("“Community service orders”") < body.index("“Other”")


def test_a_refused_publication_sends_nothing_and_changes_nothing(db, mailbox):
    event = make_event()
    hall, _side, session, _other = _programme_with_delegates(event)
    mailbox.wait_for(4)
    mailbox.clear()
    make_session(event, room=hall)  # overlaps the session in the hall
    services.move_session(session, day=FIRST_DAY, start=time(9), room_id=hall.id, actor=None)
    with pytest.raises(ProgrammeError):
        publish_programme(event, actor=None)
    _db.session.rollback()
    assert _version_count() == 1
    assert mailbox.messages == []


# --- concurrency ----------------------------------------------------------------------------


@pytest.fixture
def busy_app(make_app, smtp_server):
    """An application whose pool has a connection for every thread."""
    return make_app(
        SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 10, "max_overflow": 0, "pool_pre_ping": True},
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=smtp_server[0],
        SERVER_BASE_URL="http://kongres.test",
    )


@requires_postgres
def test_concurrent_publishers_take_distinct_numbers(busy_app):
    publishers = 5
    with busy_app.test_request_context():
        event = make_event()
        session_ids = [
            make_session(event, room=make_room(event)).id for _number in range(publishers)
        ]
        _db.session.commit()
        _db.session.remove()

    barrier = threading.Barrier(publishers, timeout=30)
    numbers: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def publish(session_id: int, hour: int) -> None:
        """One organiser moves their own session and publishes at the same moment as others."""
        with busy_app.test_request_context():
            try:
                barrier.wait()
                session = _db.session.get(ProgrammeSession, session_id)
                day = services.local_bounds(session)[0]
                services.move_session(
                    session, day=day, start=time(hour), room_id=session.room_id, actor=None
                )
                version = publish_programme(session.event, actor=None)
                _db.session.commit()
                with lock:
                    numbers.append(version.number)
            except BaseException as error:  # reported by the assertions below
                _db.session.rollback()
                with lock:
                    errors.append(error)
            finally:
                _db.session.remove()

    threads = [
        threading.Thread(target=publish, args=(session_id, 13 + index))
        for index, session_id in enumerate(session_ids)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    assert errors == []
    assert sorted(numbers) == list(range(1, publishers + 1))
    with busy_app.app_context():
        assert _db.session.scalar(select(func.count()).select_from(ProgrammeVersion)) == 5
        _db.session.remove()
