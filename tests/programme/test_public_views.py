"""The public programme pages: the day grid with parallel sessions side by side, both
languages, filters and search, session and speaker pages, photos, iCal, and nothing of the
organisers' drafts before they publish it."""

from __future__ import annotations

import io
import re
from datetime import datetime, time
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import icalendar
import pytest
from PIL import Image

from app.auth.models import Role
from app.events.services import current_event
from app.extensions import db
from app.i18n.text import TranslatedText
from app.programme import agenda, services
from app.programme.models import SessionKind
from app.programme.publishing import publish_programme
from tests.programme.factories import (
    FIRST_DAY,
    SetUpContext,
    confirmed_registration,
    make_room,
    make_session,
    make_speaker,
    make_track,
)
from tests.registration.factories import make_event

WITA = ZoneInfo("Asia/Makassar")
SECOND_DAY = FIRST_DAY.replace(day=FIRST_DAY.day + 1)


class _Elements(HTMLParser):
    """Every start tag's attributes, in document order (enough to read the grid)."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {name: value or "" for name, value in attrs}))


def elements(html: str, tag: str, css_class: str) -> list[dict[str, str]]:
    """The attributes of every `tag` carrying `css_class`."""
    parser = _Elements()
    parser.feed(html)
    return [
        attrs
        for name, attrs in parser.tags
        if name == tag and css_class in attrs.get("class", "").split()
    ]


def placement(style: str) -> tuple[str, str]:
    """(grid-column, grid-row) of an inline style."""
    found = re.search(r"grid-column:\s*([^;]+);\s*grid-row:\s*([^;]+);", style)
    assert found, style
    return found.group(1).strip(), found.group(2).strip()


def image_bytes() -> bytes:
    """A small PNG portrait."""
    output = io.BytesIO()
    Image.new("RGB", (300, 300), (30, 90, 160)).save(output, "PNG")
    return output.getvalue()


@pytest.fixture
def wcpp(app):
    """A published first morning: an opening plenary, three parallel thematic sessions in
    three rooms, a coffee break across the rooms, and a study visit on day two."""
    with SetUpContext(app):
        return _publish_first_morning()


def _publish_first_morning() -> dict:
    event = make_event()
    hall = make_room(event, "Nusa Dua Hall", capacity=1200, floor="Ground", position=0)
    studio = make_room(event, "Studio Legian", capacity=60, position=1, interpretation_booth=True)
    kuta = make_room(event, "Kuta Room", capacity=40, floor="Level 1", position=2, accessible=False)
    justice = make_track(event, "Restorative justice", name_id="Keadilan restoratif")
    youth = make_track(event, "Youth", name_id="Anak", colour="#b3541e")
    minister = make_speaker(
        event,
        "Yasonna Laoly",
        honorific="Dr",
        position_title="Minister",
        country="ID",
        biography=TranslatedText(en="Minister of Law.", id="Menteri Hukum."),
    )
    garcia = make_speaker(event, "Ana García", country="ES", organisation_name="CEP")
    okafor = make_speaker(event, "Chinedu Okafor", country="NG")
    services.set_speaker_photo(minister, image_bytes(), actor=None)
    plenary = make_session(
        event,
        title_en="Opening plenary",
        title_id="Pleno pembukaan",
        kind=SessionKind.PLENARY,
        room=hall,
        start=time(8, 0),
        end=time(9, 0),
        speakers=[minister],
        interpretation=True,
        abstract=TranslatedText(en="The minister opens WCPP 2026.", id="Menteri membuka."),
    )
    parallel = [
        make_session(
            event,
            title_en="Restorative conferencing",
            title_id="Konferensi restoratif",
            room=hall,
            track=justice,
            start=time(9, 0),
            end=time(10, 30),
            chairs=[garcia],
        ),
        make_session(
            event,
            title_en="Youth diversion in practice",
            title_id="Diversi anak dalam praktik",
            room=studio,
            track=youth,
            start=time(9, 0),
            end=time(10, 30),
            speakers=[okafor],
            spoken_language="id",
            requires_signup=True,
            capacity=30,
        ),
        make_session(
            event,
            title_en="Community service orders",
            title_id="Pidana kerja sosial",
            room=kuta,
            start=time(9, 0),
            end=time(10, 30),
        ),
    ]
    coffee = make_session(
        event,
        title_en="Coffee break",
        title_id="Rehat kopi",
        kind=SessionKind.BREAK,
        start=time(10, 30),
        end=time(11, 0),
    )
    visit = make_session(
        event,
        title_en="Visit to Bapas Denpasar",
        title_id="Kunjungan ke Bapas Denpasar",
        kind=SessionKind.STUDY_VISIT,
        day=SECOND_DAY,
        start=time(13, 0),
        end=time(16, 0),
        location_note="Bapas Denpasar",
    )
    publish_programme(event, actor=None)
    db.session.commit()
    return {
        "rooms": [hall.id, studio.id, kuta.id],
        "tracks": {"justice": justice.id, "youth": youth.id},
        "plenary": plenary.id,
        "parallel": [session.id for session in parallel],
        "coffee": coffee.id,
        "visit": visit.id,
        "minister": minister.id,
        "garcia": garcia.id,
        "okafor": okafor.id,
    }


def test_parallel_sessions_sit_side_by_side_in_their_rooms_columns(client, wcpp):
    response = client.get(f"/programme/?day={FIRST_DAY.isoformat()}")

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    # Header cells: "grid-column: 2; grid-row: 1;" → room id: its column.
    header_columns = {
        int(cell["data-room-id"]): int(re.search(r"grid-column: (\d+);", cell["style"]).group(1))
        for cell in elements(html, "div", "grid-room")
    }
    assert list(header_columns) == wcpp["rooms"]
    assert list(header_columns.values()) == [2, 3, 4]  # column 1 is the time axis
    slots = {int(slot["data-session-id"]): slot for slot in elements(html, "article", "slot")}
    parallel = [placement(slots[session_id]["style"]) for session_id in wcpp["parallel"]]
    # Same rows (same time), each in its own room's column: the column its header names.
    assert len({row for _column, row in parallel}) == 1
    assert [column for column, _row in parallel] == [
        f"{header_columns[room_id]} / {header_columns[room_id] + 1}" for room_id in wcpp["rooms"]
    ]
    assert [slots[session_id]["data-room-id"] for session_id in wcpp["parallel"]] == [
        str(room_id) for room_id in wcpp["rooms"]
    ]
    # The plenary ends where they start; the break spans every room.
    plenary_row = placement(slots[wcpp["plenary"]]["style"])[1]
    assert plenary_row.split(" / ")[1] == parallel[0][1].split(" / ")[0]
    assert placement(slots[wcpp["coffee"]]["style"])[0] == "2 / 5"
    # The study visit is on day two, not on this grid.
    assert wcpp["visit"] not in slots


def test_slots_carry_utc_times_track_colour_and_kind(client, wcpp):
    html = client.get(f"/programme/?day={FIRST_DAY.isoformat()}").get_data(as_text=True)

    slots = {int(slot["data-session-id"]): slot for slot in elements(html, "article", "slot")}
    youth = slots[wcpp["parallel"][1]]
    assert youth["data-starts-at"] == "2026-04-14T01:00:00Z"  # 09:00 WITA
    assert "--track: #b3541e;" in youth["style"]
    assert "kind-thematic" in youth["class"]
    assert "kind-plenary" in slots[wcpp["plenary"]]["class"]
    assert '<time datetime="2026-04-14T01:00:00Z" data-format="time">09:00</time>' in html
    assert "30 places left" in html
    # The time zone switch is there for programme.js, hidden until it runs.
    assert 'data-event-zone="Asia/Makassar"' in html
    assert "js/programme.js" in html
    assert "<script>" not in html


def test_indonesian_visitors_read_indonesian_titles(client, wcpp):
    response = client.get(
        f"/programme/?day={FIRST_DAY.isoformat()}", headers={"Accept-Language": "id"}
    )

    html = response.get_data(as_text=True)
    assert '<html lang="id">' in html
    assert "Pleno pembukaan" in html
    assert "Diversi anak dalam praktik" in html
    assert "Opening plenary" not in html


def test_days_are_tabs_and_a_day_outside_the_congress_is_not_found(client, wcpp):
    html = client.get(f"/programme/?day={SECOND_DAY.isoformat()}").get_data(as_text=True)

    assert "Visit to Bapas Denpasar" in html
    assert "Opening plenary" not in html
    assert f'href="/programme/?day={SECOND_DAY.isoformat()}" aria-current="page"' in html
    assert html.count('class="day-count"') == 4
    assert client.get("/programme/?day=2030-01-01").status_code == 404
    bad = client.get("/programme/?day=yesterday")
    assert bad.status_code == 400
    assert "YYYY-MM-DD" in bad.get_data(as_text=True)


def test_the_default_day_is_today_during_the_congress_else_the_first_with_sessions(client, wcpp):
    html = client.get("/programme/").get_data(as_text=True)

    today = datetime.now(WITA).date()
    expected = today if FIRST_DAY <= today <= FIRST_DAY.replace(day=17) else FIRST_DAY
    assert f'href="/programme/?day={expected.isoformat()}" aria-current="page"' in html


def test_filters_and_search_list_matching_sessions_across_days(client, wcpp):
    by_track = client.get(f"/programme/?track={wcpp['tracks']['youth']}").get_data(as_text=True)
    assert "1 session matches" in by_track
    assert "Youth diversion in practice" in by_track
    assert "Restorative conferencing" not in by_track

    visits = client.get("/programme/?kind=study_visit").get_data(as_text=True)
    assert "Visit to Bapas Denpasar" in visits
    assert "Opening plenary" not in visits

    indonesian = client.get("/programme/?language=id").get_data(as_text=True)
    assert "Youth diversion in practice" in indonesian
    assert "Community service orders" not in indonesian

    # Search in either language, ignoring case and accents, and by speaker name.
    assert "Community service orders" in client.get("/programme/?q=KERJA+sosial").get_data(
        as_text=True
    )
    by_speaker = client.get("/programme/?q=garcia").get_data(as_text=True)
    assert "Restorative conferencing" in by_speaker
    assert "Nusa Dua Hall" in by_speaker  # a list names each card's room

    nothing = client.get("/programme/?q=astronomy").get_data(as_text=True)
    assert "No session matches this search." in nothing


def test_junk_filter_values_are_ignored(client, wcpp):
    response = client.get("/programme/?kind=picnic&track=99999&language=fr")

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'class="timetable-grid' in html
    assert "sessions match" not in html
    assert "session matches" not in html


def test_session_page_says_when_where_who_and_offers_a_calendar(client, wcpp):
    response = client.get(f"/programme/sessions/{wcpp['plenary']}")

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<h1 lang="en">Opening plenary</h1>' in html
    assert "Nusa Dua Hall" in html
    assert "Floor: Ground" in html
    assert "Step-free access" in html
    assert "Interpretation Indonesian ↔ English" in html
    assert "The minister opens WCPP 2026." in html
    assert f'href="/programme/speakers/{wcpp["minister"]}"' in html
    assert "Dr Yasonna Laoly" in html
    assert f'href="/programme/sessions/{wcpp["plenary"]}.ics"' in html
    assert "Sign in to add this session to your agenda" in html


def test_session_page_in_indonesian(client, wcpp):
    html = client.get(
        f"/programme/sessions/{wcpp['plenary']}", headers={"Accept-Language": "id"}
    ).get_data(as_text=True)

    assert "Pleno pembukaan" in html
    assert "Menteri membuka." in html


def test_a_confirmed_delegate_signs_up_from_the_session_page(app, client, auth, wcpp):
    user = auth.login_as(Role.DELEGATE)
    with SetUpContext(app):
        confirmed_registration(current_event(), email=user.email)
        db.session.commit()
    youth = wcpp["parallel"][1]

    html = client.get(f"/programme/sessions/{youth}").get_data(as_text=True)
    assert f'action="/programme/sessions/{youth}/sign-up"' in html
    assert f'name="next" value="/programme/sessions/{youth}"' in html
    assert "30 places left" in html

    with SetUpContext(app):
        agenda.sign_up(agenda.confirmed_registration(current_event(), user), youth)
        db.session.commit()
    html = client.get(f"/programme/sessions/{youth}").get_data(as_text=True)
    assert f'action="/programme/sessions/{youth}/withdraw"' in html
    assert "29 places left" in html
    grid = client.get(f"/programme/?day={FIRST_DAY.isoformat()}").get_data(as_text=True)
    assert "signup-confirmed" in grid


def test_a_signed_in_visitor_without_a_confirmed_registration_gets_no_button(client, auth, wcpp):
    auth.login_as(Role.DELEGATE)

    html = client.get(f"/programme/sessions/{wcpp['plenary']}").get_data(as_text=True)

    assert "/sign-up" not in html
    assert "Delegates with a confirmed registration" in html


def test_speakers_are_listed_with_country_and_organisation(client, wcpp):
    html = client.get("/programme/speakers/").get_data(as_text=True)

    assert html.index("Ana García") < html.index("Chinedu Okafor") < html.index("Yasonna Laoly")
    assert "Spain" in html
    assert "CEP" in html


def test_speaker_page_shows_biography_in_the_visitors_language_photo_and_sessions(client, wcpp):
    path = f"/programme/speakers/{wcpp['minister']}"
    english = client.get(path).get_data(as_text=True)
    indonesian = client.get(path, headers={"Accept-Language": "id"}).get_data(as_text=True)

    assert "Minister of Law." in english
    assert "Menteri Hukum." not in english
    assert "Menteri Hukum." in indonesian
    assert "Opening plenary" in english
    assert f"/programme/speakers/{wcpp['minister']}/photo?v=1" in english


def test_a_published_speakers_photo_is_served_with_long_cache_headers(client, wcpp):
    response = client.get(f"/programme/speakers/{wcpp['minister']}/photo?v=1")
    response.close()

    assert response.status_code == 200
    assert response.mimetype == "image/jpeg"
    assert "max-age=2592000" in response.headers["Cache-Control"]
    assert "public" in response.headers["Cache-Control"]
    assert client.get(f"/programme/speakers/{wcpp['okafor']}/photo").status_code == 404


def test_drafts_stay_private_until_published(app, client, wcpp):
    with SetUpContext(app):
        event = current_event()
        hidden_speaker = make_speaker(event, "Draft Person")
        services.set_speaker_photo(hidden_speaker, image_bytes(), actor=None)
        draft = make_session(
            event,
            title_en="Secret draft session",
            day=SECOND_DAY,
            start=time(9, 0),
            end=time(10, 0),
            speakers=[hidden_speaker],
        )
        db.session.commit()
        draft_id, speaker_id = draft.id, hidden_speaker.id

    programme = client.get(f"/programme/?day={SECOND_DAY.isoformat()}").get_data(as_text=True)
    assert "Secret draft session" not in programme
    assert client.get(f"/programme/sessions/{draft_id}").status_code == 404
    assert client.get(f"/programme/speakers/{speaker_id}").status_code == 404
    assert client.get(f"/programme/speakers/{speaker_id}/photo").status_code == 404
    assert "Draft Person" not in client.get("/programme/speakers/").get_data(as_text=True)
    assert "Secret draft session" not in client.get("/programme/?q=secret").get_data(as_text=True)


def test_before_anything_is_published_the_programme_says_so(app, client):
    with SetUpContext(app):
        make_session(make_event(), title_en="Not yet")
        db.session.commit()

    response = client.get("/programme/")

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "The programme has not been published yet." in html
    assert "Not yet" not in html
    assert client.get("/programme/speakers/").status_code == 200
    assert client.get("/programme/sessions/1").status_code == 404
    assert client.get("/programme/programme.ics").status_code == 404


def test_unknown_sessions_and_speakers_are_not_found(client, wcpp):
    assert client.get("/programme/sessions/999999").status_code == 404
    assert client.get("/programme/sessions/999999.ics").status_code == 404
    assert client.get("/programme/speakers/999999").status_code == 404
    assert client.get("/programme/speakers/999999/photo").status_code == 404


def test_without_an_event_the_programme_is_not_found(client):
    assert client.get("/programme/").status_code == 404


def test_programme_and_session_calendars_parse_in_the_visitors_language(client, wcpp):
    whole = client.get("/programme/programme.ics", headers={"Accept-Language": "id"})
    assert whole.status_code == 200
    assert whole.mimetype == "text/calendar"
    calendar = icalendar.Calendar.from_ical(whole.data)
    summaries = {str(item["SUMMARY"]) for item in calendar.walk("VEVENT")}
    assert {"Pleno pembukaan", "Konferensi restoratif"} <= summaries
    assert any(str(zone["TZID"]) == "Asia/Makassar" for zone in calendar.walk("VTIMEZONE"))

    one = client.get(f"/programme/sessions/{wcpp['plenary']}.ics")
    events = icalendar.Calendar.from_ical(one.data).walk("VEVENT")
    assert [str(item["SUMMARY"]) for item in events] == ["Opening plenary"]


# --- in Chromium: side by side on a desktop, a list on a phone, the visitor's time zone -----


@pytest.fixture
def browser_context(browser, live_server):
    """A Chromium tab in Paris (UTC+2 in April) that opens pages of the live server."""
    context = browser.new_context(base_url=live_server, locale="en-GB", timezone_id="Europe/Paris")
    context.set_default_timeout(10_000)
    yield context
    context.close()


@pytest.mark.browser
def test_in_a_browser_parallel_sessions_are_side_by_side_and_times_follow_the_visitor(
    browser_context, wcpp
):
    page = browser_context.new_page()
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"/programme/?day={FIRST_DAY.isoformat()}")

    boxes = [
        page.locator(f'article[data-session-id="{session_id}"]').bounding_box()
        for session_id in wcpp["parallel"]
    ]
    assert len({round(box["y"]) for box in boxes}) == 1
    assert boxes[0]["x"] < boxes[1]["x"] < boxes[2]["x"]
    youth = page.locator(f'article[data-session-id="{wcpp["parallel"][1]}"] .slot-time time')
    assert youth.first.inner_text() == "09:00"

    page.get_by_label("Show times in:").select_option("local")
    assert youth.first.inner_text() == "03:00"
    assert "Europe/Paris" in page.locator("[data-zone-note]").inner_text()
    page.reload()  # the choice is remembered
    assert youth.first.inner_text() == "03:00"
    page.get_by_label("Show times in:").select_option("event")
    assert youth.first.inner_text() == "09:00"

    # On a phone the grid becomes a list in time order, each card naming its room.
    page.set_viewport_size({"width": 390, "height": 800})
    boxes = [
        page.locator(f'article[data-session-id="{session_id}"]').bounding_box()
        for session_id in wcpp["parallel"]
    ]
    assert boxes[0]["y"] < boxes[1]["y"] < boxes[2]["y"]
    room = page.locator(f'article[data-session-id="{wcpp["parallel"][1]}"] .slot-room')
    assert room.is_visible()
    assert "Studio Legian" in room.inner_text()
