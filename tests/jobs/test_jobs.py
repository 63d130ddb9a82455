"""The jobs seam: run inline, in a thread (with progress visible while it runs), on RQ; failures
stored in the creator's language; only the creator and administrators follow a job."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from flask_babel import lazy_gettext as _l
from redis import Redis
from rq import Queue

from app.auth.models import Role
from app.badges.models import Badge
from app.badges.services import BadgeError, badge_token
from app.extensions import db as _db
from app.jobs import services
from app.jobs.models import Job, JobStatus
from tests.badges.factories import confirmed_registration
from tests.badges.test_pdf import qr_codes, rendered_pages
from tests.registration.factories import make_event

# What the running thread job waits for, so the test can watch it half-way.
HALF_WAY = threading.Event()
GO_ON = threading.Event()


@services.job_kind("tests.count", queue="pdf", label=_l("Badges to print"))
def count_job(job_id: str, params: dict) -> str:
    """Count to params["to"], reporting progress, and write the count to a file."""
    total = params["to"]
    for done in range(1, total + 1):
        services.report_progress(job_id, done, total)
        if params.get("pause_at") == done:
            HALF_WAY.set()
            assert GO_ON.wait(10)
    path = services.result_path_for(job_id, ".pdf")
    path.write_bytes(b"%PDF-1.4 " + str(total).encode())
    return path.name


@services.job_kind("tests.refuse", queue="email")
def refusing_job(job_id: str, params: dict) -> None:
    """Fail with a rule's translated message."""
    raise BadgeError(_l("Only the organisers can do this."), "organisers_only")


@services.job_kind("tests.crash", queue="pdf")
def crashing_job(job_id: str, params: dict) -> None:
    """Fail with a programming error."""
    raise RuntimeError("boom")


def _job(job_id: str) -> Job:
    """A fresh look at a job row."""
    _db.session.expire_all()
    return _db.session.get(Job, job_id)


def fetch(client, url: str):
    """GET a URL and close the response (a file download holds the file open until then)."""
    response = client.get(url)
    response.get_data()  # read the body before closing
    response.close()
    return response


