"""Badge pages: a delegate downloads their own badge only; organisers list, issue, reissue,
revoke, download and print (a background job with a progress page)."""

from __future__ import annotations

import math
import re
import time
from io import BytesIO

import pytest
from pypdf import PdfReader

from app.auth.models import Role
from app.badges import services
from app.badges.models import Badge
from app.extensions import db as _db
from app.jobs.models import Job, JobStatus
from app.registration.models import Registration
from tests.badges.factories import confirmed_registration, make_badge
from tests.badges.test_pdf import qr_codes, rendered_pages
from tests.registration.factories import count_rows, make_event, make_registration, make_type

PDF_URL = "/badges/my-badge.pdf"
LIST_URL = "/organiser/badges/"


def fetch(client, url: str, **kwargs):
    """A request whose response is read and closed."""
    response = client.open(url, **kwargs)
    response.get_data()
    response.close()
    return response


def _badge_of(registration_id: int) -> Badge:
    """The registration's badge as stored now."""
    _db.session.expire_all()
    return _db.session.query(Badge).filter_by(registration_id=registration_id).one()


# --- the delegate ---------------------------------------------------------------------------


@pytest.fixture
def delegate_with_registration(db, auth, make_user):
    """Sign in as a delegate whose confirmed registration this returns."""

    def _make(confirmed: bool = True, **overrides) -> Registration:
        user = make_user(roles=[Role.DELEGATE])
        event = make_event()
        registration_type = make_type(event, is_free=confirmed)
        registration = make_registration(event, registration_type, email=user.email, **overrides)
        _db.session.commit()
        auth.login(user.email)
        return registration

    return _make


def test_delegate_downloads_their_own_badge(db, client, delegate_with_registration):
    registration = delegate_with_registration(badge_name="Ketut Sudarsana", nationality="ID")
    other = confirmed_registration(registration.event, badge_name="Somebody Else")
    other_badge = services.issue_badge(other, actor=None)
    _db.session.commit()

    page = client.get("/my/registration").get_data(as_text=True)
    assert PDF_URL in page

    response = fetch(client, PDF_URL)
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert "no-store" in response.headers["Cache-Control"]
    badge = _badge_of(registration.id)
    [image] = rendered_pages(response.data)
    assert qr_codes(image) == [services.badge_token(badge)]
    assert services.badge_token(other_badge) not in qr_codes(image)
    assert "Ketut Sudarsana" in PdfReader(BytesIO(response.data)).pages[0].extract_text()

    # Issued once: the next download is the same badge.
    assert fetch(client, PDF_URL).status_code == 200
    assert count_rows(Badge) == 2
    assert _badge_of(registration.id).id == badge.id


def test_unconfirmed_delegate_gets_no_badge(db, client, delegate_with_registration):
    delegate_with_registration(confirmed=False)
    assert PDF_URL not in client.get("/my/registration").get_data(as_text=True)
    assert fetch(client, PDF_URL).status_code == 403
    assert count_rows(Badge) == 0


def test_revoked_badge_is_not_downloaded(db, client, delegate_with_registration):
    registration = delegate_with_registration()
    badge = services.issue_badge(registration, actor=None)
    services.revoke_badge(badge, actor=None)
    _db.session.commit()
    assert fetch(client, PDF_URL).status_code == 403


def test_delegate_without_registration_gets_404(db, client, auth):
    make_event()
    _db.session.commit()
    auth.login_as(Role.DELEGATE)
    assert fetch(client, PDF_URL).status_code == 404


def test_organiser_pages_are_refused_to_delegates(db, client, delegate_with_registration):
    registration = delegate_with_registration()
    badge = services.issue_badge(registration, actor=None)
    _db.session.commit()
    assert fetch(client, f"/organiser/badges/{badge.id}.pdf").status_code == 403
    assert fetch(client, LIST_URL).status_code == 403


# --- the organisers -------------------------------------------------------------------------


@pytest.fixture
def organiser(db, auth):
    """Signed in as an organiser, with the congress in place."""
    make_event()
    _db.session.commit()
    return auth.login_as(Role.ORGANISER)


