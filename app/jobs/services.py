"""The jobs seam: background work (batch PDFs, bulk email) with progress pages can poll.

A domain registers a kind of job with `job_kind("badges.print", queue="pdf")` on a function
taking (job_id, params) and returning the name of the file it wrote under instance/jobs/ (or
None). `enqueue(kind, params, actor=...)` commits the job's row, then runs it:

- inline when the JOBS_SYNC setting is true (tests that need determinism);
- on an RQ queue ("pdf" or "email") when REDIS_URL is set and JOBS_BACKEND is "rq": start a
  worker with `flask jobs worker --queue pdf --queue email` (app/jobs/views.py; plain
  `rq worker --with-scheduler pdf email --url $REDIS_URL` works too, each job building its own
  application, but stops slowly: see QuickStoppingWorker);
- otherwise in a daemon thread of this process with its own application context.

The function reports progress with `report_progress(job_id, done, total)`, which commits on its
own connection at once so that the status page sees it while the job's work goes on. A job
must not hold uncommitted writes when it reports (SQLite would wait for them).

Work nobody follows on a page (delivering an email) needs no Job row: `run_tasks(function,
[args, ...], queue="email", retry_intervals=(...))` calls a module-level function with plain
arguments the same three ways, each call as a plain RQ job that RQ retries after the given
pauses when it raises (and keeps, once failed for good, for `failure_ttl` seconds).
"""

from __future__ import annotations

import importlib
import logging
import re
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask import Flask, current_app, has_app_context
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from app.auth.models import Role, User
from app.errors import DomainError
from app.extensions import db
from app.jobs.models import Job, JobStatus

__all__ = [
    "JOB_ID_PATTERN",
    "JobKind",
    "enqueue",
    "find_job",
    "job_kind",
    "job_kinds",
    "job_state",
    "jobs_of",
    "kind_label",
    "may_see_job",
    "report_progress",
    "result_file",
    "result_path_for",
    "run_job",
    "run_tasks",
    "status_label",
]

logger = logging.getLogger(__name__)

JOB_ID_PATTERN = re.compile(r"[0-9a-f]{32}")
QUEUES = ("pdf", "email")
RESULT_DIR = "jobs"
# An RQ job may run this long before the worker gives up on it (2,000 badges take seconds).
RQ_JOB_TIMEOUT = 3600

STATUS_LABELS = {
    JobStatus.QUEUED: _l("Waiting to start"),
    JobStatus.RUNNING: _l("In progress"),
    JobStatus.DONE: _l("Finished"),
    JobStatus.FAILED: _l("Failed"),
}

JobFunction = Callable[[str, dict[str, Any]], "str | None"]


@dataclass(frozen=True)
class JobKind:
    """A kind of job: the function that does it, the RQ queue it goes to, its page's title."""

    name: str
    function: JobFunction
    queue: str
    label: Any = None


_KINDS: dict[str, JobKind] = {}


def job_kind(
    name: str, *, queue: str = "pdf", label: Any = None
) -> Callable[[JobFunction], JobFunction]:
    """Register a function as the job of this kind (a decorator); label: a lazy text naming
    what the job makes, for its page."""
    if queue not in QUEUES:
        raise ValueError(f"unknown job queue {queue!r}; use one of {QUEUES}")

    def register(function: JobFunction) -> JobFunction:
        existing = _KINDS.get(name)
        if existing is not None and existing.function is not function:
            raise ValueError(f"job kind {name!r} is registered twice")
        _KINDS[name] = JobKind(name, function, queue, label)
        return function

    return register


def job_kinds() -> dict[str, JobKind]:
    """The registered kinds of job, by name."""
    return dict(_KINDS)


def kind_label(kind: str) -> str | None:
    """What a kind of job makes, in the current language (None when it has no label)."""
    registered = _KINDS.get(kind)
    return str(registered.label) if registered and registered.label else None


def status_label(status: str) -> str:
    """A job state's name in the current language."""
    return str(STATUS_LABELS[JobStatus(status)])


def _now() -> datetime:
    """The current moment in UTC."""
    return datetime.now(UTC)


# --- files ----------------------------------------------------------------------------------


def result_path_for(job_id: str, suffix: str = ".pdf") -> Path:
    """Where a job writes its file: instance/jobs/<job_id><suffix> (the folder made)."""
    if not JOB_ID_PATTERN.fullmatch(job_id):
        raise ValueError("not a job id")
    folder = Path(current_app.instance_path) / RESULT_DIR
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{job_id}{suffix}"


def result_file(job: Job) -> Path | None:
    """The file a finished job produced, if it still exists."""
    if job.status != JobStatus.DONE or not job.result_path:
        return None
    folder = (Path(current_app.instance_path) / RESULT_DIR).resolve()
    path = (folder / job.result_path).resolve()
    # Only a name inside the jobs folder: a stored path never leads elsewhere.
    if path.parent != folder or not path.is_file():
        return None
    return path


