"""A delegate's agenda through the test client: signing up and leaving from the pages, the
waiting list, refusals shown as messages, and the private calendar link."""

from __future__ import annotations

import re
from datetime import time
from html import unescape

import pytest

from app.auth.models import Role
from app.extensions import db
from app.programme.models import SessionKind
from app.programme.publishing import publish_programme
from tests.programme.factories import confirmed_registration, make_room, make_session
from tests.registration.factories import make_event, make_registration, make_type

AGENDA = "/programme/my-agenda"


@pytest.fixture
def wcpp(app):
    """A published programme: a plenary, a one-place workshop at the same time, and a later
    thematic session; returns the session ids."""
    with app.test_request_context():
        event = make_event()
        hall = make_room(event, "Nusa Dua Hall", capacity=1200)
        studio = make_room(event, "Studio 3", capacity=40, position=1)
        plenary = make_session(
            event,
            title_en="Opening plenary",
            title_id="Pleno pembukaan",
            kind=SessionKind.PLENARY,
            room=hall,
        )
        workshop = make_session(
            event, title_en="Risk workshop", room=studio, requires_signup=True, capacity=1
        )
        later = make_session(
            event,
            title_en="Community service orders",
            room=studio,
            start=time(11, 0),
            end=time(12, 0),
        )
        publish_programme(event, actor=None)
        db.session.commit()
        return {"plenary": plenary.id, "workshop": workshop.id, "later": later.id}


@pytest.fixture
def delegate(app, auth, wcpp):
    """A signed-in delegate whose registration is confirmed."""
    user = auth.login_as(Role.DELEGATE)
    with app.test_request_context():
        registration = confirmed_registration(make_event(), email=user.email)
        db.session.commit()
        return registration.id


def page_text(response) -> str:
    """A page's HTML with entities decoded, for reading messages."""
    return unescape(response.get_data(as_text=True))


def sign_up(client, session_id: int, **data):
    """Post the sign-up button's form."""
    return client.post(f"/programme/sessions/{session_id}/sign-up", data=data)


def feed_link(page: str) -> str:
    """The private calendar address shown on the agenda page."""
    return re.search(r'id="agenda-feed-url"[^>]*value="([^"]+)"', page).group(1)


def test_an_empty_agenda_points_to_the_programme(client, delegate):
    page = page_text(client.get(AGENDA))

    assert "Your agenda is empty." in page
    assert 'href="/programme/"' in page
    assert "/programme/agenda/" in feed_link(page)


def test_signing_up_shows_the_session_in_the_agenda(client, delegate, wcpp):
    response = sign_up(client, wcpp["workshop"], next=f"/programme/sessions/{wcpp['workshop']}")

    assert response.status_code == 302
    assert response.headers["Location"] == f"/programme/sessions/{wcpp['workshop']}"
    page = page_text(client.get(AGENDA))
    assert "You have a place in “Risk workshop”." in page
    assert "09:00–10:30" in page
    assert "Studio 3" in page
    assert "Place confirmed" in page
    assert f'action="/programme/sessions/{wcpp["workshop"]}/withdraw"' in page


def test_a_full_session_shows_the_place_on_the_waiting_list(app, client, delegate, wcpp):
    with app.test_request_context():
        from app.programme import agenda

        agenda.sign_up(confirmed_registration(make_event()), wcpp["workshop"])
        db.session.commit()

    sign_up(client, wcpp["workshop"])

    page = page_text(client.get(AGENDA))
    assert "The session is full: you are number 1 on the waiting list." in page
    assert "Waiting list: number 1" in page
    assert "Leave the waiting list" in page


def test_an_overlapping_session_is_refused_with_the_reason(client, delegate, wcpp):
    sign_up(client, wcpp["plenary"])

    response = sign_up(client, wcpp["workshop"])

    assert response.headers["Location"] == AGENDA
    page = page_text(client.get(AGENDA))
    assert "“Risk workshop” overlaps with “Opening plenary”" in page
    assert "09:00–10:30 WITA" in page
    assert "Place confirmed" not in page


def test_leaving_a_session_takes_it_out_of_the_agenda(client, delegate, wcpp):
    sign_up(client, wcpp["later"])

    response = client.post(f"/programme/sessions/{wcpp['later']}/withdraw", data={"next": AGENDA})

    assert response.headers["Location"] == AGENDA
    page = page_text(client.get(AGENDA))
    assert "You left “Community service orders”." in page
    assert "Your agenda is empty." in page


def test_the_forms_never_send_the_delegate_to_another_site(client, delegate, wcpp):
    response = sign_up(client, wcpp["later"], next="//evil.example/phish")

    assert response.headers["Location"] == AGENDA


def test_a_new_calendar_link_revokes_the_old_one(client, delegate):
    old = feed_link(page_text(client.get(AGENDA)))
    old_path = old.split("://", 1)[1].split("/", 1)[1]
    assert client.get("/" + old_path).status_code == 200

    response = client.post("/programme/my-agenda/calendar-link")

    assert response.headers["Location"] == AGENDA
    page = page_text(client.get(AGENDA))
    assert "Your calendar has a new link." in page
    new = feed_link(page)
    assert new != old
    assert client.get("/" + old_path).status_code == 404
    assert client.get("/" + new.split("://", 1)[1].split("/", 1)[1]).status_code == 200


def test_the_agenda_reads_in_the_delegates_language(app, auth, client, wcpp):
    user = auth.login_as(Role.DELEGATE, language="id")
    with app.test_request_context():
        confirmed_registration(make_event(), email=user.email, language="id")
        db.session.commit()
    sign_up(client, wcpp["plenary"])

    page = page_text(client.get(AGENDA))

    assert '<html lang="id">' in page
    assert "Pleno pembukaan" in page


def test_a_delegate_awaiting_payment_is_told_why_they_cannot_sign_up(app, auth, client, wcpp):
    user = auth.login_as(Role.DELEGATE)
    with app.test_request_context():
        event = make_event()
        make_registration(event, make_type(event, "delegate"), email=user.email)
        db.session.commit()

    page = page_text(client.get(AGENDA))
    assert "You cannot sign up for sessions yet" in page
    assert "Awaiting payment" in page
    assert 'href="/my/registration"' in page
    assert "agenda-feed-url" not in page

    sign_up(client, wcpp["plenary"])
    page = page_text(client.get(AGENDA))
    assert "Only delegates whose registration is confirmed can sign up" in page
    assert client.post("/programme/my-agenda/calendar-link").status_code == 302


def test_a_delegate_without_a_registration_is_offered_the_form(auth, client, wcpp):
    auth.login_as(Role.DELEGATE)

    page = page_text(client.get(AGENDA))

    assert 'href="/register"' in page
    sign_up(client, wcpp["plenary"])
    assert "please register first" in page_text(client.get(AGENDA))
    assert client.post(f"/programme/sessions/{wcpp['plenary']}/withdraw").status_code == 404


def test_an_unknown_session_is_refused_with_a_message(client, delegate):
    sign_up(client, 999_999)

    assert "This session is not in the published programme." in page_text(client.get(AGENDA))
