"""Programme services: rooms, tracks, speakers (with photos) and sessions, checked, placed in
WITA and stored in UTC."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import UTC, date, datetime, time
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select

from app.extensions import db as _db
from app.i18n.text import TranslatedText
from app.partners.models import Partner
from app.partners.services import PartnerDetails, create_partner
from app.programme import photos, services
from app.programme.models import ProgrammeSession, SessionKind
from app.programme.services import (
    ProgrammeError,
    RoomDetails,
    SpeakerDetails,
    TrackDetails,
)
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
from tests.registration.factories import make_event


def _check(raised: pytest.ExceptionInfo, code: str, field: str | None) -> None:
    """The refusal carries this code and field."""
    assert raised.value.code == code
    assert raised.value.field == field


def _other_event():
    """A second event, to check that one event's rooms and people stay out of another's."""
    return make_event(slug="other2027", short_name="Other 2027")


def _image(fmt: str = "PNG", size: tuple[int, int] = (1600, 1200)) -> bytes:
    """A picture in a format."""
    output = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(output, fmt)
    return output.getvalue()


# --- rooms ----------------------------------------------------------------------------------


def test_rooms_are_listed_by_position_then_name(db):
    event = make_event()
    make_room(event, "Uluwatu", position=1)
    make_room(event, "Kintamani", position=1)
    make_room(event, "Nusa Dua Hall", position=0)
    assert [room.name for room in services.rooms(event)] == [
        "Nusa Dua Hall",
        "Kintamani",
        "Uluwatu",
    ]


def test_room_names_are_unique_per_event_whatever_the_case(db):
    event = make_event()
    room = make_room(event, "Nusa Dua Hall")
    with pytest.raises(ProgrammeError) as raised:
        make_room(event, "nusa dua hall")
    _check(raised, "duplicate_room", "name")
    # The room itself keeps its name when edited; another event may use it.
    services.update_room(
        room, RoomDetails("Nusa Dua Hall", 900, "Ground", True, True, 2), actor=None
    )
    assert (room.capacity, room.floor, room.position) == (900, "Ground", 2)
    make_room(_other_event(), "Nusa Dua Hall")


@pytest.mark.parametrize(
    ("changes", "code", "field"),
    [
        ({"name": "  "}, "required", "name"),
        ({"name": "x" * 121}, "too_long", "name"),
        ({"capacity": None}, "required", "capacity"),
        ({"capacity": 0}, "invalid_capacity", "capacity"),
        ({"capacity": 10**9}, "invalid_capacity", "capacity"),
        ({"floor": "Ground\nfloor"}, "control_characters", "floor"),
        ({"position": -1}, "invalid_position", "position"),
    ],
)
def test_bad_room_details_are_refused_on_their_field(db, changes, code, field):
    event = make_event()
    details = replace(RoomDetails("Room A", 100, None, True, False), **changes)
    with pytest.raises(ProgrammeError) as raised:
        services.create_room(event, details, actor=None)
    _check(raised, code, field)
    assert services.rooms(event) == []


def test_a_room_in_use_cannot_be_deleted(db):
    event = make_event()
    room = make_room(event, "Jimbaran")
    session = make_session(event, room=room)
    with pytest.raises(ProgrammeError) as raised:
        services.delete_room(room, actor=None)
    _check(raised, "room_in_use", None)
    assert "“Jimbaran” is used by 1 session" in str(raised.value)
    services.move_session(session, day=FIRST_DAY, start=time(9), room_id=None, actor=None)
    services.delete_room(room, actor=None)
    assert services.rooms(event) == []


# --- tracks ---------------------------------------------------------------------------------


def test_tracks_take_a_bilingual_name_and_a_lowercased_colour(db):
    event = make_event()
    track = services.create_track(
        event,
        TrackDetails(TranslatedText(en="Reintegration", id="Reintegrasi"), " #1F6FEB ", 1),
        actor=None,
    )
    assert track.colour == "#1f6feb"
    assert track.name.in_language("id") == "Reintegrasi"
    second = make_track(event, "Technology", position=0)
    assert services.tracks(event) == [second, track]


@pytest.mark.parametrize(
    ("details", "code", "field"),
    [
        (TrackDetails(None, "#1f6feb"), "required", "name"),
        (TrackDetails(TranslatedText(en=" "), "#1f6feb"), "required", "name"),
        (TrackDetails(TranslatedText(en="Youth"), "blue"), "invalid_colour", "colour"),
        (TrackDetails(TranslatedText(en="Youth"), "#12345"), "invalid_colour", "colour"),
        (TrackDetails(TranslatedText(en="Youth"), "#12345g"), "invalid_colour", "colour"),
        (TrackDetails(TranslatedText(en="Youth"), None), "invalid_colour", "colour"),
    ],
)
def test_bad_track_details_are_refused_on_their_field(db, details, code, field):
    event = make_event()
    with pytest.raises(ProgrammeError) as raised:
        services.create_track(event, details, actor=None)
    _check(raised, code, field)


def test_deleting_a_track_keeps_its_sessions_without_a_track(db):
    event = make_event()
    track = make_track(event, "Women in justice")
    session = make_session(event, track=track)
    services.delete_track(track, actor=None)
    _db.session.commit()
    _db.session.expire_all()
    assert _db.session.get(ProgrammeSession, session.id).track_id is None
    assert services.tracks(event) == []


# --- speakers -------------------------------------------------------------------------------


def _speaker_details(**changes) -> SpeakerDetails:
    """Valid details of a speaker with a typed organisation."""
    base = SpeakerDetails(
        name="Jane Doe",
        honorific="Dr",
        position_title="Chief Probation Officer",
        partner_id=None,
        organisation_name="Probation Service",
        country="gb",
        biography=TranslatedText(en="Works on\nprobation.", id="Bekerja di bidang\nprobation."),
        email="Jane.Doe@Probation.Example",
    )
    return replace(base, **changes)


def test_a_speaker_is_created_with_a_typed_organisation(db):
    event = make_event()
    speaker = services.create_speaker(event, _speaker_details(), actor=None)
    assert (speaker.country, speaker.organisation, speaker.email) == (
        "GB",
        "Probation Service",
        "Jane.Doe@probation.example",
    )
    assert speaker.biography.in_language("en") == "Works on\nprobation."


def test_a_speaker_organisation_from_the_partner_module_wins_over_a_typed_one(db):
    event = make_event()
    partner = create_partner(
        PartnerDetails(name="Ministry of Law", kind="government", country="ID"), actor=None
    )
    speaker = services.create_speaker(
        event, _speaker_details(partner_id=partner.id, organisation_name="typed"), actor=None
    )
    assert speaker.organisation_name is None
    assert speaker.organisation == "Ministry of Law"


@pytest.mark.parametrize(
    ("changes", "code", "field"),
    [
        ({"name": ""}, "required", "name"),
        ({"honorific": "x" * 51}, "too_long", "honorific"),
        ({"partner_id": 999_999}, "unknown_partner", "partner_id"),
        ({"organisation_name": " "}, "organisation_missing", "organisation_name"),
        ({"country": "XX"}, "unknown_country", "country"),
        ({"country": None}, "unknown_country", "country"),
        ({"email": "not an address"}, "invalid_email", "email"),
        ({"biography": TranslatedText(en="x" * 5001)}, "too_long", "biography"),
    ],
)
def test_bad_speaker_details_are_refused_on_their_field(db, changes, code, field):
    event = make_event()
    with pytest.raises(ProgrammeError) as raised:
        services.create_speaker(event, _speaker_details(**changes), actor=None)
    _check(raised, code, field)
    assert services.speakers(event) == []


def test_speakers_are_listed_by_name_with_their_partner_loaded(db, count_queries):
    event = make_event()
    partner = create_partner(
        PartnerDetails(name="Bapas Denpasar", kind="government", country="ID"), actor=None
    )
    make_speaker(event, "yusuf Rahman", partner_id=partner.id)
    make_speaker(event, "Anna Schmidt", country="DE")
    _db.session.commit()
    event = _db.session.get(type(event), event.id)
    _db.session.expunge_all()
    with count_queries() as counter:
        found = services.speakers(event)
        organisations = [speaker.organisation for speaker in found]
    assert [speaker.name for speaker in found] == ["Anna Schmidt", "yusuf Rahman"]
    assert organisations == ["Directorate General of Corrections", "Bapas Denpasar"]
    assert counter.count == 1


def test_a_speaker_on_a_session_cannot_be_deleted(db):
    event = make_event()
    speaker = make_speaker(event, "Jane Doe")
    session = make_session(event, speakers=[speaker])
    with pytest.raises(ProgrammeError) as raised:
        services.delete_speaker(speaker, actor=None)
    _check(raised, "speaker_in_use", None)
    assert "Jane Doe is on 1 session" in str(raised.value)
    services.update_session(session, session_details(), actor=None)
    services.delete_speaker(speaker, actor=None)
    assert services.speakers(event) == []


# --- photos ---------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
def test_a_photo_is_reencoded_as_a_small_jpeg_under_a_random_name(app, db, fmt):
    event = make_event()
    speaker = make_speaker(event)
    services.set_speaker_photo(speaker, _image(fmt), actor=None)
    _db.session.commit()
    path = services.photo_path(speaker)
    assert path is not None
    assert path.parent == Path(app.instance_path) / "speaker_photos"
    assert path.name == speaker.photo_filename
    assert len(path.stem) == 32
    with Image.open(path) as stored:
        assert stored.format == "JPEG"
        assert stored.size == (800, 600)


@pytest.mark.parametrize(
    "data",
    [
        b"not a picture at all",
        b"\x89PNG\r\n\x1a\n" + b"\x00" * 100,  # a PNG header and nothing behind it
        _image("GIF", (10, 10)),
        _image("BMP", (10, 10)),
        b"",
    ],
)
def test_anything_but_a_jpeg_png_or_webp_picture_is_refused(db, data):
    event = make_event()
    speaker = make_speaker(event)
    files_before = set(photos.photo_dir().iterdir())
    with pytest.raises(ProgrammeError) as raised:
        services.set_speaker_photo(speaker, data, actor=None)
    _check(raised, "invalid_photo", "photo")
    assert speaker.photo_filename is None
    assert set(photos.photo_dir().iterdir()) == files_before


def test_a_decompression_bomb_is_refused(db):
    event = make_event()
    speaker = make_speaker(event)
    output = io.BytesIO()
    # 48 million pixels in a few kilobytes: decoding them would take hundreds of megabytes.
    Image.new("1", (8000, 6000)).save(output, "PNG")
    with pytest.raises(ProgrammeError) as raised:
        services.set_speaker_photo(speaker, output.getvalue(), actor=None)
    _check(raised, "invalid_photo", "photo")


def test_a_photo_over_five_megabytes_is_refused(db):
    event = make_event()
    speaker = make_speaker(event)
    with pytest.raises(ProgrammeError) as raised:
        services.set_speaker_photo(speaker, b"\xff" * (5 * 1024 * 1024 + 1), actor=None)
    _check(raised, "photo_too_large", "photo")


def test_a_photo_written_in_a_rolled_back_transaction_is_removed(db):
    event = make_event()
    speaker = make_speaker(event)
    _db.session.commit()
    services.set_speaker_photo(speaker, _image(), actor=None)
    path = photos.photo_dir() / speaker.photo_filename
    assert path.is_file()
    _db.session.rollback()
    assert not path.exists()
    assert speaker.photo_filename is None


def test_a_replaced_or_removed_photo_goes_once_committed(db):
    event = make_event()
    speaker = make_speaker(event)
    services.set_speaker_photo(speaker, _image(), actor=None)
    _db.session.commit()
    first = services.photo_path(speaker)
    services.set_speaker_photo(speaker, _image("JPEG"), actor=None)
    assert first.exists()  # until the change is committed
    _db.session.commit()
    second = services.photo_path(speaker)
    assert not first.exists()
    assert second.exists()
    services.remove_speaker_photo(speaker, actor=None)
    _db.session.commit()
    assert not second.exists()
    assert services.photo_path(speaker) is None


def test_deleting_a_speaker_removes_the_photo_once_committed(db):
    event = make_event()
    speaker = make_speaker(event)
    services.set_speaker_photo(speaker, _image(), actor=None)
    _db.session.commit()
    path = services.photo_path(speaker)
    services.delete_speaker(speaker, actor=None)
    assert path.exists()
    _db.session.commit()
    assert not path.exists()


# --- sessions -------------------------------------------------------------------------------


def test_local_wita_times_are_stored_in_utc_and_read_back(db):
    event = make_event()
    room = make_room(event)
    session = make_session(event, day=date(2026, 4, 14), start=time(9), end=time(10, 30), room=room)
    _db.session.commit()
    _db.session.expire_all()
    stored = _db.session.get(ProgrammeSession, session.id)
    # WITA is UTC+8 (SQLite hands the moment back without its zone).
    assert stored.starts_at.replace(tzinfo=UTC) == datetime(2026, 4, 14, 1, 0, tzinfo=UTC)
    assert stored.ends_at.replace(tzinfo=UTC) == datetime(2026, 4, 14, 2, 30, tzinfo=UTC)
    assert services.local_bounds(stored) == (date(2026, 4, 14), time(9), time(10, 30))


def test_a_session_without_a_day_waits_off_the_timetable(db):
    event = make_event()
    session = make_session(event, day=None, start=None, end=None)
    assert not session.is_placed
    assert services.local_bounds(session) is None


def test_a_session_lists_chairs_then_speakers_in_the_order_given(db):
    event = make_event()
    chair, first, second = (make_speaker(event, name) for name in ("Chair", "First", "Second"))
    session = make_session(event, chairs=[chair], speakers=[second, first, second])
    assert [(person.speaker.name, person.role, person.position) for person in session.people] == [
        ("Chair", "chair", 0),
        ("Second", "speaker", 0),
        ("First", "speaker", 1),
    ]
    services.update_session(session, session_details(speakers=[first], chairs=[second]), actor=None)
    _db.session.commit()
    _db.session.expire_all()
    assert [(p.speaker.name, p.role) for p in session.people] == [
        ("Second", "chair"),
        ("First", "speaker"),
    ]


def test_the_effective_capacity_is_the_sessions_or_else_the_rooms(db):
    event = make_event()
    room = make_room(event, capacity=80)
    assert make_session(event, room=room).effective_capacity == 80
    assert make_session(event, room=room, capacity=40).effective_capacity == 40
    assert make_session(event).effective_capacity is None


@pytest.mark.parametrize(
    ("changes", "code", "field"),
    [
        ({"kind": "party"}, "unknown_kind", "kind"),
        ({"kind": None}, "unknown_kind", "kind"),
        ({"title": None}, "required", "title"),
        ({"title": TranslatedText(en="x" * 301)}, "too_long", "title"),
        ({"abstract": TranslatedText(id="a\x00b")}, "control_characters", "abstract"),
        ({"day": None}, "incomplete_time", "day"),
        ({"start": None}, "incomplete_time", "start"),
        ({"end": None}, "incomplete_time", "end"),
        ({"end": time(9)}, "ends_before_start", "end"),
        ({"end": time(8)}, "ends_before_start", "end"),
        ({"day": date(1900, 1, 1)}, "date_out_of_range", "day"),
        ({"day": date(9999, 12, 31)}, "date_out_of_range", "day"),
        ({"room_id": 999_999}, "unknown_room", "room_id"),
        ({"track_id": 999_999}, "unknown_track", "track_id"),
        ({"spoken_language": "fr"}, "unknown_language", "spoken_language"),
        ({"spoken_language": None}, "unknown_language", "spoken_language"),
        ({"capacity": 0}, "invalid_capacity", "capacity"),
        ({"capacity": -5}, "invalid_capacity", "capacity"),
        ({"chair_ids": (999_999,)}, "unknown_speaker", "chair_ids"),
        ({"speaker_ids": (999_999,)}, "unknown_speaker", "speaker_ids"),
        ({"location_note": "x" * 201}, "too_long", "location_note"),
        ({"kind": "break", "requires_signup": True}, "break_signup", "requires_signup"),
    ],
)
def test_bad_session_details_are_refused_on_their_field(db, changes, code, field):
    event = make_event()
    details = replace(session_details(title_en="Probation in practice"), **changes)
    with pytest.raises(ProgrammeError) as raised:
        services.create_session(event, details, actor=None)
    _check(raised, code, field)
    assert services.event_sessions(event) == []


def test_another_events_room_track_and_people_are_refused(db):
    event = make_event()
    other = _other_event()
    room, track, speaker = make_room(other), make_track(other), make_speaker(other)
    for values, field in (
        ({"room": room}, "room_id"),
        ({"track": track}, "track_id"),
        ({"speakers": [speaker]}, "speaker_ids"),
        ({"chairs": [speaker]}, "chair_ids"),
    ):
        with pytest.raises(ProgrammeError) as raised:
            make_session(event, **values)
        assert raised.value.field == field


def test_a_person_cannot_chair_and_speak_in_the_same_session(db):
    event = make_event()
    jane = make_speaker(event, "Jane Doe")
    with pytest.raises(ProgrammeError) as raised:
        make_session(event, chairs=[jane], speakers=[jane])
    _check(raised, "chair_and_speaker", "speaker_ids")
    assert "Jane Doe cannot be both chair and speaker" in str(raised.value)


def test_a_session_with_signed_up_delegates_cannot_be_deleted(db):
    event = make_event()
    session = make_session(event, requires_signup=True)
    kept = make_session(event)
    make_signup(session, confirmed_registration(event))
    with pytest.raises(ProgrammeError) as raised:
        services.delete_session(session, actor=None)
    _check(raised, "session_has_signups", None)
    services.delete_session(kept, actor=None)
    assert services.event_sessions(event) == [session]


def test_deleting_a_session_takes_its_people_with_it_but_not_the_speakers(db):
    event = make_event()
    jane = make_speaker(event)
    session = make_session(event, speakers=[jane])
    services.delete_session(session, actor=None)
    _db.session.commit()
    assert services.event_sessions(event) == []
    assert services.speakers(event) == [jane]


# --- moving ---------------------------------------------------------------------------------


def test_moving_keeps_the_length_and_changes_the_room(db):
    event = make_event()
    first, second = make_room(event), make_room(event)
    session = make_session(event, room=first, start=time(9), end=time(10, 30))
    services.move_session(
        session, day=date(2026, 4, 15), start=time(13, 15), room_id=second.id, actor=None
    )
    assert services.local_bounds(session) == (date(2026, 4, 15), time(13, 15), time(14, 45))
    assert session.room == second
    services.move_session(session, day=date(2026, 4, 15), start=time(8), room_id=None, actor=None)
    assert session.room is None
    assert services.local_bounds(session) == (date(2026, 4, 15), time(8), time(9, 30))


def test_moving_without_a_day_takes_the_session_off_the_timetable(db):
    event = make_event()
    room = make_room(event)
    session = make_session(event, room=room)
    services.move_session(session, day=None, start=time(10), room_id=None, actor=None)
    assert not session.is_placed
    assert session.room is None


def test_a_session_placed_for_the_first_time_lasts_an_hour(db):
    event = make_event()
    session = make_session(event, day=None, start=None, end=None)
    services.move_session(session, day=FIRST_DAY, start=time(14), room_id=None, actor=None)
    assert services.local_bounds(session) == (FIRST_DAY, time(14), time(15))


@pytest.mark.parametrize(
    ("day", "start", "code", "field"),
    [
        (FIRST_DAY, None, "required", "start"),
        (FIRST_DAY, time(23, 30), "past_midnight", "start"),
        (date(1900, 1, 1), time(9), "date_out_of_range", "day"),
    ],
)
def test_bad_moves_are_refused_and_change_nothing(db, day, start, code, field):
    event = make_event()
    session = make_session(event)
    before = (session.starts_at, session.ends_at)
    with pytest.raises(ProgrammeError) as raised:
        services.move_session(session, day=day, start=start, room_id=None, actor=None)
    _check(raised, code, field)
    assert (session.starts_at, session.ends_at) == before


def test_moving_into_another_events_room_is_refused(db):
    event = make_event()
    session = make_session(event)
    foreign = make_room(_other_event())
    with pytest.raises(ProgrammeError) as raised:
        services.move_session(session, day=FIRST_DAY, start=time(9), room_id=foreign.id, actor=None)
    _check(raised, "unknown_room", "room_id")


# --- loading --------------------------------------------------------------------------------


def _fill(event, count: int, partner: Partner) -> None:
    """count sessions in two rooms with a track, a chair and two speakers each."""
    rooms = [make_room(event), make_room(event)]
    track = make_track(event)
    people = [make_speaker(event, partner_id=partner.id if n % 2 else None) for n in range(6)]
    for number in range(count):
        make_session(
            event,
            room=rooms[number % 2],
            track=track,
            start=time(8 + number % 10),
            end=time(8 + number % 10, 45),
            chairs=[people[number % 6]],
            speakers=[people[(number + 1) % 6], people[(number + 2) % 6]],
        )


def _queries_to_load(event, count_queries) -> tuple[int, list[ProgrammeSession]]:
    """How many queries event_sessions and reading everything it loaded take, from scratch."""
    event_id = event.id
    _db.session.commit()
    _db.session.expunge_all()
    event = _db.session.get(type(event), event_id)
    with count_queries() as counter:
        sessions = services.event_sessions(event)
        for session in sessions:
            _ = (session.room, session.track, [p.speaker.organisation for p in session.people])
    return counter.count, sessions


def test_event_sessions_loads_everything_in_a_constant_number_of_queries(db, count_queries):
    event = make_event()
    partner = create_partner(
        PartnerDetails(name="Bapas Denpasar", kind="government", country="ID"), actor=None
    )
    _fill(event, 3, partner)
    few, _sessions = _queries_to_load(event, count_queries)
    event = _db.session.scalars(select(type(event))).one()
    partner = _db.session.scalars(select(Partner)).one()
    _fill(event, 40, partner)
    make_session(event, day=None, start=None, end=None, kind=SessionKind.BREAK)
    many, sessions = _queries_to_load(event, count_queries)
    assert few == many <= 6  # sessions, rooms, tracks, people, speakers, partners
    assert len(sessions) == 44
    assert sessions[-1].starts_at is None  # unplaced ones last
    starts = [session.starts_at for session in sessions[:-1]]
    assert starts == sorted(starts)


def test_event_sessions_belong_to_the_event_only(db):
    event = make_event()
    make_session(_other_event())
    mine = make_session(event)
    assert services.event_sessions(event) == [mine]