# --- looking jobs up ------------------------------------------------------------------------


def find_job(job_id: str) -> Job | None:
    """A job by its id (None for anything that is not a job id)."""
    if not isinstance(job_id, str) or not JOB_ID_PATTERN.fullmatch(job_id):
        return None
    return db.session.get(Job, job_id)


def may_see_job(job: Job, user: User | None) -> bool:
    """Whether a user may follow and download a job: whoever started it, and administrators."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return job.created_by_id == user.id or user.has_role(Role.ADMIN)


# --- starting jobs --------------------------------------------------------------------------


def enqueue(kind: str, params: dict[str, Any], *, actor: User | None) -> Job:
    """Create a job, commit it (with the caller's work), and start it. The caller's session
    is committed: call this last in a request."""
    if kind not in _KINDS:
        raise ValueError(f"unknown job kind {kind!r}")
    job = Job(
        id=secrets.token_hex(16),
        kind=kind,
        status=JobStatus.QUEUED.value,
        params=dict(params),
        done=0,
        total=0,
        created_by_id=actor.id if actor is not None else None,
        created_at=_now(),
    )
    db.session.add(job)
    # Read before committing: reading it after would open a new transaction whose snapshot
    # (SQLite) predates the job's own work.
    job_id = job.id
    db.session.commit()
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if app.config.get("JOBS_SYNC"):
        _run_in_own_context(app, job_id)
    elif _uses_rq(app):
        _enqueue_on_rq(app, job_id, _KINDS[kind].queue)
    else:
        threading.Thread(
            target=_run_in_own_context, args=(app, job_id), name=f"job-{job_id}", daemon=True
        ).start()
    return job


def _run_in_own_context(app: Flask, job_id: str) -> None:
    """Run a job in an application context of its own (its own database session)."""
    with app.app_context():
        run_job(job_id)


def _uses_rq(app: Flask) -> bool:
    """Whether background work goes to RQ workers rather than a thread of this process."""
    return bool(app.config.get("REDIS_URL")) and app.config.get("JOBS_BACKEND") == "rq"


def _rq_queue(app: Flask, queue: str):
    """The named RQ queue on the application's Redis."""
    from redis import Redis
    from rq import Queue

    return Queue(queue, connection=Redis.from_url(app.config["REDIS_URL"]))


def _enqueue_on_rq(app: Flask, job_id: str, queue: str) -> None:
    """Hand the job to an RQ worker on Redis."""
    _rq_queue(app, queue).enqueue(run_rq_job, job_id, job_id=job_id, job_timeout=RQ_JOB_TIMEOUT)


def run_rq_job(job_id: str) -> None:
    """What an RQ worker runs: the job, in the worker's application or a new one."""
    if has_app_context():
        try:
            run_job(job_id)
        finally:
            # A worker runs job after job in one context: each starts with a fresh session.
            db.session.remove()
        return
    from app import create_app

    _run_in_own_context(create_app(), job_id)


# --- plain tasks (no Job row) ---------------------------------------------------------------


def _function_path(function: Callable[..., Any]) -> str:
    """The dotted name an RQ worker imports a task function by."""
    if "<" in function.__qualname__:
        raise ValueError(f"{function.__qualname__} is not a module-level function")
    return f"{function.__module__}:{function.__qualname__}"


def _task_function(path: str) -> Callable[..., Any]:
    """The task function a dotted name from _function_path names."""
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)


def _call_task(path: str, args: tuple[Any, ...]) -> None:
    """Call a task function in the current application context, leaving a fresh session
    behind (a worker runs task after task in one context)."""
    try:
        _task_function(path)(*args)
    finally:
        db.session.remove()


def _run_tasks_in_own_context(app: Flask, path: str, calls: list[tuple[Any, ...]]) -> None:
    """Run tasks in turn in a thread with an application context of its own; each failure is
    logged (a thread has nobody to report to, and no retries) and the next one still runs."""
    with app.app_context():
        for args in calls:
            try:
                _call_task(path, args)
            except Exception:
                logger.exception("background task %s failed", path)


