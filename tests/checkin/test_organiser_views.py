"""The organisers' check-in pages: checkpoints and staff, device tokens, the scan log, offline
conflicts and live attendance (page and JSON), with constant query counts."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.auth.models import Role
from app.badges.services import badge_token
from app.checkin import services
from app.checkin.models import Checkpoint, CheckpointStaff, GateDevice, Scan
from app.extensions import db
from tests.badges.factories import make_badge
from tests.checkin.factories import make_checkpoint, make_device, make_event_today, new_nonce
from tests.programme.factories import SetUpContext, make_room, make_session
from tests.registration.factories import count_rows

CHECKPOINTS = "/organiser/checkin/checkpoints/"


@pytest.fixture
def organiser(auth):
    """An organiser, signed in."""
    return auth.login_as(Role.ORGANISER)


@pytest.fixture
def venue(app, make_user):
    """A congress running today with an entrance, a session door and a gate clerk."""
    clerk = make_user(roles=[Role.GATE_STAFF], name="Wayan Sudarta")
    with SetUpContext(app):
        event = make_event_today()
        entrance = make_checkpoint(event, "entrance", "Venue entrance")
        room = make_room(event, "Nusa Dua Hall", capacity=4)
        session = make_session(
            event, title_en="Electronic monitoring", room=room, day=event.starts_on
        )
        door = make_checkpoint(
            event, "s-em", "Electronic monitoring door", kind="session_door", session=session
        )
        db.session.commit()
        return {
            "event": event.id,
            "entrance": entrance.id,
            "door": door.id,
            "session": session.id,
            "clerk": clerk.id,
        }


def scan_badges(app, count: int, *, codes=("entrance",), nationality="ID"):
    """Make `count` badges and scan each at the given checkpoints (committed)."""
    with SetUpContext(app):
        from app.events.services import current_event

        event = current_event()
        device, _token = make_device(event, f"Phone {new_nonce()}")
        for _number in range(count):
            badge = make_badge(event, nationality=nationality)
            for code in codes:
                services.record_scan(
                    event,
                    token=badge_token(badge),
                    checkpoint_code=code,
                    nonce=new_nonce(),
                    scanned_at=None,
                    device=device,
                    user=None,
                )
        db.session.commit()


def page_text(response) -> str:
    """A page's HTML, after checking it rendered."""
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


# --- checkpoints ----------------------------------------------------------------------------


def test_the_checkpoint_list_shows_rules_and_staff(client, venue, organiser):
    html = page_text(client.get(CHECKPOINTS))
    assert "Venue entrance" in html
    assert "Electronic monitoring door" in html
    assert "Session door" in html


def test_an_organiser_adds_a_checkpoint_with_rules_and_staff(client, venue, organiser):
    form = page_text(client.get("/organiser/checkin/checkpoints/new"))
    assert "Wayan Sudarta" in form

    response = client.post(
        "/organiser/checkin/checkpoints/new",
        data={
            "name-en": "Closed session door",
            "name-id": "Pintu sesi tertutup",
            "code": "closed-1",
            "kind": "session_door",
            "session_id": str(venue["session"]),
            "entry_mode": "every_entry",
            "refused_roles": ["press"],
            "active": "y",
            "staff_ids": [str(venue["clerk"])],
        },
    )

    assert response.status_code == 302
    with client.application.app_context():
        checkpoint = db.session.scalar(select(Checkpoint).where(Checkpoint.code == "closed-1"))
        assert checkpoint.name.in_language("id") == "Pintu sesi tertutup"
        assert checkpoint.session_id == venue["session"]
        assert checkpoint.entry_mode == "every_entry"
        assert checkpoint.refused_roles == ["press"]
        assert [member.user_id for member in checkpoint.staff] == [venue["clerk"]]


def test_a_taken_code_is_shown_on_its_field(client, venue, organiser):
    response = client.post(
        "/organiser/checkin/checkpoints/new",
        data={
            "name-en": "Second entrance",
            "code": "entrance",
            "kind": "entrance",
            "entry_mode": "once_per_day",
        },
    )
    html = page_text(response)
    assert "Another checkpoint already has this code." in html
    with client.application.app_context():
        assert count_rows(Checkpoint) == 2


