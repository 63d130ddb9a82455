"""The mail service: sent after commit in the recipient's language, never on rollback; inline,
by an RQ email worker (retried while the server refuses) or by a thread."""

from __future__ import annotations

from email import message_from_bytes

import pytest
from redis import Redis
from rq import Queue
from rq.registry import FailedJobRegistry, ScheduledJobRegistry

from app.extensions import db
from app.mail.services import MAIL_FAILURE_TTL, MAIL_RETRY_INTERVALS, send_email
from tests.conftest import free_port


class _User:
    name = "Wayan"


def test_a_committed_message_reaches_the_smtp_server_in_the_recipients_language(app, mailbox):
    with app.test_request_context():
        send_email(
            "wayan@wcpp2026.example",
            "id",
            "mail/password_reset.txt",
            user=_User(),
            link="http://127.0.0.1/x",
            minutes=60,
        )
        assert mailbox.messages == []  # nothing leaves before the commit
        db.session.commit()
    [message] = mailbox.wait_for(1)
    assert message["Subject"] == "Atur ulang kata sandi Kongres Anda"
    assert message["Content-Language"] == "id"
    assert "Halo Wayan," in message.get_payload(decode=True).decode()


def test_a_rolled_back_transaction_sends_nothing(app, mailbox):
    with app.test_request_context():
        send_email(
            "wayan@wcpp2026.example",
            "en",
            "mail/password_reset.txt",
            user=_User(),
            link="http://127.0.0.1/x",
            minutes=60,
        )
        db.session.rollback()
        db.session.commit()
    mailbox.wait_for(0)
    assert mailbox.messages == []


def test_without_a_mail_server_messages_are_written_to_the_instance_folder(make_app, tmp_path):
    outbox_app = make_app(MAIL_SERVER="", MAIL_OUTBOX_DIR=str(tmp_path / "mail"))
    with outbox_app.test_request_context():
        send_email(
            "ketut@wcpp2026.example",
            "en",
            "mail/password_reset.txt",
            user=_User(),
            link="http://127.0.0.1/x",
            minutes=60,
        )
        db.session.commit()
    [written] = list((tmp_path / "mail").glob("*.eml"))
    message = message_from_bytes(written.read_bytes())
    assert message["To"] == "ketut@wcpp2026.example"
    assert message["Subject"] == "Reset your Kongres password"


# --- through the jobs seam ------------------------------------------------------------------


def _send_reset_mail(to: str) -> None:
    """Queue a password-reset message in the current transaction."""
    send_email(
        to, "en", "mail/password_reset.txt", user=_User(), link="http://127.0.0.1/x", minutes=60
    )


@pytest.fixture
def rq_mail(app, monkeypatch, redis_url):
    """Mail for this test goes through RQ on a throwaway Redis; returns its "email" queue."""
    monkeypatch.setitem(app.config, "MAIL_SYNC", False)
    monkeypatch.setitem(app.config, "REDIS_URL", redis_url)
    monkeypatch.setitem(app.config, "JOBS_BACKEND", "rq")
    return Queue("email", connection=Redis.from_url(redis_url))


def _run_email_worker(runner) -> None:
    """`flask jobs worker --queue email --burst`: deliver what is queued, then stop."""
    result = runner.invoke(args=["jobs", "worker", "--queue", "email", "--burst"])
    assert result.exit_code == 0, result.output


def test_with_rq_a_committed_message_waits_for_an_email_worker(app, mailbox, rq_mail, runner):
    with app.test_request_context():
        _send_reset_mail("made@wcpp2026.example")
        _send_reset_mail("wayan@wcpp2026.example")
        db.session.commit()
    assert rq_mail.count == 2  # one RQ job per message, each retried on its own
    assert all(job.retries_left == len(MAIL_RETRY_INTERVALS) for job in rq_mail.get_jobs())
    assert mailbox.messages == []  # nothing leaves until a worker takes it

    _run_email_worker(runner)
    messages = mailbox.wait_for(2)
    assert sorted(message["To"] for message in messages) == [
        "made@wcpp2026.example",
        "wayan@wcpp2026.example",
    ]
    assert messages[0]["Subject"] == "Reset your Kongres password"
    assert rq_mail.count == 0


