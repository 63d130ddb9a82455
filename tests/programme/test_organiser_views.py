"""The organisers' programme pages through the test client (CSRF off): rooms, tracks, speakers
and sessions with their forms, moving sessions (form and drag and drop), conflicts on the
timetable, publishing, sign-up lists, and who may use them."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, time
from html import unescape

import pytest
from PIL import Image
from playwright.sync_api import expect
from sqlalchemy import func, select

from app.auth.models import Role
from app.extensions import db as extension_db
from app.programme import agenda
from app.programme.models import (
    PersonRole,
    ProgrammeSession,
    ProgrammeVersion,
    Room,
    SignupStatus,
    Speaker,
    Track,
)
from app.programme.services import local_bounds
from tests.agreements.factories import make_partner
from tests.programme.factories import (
    FIRST_DAY,
    confirmed_registration,
    make_room,
    make_session,
    make_speaker,
    make_track,
)
from tests.registration.factories import make_event

BASE = "/organiser/programme"
SECOND_DAY = "2026-04-15"
FETCH = {"X-Requested-With": "fetch"}
ROOM = {
    "name": "Nusa Dua Hall",
    "capacity": "1200",
    "floor": "Ground",
    "accessible": "y",
    "interpretation_booth": "y",
    "position": "0",
}
TRACK = {
    "name-en": "Restorative justice",
    "name-id": "Keadilan restoratif",
    "colour": "#1F6FEB",
    "position": "1",
}
SPEAKER = {
    "honorific": "Dr",
    "name": "Jane Doe",
    "position_title": "Chief Probation Officer",
    "partner_id": "",
    "organisation_name": "Probation Service of Kenya",
    "country": "KE",
    "email": "jane@probation.example",
    "biography-en": "Thirty years in community corrections.",
    "biography-id": "",
}


@pytest.fixture
def event(db):
    """WCPP 2026 (14–17 April 2026), committed."""
    created = make_event()
    db.session.commit()
    return created


@pytest.fixture
def organiser(auth):
    """The test client signed in as an organiser."""
    return auth.login_as(Role.ORGANISER)


def _html(response) -> str:
    return unescape(response.get_data(as_text=True))


def _field_error(html: str, field_id: str) -> str:
    """The error text under one field ('' when none)."""
    match = re.search(rf'<p class="error" id="{re.escape(field_id)}-error">(.*?)</p>', html, re.S)
    return unescape(match.group(1)).strip() if match else ""


def _count(db, model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _fresh(db, model, item_id):
    """A row as stored now (after the client's requests)."""
    db.session.expire_all()
    return db.session.get(model, item_id)


def _session_data(**overrides) -> dict:
    """A valid session form: a thematic session on the first day, 09:00–10:30, no room."""
    values = {
        "kind": "thematic",
        "title-en": "Community service orders under the new Criminal Code",
        "title-id": "Pidana kerja sosial dalam KUHP baru",
        "abstract-en": "",
        "abstract-id": "",
        "day": FIRST_DAY.isoformat(),
        "start": "09:00",
        "end": "10:30",
        "room_id": "",
        "location_note": "",
        "track_id": "",
        "spoken_language": "en",
        "interpretation": "y",
        "capacity": "",
        "chair_ids": [],
        "speaker_ids": [],
    }
    values.update(overrides)
    return values


def _png() -> bytes:
    """A small real PNG picture."""
    output = io.BytesIO()
    Image.new("RGB", (40, 60), (11, 85, 99)).save(output, "PNG")
    return output.getvalue()


# --- rooms ----------------------------------------------------------------------------------


def test_an_organiser_adds_edits_and_deletes_a_room(client, organiser, event, db):
    assert "No rooms yet" in _html(client.get(f"{BASE}/rooms/"))
    response = client.post(f"{BASE}/rooms/new", data=ROOM)
    assert response.status_code == 302
    assert response.headers["Location"] == f"{BASE}/rooms/"
    room = db.session.scalar(select(Room))
    assert (room.name, room.capacity, room.floor, room.accessible, room.interpretation_booth) == (
        "Nusa Dua Hall",
        1200,
        "Ground",
        True,
        True,
    )
    page = _html(client.get(f"{BASE}/rooms/"))
    assert "Room “Nusa Dua Hall” added." in page
    assert f'href="{BASE}/rooms/{room.id}/edit">Nusa Dua Hall</a>' in page

    form = _html(client.get(f"{BASE}/rooms/{room.id}/edit"))
    assert 'value="Nusa Dua Hall"' in form
    assert 'value="1200"' in form
    edited = {**ROOM, "name": "Kintamani Room", "capacity": "80"}
    del edited["accessible"]
    assert client.post(f"{BASE}/rooms/{room.id}/edit", data=edited).status_code == 302
    room = _fresh(db, Room, room.id)
    assert (room.name, room.capacity, room.accessible) == ("Kintamani Room", 80, False)

    # Deleting needs the box ticked.
    refused = client.post(f"{BASE}/rooms/{room.id}/delete", data={})
    assert refused.status_code == 422
    assert "Tick the box to confirm the deletion." in _html(refused)
    assert _count(db, Room) == 1
    deleted = client.post(f"{BASE}/rooms/{room.id}/delete", data={"confirm": "y"})
    assert deleted.status_code == 302
    assert _count(db, Room) == 0
    assert "Room “Kintamani Room” deleted." in _html(client.get(f"{BASE}/rooms/"))


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"name": ""}, "name", "Enter the room's name."),
        ({"name": "x" * 121}, "name", "Use at most 120 characters."),
        ({"name": "Hall\x07"}, "name", "Remove the control characters"),
        ({"capacity": ""}, "capacity", "Enter how many people the room seats."),
        ({"capacity": "0"}, "capacity", "Enter a number above 0."),
        ({"capacity": "lots"}, "capacity", "Not a valid integer value."),
        ({"capacity": "99999999999"}, "capacity", "Enter a number above 0."),
        ({"position": "-1"}, "position", "Use a number from 0 to 10000."),
    ],
)
def test_bad_room_input_is_refused_on_its_field_and_nothing_is_saved(
    client, organiser, event, db, changes, field, message
):
    response = client.post(f"{BASE}/rooms/new", data={**ROOM, **changes})
    assert response.status_code == 200
    assert message in _field_error(_html(response), field)
    assert _count(db, Room) == 0


