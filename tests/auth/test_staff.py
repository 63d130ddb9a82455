"""An admin invites staff by email, edits roles; `flask kongres create-admin`."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from app.auth.models import Role, User
from app.extensions import db

PASSPHRASE = "gate-keeper-passphrase"


def _invitation_path(message) -> str:
    body = message.get_payload(decode=True).decode()
    url = re.search(r"http://\S+/invitation/\S+", body).group(0)
    return "/" + url.split("/", 3)[3]


def test_admin_invites_a_gate_clerk_who_sets_a_password_and_signs_in(client, auth, mailbox):
    admin = auth.login_as(Role.ADMIN, name="Ayu Admin")
    response = client.post(
        "/staff/invite",
        data={
            "email": "Clerk@WCPP2026.example",
            "name": "Made Clerk",
            "language": "id",
            "roles": ["gate_staff"],
        },
    )
    assert response.status_code == 302
    [message] = mailbox.wait_for(1)
    assert message["To"] == "clerk@wcpp2026.example"
    assert message["Subject"] == "Anda diundang ke tim staf Kongres"
    assert admin.name in message.get_payload(decode=True).decode()
    auth.logout()

    path = _invitation_path(message)
    assert (
        client.post(path, data={"password": PASSPHRASE, "confirm": PASSPHRASE}).status_code == 302
    )
    signed_in = client.post(
        "/login", data={"email": "clerk@wcpp2026.example", "password": PASSPHRASE}
    )
    assert signed_in.headers["Location"] == "/dashboard"
    assert client.get("/staff").status_code == 403


def test_inviting_an_existing_address_is_refused_and_nothing_is_sent(
    client, auth, make_user, mailbox, db
):
    auth.login_as(Role.ADMIN)
    existing = make_user(roles=[Role.DELEGATE])
    response = client.post(
        "/staff/invite",
        data={"email": existing.email, "name": "Someone", "language": "en", "roles": ["organiser"]},
    )
    assert response.status_code == 200
    assert "already exists" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(User)) == 2
    mailbox.wait_for(0)
    assert mailbox.messages == []


def test_invitation_needs_a_staff_role_and_a_valid_email(client, auth, db):
    auth.login_as(Role.ADMIN)
    no_role = client.post(
        "/staff/invite", data={"email": "a@wcpp2026.example", "name": "A", "language": "en"}
    )
    assert "Choose at least one staff role." in no_role.get_data(as_text=True)
    bad_email = client.post(
        "/staff/invite",
        data={"email": "not-an-email", "name": "A", "language": "en", "roles": ["organiser"]},
    )
    assert bad_email.status_code == 200
    delegate_role = client.post(
        "/staff/invite",
        data={"email": "b@wcpp2026.example", "name": "B", "language": "en", "roles": ["delegate"]},
    )
    assert delegate_role.status_code == 200
    assert db.session.scalar(select(func.count()).select_from(User)) == 1


def test_admin_changes_roles_but_cannot_drop_their_own_admin_role(client, auth, make_user, db):
    admin = auth.login_as(Role.ADMIN)
    other = make_user(roles=[Role.GATE_STAFF])
    client.post(f"/staff/{other.id}", data={"roles": ["gate_staff", "organiser"], "active": "y"})
    assert db.session.get(User, other.id).roles == {Role.GATE_STAFF, Role.ORGANISER}

    response = client.post(f"/staff/{admin.id}", data={"roles": ["organiser"], "active": "y"})
    assert "cannot remove your own administrator role" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, admin.id).roles == {Role.ADMIN}


def test_staff_list_pages_through_accounts(client, auth, make_user):
    auth.login_as(Role.ADMIN)
    for _ in range(55):
        make_user(roles=[Role.DELEGATE])
    first = client.get("/staff").get_data(as_text=True)
    assert "Page 1 of 2" in first
    assert "56 results" in first
    assert client.get("/staff?page=2").status_code == 200
    assert client.get("/staff?page=abc").status_code == 200


def test_create_admin_command(app, runner):
    result = runner.invoke(
        args=[
            "kongres",
            "create-admin",
            "--email",
            "root@wcpp2026.example",
            "--name",
            "Root",
            "--password",
            "a-long-admin-passphrase",
        ]
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "root@wcpp2026.example"))
        assert user.roles == {Role.ADMIN}
    again = runner.invoke(
        args=[
            "kongres",
            "create-admin",
            "--email",
            "root@wcpp2026.example",
            "--name",
            "Root",
            "--password",
            "a-long-admin-passphrase",
        ]
    )
    assert again.exit_code != 0
    assert "already exists" in again.output


def test_create_admin_refuses_a_short_password(runner):
    result = runner.invoke(
        args=[
            "kongres",
            "create-admin",
            "--email",
            "r@wcpp2026.example",
            "--name",
            "R",
            "--password",
            "short",
        ]
    )
    assert result.exit_code != 0
    assert "at least 12" in result.output


def test_own_details_and_password_change_through_the_account_page(client, auth, db):
    user = auth.login_as(Role.ORGANISER, name="Old Name", language="en")
    saved = client.post(
        "/account", data={"profile-name": "  Ni Made Ayu  ", "profile-language": "id"}
    )
    assert saved.status_code == 302
    stored = db.session.get(User, user.id)
    assert (stored.name, stored.language) == ("Ni Made Ayu", "id")

    wrong = client.post(
        "/account",
        data={
            "password-current_password": "not-my-password",
            "password-password": PASSPHRASE,
            "password-confirm": PASSPHRASE,
        },
    )
    # The account now speaks Indonesian.
    assert "Ini bukan kata sandi Anda saat ini." in wrong.get_data(as_text=True)
    changed = client.post(
        "/account",
        data={
            "password-current_password": "correct-horse-battery-staple",
            "password-password": PASSPHRASE,
            "password-confirm": PASSPHRASE,
        },
    )
    assert changed.status_code == 302
    auth.logout()
    assert auth.login(user.email, PASSPHRASE).status_code == 302
