"""The live attendance page refreshes itself in Chromium: a scan made elsewhere appears
without reloading the page (static/js/attendance.js)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from app.auth.models import Role
from app.badges.services import badge_token
from app.extensions import db
from tests.badges.factories import make_badge
from tests.checkin.factories import make_checkpoint, make_device, make_event_today, new_nonce
from tests.programme.factories import SetUpContext

pytestmark = pytest.mark.browser


def test_the_live_page_shows_a_new_admission_without_reloading(app, page, make_user, sign_in):
    organiser = make_user(roles=[Role.ORGANISER])
    with SetUpContext(app):
        event = make_event_today()
        make_checkpoint(event, "entrance", "Venue entrance")
        _device, device_token = make_device(event, "Entrance phone")
        token = badge_token(make_badge(event, nationality="KE"))
        db.session.commit()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    sign_in(page, organiser.email)
    page.get_by_role("link", name="Check-in").click()
    expect(page.get_by_role("heading", name="Live attendance")).to_be_visible()
    expect(page.get_by_text("Nobody has been admitted today yet.")).to_be_visible()
    present = page.locator("[data-total='people_today']")
    expect(present).to_have_text("0")

    answer = page.request.post(
        "/api/v1/checkin/scans",
        data={"token": token, "checkpoint": "entrance", "nonce": new_nonce()},
        headers={"Authorization": f"Bearer {device_token}"},
    )
    assert answer.json()["result"] == "admitted"
    # Coming back to the tab refreshes at once (instead of waiting up to 15 seconds).
    page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")

    expect(present).to_have_text("1")
    expect(page.locator("#live-checkpoints")).to_contain_text("Venue entrance")
    expect(page.locator("#live-countries")).to_contain_text("Kenya")
    expect(page.locator("#live-hours meter")).to_have_count(1)
    expect(page.get_by_text("Nobody has been admitted today yet.")).to_be_hidden()
    expect(page.get_by_role("status")).to_have_text(re.compile(r"^Updated at \d\d:\d\d"))
    assert errors == []