def test_a_second_room_of_the_same_name_is_refused(client, organiser, event, db):
    make_room(event, "Nusa Dua Hall")
    db.session.commit()
    response = client.post(f"{BASE}/rooms/new", data={**ROOM, "name": "nusa dua hall"})
    assert "Another room is already called “nusa dua hall”." in _field_error(
        _html(response), "name"
    )
    assert _count(db, Room) == 1


def test_a_room_in_use_is_not_deleted_and_the_reason_is_shown(client, organiser, event, db):
    room = make_room(event, "Nusa Dua Hall")
    make_session(event, room=room)
    db.session.commit()
    response = client.post(f"{BASE}/rooms/{room.id}/delete", data={"confirm": "y"})
    assert response.status_code == 422
    assert "“Nusa Dua Hall” is used by 1 session; move it to another room first." in _html(response)
    assert _count(db, Room) == 1


# --- tracks ---------------------------------------------------------------------------------


def test_an_organiser_adds_edits_and_deletes_a_track(client, organiser, event, db):
    form = _html(client.get(f"{BASE}/tracks/new"))
    assert 'type="color"' in form
    assert 'value="#1f6feb"' in form
    assert client.post(f"{BASE}/tracks/new", data=TRACK).status_code == 302
    track = db.session.scalar(select(Track))
    assert (track.name.in_language("id"), track.colour) == ("Keadilan restoratif", "#1f6feb")
    session = make_session(event, track=track)
    db.session.commit()
    listing = _html(client.get(f"{BASE}/tracks/"))
    assert "Restorative justice" in listing
    assert "background-color: #1f6feb" in listing

    english_only = {**TRACK, "name-id": "", "colour": "#aa3300"}
    assert client.post(f"{BASE}/tracks/{track.id}/edit", data=english_only).status_code == 302
    assert _fresh(db, Track, track.id).colour == "#aa3300"
    assert "Bahasa Indonesia missing" in _html(client.get(f"{BASE}/tracks/"))

    assert client.post(f"{BASE}/tracks/{track.id}/delete", data={"confirm": "y"}).status_code == 302
    assert _count(db, Track) == 0
    # Its session stays, without a track.
    assert _fresh(db, ProgrammeSession, session.id).track_id is None


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"name-en": "", "name-id": ""}, "name", "Write this in at least one language."),
        ({"colour": "red"}, "colour", "Give the colour as #rrggbb"),
        ({"colour": "#12345g"}, "colour", "Give the colour as #rrggbb"),
        ({"colour": ""}, "colour", "Choose a colour."),
        ({"name-en": "x" * 121}, "name", "longer than 120 characters"),
    ],
)
def test_bad_track_input_is_refused_and_nothing_is_saved(
    client, organiser, event, db, changes, field, message
):
    response = client.post(f"{BASE}/tracks/new", data={**TRACK, **changes})
    assert response.status_code == 200
    assert message in _field_error(_html(response), field)
    assert _count(db, Track) == 0


