"""The programme, a session and a delegate's agenda as iCalendar: they parse with icalendar,
carry the Asia/Makassar zone and the local times, and the agenda's private link can be
revoked."""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from app.extensions import db
from app.i18n.text import TranslatedText
from app.programme import agenda, ical, services
from app.programme.models import ProgrammeSession
from app.programme.published import published_programme
from app.programme.publishing import publish_programme
from tests.programme.factories import (
    FIRST_DAY,
    confirmed_registration,
    make_room,
    make_session,
    make_speaker,
    make_track,
)
from tests.registration.factories import make_event

WITA = ZoneInfo("Asia/Makassar")


@pytest.fixture
def wcpp(db):
    """A published programme: a thematic session with speakers and a chair, a workshop of
    one place at the same time elsewhere, and a later study visit away from the rooms."""
    event = make_event()
    hall = make_room(event, "Nusa Dua Hall", capacity=1200, floor="Ground")
    studio = make_room(event, "Studio 3", capacity=40, position=1)
    track = make_track(event, "Restorative justice", name_id="Keadilan restoratif")
    chair = make_speaker(event, "Jane Doe", honorific="Dr")
    speaker = make_speaker(event, "Budi Santoso", country="ID")
    thematic = make_session(
        event,
        title_en="Community service orders",
        title_id="Pidana kerja sosial",
        abstract=TranslatedText(en="How the new code works.", id="Cara kerja KUHP baru."),
        room=hall,
        track=track,
        chairs=[chair],
        speakers=[speaker],
        interpretation=True,
    )
    workshop = make_session(
        event, title_en="Risk workshop", room=studio, requires_signup=True, capacity=1
    )
    visit = make_session(
        event,
        title_en="Visit to Bapas Denpasar",
        kind="study_visit",
        start=time(14, 0),
        end=time(17, 0),
        location_note="Bapas Denpasar",
    )
    publish_programme(event, actor=None)
    db.session.commit()
    return {
        "event": event,
        "thematic": thematic.id,
        "workshop": workshop.id,
        "visit": visit.id,
    }


def events_of(body: bytes) -> dict[str, object]:
    """The VEVENTs of a calendar by UID, after checking it parses and carries WITA."""
    calendar = Calendar.from_ical(body)
    zones = [component["TZID"] for component in calendar.walk("VTIMEZONE")]
    assert zones == ["Asia/Makassar"]
    return {str(item["UID"]): item for item in calendar.walk("VEVENT")}


def uid(session_id: int) -> str:
    """The UID the feeds give a session (no SERVER_NAME in tests)."""
    return f"session-{session_id}@kongres"


def test_the_programme_feed_carries_every_session_in_wita(db, wcpp):
    programme = published_programme(wcpp["event"])

    items = events_of(ical.programme_calendar(programme, "en"))

    assert set(items) == {uid(wcpp["thematic"]), uid(wcpp["workshop"]), uid(wcpp["visit"])}
    thematic = items[uid(wcpp["thematic"])]
    assert thematic["DTSTART"].params["TZID"] == "Asia/Makassar"
    assert thematic.decoded("DTSTART") == datetime(2026, 4, 14, 9, 0, tzinfo=WITA)
    assert thematic.decoded("DTEND") == datetime(2026, 4, 14, 10, 30, tzinfo=WITA)
    # 09:00 WITA is 01:00 UTC.
    assert thematic.decoded("DTSTART").utcoffset().total_seconds() == 8 * 3600
    assert str(thematic["SUMMARY"]) == "Community service orders"
    assert str(thematic["LOCATION"]) == "Nusa Dua Hall (Ground)"
    assert thematic["SEQUENCE"] == 1
    description = str(thematic["DESCRIPTION"])
    assert "How the new code works." in description
    assert "Chairs: Dr Jane Doe" in description
    assert "Speakers: Budi Santoso" in description
    assert "Interpretation between Indonesian and English" in description
    assert str(thematic["URL"]).endswith(f"/programme/sessions/{wcpp['thematic']}")
    assert str(items[uid(wcpp["visit"])]["LOCATION"]) == "Bapas Denpasar"


