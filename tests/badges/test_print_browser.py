"""The organiser's print journey in Chromium: the badge list, "Build the PDF", the job page's
progress bar filled by static/js/jobs.js, and the download link once the PDF is ready."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from app.auth.models import Role
from app.extensions import db as _db
from tests.badges.factories import confirmed_registration
from tests.registration.factories import make_event, make_type

# Where screenshots go when KONGRES_SCREENSHOTS names a folder (to look at the pages).
SHOTS = os.environ.get("KONGRES_SCREENSHOTS")
DELEGATES = 30


def shot(page: Page, name: str) -> None:
    """Keep a screenshot of the page when asked to."""
    if SHOTS:
        page.screenshot(path=str(Path(SHOTS) / f"badges-{name}.png"), full_page=True)


@pytest.fixture
def confirmed_delegates(app):
    """The congress with confirmed delegates of two categories."""
    with app.test_request_context():
        event = make_event()
        speakers = make_type(event, "speaker", is_free=True, name="Speaker")
        delegates = make_type(event, is_free=True, name="Delegate")
        for number in range(DELEGATES):
            confirmed_registration(
                event,
                speakers if number % 5 == 0 else delegates,
                badge_name=f"Delegate {number:02d}",
            )
        _db.session.commit()


def test_organiser_prints_badges_and_downloads_the_pdf(
    page: Page, make_user, confirmed_delegates, sign_in
):
    organiser = make_user(roles=[Role.ORGANISER])
    sign_in(page, organiser.email)

    page.get_by_role("link", name="Badges").click()
    expect(page.get_by_role("heading", name="Badges", exact=True)).to_be_visible()
    expect(page.get_by_text(f"{DELEGATES} results")).to_be_visible()
    shot(page, "list")

    page.get_by_role("button", name="Build the PDF").click()
    expect(page).to_have_url(re.compile(r"/jobs/[0-9a-f]{32}$"))
    expect(page.get_by_role("heading", name="Badges to print")).to_be_visible()
    download_link = page.get_by_role("link", name="Download the PDF")
    expect(download_link).to_be_visible(timeout=60_000)
    expect(page.locator("[data-job-status-label]")).to_have_text("Finished")
    expect(page.locator("progress")).to_have_attribute("value", str(DELEGATES))
    expect(page.get_by_text(f"{DELEGATES} of {DELEGATES} done")).to_be_visible()
    shot(page, "job-done")

    with page.expect_download() as download_info:
        download_link.click()
    path = download_info.value.path()
    assert Path(path).read_bytes().startswith(b"%PDF")