# --- speakers -------------------------------------------------------------------------------


def test_an_organiser_adds_a_speaker_with_a_typed_organisation_and_a_photo(
    client, organiser, event, db
):
    data = {**SPEAKER, "photo": (io.BytesIO(_png()), "jane.png")}
    response = client.post(f"{BASE}/speakers/new", data=data, content_type="multipart/form-data")
    assert response.status_code == 302, _html(response)
    speaker = db.session.scalar(select(Speaker))
    assert (speaker.honorific, speaker.name, speaker.organisation, speaker.country) == (
        "Dr",
        "Jane Doe",
        "Probation Service of Kenya",
        "KE",
    )
    assert speaker.biography.in_language("en") == "Thirty years in community corrections."
    assert speaker.photo_filename

    listing = _html(client.get(f"{BASE}/speakers/"))
    assert "Dr Jane Doe" in listing
    assert "Kenya" in listing
    assert "Bahasa Indonesia biography" in listing
    page = _html(client.get(f"{BASE}/speakers/{speaker.id}/edit"))
    assert f'src="{BASE}/speakers/{speaker.id}/photo"' in page
    photo = client.get(f"{BASE}/speakers/{speaker.id}/photo")
    assert photo.status_code == 200
    assert photo.mimetype == "image/jpeg"
    photo.close()

    # Removing the photo.
    kept = {**SPEAKER, "remove_photo": "y"}
    assert client.post(f"{BASE}/speakers/{speaker.id}/edit", data=kept).status_code == 302
    assert _fresh(db, Speaker, speaker.id).photo_filename is None
    assert client.get(f"{BASE}/speakers/{speaker.id}/photo").status_code == 404


def test_a_speaker_from_a_partner_organisation(client, organiser, event, db):
    partner = make_partner("Institute for Criminal Justice Reform", "ICJR")
    db.session.commit()
    form = _html(client.get(f"{BASE}/speakers/new"))
    assert (
        f'<option value="{partner.id}">Institute for Criminal Justice Reform (ICJR)</option>'
        in (form)
    )
    data = {**SPEAKER, "partner_id": str(partner.id), "organisation_name": ""}
    assert client.post(f"{BASE}/speakers/new", data=data).status_code == 302
    speaker = db.session.scalar(select(Speaker))
    assert (speaker.partner_id, speaker.organisation) == (
        partner.id,
        "Institute for Criminal Justice Reform",
    )


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"name": ""}, "name", "Enter the speaker's name."),
        ({"country": ""}, "country", "Choose a country from the list."),
        ({"country": "XX"}, "country", "Not a valid choice."),
        ({"organisation_name": ""}, "organisation_name", "type its name"),
        ({"partner_id": "999999"}, "partner_id", "Not a valid choice."),
        ({"partner_id": "abc"}, "partner_id", "could not coerce"),
        ({"email": "not an address"}, "email", "email"),
        ({"biography-en": "x" * 3001}, "biography", "longer than 3000 characters"),
    ],
)
def test_bad_speaker_input_is_refused_and_nothing_is_saved(
    client, organiser, event, db, changes, field, message
):
    response = client.post(f"{BASE}/speakers/new", data={**SPEAKER, **changes})
    assert response.status_code == 200
    assert message.lower() in _field_error(_html(response), field).lower()
    assert _count(db, Speaker) == 0