def test_titles_and_texts_follow_the_requested_language(db, wcpp):
    programme = published_programme(wcpp["event"])

    items = events_of(ical.programme_calendar(programme, "id"))

    thematic = items[uid(wcpp["thematic"])]
    assert str(thematic["SUMMARY"]) == "Pidana kerja sosial"
    assert "Cara kerja KUHP baru." in str(thematic["DESCRIPTION"])
    assert "Keadilan restoratif" in [str(value) for value in thematic["CATEGORIES"].cats]


def test_a_session_feed_holds_that_session(db, wcpp):
    programme = published_programme(wcpp["event"])
    session = programme.session(wcpp["visit"])

    items = events_of(ical.session_calendar(programme, session, "en"))

    assert list(items) == [uid(wcpp["visit"])]
    assert items[uid(wcpp["visit"])].decoded("DTSTART") == datetime(2026, 4, 14, 14, 0, tzinfo=WITA)


def test_a_new_version_raises_the_sequence(db, wcpp):
    session = db.session.get(ProgrammeSession, wcpp["visit"])
    services.move_session(session, day=FIRST_DAY, start=time(15, 0), room_id=None, actor=None)
    publish_programme(wcpp["event"], actor=None)
    db.session.commit()
    programme = published_programme(wcpp["event"])

    items = events_of(ical.programme_calendar(programme, "en"))

    visit = items[uid(wcpp["visit"])]
    assert visit["SEQUENCE"] == 2
    assert visit.decoded("DTSTART") == datetime(2026, 4, 14, 15, 0, tzinfo=WITA)


def test_the_agenda_feed_holds_the_delegates_sessions_in_their_language(app, client, wcpp):
    with app.test_request_context():
        first = confirmed_registration(wcpp["event"])
        delegate = confirmed_registration(wcpp["event"], language="id")
        agenda.sign_up(first, wcpp["workshop"])
        agenda.sign_up(delegate, wcpp["workshop"])  # waiting: the only place is taken
        agenda.sign_up(delegate, wcpp["visit"])
        token = agenda.feed_token(delegate)
        db.session.commit()

    response = client.get(f"/programme/agenda/{token}.ics")

    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    assert response.headers["Cache-Control"] == "private, no-cache"
    items = events_of(response.data)
    assert set(items) == {uid(wcpp["workshop"]), uid(wcpp["visit"])}
    assert str(items[uid(wcpp["visit"])]["SUMMARY"]) == "Sesi Visit to Bapas Denpasar"
    assert str(items[uid(wcpp["visit"])]["STATUS"]) == "CONFIRMED"
    waiting = items[uid(wcpp["workshop"])]
    assert str(waiting["STATUS"]) == "TENTATIVE"
    assert waiting["DTSTART"].params["TZID"] == "Asia/Makassar"
    assert waiting.decoded("DTSTART") == datetime(2026, 4, 14, 9, 0, tzinfo=WITA)


def test_a_revoked_or_unknown_agenda_link_is_not_found(app, client, wcpp):
    with app.test_request_context():
        delegate = confirmed_registration(wcpp["event"])
        old = agenda.feed_token(delegate)
        db.session.commit()
    assert client.get(f"/programme/agenda/{old}.ics").status_code == 200

    with app.test_request_context():
        delegate = db.session.get(type(delegate), delegate.id)
        new = agenda.reset_feed_token(delegate)
        db.session.commit()

    assert client.get(f"/programme/agenda/{old}.ics").status_code == 404
    assert client.get(f"/programme/agenda/{new}.ics").status_code == 200
    assert client.get("/programme/agenda/not-a-real-token.ics").status_code == 404
    assert client.get("/programme/agenda/%00.ics").status_code == 404


def test_an_agenda_before_anything_is_published_is_an_empty_calendar_in_wita(db):
    event = make_event()
    delegate = confirmed_registration(event)
    db.session.commit()

    items = events_of(ical.agenda_calendar(published_programme(event), delegate))

    assert items == {}