def wait_for(client, job_id: str, timeout: float = 15) -> dict:
    """Poll the job's JSON until it finishes (bounded)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = client.get(f"/jobs/{job_id}.json").get_json()
        if state["finished"]:
            return state
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} did not finish in {timeout} s")


@pytest.fixture
def sync_jobs(app, monkeypatch):
    """Jobs run inline for this test."""
    monkeypatch.setitem(app.config, "JOBS_SYNC", True)


def test_inline_job_runs_and_its_file_downloads(db, client, auth, sync_jobs):
    organiser = auth.login_as(Role.ORGANISER)
    job = services.enqueue("tests.count", {"to": 7}, actor=_db.session.merge(organiser))
    stored = _job(job.id)
    assert (stored.status, stored.done, stored.total) == (JobStatus.DONE, 7, 7)
    assert stored.result_path == f"{job.id}.pdf"
    assert stored.finished_at is not None

    state = client.get(f"/jobs/{job.id}.json").get_json()
    assert state["status"] == "done"
    assert state["percent"] == 100
    assert state["download_url"] == f"/jobs/{job.id}/download"
    page = client.get(f"/jobs/{job.id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "<progress" in html
    assert "js/jobs.js" in html
    assert "Badges to print" in html
    download = fetch(client, f"/jobs/{job.id}/download")
    assert download.status_code == 200
    assert download.mimetype == "application/pdf"
    assert download.data == b"%PDF-1.4 7"


def test_thread_job_shows_progress_while_it_runs(client, auth, app):
    """Without the db fixture: its application context would make the client's requests share
    one session (and one old snapshot) instead of each seeing the latest progress."""
    assert not app.config.get("JOBS_SYNC")
    HALF_WAY.clear()
    GO_ON.clear()
    organiser = auth.login_as(Role.ORGANISER)
    with app.test_request_context():
        job_id = services.enqueue(
            "tests.count", {"to": 10, "pause_at": 4}, actor=_db.session.merge(organiser)
        ).id
    try:
        assert HALF_WAY.wait(10)
        state = client.get(f"/jobs/{job_id}.json").get_json()
        assert (state["status"], state["done"], state["total"], state["percent"]) == (
            "running",
            4,
            10,
            40,
        )
        assert state["download_url"] is None
        assert fetch(client, f"/jobs/{job_id}/download").status_code == 404
        page = client.get(f"/jobs/{job_id}").get_data(as_text=True)
        assert 'value="4"' in page
        assert "This page updates by itself." in page
    finally:
        GO_ON.set()
    state = wait_for(client, job_id)
    assert (state["status"], state["done"]) == ("done", 10)
    assert fetch(client, f"/jobs/{job_id}/download").data == b"%PDF-1.4 10"


def test_refused_job_stores_the_message_in_the_creators_language(db, client, auth, sync_jobs):
    organiser = auth.login_as(Role.ORGANISER, language="id")
    job = services.enqueue("tests.refuse", {}, actor=_db.session.merge(organiser))
    stored = _job(job.id)
    assert stored.status == JobStatus.FAILED
    assert stored.error == "Hanya panitia penyelenggara yang dapat melakukan ini."
    assert client.get(f"/jobs/{job.id}/download").status_code == 404
    page = client.get(f"/jobs/{job.id}").get_data(as_text=True)
    assert "Hanya panitia penyelenggara" in page


def test_crashing_job_is_logged_and_says_so(db, auth, sync_jobs, caplog):
    organiser = auth.login_as(Role.ORGANISER)
    job = services.enqueue("tests.crash", {}, actor=_db.session.merge(organiser))
    stored = _job(job.id)
    assert stored.status == JobStatus.FAILED
    assert "error on our side" in stored.error
    assert "boom" not in stored.error
    assert any("boom" in (record.exc_text or "") for record in caplog.records)


def test_a_job_runs_once(db, auth, sync_jobs):
    organiser = auth.login_as(Role.ORGANISER)
    job = services.enqueue("tests.count", {"to": 2}, actor=_db.session.merge(organiser))
    finished_at = _job(job.id).finished_at
    services.run_job(job.id)  # a second worker picking it up changes nothing
    assert _job(job.id).finished_at == finished_at


def test_only_the_creator_and_admins_follow_a_job(db, client, auth, make_user, sync_jobs):
    creator = make_user(roles=[Role.ORGANISER])
    job = services.enqueue("tests.count", {"to": 1}, actor=_db.session.merge(creator))
    urls = (f"/jobs/{job.id}", f"/jobs/{job.id}.json", f"/jobs/{job.id}/download")
    auth.login_as(Role.ORGANISER)
    assert [fetch(client, url).status_code for url in urls] == [404, 404, 404]
    auth.logout()
    auth.login_as(Role.ADMIN)
    assert [fetch(client, url).status_code for url in urls] == [200, 200, 200]
    auth.logout()
    auth.login(creator.email)
    assert [fetch(client, url).status_code for url in urls] == [200, 200, 200]
    assert client.get("/jobs/not-a-job.json").status_code == 404
    assert client.get("/jobs/" + "f" * 32).status_code == 404
    auth.logout()
    assert client.get(urls[1]).status_code in (302, 401)


def test_result_file_stays_in_the_jobs_folder(db, app, make_user, sync_jobs):
    creator = _db.session.merge(make_user(roles=[Role.ORGANISER]))
    job = services.enqueue("tests.count", {"to": 1}, actor=creator)
    stored = _job(job.id)
    secret = Path(app.instance_path) / "secret.pdf"
    secret.write_bytes(b"secret")
    stored.result_path = "../secret.pdf"
    assert services.result_file(stored) is None
    with pytest.raises(ValueError, match="job id"):
        services.result_path_for("../../etc/passwd")


def test_unknown_kind_is_refused(db):
    with pytest.raises(ValueError, match="unknown job kind"):
        services.enqueue("tests.nothing", {}, actor=None)


def test_rq_job_waits_for_a_worker(db, app, auth, monkeypatch, redis_url, runner):
    monkeypatch.setitem(app.config, "REDIS_URL", redis_url)
    monkeypatch.setitem(app.config, "JOBS_BACKEND", "rq")
    organiser = auth.login_as(Role.ORGANISER)
    job_id = services.enqueue("tests.count", {"to": 3}, actor=_db.session.merge(organiser)).id
    assert _job(job_id).status == JobStatus.QUEUED
    _db.session.commit()

    # `flask jobs worker --burst`: runs what is queued, then stops.
    result = runner.invoke(args=["jobs", "worker", "--queue", "pdf", "--burst"])
    assert result.exit_code == 0, result.output
    stored = _job(job_id)
    assert (stored.status, stored.done, stored.result_path) == (JobStatus.DONE, 3, f"{job_id}.pdf")


def test_batch_badge_pdf_is_made_by_an_rq_worker(app, client, auth, monkeypatch, redis_url, runner):
    """The real badge job ("badges.print") end to end on RQ: queued by the organiser's page,
    made by `flask jobs worker --queue pdf`, downloaded with every badge's QR code. Without the
    db fixture: the worker's own context ends its session (see the thread test above)."""
    monkeypatch.setitem(app.config, "REDIS_URL", redis_url)
    monkeypatch.setitem(app.config, "JOBS_BACKEND", "rq")
    with app.test_request_context():
        event = make_event()
        registration_ids = [confirmed_registration(event).id for _ in range(5)]
        _db.session.commit()
    auth.login_as(Role.ORGANISER)

    response = client.post("/organiser/badges/print", data={"scope": "all"})
    assert response.status_code == 302
    job_id = response.headers["Location"].rsplit("/", 1)[1]
    assert client.get(f"/jobs/{job_id}.json").get_json()["status"] == "queued"
    assert Queue("pdf", connection=Redis.from_url(redis_url)).job_ids == [job_id]

    result = runner.invoke(args=["jobs", "worker", "--queue", "pdf", "--burst"])
    assert result.exit_code == 0, result.output
    state = client.get(f"/jobs/{job_id}.json").get_json()
    assert (state["status"], state["done"], state["total"]) == ("done", 5, 5)
    pages = rendered_pages(fetch(client, state["download_url"]).data, scale=1.5)
    assert len(pages) == 2  # four badges a sheet
    with app.test_request_context():
        badges = _db.session.query(Badge).filter(Badge.registration_id.in_(registration_ids))
        tokens = {badge_token(badge) for badge in badges}
    assert len(tokens) == 5
    assert set(qr_codes(pages[0])) | set(qr_codes(pages[1])) == tokens