def test_a_file_that_is_not_a_picture_is_refused_and_no_speaker_is_saved(
    client, organiser, event, db, app
):
    data = {**SPEAKER, "photo": (io.BytesIO(b"%PDF-1.4 not a picture"), "cv.jpg")}
    response = client.post(f"{BASE}/speakers/new", data=data, content_type="multipart/form-data")
    assert response.status_code == 200
    assert "Upload a photo as a JPEG, PNG or WebP image." in _field_error(_html(response), "photo")
    assert _count(db, Speaker) == 0


def test_a_speaker_on_a_session_is_not_deleted(client, organiser, event, db):
    speaker = make_speaker(event, "Jane Doe")
    make_session(event, speakers=[speaker])
    lonely = make_speaker(event, "John Roe")
    db.session.commit()
    refused = client.post(f"{BASE}/speakers/{speaker.id}/delete", data={"confirm": "y"})
    assert refused.status_code == 422
    assert "Jane Doe is on 1 session; take them off it first." in _html(refused)
    assert client.post(
        f"{BASE}/speakers/{lonely.id}/delete", data={"confirm": "y"}
    ).status_code == (302)
    assert [s.name for s in db.session.scalars(select(Speaker))] == ["Jane Doe"]


# --- sessions -------------------------------------------------------------------------------


def test_an_organiser_adds_a_session_with_chairs_and_speakers(client, organiser, event, db):
    room = make_room(event, "Nusa Dua Hall", capacity=1200)
    track = make_track(event, "Reintegration")
    chair = make_speaker(event, "Yasonna Laoly")
    speakers = [make_speaker(event, "Jane Doe"), make_speaker(event, "Budi Santoso")]
    db.session.commit()

    data = _session_data(
        room_id=str(room.id),
        track_id=str(track.id),
        chair_ids=[str(chair.id)],
        speaker_ids=[str(speakers[1].id), str(speakers[0].id)],
        capacity="120",
        requires_signup="y",
    )
    response = client.post(f"{BASE}/sessions/new", data=data)
    assert response.status_code == 302, _html(response)
    assert response.headers["Location"] == f"{BASE}/?day={FIRST_DAY.isoformat()}"
    session = db.session.scalar(select(ProgrammeSession))
    assert local_bounds(session) == (FIRST_DAY, time(9, 0), time(10, 30))
    assert session.starts_at.replace(tzinfo=UTC) == datetime(2026, 4, 14, 1, 0, tzinfo=UTC)
    assert (session.room_id, session.track_id, session.capacity, session.requires_signup) == (
        room.id,
        track.id,
        120,
        True,
    )
    assert [(p.speaker.name, p.role) for p in session.people] == [
        ("Yasonna Laoly", PersonRole.CHAIR),
        ("Budi Santoso", PersonRole.SPEAKER),
        ("Jane Doe", PersonRole.SPEAKER),
    ]
    timetable = _html(client.get(response.headers["Location"]))
    assert "Session “Community service orders under the new Criminal Code” added." in timetable
    assert f'data-session-id="{session.id}"' in timetable

    # The edit form shows what is stored.
    form = _html(client.get(f"{BASE}/sessions/{session.id}/edit"))
    assert 'value="09:00"' in form
    assert 'value="10:30"' in form
    assert f'<option selected value="{room.id}">Nusa Dua Hall</option>' in form
    assert re.search(
        rf'checked id="chair_ids-\d+" name="chair_ids" type="checkbox" value="{chair.id}"', form
    )

    changed = _session_data(
        **{"title-en": "Reintegration after prison", "end": "11:00", "room_id": str(room.id)}
    )
    assert client.post(f"{BASE}/sessions/{session.id}/edit", data=changed).status_code == 302
    session = _fresh(db, ProgrammeSession, session.id)
    assert session.title.in_language("en") == "Reintegration after prison"
    assert local_bounds(session)[2] == time(11, 0)
    assert session.people == []