def run_tasks(
    function: Callable[..., Any],
    calls: list[tuple[Any, ...]],
    *,
    queue: str,
    retry_intervals: tuple[int, ...] = (),
    failure_ttl: int | None = None,
) -> None:
    """Call a module-level function once per argument tuple (plain, picklable values) in the
    background: inline under JOBS_SYNC (an error raised to the caller); as one RQ job per call
    on `queue`, each retried alone after each of `retry_intervals` seconds when it raises, and
    kept `failure_ttl` seconds once it failed for good (RQ's default, a year, when None); else
    in turn in one daemon thread. When Redis cannot take them they run in a thread here rather
    than being lost."""
    if queue not in QUEUES:
        raise ValueError(f"unknown job queue {queue!r}; use one of {QUEUES}")
    path = _function_path(function)
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if app.config.get("JOBS_SYNC"):
        for args in calls:
            function(*args)
        return
    if _uses_rq(app):
        from redis.exceptions import RedisError
        from rq import Queue, Retry

        retry = (
            Retry(max=len(retry_intervals), interval=list(retry_intervals))
            if retry_intervals
            else None
        )
        rq_queue = _rq_queue(app, queue)
        try:
            rq_queue.enqueue_many(
                [
                    Queue.prepare_data(
                        run_rq_task,
                        args=(path, *args),
                        retry=retry,
                        timeout=RQ_JOB_TIMEOUT,
                        failure_ttl=failure_ttl,
                    )
                    for args in calls
                ]
            )
            return
        except RedisError:
            logger.exception("Redis refused background task %s; running it here", path)
    threading.Thread(
        target=_run_tasks_in_own_context,
        args=(app, path, calls),
        name=f"tasks-{function.__name__}",
        daemon=True,
    ).start()


def run_rq_task(path: str, *args: Any) -> None:
    """What an RQ worker runs for a plain task: the function, in the worker's application or a
    new one; an exception reaches RQ, which retries the task if it was enqueued with retries."""
    if has_app_context():
        _call_task(path, args)
        return
    from app import create_app

    with create_app().app_context():
        _call_task(path, args)


# --- running jobs ---------------------------------------------------------------------------


def _language_for(job: Job) -> str:
    """The language of the job's messages: its creator's, else the site's default."""
    creator = db.session.get(User, job.created_by_id) if job.created_by_id else None
    language = getattr(creator, "language", None)
    return language or current_app.config.get("BABEL_DEFAULT_LOCALE", "en")


def _finish(job_id: str, **values: Any) -> None:
    """Record how a job ended."""
    db.session.execute(
        update(Job).where(Job.id == job_id).values(finished_at=_now(), **values),
        execution_options={"synchronize_session": False},
    )
    db.session.commit()


def run_job(job_id: str) -> None:
    """Run a queued job once (a second worker finds it claimed); failures are recorded with a
    message in the creator's language."""
    claimed = db.session.execute(
        update(Job)
        .where(Job.id == job_id, Job.status == JobStatus.QUEUED.value)
        .values(status=JobStatus.RUNNING.value),
        execution_options={"synchronize_session": False},
    ).rowcount
    db.session.commit()
    if not claimed:
        return
    job = db.session.get(Job, job_id)
    kind_name, params, language = job.kind, dict(job.params or {}), _language_for(job)
    db.session.commit()
    with force_locale(language):
        try:
            kind = _KINDS.get(kind_name)
            if kind is None:
                raise LookupError(f"unknown job kind {kind_name!r}")
            result = kind.function(job_id, params)
            db.session.commit()
        except Exception as error:
            db.session.rollback()
            if isinstance(error, DomainError):
                message = str(error)
            else:
                logger.exception("job %s (%s) failed", job_id, kind_name)
                message = _("The job failed because of an error on our side. It has been logged.")
            _finish(job_id, status=JobStatus.FAILED.value, error=message)
            return
    # Only the file's name is kept: result_file() looks for it in the jobs folder.
    _finish(job_id, status=JobStatus.DONE.value, result_path=Path(result).name if result else None)


def report_progress(job_id: str, done: int, total: int) -> None:
    """Record how far a job got, committed at once on a connection of its own."""
    with db.engine.begin() as connection:
        connection.execute(
            update(Job).where(Job.id == job_id).values(done=max(done, 0), total=max(total, 0))
        )


def job_state(job: Job) -> dict[str, Any]:
    """A job's progress as the status page polls it (without its download link)."""
    total = job.total or 0
    percent = round(100 * job.done / total) if total else (100 if job.status == "done" else 0)
    return {
        "id": job.id,
        "kind": job.kind,
        "status": job.status,
        "status_label": status_label(job.status),
        "done": job.done,
        "total": total,
        "percent": min(percent, 100),
        "error": job.error,
        "finished": job.status in (JobStatus.DONE, JobStatus.FAILED),
    }


def jobs_of(user: User, *, kind: str | None = None, limit: int = 5) -> list[Job]:
    """The user's latest jobs (of one kind), newest first."""
    statement = select(Job).where(Job.created_by_id == user.id)
    if kind:
        statement = statement.where(Job.kind == kind)
    return list(db.session.scalars(statement.order_by(Job.created_at.desc(), Job.id).limit(limit)))
