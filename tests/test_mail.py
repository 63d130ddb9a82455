"""The mail service: sent after commit in the recipient's language, never on rollback."""

from __future__ import annotations

from email import message_from_bytes

from app.extensions import db
from app.mail.services import send_email


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