def test_the_new_session_form_is_prefilled_from_the_timetable(client, organiser, event, db):
    room = make_room(event, "Kintamani Room")
    db.session.commit()
    form = _html(client.get(f"{BASE}/sessions/new?day={SECOND_DAY}&start=14:30&room_id={room.id}"))
    assert f'<option selected value="{SECOND_DAY}">' in form
    assert 'value="14:30"' in form
    assert 'value="15:30"' in form
    assert f'<option selected value="{room.id}">Kintamani Room</option>' in form
    # Junk in the address is ignored, not an error.
    junk = client.get(f"{BASE}/sessions/new?day=2026-13-45&start=25:99&room_id=x")
    assert junk.status_code == 200


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"title-en": "", "title-id": ""}, "title", "Write this in at least one language."),
        ({"end": "08:00"}, "end", "The session must end after it starts."),
        ({"end": ""}, "end", "Give the day, start and end together"),
        ({"day": ""}, "day", "Give the day, start and end together"),
        ({"day": "2031-01-01"}, "day", "Not a valid choice."),
        ({"day": "yesterday"}, "day", "could not coerce"),
        ({"start": "9 o'clock"}, "start", "Not a valid time value."),
        ({"kind": "party"}, "kind", "Not a valid choice."),
        ({"room_id": "999"}, "room_id", "Not a valid choice."),
        ({"speaker_ids": ["999"]}, "speaker_ids", "not a valid choice"),
        ({"capacity": "0"}, "capacity", "Enter a number above 0."),
        (
            {"kind": "break", "requires_signup": "y"},
            "requires_signup",
            "cannot sign up for a break",
        ),
    ],
)
def test_bad_session_input_is_refused_on_its_field_and_nothing_is_saved(
    client, organiser, event, db, changes, field, message
):
    response = client.post(f"{BASE}/sessions/new", data=_session_data(**changes))
    assert response.status_code == 200
    assert message in _field_error(_html(response), field)
    assert _count(db, ProgrammeSession) == 0


def test_a_person_cannot_chair_and_speak_in_the_same_session(client, organiser, event, db):
    jane = make_speaker(event, "Jane Doe")
    db.session.commit()
    data = _session_data(chair_ids=[str(jane.id)], speaker_ids=[str(jane.id)])
    response = client.post(f"{BASE}/sessions/new", data=data)
    assert "cannot be both chair and speaker" in _field_error(_html(response), "speaker_ids")
    assert _count(db, ProgrammeSession) == 0


def test_a_session_without_a_time_waits_in_the_unscheduled_list(client, organiser, event, db):
    data = _session_data(day="", start="", end="", **{"title-en": "Closing ceremony"})
    response = client.post(f"{BASE}/sessions/new", data=data)
    assert response.status_code == 302
    assert response.headers["Location"] == f"{BASE}/"
    page = _html(client.get(f"{BASE}/"))
    tray = page.split('id="unscheduled"', 1)[1].split("</section>", 1)[0]
    assert "Closing ceremony" in tray


def test_deleting_a_session_needs_the_box_ticked(client, organiser, event, db):
    session = make_session(event, title_en="Opening plenary")
    db.session.commit()
    refused = client.post(f"{BASE}/sessions/{session.id}/delete", data={})
    assert refused.status_code == 422
    page = _html(refused)
    assert "Tick the box to confirm the deletion." in page
    # The session form beside it shows the stored session, not the delete form's fields.
    assert 'value="Opening plenary"' in page
    assert _count(db, ProgrammeSession) == 1
    response = client.post(f"{BASE}/sessions/{session.id}/delete", data={"confirm": "y"})
    assert response.status_code == 302
    assert _count(db, ProgrammeSession) == 0
    assert "Session “Opening plenary” deleted." in _html(client.get(response.headers["Location"]))
    # A GET never deletes.
    assert client.get(f"{BASE}/sessions/{session.id}/delete").status_code == 405


def test_unknown_items_are_not_found(client, organiser, event):
    for url in (
        f"{BASE}/rooms/999/edit",
        f"{BASE}/tracks/999/edit",
        f"{BASE}/speakers/999/edit",
        f"{BASE}/speakers/999/photo",
        f"{BASE}/sessions/999/edit",
        f"{BASE}/sessions/999/signups",
    ):
        assert client.get(url).status_code == 404, url
    assert client.post(f"{BASE}/sessions/999/move", data={}, headers=FETCH).status_code == 404


# --- moving ---------------------------------------------------------------------------------


