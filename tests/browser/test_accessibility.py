"""Accessibility in Chromium: axe-core finds no serious or critical WCAG 2.1 A/AA violation on
the pages each kind of user lives on, in English and in Indonesian; and a delegate completes the
registration form with the keyboard alone."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import time

import pytest
from flask import Flask
from flask_babel import force_locale
from flask_babel import gettext as _
from playwright.sync_api import BrowserContext, Page, expect
from sqlalchemy import select

from app.auth.models import Role
from app.auth.services import change_password
from app.checkin.services import CheckpointDetails, create_checkpoint
from app.config import PROJECT_ROOT
from app.extensions import db
from app.i18n.locale import LANGUAGE_COOKIE
from app.i18n.text import TranslatedText
from app.programme.models import SessionKind
from app.programme.publishing import publish_programme
from app.registration.models import Registration
from app.registration.services import utc_now
from tests.browser.axe import assert_accessible, serious_violations
from tests.browser.focus import contrast_ratio, focused, ring_problem
from tests.conftest import TEST_PASSWORD, AuthActions
from tests.programme.factories import (
    SetUpContext,
    confirmed_registration,
    make_room,
    make_session,
    make_speaker,
    make_track,
)
from tests.registration.factories import make_event, make_registration, make_type

pytestmark = pytest.mark.browser

DELEGATE_EMAIL = "aroha.ngata@corrections.example.nz"


@dataclass(frozen=True)
class Congress:
    """WCPP 2026 open for registration with a published programme, and one person per role."""

    delegate_email: str
    organiser_email: str
    clerk_email: str


@pytest.fixture
def congress(app: Flask, make_user) -> Congress:
    """Registration open, a published first morning, a confirmed delegate with a password, an
    organiser, and a gate clerk assigned to the venue entrance."""
    organiser = make_user(roles=[Role.ORGANISER], name="Dewi Lestari")
    clerk = make_user(roles=[Role.GATE_STAFF], name="Wayan Sudarta")
    with SetUpContext(app):
        event = make_event()
        delegates = make_type(event, "delegate", name="Delegate")
        make_registration(event, delegates, given_name="Lena", family_name="Hartmann")
        hall = make_room(event, "Nusa Dua Hall", capacity=1200, position=0)
        studio = make_room(event, "Studio Legian", capacity=60, position=1)
        justice = make_track(event, "Restorative justice", name_id="Keadilan restoratif")
        minister = make_speaker(event, "Yasonna Laoly", honorific="Dr", country="ID")
        make_session(
            event,
            title_en="Opening plenary",
            title_id="Pleno pembukaan",
            kind=SessionKind.PLENARY,
            room=hall,
            start=time(8, 0),
            end=time(9, 0),
            speakers=[minister],
        )
        make_session(event, title_en="Restorative conferencing", room=hall, track=justice)
        make_session(
            event,
            title_en="Youth diversion in practice",
            room=studio,
            requires_signup=True,
            capacity=30,
        )
        make_session(
            event,
            title_en="Coffee break",
            kind=SessionKind.BREAK,
            start=time(10, 30),
            end=time(11, 0),
        )
        publish_programme(event, actor=None)
        registration = confirmed_registration(
            event, given_name="Aroha", family_name="Ngata", email=DELEGATE_EMAIL
        )
        registration.email_confirmed_at = utc_now()
        change_password(registration.user, TEST_PASSWORD)
        create_checkpoint(
            event,
            CheckpointDetails(
                code="entrance",
                name=TranslatedText(en="Venue entrance", id="Pintu masuk venue"),
                kind="entrance",
                staff_ids=(clerk.id,),
            ),
            actor=None,
        )
        db.session.commit()
    return Congress(DELEGATE_EMAIL, organiser.email, clerk.email)


def sign_in(context: BrowserContext, app: Flask, live_server: str, email: str) -> None:
    """Sign the browser in as `email` with the session cookie of a test-client sign-in.

    The one place these tests sign in: the live server shares the test app's secret key, so
    the cookie the login form set for the test client is valid in Chromium too.
    """
    client = app.test_client()
    response = AuthActions(client, None, app).login(email)
    assert response.status_code == 302, response.get_data(as_text=True)
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": live_server}])


def choose_language(context: BrowserContext, live_server: str, language: str) -> None:
    """Pick the page language as the language switch does (its cookie wins over the rest)."""
    context.add_cookies([{"name": LANGUAGE_COOKIE, "value": language, "url": live_server}])


def wait_for_scanner(page: Page) -> None:
    """The scanner page has loaded its badge list (its script changes the page until then)."""
    expect(page.locator("#scanner")).to_have_attribute("data-ready", "true")


def show_a_refused_scan(page: Page) -> None:
    """The scanner fills the screen with its answer to a code that is no badge."""
    wait_for_scanner(page)
    page.locator("#scanner-wedge").fill("not-a-badge")
    page.locator("#scanner-wedge").press("Enter")
    expect(page.locator("#scan-result")).to_be_visible()


@dataclass(frozen=True)
class Visit:
    """A page to check: where it is, whose browser opens it, and what to wait for."""

    path: str
    person: str | None = None
    ready: Callable[[Page], None] | None = None


VISITS = {
    "home": Visit("/"),
    "registration form": Visit("/register"),
    "delegate's own page": Visit("/my/registration", "delegate_email"),
    "public programme": Visit("/programme/"),
    "gate scanner": Visit("/checkin/scanner?checkpoint=entrance", "clerk_email", wait_for_scanner),
    "gate scanner's answer": Visit(
        "/checkin/scanner?checkpoint=entrance", "clerk_email", show_a_refused_scan
    ),
    "organiser dashboard": Visit("/dashboard", "organiser_email"),
    "organiser's registrations": Visit("/registrations/", "organiser_email"),
}


@pytest.mark.parametrize("language", ["en", "id"])
@pytest.mark.parametrize("name", list(VISITS))
def test_the_page_has_no_serious_accessibility_violations(
    app, page, live_server, congress, name, language
):
    visit = VISITS[name]
    choose_language(page.context, live_server, language)
    if visit.person:
        sign_in(page.context, app, live_server, getattr(congress, visit.person))
    response = page.goto(visit.path)
    # Not sent elsewhere (to sign in, say): the page itself is what gets checked.
    assert response.status == 200, f"{visit.path} answered {response.status}"
    assert page.url == live_server + visit.path, page.url
    expect(page.locator("html")).to_have_attribute("lang", language)
    if visit.ready:
        visit.ready(page)
    assert_accessible(page)


# --- the keyboard alone -------------------------------------------------------------------


@pytest.fixture
def open_congress(app: Flask) -> None:
    """WCPP 2026 open for registration with one paid type."""
    with SetUpContext(app):
        event = make_event()
        make_type(event, "delegate", name="Delegate")
        db.session.commit()


def tab_to(page: Page, matches: Callable[[dict], bool], what: str, limit: int = 60) -> dict:
    """Press Tab until the focused element matches; fail (naming `what`) if it never does."""
    for _step in range(limit):
        page.keyboard.press("Tab")
        element = focused(page)
        if matches(element):
            return element
    raise AssertionError(f"{what} never got the focus in {limit} presses of Tab")


def by_name(name: str) -> Callable[[dict], bool]:
    """Matches the form field called `name`."""
    return lambda element: element["name"] == name


def test_the_stylesheet_draws_a_focus_ring_for_keyboard_users():
    stylesheet = (PROJECT_ROOT / "static" / "css" / "kongres.css").read_text(encoding="utf-8")
    assert re.search(r"^:focus-visible\s*\{[^}]*outline:\s*3px solid", stylesheet, re.MULTILINE)


def test_contrast_ratio_follows_wcag():
    assert contrast_ratio("rgb(0, 0, 0)", "rgb(255, 255, 255)") == pytest.approx(21)
    assert contrast_ratio("rgb(119, 119, 119)", "rgb(255, 255, 255)") == pytest.approx(
        4.48, abs=0.01
    )
    assert contrast_ratio("rgba(20, 32, 43, 1)", "rgba(20, 32, 43, 1)") == pytest.approx(1)


@pytest.mark.parametrize("name", list(VISITS))
def test_every_tab_stop_shows_a_focus_ring_that_stands_out(app, page, live_server, congress, name):
    visit = VISITS[name]
    if visit.person:
        sign_in(page.context, app, live_server, getattr(congress, visit.person))
    page.goto(visit.path)
    assert page.url == live_server + visit.path, page.url
    if visit.ready:
        visit.ready(page)
    problems, seen = [], []
    element = focused(page)  # the page may have put the focus somewhere already
    for _step in range(150):
        if element["tag"] != "body":
            if element["html"] in seen:
                break  # round the page and back
            seen.append(element["html"])
            if problem := ring_problem(element):
                problems.append(f"{element['html']}: {problem}")
        elif seen:
            break
        page.keyboard.press("Tab")
        element = focused(page)
    assert seen, "no element took the focus"
    assert not problems, "\n".join(problems)


def test_the_scanners_answer_keeps_the_keyboard_on_it(app, page, live_server, congress):
    sign_in(page.context, app, live_server, congress.clerk_email)
    page.goto("/checkin/scanner?checkpoint=entrance")
    show_a_refused_scan(page)
    expect(page.get_by_role("button", name="Scan next")).to_be_focused()
    # Nothing the answer covers can take the focus, backwards or forwards.
    for key in ["Shift+Tab", "Shift+Tab", "Tab", "Tab", "Tab"]:
        page.keyboard.press(key)
        covered = page.evaluate(
            """() => document.activeElement !== document.body
                     && !document.getElementById("scan-result").contains(document.activeElement)"""
        )
        assert not covered, (key, focused(page)["html"])
    page.keyboard.press("Escape")
    expect(page.locator("#scan-result")).to_be_hidden()
    expect(page.locator("#scanner-wedge")).to_be_focused()


def test_the_checker_reports_what_is_wrong(page, live_server):
    page.goto("/")
    page.evaluate(
        """() => {
          const main = document.querySelector("main");
          main.insertAdjacentHTML("beforeend",
            '<button type="button"></button><p style="color: #bbb">Pale print</p>');
        }"""
    )
    found = {violation["id"]: violation for violation in serious_violations(page)}
    assert set(found) == {"button-name", "color-contrast"}
    assert found["button-name"]["impact"] == "critical"
    assert found["color-contrast"]["targets"] == ["#main > p"]
    with pytest.raises(AssertionError) as failure:
        assert_accessible(page)
    assert "button-name (critical): Buttons must have discernible text — button" in str(
        failure.value
    )


def test_a_delegate_registers_with_the_keyboard_alone(app, page, open_congress):
    page.goto("/register")

    # The first stop is the link that skips the header, and it shows where the focus is.
    page.keyboard.press("Tab")
    skip = focused(page)
    assert skip["tag"] == "a"
    assert skip["text"] == "Skip to content"
    assert ring_problem(skip) is None, ring_problem(skip)
    assert page.locator(".skip-link").is_visible()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"#main$"))
    expect(page.locator("main")).to_be_focused()

    # Typing into the text fields in order; each one shows its focus.
    for name, text in [
        ("title", "Ms"),
        ("given_name", "Aroha"),
        ("family_name", "Ngata"),
    ]:
        element = tab_to(page, by_name(name), name)
        assert ring_problem(element) is None, (element["html"], ring_problem(element))
        page.keyboard.type(text)

    # A select takes the typed start of an option's text.
    tab_to(page, by_name("nationality"), "nationality")
    page.keyboard.type("New Zealand")
    assert focused(page)["value"] == "NZ"
    tab_to(page, by_name("residence_country"), "residence_country")
    page.keyboard.type("New Zealand")
    assert focused(page)["value"] == "NZ"

    tab_to(page, by_name("organisation_name"), "organisation_name")
    page.keyboard.type("Ara Poutama Aotearoa")
    tab_to(page, by_name("email"), "email")
    page.keyboard.type(DELEGATE_EMAIL)

    # The language for emails starts as the page's; an arrow key moves to the other one.
    language = tab_to(page, by_name("language"), "language for emails")
    assert language["value"] == "en"
    page.keyboard.press("ArrowUp")
    assert focused(page)["value"] == "id"

    # A radio group is one tab stop; Space chooses the focused option.
    registration_type = tab_to(page, by_name("registration_type_id"), "registration type")
    assert registration_type["type"] == "radio"
    page.keyboard.press("Space")

    # Shift+Tab goes back: correct the organisation's name, then forward again.
    for _step in range(20):
        page.keyboard.press("Shift+Tab")
        if focused(page)["name"] == "organisation_name":
            break
    else:
        raise AssertionError("Shift+Tab never reached the organisation field")
    page.keyboard.press("End")
    page.keyboard.type(" (Department of Corrections)")

    consent = tab_to(page, by_name("privacy_consent"), "privacy consent")
    assert consent["type"] == "checkbox"
    assert ring_problem(consent) is None, ring_problem(consent)
    page.keyboard.press("Space")

    submit = tab_to(
        page,
        lambda element: element["tag"] == "button" and element["text"] == "Register",
        "the Register button",
    )
    assert ring_problem(submit) is None, ring_problem(submit)
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you, Aroha Ngata")
    with app.app_context():
        registration = db.session.scalar(
            select(Registration).where(Registration.email == DELEGATE_EMAIL)
        )
        assert registration is not None
        assert registration.organisation_name == (
            "Ara Poutama Aotearoa (Department of Corrections)"
        )
        assert registration.nationality == "NZ"
        assert registration.language == "id"
        assert registration.privacy_consent_at is not None


def test_the_skip_link_is_translated(app, page, live_server):
    choose_language(page.context, live_server, "id")
    page.goto("/")
    page.keyboard.press("Tab")
    with app.test_request_context(), force_locale("id"):
        expected = _("Skip to content")
    assert expected != "Skip to content"
    assert focused(page)["text"] == expected


def test_personal_fields_name_their_purpose_for_autofill(page, open_congress):
    """WCAG 1.3.5: a person's own details say what they are, so that browsers fill them in."""
    page.goto("/register")
    for label, purpose in [
        ("Title (Dr, Prof, …)", "honorific-prefix"),
        ("Given name", "given-name"),
        ("Family name", "family-name"),
        ("Country of residence", "country"),
        ("Organisation", "organization"),
        ("Position", "organization-title"),
        ("Email", "email"),
        ("Mobile phone", "tel"),
        ("Date of birth", "bday"),
    ]:
        field = page.get_by_label(re.compile(rf"^{re.escape(label)}(\s*\*)?$"))
        expect(field).to_have_attribute("autocomplete", purpose)
    page.goto("/login")
    expect(page.get_by_label("Email")).to_have_attribute("autocomplete", "username")
    expect(page.get_by_label("Password")).to_have_attribute("autocomplete", "current-password")


def test_an_untranslated_text_is_marked_with_its_own_language(app, page, live_server):
    """WCAG 3.1.2: an English-only text on an Indonesian page is read out as English."""
    with SetUpContext(app):
        event = make_event()
        make_type(event, "delegate", name="Delegate")
        early_career = make_type(event, "early-career")
        early_career.name = TranslatedText(en="Early career professional")
        db.session.commit()
    choose_language(page.context, live_server, "id")
    page.goto("/register")
    expect(page.locator("html")).to_have_attribute("lang", "id")
    expect(page.locator("strong", has_text="Early career professional")).to_have_attribute(
        "lang", "en"
    )
    expect(page.locator("strong", has_text="Delegasi (delegate)")).to_have_attribute("lang", "id")
