"""The published programme: the read model parsed from the newest snapshot, its search, and
the cache that serves a page with one query and is renewed on publishing."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from app.extensions import db as _db
from app.i18n.text import TranslatedText
from app.programme import services
from app.programme.models import SessionKind
from app.programme.published import published_programme
from app.programme.publishing import publish_programme
from tests.programme.factories import (
    FIRST_DAY,
    make_room,
    make_session,
    make_speaker,
    make_track,
)
from tests.registration.factories import make_event


def _publish(event) -> None:
    """Publish and commit."""
    publish_programme(event, actor=None)
    _db.session.commit()


def _programme(db):
    """A small published programme: a plenary, two parallel sessions, a study visit."""
    event = make_event()
    hall = make_room(event, "Nusa Dua Hall", capacity=1200, floor="Ground", position=0)
    side = make_room(event, "Kintamani", capacity=120, position=1, interpretation_booth=True)
    track = make_track(event, "Restorative justice", name_id="Keadilan restoratif")
    jane = make_speaker(event, "Jane Doe", honorific="Dr", country="GB")
    ketut = make_speaker(event, "Ketut Sudiarta", organisation_name="Bapas Denpasar")
    joao = make_speaker(event, "João Müller", country="BR")
    sessions = {
        "plenary": make_session(
            event,
            title_en="Opening plenary",
            title_id="Pleno pembukaan",
            kind=SessionKind.PLENARY,
            room=hall,
            start=time(9),
            end=time(10),
            speakers=[jane],
        ),
        "restorative": make_session(
            event,
            title_en="Restorative justice in villages",
            title_id="Keadilan restoratif di desa",
            room=side,
            track=track,
            start=time(10, 30),
            end=time(12),
            chairs=[ketut],
            speakers=[joao],
            spoken_language="id",
            interpretation=True,
            requires_signup=True,
            abstract=TranslatedText(en="Mediation by village elders.", id="Mediasi oleh tetua."),
        ),
        "probation": make_session(
            event,
            title_en="Probation officers' caseloads",
            room=hall,
            start=time(10, 30),
            end=time(12),
            speakers=[jane],
        ),
        "visit": make_session(
            event,
            title_en="Study visit",
            kind=SessionKind.STUDY_VISIT,
            location_note="Bapas Denpasar",
            day=date(2026, 4, 16),
            start=time(8),
            end=time(13),
        ),
    }
    make_session(event, title_en="Draft", day=None, start=None, end=None)
    _publish(event)
    return event, {"hall": hall, "side": side, "track": track}, (jane, ketut, joao), sessions


def test_nothing_is_published_before_the_first_version(db):
    event = make_event()
    make_session(event)
    assert published_programme(event) is None


def test_the_read_model_resolves_rooms_tracks_and_people(db):
    event, places, (jane, ketut, joao), sessions = _programme(db)
    programme = published_programme(event)
    assert programme.version == 1
    assert programme.zone == ZoneInfo("Asia/Makassar")
    assert programme.published_at.tzinfo is not None
    assert programme.days() == [date(2026, 4, day) for day in (14, 15, 16, 17)]
    assert [room.name for room in programme.rooms] == ["Nusa Dua Hall", "Kintamani"]
    assert programme.tracks[0].name.in_language("id") == "Keadilan restoratif"
    assert [speaker.name for speaker in programme.speakers] == [
        "Jane Doe",
        "João Müller",
        "Ketut Sudiarta",
    ]
    assert len(programme.sessions) == 4  # the draft is not published

    session = programme.session(sessions["restorative"].id)
    assert session.kind is SessionKind.THEMATIC
    assert session.kind_label == "Thematic session"
    assert session.title.in_language("id") == "Keadilan restoratif di desa"
    assert session.abstract.in_language("en") == "Mediation by village elders."
    assert session.starts_at == datetime(2026, 4, 14, 2, 30, tzinfo=UTC)
    assert session.ends_at == datetime(2026, 4, 14, 4, 0, tzinfo=UTC)
    assert session.room.name == "Kintamani"
    assert session.room.interpretation_booth is True
    assert session.room_id == places["side"].id
    assert session.track.colour == "#1f6feb"
    assert (session.spoken_language, session.interpretation) == ("id", True)
    assert (session.capacity, session.requires_signup) == (120, True)
    assert [person.name for person in session.chairs] == ["Ketut Sudiarta"]
    assert [person.name for person in session.speakers] == ["João Müller"]
    assert [person.id for person in session.people] == [ketut.id, joao.id]

    visit = programme.session(sessions["visit"].id)
    assert (visit.room, visit.room_id, visit.location_note) == (None, None, "Bapas Denpasar")
    assert visit.abstract.is_empty()
    assert visit.capacity is None

    speaker = programme.speaker(jane.id)
    assert speaker.display_name == "Dr Jane Doe"
    assert speaker.organisation == "Directorate General of Corrections"
    assert programme.speaker(ketut.id).organisation == "Bapas Denpasar"
    assert [s.id for s in programme.sessions_of_speaker(jane.id)] == [
        sessions["plenary"].id,
        sessions["probation"].id,
    ]
    assert programme.session(999_999) is None
    assert programme.speaker(999_999) is None


def test_as_dict_is_the_snapshot_and_a_copy(db):
    event, _places, _people, _sessions = _programme(db)
    programme = published_programme(event)
    data = programme.as_dict()
    assert data["version"] == 1
    assert len(data["sessions"]) == 4
    data["sessions"].clear()
    assert len(programme.as_dict()["sessions"]) == 4


def test_search_filters_by_track_kind_and_language(db):
    event, places, _people, sessions = _programme(db)
    programme = published_programme(event)

    def ids(**filters) -> set[int]:
        return {session.id for session in programme.search(**filters)}

    assert ids() == {session.id for session in sessions.values()}
    assert ids(track_id=places["track"].id) == {sessions["restorative"].id}
    assert ids(kind="plenary") == {sessions["plenary"].id}
    assert ids(kind=SessionKind.STUDY_VISIT) == {sessions["visit"].id}
    assert ids(language="id") == {sessions["restorative"].id}
    assert ids(language="en", kind="plenary") == {sessions["plenary"].id}
    assert ids(track_id=999) == set()


def test_search_words_match_both_languages_people_and_rooms_whatever_the_case_and_accents(db):
    event, _places, _people, sessions = _programme(db)
    programme = published_programme(event)

    def ids(q: str) -> set[int]:
        return {session.id for session in programme.search(q=q)}

    restorative = sessions["restorative"].id
    assert ids("VILLAGES") == {restorative}
    assert ids("desa") == {restorative}  # the Indonesian title
    assert ids("tetua") == {restorative}  # the Indonesian abstract
    assert ids("muller") == {restorative}  # "João Müller" without accents
    assert ids("JOÃO") == {restorative}
    assert ids("kintamani") == {restorative}  # the room
    assert ids("nusa dua") == {sessions["plenary"].id, sessions["probation"].id}
    assert ids("dr jane") == {sessions["plenary"].id, sessions["probation"].id}
    assert ids("ketut") == {restorative}  # a chair
    assert ids("bapas") == {sessions["visit"].id}  # a place away from the rooms
    assert ids("jane villages") == set()  # every word must match
    assert ids("   ") == ids("")
    assert len(ids("")) == 4
    assert programme.search(q="desa", language="en") == []


def test_a_warm_cache_serves_the_programme_with_one_query(db, count_queries):
    event, _places, _people, _sessions = _programme(db)
    event_id = event.id
    first = published_programme(event)
    with count_queries() as counter:
        again = published_programme(event)
    assert again is first
    assert counter.count == 1
    assert event_id == event.id


def test_a_cold_cache_takes_two_queries(db, count_queries):
    event, _places, _people, _sessions = _programme(db)
    services.move_session(
        _sessions["visit"], day=FIRST_DAY, start=time(14), room_id=None, actor=None
    )
    _publish(event)
    event_id = event.id
    with count_queries() as counter:
        programme = published_programme(event)
    assert programme.version == 2
    assert counter.count == 2
    assert event_id == event.id


def test_drafts_stay_unseen_until_published_and_publishing_renews_the_cache(db):
    event, places, _people, sessions = _programme(db)
    old = published_programme(event)
    plenary = sessions["plenary"]
    services.move_session(
        plenary, day=FIRST_DAY, start=time(13), room_id=places["side"].id, actor=None
    )
    _db.session.commit()
    assert published_programme(event) is old
    _publish(event)
    new = published_programme(event)
    assert new is not old
    assert new.version == 2
    assert new.session(plenary.id).room.name == "Kintamani"
    assert new.session(plenary.id).starts_at == datetime(2026, 4, 14, 5, 0, tzinfo=UTC)
    assert old.session(plenary.id).room.name == "Nusa Dua Hall"


def test_another_event_has_its_own_programme(db):
    event, _places, _people, _sessions = _programme(db)
    other = make_event(slug="other2027", short_name="Other 2027")
    assert published_programme(other) is None
    make_session(other, title_en="Elsewhere")
    _publish(other)
    assert [s.title.get("en") for s in published_programme(other).sessions] == ["Elsewhere"]
    assert len(published_programme(event).sessions) == 4