def test_moving_a_session_with_the_form_keeps_its_length(client, organiser, event, db):
    hall = make_room(event, "Nusa Dua Hall")
    other = make_room(event, "Kintamani Room")
    session = make_session(event, room=hall)
    db.session.commit()
    page = _html(client.get(f"{BASE}/sessions/{session.id}/edit"))
    assert f'action="{BASE}/sessions/{session.id}/move"' in page
    assert 'id="move-start"' in page

    data = {"day": SECOND_DAY, "start": "13:00", "room_id": str(other.id)}
    response = client.post(f"{BASE}/sessions/{session.id}/move", data=data)
    assert response.status_code == 302
    assert response.headers["Location"] == f"{BASE}/?day={SECOND_DAY}"
    session = _fresh(db, ProgrammeSession, session.id)
    assert local_bounds(session) == (datetime(2026, 4, 15).date(), time(13, 0), time(14, 30))
    assert session.room_id == other.id
    assert "moved." in _html(client.get(response.headers["Location"]))

    # A refused move shows the reason on the session page and changes nothing.
    refused = client.post(
        f"{BASE}/sessions/{session.id}/move", data={"day": SECOND_DAY, "start": "23:30"}
    )
    assert refused.status_code == 422
    assert "would run past midnight" in _field_error(_html(refused), "move-start")
    assert local_bounds(_fresh(db, ProgrammeSession, session.id))[1] == time(13, 0)


def test_drag_and_drop_moves_answer_in_json(client, organiser, event, db):
    hall = make_room(event, "Nusa Dua Hall")
    session = make_session(event)
    unplaced = make_session(event, day=None, start=None, end=None)
    db.session.commit()
    url = f"{BASE}/sessions/{session.id}/move"

    moved = client.post(
        url,
        data={"day": FIRST_DAY.isoformat(), "start": "11:15", "room_id": hall.id},
        headers=FETCH,
    )
    assert moved.status_code == 200
    assert moved.json["ok"] is True
    session = _fresh(db, ProgrammeSession, session.id)
    assert local_bounds(session)[1:] == (time(11, 15), time(12, 45))
    assert session.room_id == hall.id

    for data, message in [
        ({"day": FIRST_DAY.isoformat(), "start": "11:15", "room_id": "999"}, "Not a valid choice"),
        ({"day": FIRST_DAY.isoformat(), "start": ""}, "Give the start time."),
        ({"day": "2026-05-01", "start": "10:00"}, "Not a valid choice"),
        ({"day": FIRST_DAY.isoformat(), "start": "10h"}, "Not a valid time value."),
    ]:
        refused = client.post(url, data=data, headers=FETCH)
        assert refused.status_code == 422, data
        assert message in refused.json["error"], refused.json
    assert local_bounds(_fresh(db, ProgrammeSession, session.id))[1] == time(11, 15)

    # Dropped on the unscheduled list: off the timetable, room kept.
    off = client.post(url, data={"day": "", "start": "", "room_id": hall.id}, headers=FETCH)
    assert off.json["ok"] is True
    session = _fresh(db, ProgrammeSession, session.id)
    assert (session.starts_at, session.room_id) == (None, hall.id)

    # From the unscheduled list onto the grid: an hour long.
    placed = client.post(
        f"{BASE}/sessions/{unplaced.id}/move",
        data={"day": SECOND_DAY, "start": "08:00", "room_id": ""},
        headers=FETCH,
    )
    assert placed.json["ok"] is True
    assert local_bounds(_fresh(db, ProgrammeSession, unplaced.id))[1:] == (time(8), time(9))


# --- the timetable, conflicts and publishing -----------------------------------------------


