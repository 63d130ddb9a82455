"""Password reset by an emailed, time-limited, single-use link."""

from __future__ import annotations

import re

from app.auth.models import Role
from tests.conftest import TEST_PASSWORD

NEW_PASSWORD = "a-brand-new-passphrase"


def _link_in(message) -> str:
    body = message.get_payload(decode=True).decode()
    return re.search(r"http://\S+/password/reset/\S+", body).group(0)


def _path(link: str) -> str:
    return "/" + link.split("/", 3)[3]


def test_reset_link_arrives_in_the_users_language_and_sets_a_new_password(
    client, make_user, mailbox
):
    user = make_user(roles=[Role.ORGANISER], language="id")
    response = client.post("/password/forgot", data={"email": user.email})
    assert response.status_code == 302
    [message] = mailbox.wait_for(1)
    assert message["To"] == user.email
    assert message["Subject"] == "Atur ulang kata sandi Kongres Anda"
    path = _path(_link_in(message))

    assert client.get(path).status_code == 200
    done = client.post(path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert done.status_code == 302
    assert (
        client.post("/login", data={"email": user.email, "password": NEW_PASSWORD}).status_code
        == 302
    )
    client.post("/logout")
    old = client.post("/login", data={"email": user.email, "password": TEST_PASSWORD})
    assert old.status_code == 200


def test_a_reset_link_works_only_once(client, make_user, mailbox):
    user = make_user(roles=[Role.ORGANISER])
    client.post("/password/forgot", data={"email": user.email})
    path = _path(_link_in(mailbox.wait_for(1)[0]))
    client.post(path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    again = client.post(
        path, data={"password": "yet-another-passphrase", "confirm": "yet-another-passphrase"}
    )
    assert again.status_code == 400
    assert "already been used" in again.get_data(as_text=True)


def test_an_expired_reset_link_is_refused(app, client, make_user, mailbox, monkeypatch):
    user = make_user(roles=[Role.ORGANISER])
    client.post("/password/forgot", data={"email": user.email})
    path = _path(_link_in(mailbox.wait_for(1)[0]))
    monkeypatch.setitem(app.config, "PASSWORD_RESET_MAX_AGE", -1)
    response = client.get(path)
    assert response.status_code == 400
    assert "expired" in response.get_data(as_text=True)


def test_a_tampered_link_is_refused(client, make_user, mailbox):
    user = make_user(roles=[Role.ORGANISER])
    client.post("/password/forgot", data={"email": user.email})
    path = _path(_link_in(mailbox.wait_for(1)[0]))
    assert client.get(path[:-3] + "abc").status_code == 400


def test_unknown_address_gets_the_same_answer_and_no_mail(client, mailbox):
    response = client.post("/password/forgot", data={"email": "nobody@wcpp2026.example"})
    assert response.status_code == 302
    assert "If an account exists" in client.get("/login").get_data(as_text=True)
    mailbox.wait_for(0)
    assert mailbox.messages == []


def test_new_password_must_be_long_enough_and_match(client, make_user, mailbox):
    user = make_user(roles=[Role.ORGANISER])
    client.post("/password/forgot", data={"email": user.email})
    path = _path(_link_in(mailbox.wait_for(1)[0]))
    short = client.post(path, data={"password": "short", "confirm": "short"})
    assert "at least 12" in short.get_data(as_text=True)
    mismatch = client.post(path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD + "x"})
    assert "do not match" in mismatch.get_data(as_text=True)
    # Neither attempt used up the link.
    assert client.get(path).status_code == 200


def test_the_emailed_link_ignores_a_forged_host_header(app, client, make_user, mailbox):
    user = make_user(roles=[Role.ORGANISER])
    client.post("/password/forgot", data={"email": user.email}, headers={"Host": "evil.example"})
    body = mailbox.wait_for(1)[0].get_payload(decode=True).decode()
    assert "evil.example" not in body
    assert f"{app.config['SERVER_BASE_URL']}/password/reset/" in body
