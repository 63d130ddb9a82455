"""Following a background job: its page with a progress bar, its state as JSON (polled by
static/js/jobs.js) and the file it produced. Only whoever started it, and administrators."""

from __future__ import annotations

import click
from flask import Blueprint, abort, current_app, jsonify, render_template, send_file, url_for
from flask_login import current_user
from rq import SimpleWorker

from app.auth.access import SIGNED_IN, allow
from app.jobs import services
from app.jobs.models import Job

bp = Blueprint("jobs", __name__, template_folder="templates")

# Seconds between two polls of a running job's state (the script backs off from this).
POLL_SECONDS = 1


def _job_or_404(job_id: str) -> Job:
    """A job the current user may follow; anyone else's is "not found" (ids are secret)."""
    job = services.find_job(job_id)
    if job is None or not services.may_see_job(job, current_user):
        abort(404)
    return job


def _state(job: Job) -> dict:
    """The job's state with its download link once its file is ready."""
    state = services.job_state(job)
    ready = services.result_file(job) is not None
    state["download_url"] = url_for("jobs.download", job_id=job.id) if ready else None
    return state


@bp.get("/jobs/<job_id>")
@allow(SIGNED_IN)
def show_job(job_id: str):
    """A job's progress bar, kept up to date by the page's script."""
    job = _job_or_404(job_id)
    return render_template(
        "jobs/show.html",
        job=job,
        job_title=services.kind_label(job.kind),
        state=_state(job),
        poll=POLL_SECONDS,
    )


@bp.get("/jobs/<job_id>.json")
@allow(SIGNED_IN)
def job_status(job_id: str):
    """A job's state, for the page to poll."""
    response = jsonify(_state(_job_or_404(job_id)))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/jobs/<job_id>/download")
@allow(SIGNED_IN)
def download(job_id: str):
    """The file a finished job produced."""
    job = _job_or_404(job_id)
    path = services.result_file(job)
    if path is None:
        abort(404)
    day = job.created_at.strftime("%Y%m%d-%H%M") if job.created_at else job.id[:8]
    return send_file(
        path,
        mimetype="application/pdf" if path.suffix == ".pdf" else None,
        as_attachment=True,
        download_name=f"{job.kind.replace('.', '-')}-{day}{path.suffix}",
        max_age=0,
    )


class QuickStoppingWorker(SimpleWorker):
    """A SimpleWorker whose pub/sub listener (RQ's "stop"/"kill" commands) wakes every second:
    redis-py 8 waits for the listener to finish when the worker stops, and RQ's listener sleeps
    up to 60 s, so every burst run and every shutdown took a minute."""

    def subscribe(self) -> None:
        """Listen for RQ's worker commands, waking each second."""
        self.pubsub = self.connection.pubsub()
        self.pubsub.subscribe(**{self.pubsub_channel_name: self.handle_payload})
        self.pubsub_thread = self.pubsub.run_in_thread(
            sleep_time=1, daemon=True, exception_handler=self._pubsub_exception_handler
        )


@bp.cli.command("worker")
@click.option(
    "--queue",
    "queues",
    multiple=True,
    type=click.Choice(services.QUEUES),
    help="A queue to work on (repeat for several; default: all).",
)
@click.option("--burst", is_flag=True, help="Stop when the queues are empty.")
def worker_command(queues: tuple[str, ...], burst: bool) -> None:
    """Run jobs from Redis (REDIS_URL, with JOBS_BACKEND=rq) in this application's context."""
    from redis import Redis
    from rq import Queue

    url = current_app.config.get("REDIS_URL")
    if not url:
        raise click.ClickException("REDIS_URL is not set: jobs run in the web process.")
    connection = Redis.from_url(url)
    names = queues or services.QUEUES
    # SimpleWorker runs each job in this process, inside the command's application context
    # (a forking worker would share the parent's database connections with its children).
    worker = QuickStoppingWorker(
        [Queue(name, connection=connection) for name in names], connection=connection
    )
    # The scheduler puts failed tasks back on their queue after their retry pause (email).
    worker.work(burst=burst, with_scheduler=True)