def test_the_timetable_shows_the_day_grid_and_every_conflict(client, organiser, event, db):
    hall = make_room(event, "Nusa Dua Hall")
    side = make_room(event, "Kintamani Room", position=1)
    jane = make_speaker(event, "Jane Doe", honorific="Dr")
    first = make_session(event, title_en="Probation in practice", room=hall, speakers=[jane])
    second = make_session(event, title_en="Youth justice", room=side, chairs=[jane])
    db.session.commit()

    page = _html(client.get(f"{BASE}/"))
    assert f'<a href="{BASE}/?day=2026-04-14" aria-current="page">' in page
    assert 'data-day="2026-04-14"' in page
    assert f'data-room-id="{side.id}"' in page
    conflicts = page.split('id="conflicts"', 1)[1].split("</section>", 1)[0]
    assert "1 conflict" in conflicts
    assert "Dr Jane Doe is booked in" in conflicts
    assert f'href="{BASE}/sessions/{first.id}/edit">Edit “Probation in practice”' in conflicts
    assert f'href="{BASE}/sessions/{second.id}/edit">Edit “Youth justice”' in conflicts
    assert "has-conflict" in page
    assert "Publishing is refused while conflicts remain." in page

    # Conflicts of every day are listed, whichever day is shown.
    other_day = _html(client.get(f"{BASE}/?day={SECOND_DAY}"))
    assert f'<a href="{BASE}/?day={SECOND_DAY}" aria-current="page">' in other_day
    assert "Dr Jane Doe is booked in" in other_day
    assert (
        "Probation in practice"
        not in other_day.split('id="unscheduled"')[0].split('class="timetable-grid')[1]
    )
    # The session page lists its own conflicts.
    assert "Dr Jane Doe is booked in" in _html(client.get(f"{BASE}/sessions/{first.id}/edit"))


def test_publishing_is_refused_while_a_conflict_remains_then_succeeds(client, organiser, event, db):
    hall = make_room(event, "Nusa Dua Hall")
    side = make_room(event, "Kintamani Room", position=1)
    jane = make_speaker(event, "Jane Doe")
    make_session(event, title_en="Plenary", room=hall, speakers=[jane])
    clash = make_session(event, title_en="Thematic", room=side, speakers=[jane])
    db.session.commit()

    refused = client.post(f"{BASE}/publish", data={"note": "First try", "day": SECOND_DAY})
    assert refused.status_code == 302
    assert refused.headers["Location"] == f"{BASE}/?day={SECOND_DAY}"
    page = _html(client.get(refused.headers["Location"]))
    assert "Publishing is refused: 1 conflict remains." in page
    assert "Not published yet" in page
    assert _count(db, ProgrammeVersion) == 0

    # Fixed by moving the thematic session after the plenary.
    fixed = client.post(
        f"{BASE}/sessions/{clash.id}/move",
        data={"day": FIRST_DAY.isoformat(), "start": "10:30", "room_id": side.id},
        headers=FETCH,
    )
    assert fixed.json["ok"] is True
    assert "No conflicts" in _html(client.get(f"{BASE}/"))

    published = client.post(f"{BASE}/publish", data={"note": "Morning of day one"})
    assert published.status_code == 302
    page = _html(client.get(published.headers["Location"]))
    assert "Version 1 of the programme is published." in page
    assert "Published: version 1 on" in page
    version = db.session.scalar(select(ProgrammeVersion))
    assert (version.number, version.note) == (1, "Morning of day one")
    versions = _html(client.get(f"{BASE}/versions"))
    assert "Morning of day one" in versions
    assert "2 sessions added" in versions

    # Publishing again without a change is refused with the reason.
    again = client.post(f"{BASE}/publish", data={})
    assert "Nothing changed since version 1 was published." in _html(
        client.get(again.headers["Location"])
    )
    assert _count(db, ProgrammeVersion) == 1


def test_a_too_long_publishing_note_is_refused(client, organiser, event, db):
    make_session(event)
    db.session.commit()
    response = client.post(f"{BASE}/publish", data={"note": "x" * 1001})
    assert "Use at most 1000 characters." in _html(client.get(response.headers["Location"]))
    assert _count(db, ProgrammeVersion) == 0


def test_the_sign_up_page_lists_places_and_the_waiting_list(client, organiser, event, db):
    room = make_room(event, "Kintamani Room")
    session = make_session(event, room=room, requires_signup=True, capacity=1)
    db.session.commit()
    assert client.post(f"{BASE}/publish", data={}).status_code == 302
    first = confirmed_registration(event, given_name="Amina", family_name="Yusuf")
    second = confirmed_registration(
        event, given_name="Ketut", family_name="Arsana", email="ketut@example.org"
    )
    assert agenda.sign_up(first, session.id).status == SignupStatus.CONFIRMED
    assert agenda.sign_up(second, session.id).status == SignupStatus.WAITLISTED
    db.session.commit()

    page = _html(client.get(f"{BASE}/sessions/{session.id}/signups"))
    confirmed, waiting = page.split('id="waiting-heading"', 1)
    assert "Amina Yusuf" in confirmed
    assert "Ketut Arsana" not in confirmed
    assert "Ketut Arsana" in waiting
    assert "1 / 1" in page