def test_editing_assigns_staff_and_closes_the_checkpoint(client, venue, organiser):
    url = f"/organiser/checkin/checkpoints/{venue['entrance']}/edit"
    assert 'value="entrance"' in page_text(client.get(url))

    response = client.post(
        url,
        data={
            "name-en": "Main gate",
            "code": "entrance",
            "kind": "entrance",
            "entry_mode": "once_per_day",
            "staff_ids": [str(venue["clerk"])],
        },
    )

    assert response.status_code == 302
    with client.application.app_context():
        checkpoint = db.session.get(Checkpoint, venue["entrance"])
        assert str(checkpoint.name) == "Main gate"
        assert not checkpoint.active
        assert db.session.scalar(select(CheckpointStaff.user_id)) == venue["clerk"]


def test_deleting_needs_the_box_ticked_and_no_scans(client, venue, organiser, app):
    door_url = f"/organiser/checkin/checkpoints/{venue['door']}/delete"
    entrance_url = f"/organiser/checkin/checkpoints/{venue['entrance']}/delete"
    scan_badges(app, 1)

    unticked = client.post(door_url, data={})
    scanned = client.post(entrance_url, data={"confirm": "y"})
    deleted = client.post(door_url, data={"confirm": "y"})

    assert unticked.status_code == 422
    assert "Tick the box to confirm the deletion." in unticked.get_data(as_text=True)
    assert scanned.status_code == 422
    assert "close the checkpoint instead" in scanned.get_data(as_text=True)
    assert deleted.status_code == 302
    with client.application.app_context():
        assert [cp.code for cp in db.session.scalars(select(Checkpoint))] == ["entrance"]


def test_another_events_checkpoint_is_not_found(client, venue, organiser):
    assert client.get("/organiser/checkin/checkpoints/99999/edit").status_code == 404


# --- devices --------------------------------------------------------------------------------


def test_a_device_token_is_shown_once_with_a_warning(client, venue, organiser):
    response = client.post(
        "/organiser/checkin/devices/new",
        data={"name": "Entrance phone 1", "checkpoint_id": str(venue["entrance"])},
    )

    html = page_text(response)
    assert response.headers["Cache-Control"] == "no-store"
    assert "This is the only time the token is shown." in html
    token = re.search(r'id="device-token" [^>]*value="([^"]+)"', html).group(1)
    with client.application.app_context():
        device = db.session.scalar(select(GateDevice))
        assert device.checkpoint_id == venue["entrance"]
        assert services.authenticate_device(token).id == device.id
    listing = page_text(client.get("/organiser/checkin/devices/"))
    assert "Entrance phone 1" in listing
    assert token not in listing
    assert token[:6] in listing


def test_a_device_needs_a_name(client, venue, organiser):
    html = page_text(client.post("/organiser/checkin/devices/new", data={"name": ""}))
    assert "Name the device" in html
    with client.application.app_context():
        assert count_rows(GateDevice) == 0