def test_list_filters_and_searches(db, client, organiser):
    event = make_event()
    speakers = make_type(event, "speaker", is_free=True, name="Speaker")
    delegates = make_type(event, is_free=True, name="Delegate")
    speaker = make_badge(event, speakers, badge_name="Ayu Lestari", nationality="ID")
    confirmed_registration(event, delegates, badge_name="Brian Otieno", nationality="KE")
    revoked = make_badge(event, delegates, badge_name="Carla Mendes", nationality="BR")
    services.revoke_badge(revoked, actor=None)
    make_registration(event, make_type(event), badge_name="Unpaid Person")  # not listed
    _db.session.commit()

    def names(**args) -> list[str]:
        html = client.get(LIST_URL, query_string=args).get_data(as_text=True)
        found = re.findall(r'">([A-Z][a-z]+ [A-Z][a-z]+)</a>', html)
        return [
            name
            for name in found
            if name in {"Ayu Lestari", "Brian Otieno", "Carla Mendes", "Unpaid Person"}
        ]

    assert names() == ["Ayu Lestari", "Brian Otieno", "Carla Mendes"]
    assert names(type_id=speakers.id) == ["Ayu Lestari"]
    assert names(country="KE") == ["Brian Otieno"]
    assert names(role="speaker") == ["Ayu Lestari"]
    assert names(role="delegate") == ["Brian Otieno", "Carla Mendes"]
    assert names(badge="missing") == ["Brian Otieno"]
    assert names(badge="revoked") == ["Carla Mendes"]
    assert names(badge="issued") == ["Ayu Lestari"]
    assert names(q=speaker.number) == ["Ayu Lestari"]
    assert names(q="brian") == ["Brian Otieno"]
    # Junk filters are ignored or match nobody, never a 500.
    assert (
        fetch(client, LIST_URL, query_string={"type_id": "x", "badge": "nope"}).status_code == 200
    )

    html = client.get(LIST_URL).get_data(as_text=True)
    assert speaker.number in html
    assert "Badges" in html  # the menu entry


def test_list_uses_a_constant_number_of_queries(db, client, organiser, count_queries):
    event = make_event()
    free = make_type(event, is_free=True)
    for _ in range(2):
        make_badge(event, free)
    _db.session.commit()
    with count_queries() as few:
        assert fetch(client, LIST_URL).status_code == 200
    for _ in range(8):
        make_badge(event, free)
        confirmed_registration(event, free)
    _db.session.commit()
    with count_queries() as many:
        assert fetch(client, LIST_URL).status_code == 200
    assert few.count == many.count


def test_issue_missing_badges(db, client, organiser):
    event = make_event()
    free = make_type(event, is_free=True)
    for _ in range(3):
        confirmed_registration(event, free)
    _db.session.commit()
    response = client.post("/organiser/badges/issue", follow_redirects=True)
    assert "3 badge(s) issued." in response.get_data(as_text=True)
    assert count_rows(Badge) == 3


def test_reissue_with_confirmation(db, client, organiser):
    event = make_event()
    badge = make_badge(event)
    old_token = services.badge_token(badge)
    _db.session.commit()
    url = f"/organiser/badges/{badge.id}/reissue"

    page = client.get(url).get_data(as_text=True)
    assert "New version" in page
    assert fetch(client, url, method="POST", data={}).status_code == 422
    assert _badge_of(badge.registration_id).version == 1

    response = client.post(url, data={"confirm": "y"}, follow_redirects=True)
    assert "version 2" in response.get_data(as_text=True)
    reissued = _badge_of(badge.registration_id)
    assert reissued.version == 2
    assert services.verify_token(event, old_token)[2] == "old_version"
    assert fetch(client, "/organiser/badges/999999/reissue").status_code == 404


def test_revoke_and_restore(db, client, organiser):
    event = make_event()
    badge = make_badge(event)
    _db.session.commit()
    response = client.post(f"/organiser/badges/{badge.id}/revoke", follow_redirects=True)
    assert f"Badge {badge.number} revoked." in response.get_data(as_text=True)
    assert _badge_of(badge.registration_id).revoked_at is not None
    client.post(f"/organiser/badges/{badge.id}/restore")
    assert _badge_of(badge.registration_id).revoked_at is None