# --- who may use the pages ------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.DELEGATE, Role.GATE_STAFF, Role.REGISTRY_OFFICER])
def test_other_roles_are_refused(client, auth, event, db, role):
    room = make_room(event, "Nusa Dua Hall")
    session = make_session(event, room=room)
    db.session.commit()
    auth.login_as(role)
    for url in (f"{BASE}/", f"{BASE}/rooms/", f"{BASE}/sessions/{session.id}/edit"):
        assert client.get(url).status_code == 403, url
    for url, data in [
        (f"{BASE}/rooms/new", ROOM),
        (f"{BASE}/rooms/{room.id}/delete", {"confirm": "y"}),
        (f"{BASE}/sessions/{session.id}/move", {"day": SECOND_DAY, "start": "10:00"}),
        (f"{BASE}/publish", {}),
    ]:
        assert client.post(url, data=data, headers=FETCH).status_code == 403, url
    assert _count(db, Room) == 1
    assert _count(db, ProgrammeVersion) == 0
    assert local_bounds(_fresh(db, ProgrammeSession, session.id))[0] == FIRST_DAY


# --- drag and drop in Chromium --------------------------------------------------------------


@pytest.mark.browser
def test_dragging_a_session_to_a_free_time_solves_its_conflict(
    app, live_app, page, make_user, sign_in
):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        event = make_event()
        hall = make_room(event, "Nusa Dua Hall")
        side = make_room(event, "Kintamani Room", position=1)
        jane = make_speaker(event, "Jane Doe", honorific="Dr")
        make_session(event, title_en="Opening plenary", room=hall, speakers=[jane])
        clash = make_session(event, title_en="Youth justice", room=hall, speakers=[jane])
        extension_db.session.commit()
        clash_id, side_id = clash.id, side.id
    organiser = make_user(roles=[Role.ORGANISER])
    sign_in(page, organiser.email)
    page.wait_for_url(re.compile(r"/dashboard$"))

    # Tall enough for the whole day: Chromium ends a drag when the page scrolls under it.
    page.set_viewport_size({"width": 1400, "height": 2200})
    page.goto(f"{BASE}/")
    expect(page.locator("#conflicts-heading")).to_have_text("2 conflicts")
    slot = page.locator(f'article[data-session-id="{clash_id}"]')
    expect(slot).to_have_class(re.compile("has-conflict"))
    lane = page.locator(f'.room-lane[data-room-id="{side_id}"]')
    eleven = page.locator(".hour-mark", has_text="11:00").bounding_box()
    lane_box = lane.bounding_box()
    grab = {"x": 20, "y": 6}
    slot.drag_to(
        lane,
        source_position=grab,
        target_position={"x": 30, "y": eleven["y"] - lane_box["y"] + grab["y"] + 1},
    )

    expect(page.locator("#conflicts-heading")).to_have_text("Conflicts")
    expect(page.locator("#conflicts")).to_contain_text("No conflicts")
    with app.app_context():
        moved = extension_db.session.get(ProgrammeSession, clash_id)
        assert local_bounds(moved) == (FIRST_DAY, time(11, 0), time(12, 30))
        assert moved.room_id == side_id

    # Dropped on the unscheduled list, it leaves the timetable.
    page.locator(f'article[data-session-id="{clash_id}"]').drag_to(page.locator("#unscheduled"))
    expect(page.locator("#unscheduled .tray-item")).to_have_count(1)
    expect(page.locator("#unscheduled")).to_contain_text("Youth justice")


def test_the_editor_speaks_indonesian(client, auth, event, db):
    make_room(event, "Nusa Dua Hall")
    make_session(event, title_en="Opening", title_id="Pembukaan", kind="plenary")
    db.session.commit()
    auth.login_as(Role.ORGANISER, language="id")
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "id"
    page = _html(client.get(f"{BASE}/"))
    assert "Selasa 14 April" in page
    assert "Pembukaan" in page
    form = _html(client.get(f"{BASE}/sessions/new"))
    assert "Selasa, 14 April 2026" in form
