"""Issue 6 "done when", in Chromium: an organiser builds the first morning of the congress on the
timetable editor — a plenary and three parallel thematic sessions, one of them dragged into its
room — sees a speaker booked in two parallel rooms flagged on the grid and in the conflicts list,
has publishing refused with the reason, fixes the session and publishes version 1; a confirmed
delegate then reads that morning in Indonesian, with the parallel sessions side by side in their
rooms' columns, signs up for a thematic session and finds it in their agenda.

The delegate's interface strings are looked up through the catalogue (the same test reads before
and after they are translated); the organiser-entered Indonesian titles are asserted as typed.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import pytest
from flask_babel import force_locale
from flask_babel import gettext as _
from playwright.sync_api import Locator, Page, expect

from app.auth.models import Role
from app.auth.services import change_password
from app.extensions import db
from tests.conftest import TEST_PASSWORD
from tests.programme.factories import FIRST_DAY, confirmed_registration, make_room, make_speaker
from tests.registration.factories import make_event

pytestmark = pytest.mark.browser

# Screenshots of the key steps, for looking at the layout (/tmp/shots).
SHOTS = Path(tempfile.gettempdir()) / "shots"
DELEGATE_EMAIL = "wayan.putra@bapas.example.id"
# Parallel columns may differ by a pixel of rounding; anything more is a misplaced session.
SAME_TOP_TOLERANCE = 2


@dataclass(frozen=True)
class Session:
    """A session as the organiser types it into the session form."""

    kind: str
    title_en: str
    title_id: str
    start: str
    end: str
    room: str | None
    speakers: tuple[str, ...] = ()
    requires_signup: bool = False


PLENARY = Session(
    "plenary",
    "Opening plenary: getting smart on justice",
    "Pleno pembukaan: keadilan yang cerdas",
    "09:00",
    "10:00",
    "Nusa Dua Hall",
    ("Joanne Peters",),
)
COMMUNITY_SERVICE = Session(
    "thematic",
    "Community service orders under the new Criminal Code",
    "Pidana kerja sosial dalam KUHP baru",
    "10:30",
    "12:00",
    "Kintamani",
    ("Ratna Sari",),
    requires_signup=True,
)
RESTORATIVE = Session(
    "thematic",
    "Restorative justice with victims and communities",
    "Keadilan restoratif bersama korban dan masyarakat",
    "10:30",
    "12:00",
    "Uluwatu",
    ("Ratna Sari",),
)
# Added without a room: it lands in the "Elsewhere" column and is dragged into Besakih.
REINTEGRATION = Session(
    "thematic",
    "Reintegration after release",
    "Reintegrasi setelah bebas",
    "10:30",
    "12:00",
    None,
    ("Budi Santoso",),
)
PARALLEL = (COMMUNITY_SERVICE, RESTORATIVE, REINTEGRATION)
# The columns left to right, as the rooms' order puts them (Besakih is added in the test).
PARALLEL_ROOMS = ("Kintamani", "Uluwatu", "Besakih")


@pytest.fixture
def congress(app):
    """WCPP 2026 with three of its four rooms, two speakers and a confirmed delegate (English
    account) who can sign in."""
    with app.test_request_context(headers={"Accept-Language": "en"}):
        event = make_event()
        make_room(event, "Nusa Dua Hall", capacity=1200, interpretation_booth=True, position=0)
        make_room(event, "Kintamani", capacity=120, position=1)
        make_room(event, "Uluwatu", capacity=120, position=2)
        make_speaker(event, "Joanne Peters", organisation_name="Ara Poutama Aotearoa", country="NZ")
        make_speaker(event, "Budi Santoso", organisation_name="Bapas Surabaya")
        registration = confirmed_registration(
            event, email=DELEGATE_EMAIL, given_name="Wayan", family_name="Putra", language="en"
        )
        change_password(registration.user, TEST_PASSWORD)
        db.session.commit()


@pytest.fixture
def indonesian(app):
    """A message as the Indonesian pages show it (the English msgid until it is translated)."""

    def translate(message: str, **values: object) -> str:
        with app.test_request_context(), force_locale("id"):
            return _(message, **values)

    return translate


@pytest.fixture
def delegate_page(browser, live_server: str) -> Iterator[Page]:
    """A second browser, the delegate's, with its own cookies."""
    context = browser.new_context(base_url=live_server, locale="en-GB")
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def shot(page: Page, name: str) -> None:
    """Keep a screenshot of the whole page for looking at the layout."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"programme-{name}.png"), full_page=True)


def add_room_in_the_form(page: Page) -> None:
    """The fourth room, through the rooms page."""
    page.goto("/organiser/programme/rooms/")
    page.get_by_role("link", name="Add a room").click()
    page.locator("#name").fill("Besakih")
    page.locator("#capacity").fill("80")
    page.locator("#floor").fill("Level 1")
    page.locator("#position").fill("3")
    page.get_by_role("button", name="Add the room").click()
    expect(page.locator(".flash-success")).to_contain_text("Room “Besakih” added.")


def add_speaker_in_the_form(page: Page) -> None:
    """The speaker who ends up double-booked, through the speakers page."""
    page.goto("/organiser/programme/speakers/new")
    page.locator("#honorific").fill("Dr")
    page.locator("#name").fill("Ratna Sari")
    page.locator("#position_title").fill("Head of Bapas Denpasar")
    page.locator("#country").select_option("ID")
    page.locator("#organisation_name").fill("Bapas Denpasar")
    page.get_by_role("button", name="Add the speaker").click()
    expect(page.locator(".flash-success")).to_contain_text("Speaker Ratna Sari added.")


def speakers_group(page: Page) -> Locator:
    """The session form's speaker checkboxes (the chairs' list offers the same names)."""
    return page.get_by_role("group", name="Speakers", exact=True)


def add_session_in_the_form(page: Page, session: Session) -> None:
    """A session through the timetable's "Add a session" form, titled in both languages."""
    page.goto(f"/organiser/programme/?day={FIRST_DAY.isoformat()}")
    page.get_by_role("link", name="Add a session").click()
    page.locator("#kind").select_option(session.kind)
    page.locator("#title-en").fill(session.title_en)
    page.locator("#title-id").fill(session.title_id)
    page.locator("#day").select_option(FIRST_DAY.isoformat())
    page.locator("#start").fill(session.start)
    page.locator("#end").fill(session.end)
    if session.room is not None:
        page.locator("#room_id").select_option(label=session.room)
    for name in session.speakers:
        speakers_group(page).get_by_label(re.compile(re.escape(name))).check()
    if session.requires_signup:
        page.locator("#requires_signup").check()
    page.get_by_role("button", name="Add the session").click()
    expect(page.locator(".flash-success")).to_contain_text(f"Session “{session.title_en}” added.")