def test_organiser_downloads_one_badge(db, client, organiser):
    event = make_event()
    badge = make_badge(event)
    _db.session.commit()
    response = fetch(client, f"/organiser/badges/{badge.id}.pdf")
    assert response.status_code == 200
    [image] = rendered_pages(response.data)
    assert qr_codes(image) == [services.badge_token(_badge_of(badge.registration_id))]
    assert fetch(client, "/organiser/badges/424242.pdf").status_code == 404


def _job_id(location: str) -> str:
    """The job id in a redirect to its page."""
    match = re.fullmatch(r"/jobs/([0-9a-f]{32})", location)
    assert match, location
    return match.group(1)


def test_print_all_confirmed_badges_inline(db, client, organiser, app, monkeypatch):
    monkeypatch.setitem(app.config, "JOBS_SYNC", True)
    event = make_event()
    free = make_type(event, is_free=True)
    registrations = [confirmed_registration(event, free) for _ in range(6)]
    services.issue_badge(registrations[0], actor=None)
    revoked = make_badge(event, free)
    services.revoke_badge(revoked, actor=None)
    _db.session.commit()

    response = client.post("/organiser/badges/print", data={"scope": "all"})
    assert response.status_code == 302
    job_id = _job_id(response.headers["Location"])
    job = _db.session.get(Job, job_id)
    assert (job.status, job.done, job.total) == (JobStatus.DONE, 6, 6)
    assert count_rows(Badge) == 7  # the missing five issued by the job

    page = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert "Badges to print" in page
    assert f"/jobs/{job_id}/download" in page
    download = fetch(client, f"/jobs/{job_id}/download")
    assert download.mimetype == "application/pdf"
    pages = rendered_pages(download.data, scale=1.5)
    assert len(pages) == math.ceil(6 / 4)
    tokens = {services.badge_token(_badge_of(r.id)) for r in registrations}
    assert set(qr_codes(pages[0])) | set(qr_codes(pages[1])) == tokens
    assert services.badge_token(revoked) not in tokens


def test_print_the_filtered_badges(db, client, organiser, app, monkeypatch):
    monkeypatch.setitem(app.config, "JOBS_SYNC", True)
    event = make_event()
    press = make_type(event, "press", is_free=True)
    others = make_type(event, is_free=True)
    for _ in range(3):
        confirmed_registration(event, press)
    for _ in range(2):
        confirmed_registration(event, others)
    _db.session.commit()

    response = client.post("/organiser/badges/print?role=press", data={"scope": "filtered"})
    job = _db.session.get(Job, _job_id(response.headers["Location"]))
    assert (job.status, job.total) == (JobStatus.DONE, 3)
    assert len(PdfReader(BytesIO(fetch(client, f"/jobs/{job.id}/download").data)).pages) == 1


def test_print_with_nothing_to_print_fails_with_a_message(db, client, organiser, app, monkeypatch):
    monkeypatch.setitem(app.config, "JOBS_SYNC", True)
    response = client.post("/organiser/badges/print", data={"scope": "all"})
    job_id = _job_id(response.headers["Location"])
    state = client.get(f"/jobs/{job_id}.json").get_json()
    assert state["status"] == "failed"
    assert state["error"] == "No confirmed delegate matches these filters."
    assert state["download_url"] is None


def test_print_runs_in_a_thread(client, auth, app):
    """The default path: a thread of the web process. Without the db fixture, so that each
    poll sees the job's latest progress (see tests/jobs/test_jobs.py)."""
    assert not app.config.get("JOBS_SYNC")
    with app.test_request_context():
        event = make_event()
        free = make_type(event, is_free=True)
        for _ in range(45):
            confirmed_registration(event, free)
        _db.session.commit()
    auth.login_as(Role.ADMIN)
    response = client.post("/organiser/badges/print", data={"scope": "all"})
    job_id = _job_id(response.headers["Location"])
    deadline = time.monotonic() + 60
    seen = []
    while time.monotonic() < deadline:
        state = client.get(f"/jobs/{job_id}.json").get_json()
        seen.append(state["done"])
        if state["finished"]:
            break
        time.sleep(0.02)
    assert state["status"] == "done", state
    assert state["done"] == state["total"] == 45
    assert seen == sorted(seen)
    download = fetch(client, state["download_url"])
    assert len(PdfReader(BytesIO(download.data)).pages) == math.ceil(45 / 4)