def test_revoking_a_device(client, venue, organiser, app):
    with SetUpContext(app):
        from app.events.services import current_event

        device, token = make_device(current_event(), "Lost phone")
        db.session.commit()
        device_id = device.id

    response = client.post(f"/organiser/checkin/devices/{device_id}/revoke")

    assert response.status_code == 302
    listing = page_text(client.get("/organiser/checkin/devices/"))
    assert "Revoked" in listing
    refused = client.post(
        "/api/v1/checkin/scans",
        json={"token": "x", "checkpoint": "entrance", "nonce": "n1"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert refused.status_code == 401
    assert client.post("/organiser/checkin/devices/99999/revoke").status_code == 404


# --- the scan log and conflicts -------------------------------------------------------------


def test_the_scan_log_filters_by_checkpoint_and_result(client, venue, organiser, app):
    scan_badges(app, 2, codes=("entrance", "entrance"))

    everything = page_text(client.get("/organiser/checkin/scans"))
    admitted = page_text(client.get("/organiser/checkin/scans?result=admitted"))
    refused = page_text(
        client.get(f"/organiser/checkin/scans?result=already_admitted&checkpoint={venue['door']}")
    )
    junk = page_text(client.get("/organiser/checkin/scans?result=nonsense&checkpoint=abc"))

    assert "4 results" in everything
    assert "2 results" in admitted
    assert "No scans match." in refused
    assert "4 results" in junk


def test_the_scan_log_takes_the_same_queries_for_few_or_many_scans(
    client, venue, organiser, app, count_queries
):
    scan_badges(app, 2)
    with count_queries() as few:
        page_text(client.get("/organiser/checkin/scans"))
    scan_badges(app, 20, codes=("entrance", "s-em"))
    with count_queries() as many:
        html = page_text(client.get("/organiser/checkin/scans"))

    assert "42 results" in html
    assert many.count == few.count


def test_the_conflicts_page_shows_both_gates(client, venue, organiser, app):
    with SetUpContext(app):
        from app.events.services import current_event

        event = current_event()
        badge = make_badge(event, given_name="Ngozi", family_name="Okafor")
        gate_a, _token = make_device(event, "Gate A phone")
        gate_b, _token = make_device(event, "Gate B phone")
        now = services.utc_now()
        for device, minutes in ((gate_a, 10), (gate_b, 5)):
            services.record_scan(
                event,
                token=badge_token(badge),
                checkpoint_code="entrance",
                nonce=new_nonce(),
                scanned_at=now - timedelta(minutes=minutes),
                device=device,
                user=None,
                client_result="admitted",
            )
        db.session.commit()
        badge_number = badge.number

    html = page_text(client.get("/organiser/checkin/conflicts"))

    assert badge_number in html
    assert "Gate A phone" in html
    assert "Gate B phone" in html
    assert "Already admitted" in html


def test_no_conflicts(client, venue, organiser):
    assert "No conflicts" in page_text(client.get("/organiser/checkin/conflicts"))


# --- live attendance ------------------------------------------------------------------------


def test_live_attendance_counts_today(client, venue, organiser, app):
    scan_badges(app, 3, codes=("entrance", "s-em"), nationality="ID")
    scan_badges(app, 2, codes=("entrance", "entrance"), nationality="AU")

    figures = client.get("/organiser/checkin/live.json").get_json()

    assert figures["totals"] == {"people_today": 5, "entries_today": 8, "conflicts": 0}
    by_code = {row["code"]: row for row in figures["checkpoints"]}
    assert (by_code["entrance"]["people"], by_code["entrance"]["entries"]) == (5, 5)
    assert (by_code["s-em"]["people"], by_code["s-em"]["entries"]) == (3, 3)
    assert sum(hour["entries"] for hour in figures["hours"]) == 8
    assert figures["busiest_hour"] >= 1
    [room] = figures["sessions"]
    assert (room["title"], room["room"], room["admitted"], room["capacity"]) == (
        "Electronic monitoring",
        "Nusa Dua Hall",
        3,
        4,
    )
    assert room["percent"] == 75
    assert [(c["code"], c["today"], c["total"]) for c in figures["countries"]] == [
        ("ID", 3, 3),
        ("AU", 2, 2),
    ]
    assert figures["countries"][0]["name"] == "Indonesia"


def test_the_live_page_loads_its_script_and_has_no_inline_script(client, venue, organiser, app):
    scan_badges(app, 1)

    response = client.get("/organiser/checkin/live")
    html = page_text(response)

    assert '<script src="/static/js/attendance.js" defer></script>' in html
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == []
    assert " on" + "click=" not in html
    assert 'data-live-url="/organiser/checkin/live.json"' in html
    assert "Delegates admitted today" in html
    assert "<meter" in html
    assert "Check-in" in html  # the menu entry


def test_live_attendance_takes_the_same_queries_for_few_or_many_scans(
    client, venue, organiser, app, count_queries
):
    scan_badges(app, 2)
    with count_queries() as few:
        client.get("/organiser/checkin/live.json")
    scan_badges(app, 15, codes=("entrance", "s-em"), nationality="KE")
    with count_queries() as many:
        figures = client.get("/organiser/checkin/live.json").get_json()

    assert figures["totals"]["people_today"] == 17
    assert many.count == few.count


def test_the_live_page_without_data(client, venue, organiser):
    html = page_text(client.get("/organiser/checkin/live"))
    assert "Nobody has been admitted today yet." in html


@pytest.mark.parametrize("role", [Role.GATE_STAFF, Role.DELEGATE, Role.REGISTRY_OFFICER])
def test_other_roles_cannot_see_the_organiser_pages(client, venue, auth, role):
    auth.login_as(role)
    assert client.get("/organiser/checkin/live.json").status_code == 403
    assert client.get(CHECKPOINTS).status_code == 403
    with client.application.app_context():
        assert count_rows(Scan) == 0