def slot(page: Page, title: str) -> Locator:
    """A session's card on a day grid, found by its own title (a conflict on another card may
    name it too)."""
    return page.locator(".timetable-grid article.slot").filter(
        has=page.locator(".slot-title", has_text=title)
    )


def room_header(page: Page, room: str) -> Locator:
    """A room's column header on a day grid."""
    return page.locator(".grid-room").filter(has_text=re.compile(rf"^\s*{re.escape(room)}\s*$"))


def drag_into_room(page: Page, card: Locator, room_id: str) -> None:
    """Drag a session sideways into a room's column, at the height it was grabbed at (so at
    the same start)."""
    lane = page.locator(f'.timetable-grid .room-lane[data-room-id="{room_id}"]')
    card_box = card.bounding_box()
    lane_box = lane.bounding_box()
    grab = {"x": card_box["width"] / 2, "y": 8}
    card.drag_to(
        lane,
        source_position=grab,
        target_position={
            "x": lane_box["width"] / 2,
            "y": card_box["y"] + grab["y"] - lane_box["y"],
        },
    )


def assert_side_by_side(page: Page, titles: tuple[str, ...], rooms: tuple[str, ...]) -> None:
    """The sessions share their top edge, do not overlap, run left to right in room order and
    each sits under its own room's header."""
    cards = [slot(page, title) for title in titles]
    for card in cards:
        expect(card).to_be_visible()
    # Boxes are measured once the stylesheets have loaded (the grid is laid out by CSS).
    page.wait_for_load_state("load")
    boxes = [card.bounding_box() for card in cards]
    tops = [box["y"] for box in boxes]
    assert max(tops) - min(tops) <= SAME_TOP_TOLERANCE, tops
    for left, right in pairwise(boxes):
        assert left["x"] + left["width"] <= right["x"], (left, right)
    for box, room in zip(boxes, rooms, strict=True):
        header = room_header(page, room).bounding_box()
        middle = box["x"] + box["width"] / 2
        assert header["x"] <= middle <= header["x"] + header["width"], (room, box, header)