def test_with_rq_a_rolled_back_transaction_queues_nothing(app, mailbox, rq_mail):
    with app.test_request_context():
        _send_reset_mail("wayan@wcpp2026.example")
        db.session.rollback()
        db.session.commit()
    assert rq_mail.count == 0
    assert mailbox.messages == []


def test_with_rq_a_refused_message_is_retried_later(app, mailbox, rq_mail, runner, monkeypatch):
    with app.test_request_context():
        _send_reset_mail("wayan@wcpp2026.example")
        db.session.commit()
    [job_id] = rq_mail.job_ids
    # The mail server is down: nothing listens on this port.
    working_port = app.config["MAIL_PORT"]
    monkeypatch.setitem(app.config, "MAIL_PORT", free_port())
    _run_email_worker(runner)
    scheduled = ScheduledJobRegistry(queue=rq_mail)
    assert scheduled.get_job_ids() == [job_id]  # waiting for its retry, not failed for good
    job = rq_mail.fetch_job(job_id)
    assert job.retries_left == len(MAIL_RETRY_INTERVALS) - 1
    assert mailbox.messages == []

    # The server is back; the retry (brought forward) delivers.
    monkeypatch.setitem(app.config, "MAIL_PORT", working_port)
    rq_mail.enqueue_job(job)
    scheduled.remove(job)
    _run_email_worker(runner)
    [message] = mailbox.wait_for(1)
    assert message["To"] == "wayan@wcpp2026.example"


def test_with_rq_a_message_that_failed_for_good_is_dropped_after_a_day(
    app, mailbox, rq_mail, runner, monkeypatch
):
    with app.test_request_context():
        _send_reset_mail("wayan@wcpp2026.example")
        db.session.commit()
    [job_id] = rq_mail.job_ids
    monkeypatch.setitem(app.config, "MAIL_PORT", free_port())  # the mail server stays down
    scheduled = ScheduledJobRegistry(queue=rq_mail)
    failed = FailedJobRegistry(queue=rq_mail)
    # The first attempt and every retry, each brought forward.
    for _attempt in range(len(MAIL_RETRY_INTERVALS)):
        _run_email_worker(runner)
        assert scheduled.get_job_ids() == [job_id]
        scheduled.remove(job_id)
        rq_mail.enqueue_job(rq_mail.fetch_job(job_id))
    _run_email_worker(runner)

    assert failed.get_job_ids() == [job_id]
    # The rendered body (its reset link) stays in Redis a day at most, not RQ's default year.
    remaining = rq_mail.connection.ttl(rq_mail.fetch_job(job_id).key)
    assert 0 < remaining <= MAIL_FAILURE_TTL == 24 * 3600
    assert mailbox.messages == []


def test_with_the_thread_backend_a_thread_delivers(app, mailbox, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_SYNC", False)
    assert app.config["JOBS_BACKEND"] == "thread"
    with app.test_request_context():
        _send_reset_mail("ketut@wcpp2026.example")
        db.session.commit()
    [message] = mailbox.wait_for(1)
    assert message["To"] == "ketut@wcpp2026.example"


def test_when_redis_refuses_the_message_leaves_from_a_thread(app, mailbox, monkeypatch, caplog):
    monkeypatch.setitem(app.config, "MAIL_SYNC", False)
    monkeypatch.setitem(app.config, "REDIS_URL", f"redis://127.0.0.1:{free_port()}/0")
    monkeypatch.setitem(app.config, "JOBS_BACKEND", "rq")
    with app.test_request_context():
        _send_reset_mail("ketut@wcpp2026.example")
        db.session.commit()
    [message] = mailbox.wait_for(1)
    assert message["To"] == "ketut@wcpp2026.example"
    assert "Redis refused background task app.mail.services:deliver_mail_task" in caplog.text
