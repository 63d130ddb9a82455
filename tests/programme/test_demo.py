"""The programme demo: four days of WCPP 2026 in Bali, built through the services, free of
conflicts, bilingual, published as version 1; loading it again adds nothing."""

from __future__ import annotations

from collections import Counter
from datetime import date

from sqlalchemy import select

from app.auth.services import find_user_by_email
from app.demo import load_demo
from app.events.models import Event
from app.extensions import db as _db
from app.programme import services
from app.programme.agenda import agenda_of
from app.programme.conflicts import find_conflicts
from app.programme.demo import (
    CLOSING_TITLE,
    DELEGATE_PICKS,
    DEMO_DELEGATE_EMAIL,
    DEMO_ROOMS,
    DEMO_SPEAKERS,
    MOU_TITLE,
    OPENING_TITLE,
    THEMATIC_ROOMS,
)
from app.programme.models import (
    ProgrammeSession,
    ProgrammeVersion,
    Room,
    SessionKind,
    SessionPerson,
    SessionSignup,
    Speaker,
    Track,
)
from app.programme.published import published_programme
from app.programme.publishing import versions
from app.registration.models import Registration, RegistrationStatus
from tests.registration.factories import count_rows

TABLES = (Room, Track, Speaker, ProgrammeSession, SessionPerson, ProgrammeVersion, SessionSignup)
CONGRESS_DAYS = [date(2026, 4, day) for day in (14, 15, 16, 17)]


def _counts() -> tuple[int, ...]:
    return tuple(count_rows(table) for table in TABLES)


def _event() -> Event:
    return _db.session.scalars(select(Event)).one()


def _by_title(sessions: list[ProgrammeSession], title: str) -> ProgrammeSession:
    [session] = [s for s in sessions if s.title.in_language("en") == title]
    return session


def _people(session: ProgrammeSession, role: str) -> list[str]:
    return [person.speaker.name for person in session.people if person.role == role]


def test_the_demo_command_loads_the_programme_twice_without_duplicates(app, runner):
    for _ in range(2):
        result = runner.invoke(args=["kongres", "demo"])
        assert result.exit_code == 0, result.output
        with app.app_context():
            counts = _counts()
            assert counts[:-1] == (len(DEMO_ROOMS), 7, len(DEMO_SPEAKERS), *counts[3:-1])
    with app.app_context():
        assert [version.number for version in versions(_event())] == [1]
        published = published_programme(_event())
        assert published.version == 1
        assert published.days() == CONGRESS_DAYS
        placed = [s for s in services.event_sessions(_event()) if s.is_placed]
        assert len(published.sessions) == len(placed) == count_rows(ProgrammeSession)


def test_the_demo_programme_is_conflict_free_and_complete(db):
    load_demo()
    db.session.commit()
    first = _counts()
    load_demo()
    db.session.commit()
    assert _counts() == first

    event = _event()
    assert find_conflicts(event) == []
    sessions = services.event_sessions(event)
    days = {services.local_bounds(session)[0] for session in sessions}
    assert sorted(days) == CONGRESS_DAYS

    kinds = Counter(SessionKind(session.kind) for session in sessions)
    assert kinds[SessionKind.THEMATIC] >= 24
    assert kinds[SessionKind.WORKSHOP] >= 3
    thematic = [s for s in sessions if s.kind == SessionKind.THEMATIC]
    assert {s.room.name for s in thematic} == {
        room.name for room in DEMO_ROOMS if room.key in THEMATIC_ROOMS
    }
    # Every thematic session has a chair and two to four speakers.
    for session in thematic:
        assert len(_people(session, "chair")) == 1, session.title
        assert 2 <= len(_people(session, "speaker")) <= 4, session.title
    # A morning plenary (or the opening ceremony) in the plenary hall every day.
    for day in CONGRESS_DAYS:
        mornings = [
            s
            for s in sessions
            if s.kind in (SessionKind.PLENARY, SessionKind.CEREMONY)
            and services.local_bounds(s)[0] == day
            and services.local_bounds(s)[1].hour == 8
        ]
        assert [s.room.name for s in mornings] == ["Nusa Dua Hall"], day
        assert mornings[0].interpretation
    # Breaks take no room; workshops that need signing up hold a small group.
    assert all(s.room is None for s in sessions if s.kind == SessionKind.BREAK)
    for session in sessions:
        if session.kind == SessionKind.WORKSHOP:
            assert session.requires_signup
            assert session.capacity <= 40
    languages = Counter(session.spoken_language for session in sessions)
    assert languages["en"] > languages["id"] > 0


def test_the_opening_signing_visits_and_closing(db):
    load_demo()
    db.session.commit()
    sessions = services.event_sessions(_event())

    opening = _by_title(sessions, OPENING_TITLE)
    assert opening.kind == SessionKind.CEREMONY
    assert services.local_bounds(opening)[0] == CONGRESS_DAYS[0]
    assert "Agus Andrianto" in _people(opening, "speaker")
    assert opening.room.interpretation_booth
    assert opening.interpretation

    signing = _by_title(sessions, MOU_TITLE)
    assert signing.kind == SessionKind.CEREMONY
    assert "Mashudi" in _people(signing, "speaker")

    closing = _by_title(sessions, CLOSING_TITLE)
    assert closing.kind == SessionKind.CEREMONY
    assert services.local_bounds(closing)[0] == CONGRESS_DAYS[-1]

    visits = [s for s in sessions if s.kind == SessionKind.STUDY_VISIT]
    assert len(visits) >= 2
    assert any("Bapas Denpasar" in s.title.in_language("en") for s in visits)
    for visit in visits:
        assert visit.room is None
        assert visit.location_note
        assert visit.requires_signup
        assert 30 <= visit.capacity <= 40


def test_the_demo_is_bilingual_with_speakers_from_many_countries(db):
    load_demo()
    db.session.commit()
    event = _event()
    for session in services.event_sessions(event):
        assert session.title.missing_languages() == [], session.title
        if session.kind != SessionKind.BREAK:
            assert session.abstract is not None, session.title
        if session.abstract is not None:
            assert session.abstract.missing_languages() == [], session.title
    for track in services.tracks(event):
        assert track.name.missing_languages() == []
    speakers = services.speakers(event)
    assert len({speaker.country for speaker in speakers}) >= 15
    for speaker in speakers:
        assert speaker.biography.missing_languages() == [], speaker.name
        assert speaker.organisation, speaker.name
    # Organisations that are demo partners come from the partner module.
    partnered = {speaker.partner.acronym for speaker in speakers if speaker.partner}
    assert {"UNODC", "ICJR", "PKBI"} <= partnered


def test_a_confirmed_demo_delegate_gets_two_sessions_once(db):
    load_demo()
    db.session.commit()
    user = find_user_by_email(DEMO_DELEGATE_EMAIL)
    registration = db.session.scalars(
        select(Registration).where(Registration.user_id == user.id)
    ).one()
    # In the registration demo the account still has to pay: no agenda yet.
    assert registration.status != RegistrationStatus.CONFIRMED
    assert count_rows(SessionSignup) == 0

    registration.status = RegistrationStatus.CONFIRMED.value
    db.session.commit()
    for _ in range(2):
        load_demo()
        db.session.commit()
    agenda = agenda_of(registration)
    assert [session.title.in_language("en") for _, session in agenda] == list(DELEGATE_PICKS)
    assert count_rows(SessionSignup) == 2