def test_an_organiser_builds_a_conflict_free_morning_and_a_delegate_signs_up_in_indonesian(
    app, page, delegate_page, make_user, congress, indonesian, sign_in
):
    t = indonesian
    organiser = make_user(roles=[Role.ORGANISER], name="Dewi Lestari", language="en")
    sign_in(page, organiser.email)

    # --- the organiser builds the morning ---------------------------------------------------
    add_room_in_the_form(page)
    add_speaker_in_the_form(page)
    for session in (PLENARY, *PARALLEL):
        add_session_in_the_form(page, session)

    # The session added without a room waits in the "Elsewhere" column; dragged into
    # Besakih's column at the same height, it keeps its time.
    expect(page.locator(".grid-elsewhere")).to_be_visible()
    reintegration = slot(page, REINTEGRATION.title_en)
    starts_at = reintegration.get_attribute("data-starts-at")
    besakih_id = room_header(page, "Besakih").get_attribute("data-room-id")
    drag_into_room(page, reintegration, besakih_id)
    expect(reintegration).to_have_attribute("data-room-id", besakih_id)
    expect(reintegration).to_have_attribute("data-starts-at", starts_at)
    expect(page.locator(".grid-elsewhere")).to_have_count(0)

    # Dr Ratna Sari speaks in Kintamani and Uluwatu at once: both cards and the list say so.
    double_booking = re.compile(
        r"Dr Ratna Sari is booked in “[^”]+” \(Kintamani, [^)]+\) and “[^”]+” \(Uluwatu, [^)]+\)"
        r"|Dr Ratna Sari is booked in “[^”]+” \(Uluwatu, [^)]+\) and “[^”]+” \(Kintamani, [^)]+\)"
    )
    for session in (COMMUNITY_SERVICE, RESTORATIVE):
        card = slot(page, session.title_en)
        expect(card).to_have_class(re.compile(r"\bhas-conflict\b"))
        expect(card.locator(".slot-conflicts")).to_contain_text(double_booking)
    for session in (PLENARY, REINTEGRATION):
        expect(slot(page, session.title_en)).not_to_have_class(re.compile(r"\bhas-conflict\b"))
    conflicts = page.locator("#conflicts")
    expect(conflicts.get_by_role("heading", level=2)).to_have_text("1 conflict")
    expect(conflicts.locator(".conflict-person_double_booked")).to_contain_text(double_booking)
    assert_side_by_side(page, tuple(s.title_en for s in PARALLEL), PARALLEL_ROOMS)
    shot(page, "01-editor-conflict")

    # Publishing is refused, with the reason.
    page.get_by_role("button", name="Publish", exact=True).click()
    expect(page.locator(".flash-error")).to_have_text(
        "Publishing is refused: 1 conflict remains. It is listed on the timetable."
    )
    expect(page.locator(".publication-state")).to_contain_text("Not published yet")
    shot(page, "02-publish-refused")

    # The fix, through the session's edit form: Joanne Peters speaks in Uluwatu instead.
    conflicts.get_by_role("link", name=f"Edit “{RESTORATIVE.title_en}”").click()
    expect(page.locator(".session-conflicts")).to_contain_text(double_booking)
    ratna = speakers_group(page).get_by_label(re.compile("Ratna Sari"))
    expect(ratna).to_be_checked()
    ratna.uncheck()
    speakers_group(page).get_by_label(re.compile("Joanne Peters")).check()
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".flash-success")).to_contain_text(
        f"Session “{RESTORATIVE.title_en}” saved."
    )
    expect(conflicts.locator(".empty-state")).to_have_text("No conflicts")
    expect(page.locator(".timetable-grid .has-conflict")).to_have_count(0)

    page.get_by_role("button", name="Publish", exact=True).click()
    expect(page.locator(".flash-success")).to_have_text("Version 1 of the programme is published.")
    expect(page.locator(".publication-state")).to_contain_text("Published: version 1")
    shot(page, "03-published")

    # --- a confirmed delegate reads it in Indonesian and signs up ----------------------------
    delegate = delegate_page
    sign_in(delegate, DELEGATE_EMAIL)
    delegate.goto("/programme/")
    delegate.get_by_role("link", name=re.compile(r"^ID")).click()
    expect(delegate.locator("html")).to_have_attribute("lang", "id")
    delegate.locator(f'.day-tabs a[href*="day={FIRST_DAY.isoformat()}"]').click()
    expect(delegate.locator(".day-tabs a[aria-current='page']")).to_have_attribute(
        "href", re.compile(FIRST_DAY.isoformat())
    )

    grid = delegate.locator(".timetable-grid")
    for session in (PLENARY, *PARALLEL):
        expect(slot(delegate, session.title_id)).to_be_visible()
        expect(grid).not_to_contain_text(session.title_en)
    assert_side_by_side(delegate, tuple(s.title_id for s in PARALLEL), PARALLEL_ROOMS)
    plenary_box = slot(delegate, PLENARY.title_id).bounding_box()
    assert (
        plenary_box["y"] + plenary_box["height"]
        <= (slot(delegate, COMMUNITY_SERVICE.title_id).bounding_box()["y"])
    )
    shot(delegate, "04-public-indonesian")

    slot(delegate, COMMUNITY_SERVICE.title_id).get_by_role(
        "link", name=COMMUNITY_SERVICE.title_id
    ).click()
    expect(delegate.get_by_role("heading", level=1)).to_have_text(COMMUNITY_SERVICE.title_id)
    delegate.get_by_role("button", name=t("Sign up"), exact=True).click()
    expect(delegate.locator(".flash-success")).to_have_text(
        t("You have a place in “%(title)s”.", title=COMMUNITY_SERVICE.title_id)
    )
    expect(delegate.get_by_role("button", name=t("Remove from my agenda"))).to_be_visible()
    shot(delegate, "05-signed-up")

    delegate.get_by_role("link", name=t("See my agenda")).click()
    expect(delegate.get_by_role("heading", level=1)).to_have_text(t("My agenda"))
    row = delegate.locator(".agenda-table tbody tr").filter(has_text=COMMUNITY_SERVICE.title_id)
    expect(row).to_contain_text("10:30")
    expect(row).to_contain_text("Kintamani")
    expect(row).to_contain_text(t("Place confirmed"))
    expect(delegate.locator(".agenda-table tbody tr")).to_have_count(1)
    shot(delegate, "06-agenda")
