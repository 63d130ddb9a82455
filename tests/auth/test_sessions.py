"""Sessions: fresh at sign-in, ended everywhere on request or password change, idle and
absolute expiry, no way back in through a remember-me cookie."""

from __future__ import annotations

import time

import pytest
from flask_login.utils import encode_cookie

from app.auth.models import Role, User
from app.extensions import db
from tests.conftest import TEST_PASSWORD

NEW_PASSWORD = "a-brand-new-passphrase"


def _stolen_copy(app, client):
    """A second browser holding a copy of the client's session cookie."""
    thief = app.test_client()
    thief.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    name = app.config["SESSION_COOKIE_NAME"]
    thief.set_cookie(name, client.get_cookie(name).value)
    return thief


def _shift(client, **seconds_ago: float) -> None:
    """Move the session's sign-in and last-seen times into the past."""
    with client.session_transaction() as session:
        for key, ago in seconds_ago.items():
            session[key] = time.time() - ago


def test_sign_in_starts_a_fresh_session_with_a_new_csrf_token(client, auth, make_user):
    user = make_user(roles=[Role.ORGANISER])
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
        session["csrf_token"] = "known-to-the-attacker"
    auth.login(user.email)
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session.get("csrf_token") != "known-to-the-attacker"
        assert session["session_version"] == 1


def test_log_out_everywhere_ends_a_stolen_copy_of_the_session(app, client, auth):
    auth.login_as(Role.ORGANISER)
    thief = _stolen_copy(app, client)
    assert thief.get("/dashboard").status_code == 200

    response = client.post("/account/sessions/end")
    assert response.status_code == 302
    # The session that asked carries on; the copy is signed out, with a reason.
    assert client.get("/dashboard").status_code == 200
    refused = thief.get("/dashboard")
    assert refused.status_code == 302
    assert refused.location == "/login?next=/dashboard"
    page = thief.get(refused.location).get_data(as_text=True)
    assert "Your session has ended. Please sign in again." in page
    assert thief.get("/dashboard").location.startswith("/login")


def test_a_password_change_ends_every_other_session(app, client, auth):
    auth.login_as(Role.DELEGATE)
    other_browser = _stolen_copy(app, client)
    assert other_browser.get("/account").status_code == 200
    changed = client.post(
        "/account",
        data={
            "password-current_password": TEST_PASSWORD,
            "password-password": NEW_PASSWORD,
            "password-confirm": NEW_PASSWORD,
        },
    )
    assert changed.status_code == 302
    assert client.get("/account").status_code == 200
    assert other_browser.get("/account").location.startswith("/login")


def test_a_password_reset_ends_every_session(app, client, auth, make_user):
    from app.auth.services import RESET_PURPOSE, make_account_link_token

    user = auth.login_as(Role.GATE_STAFF)
    with app.test_request_context():
        token = make_account_link_token(db.session.get(User, user.id), RESET_PURPOSE)
        db.session.remove()
    stranger = app.test_client()
    done = stranger.post(
        f"/password/reset/{token}", data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    )
    assert done.status_code == 302
    assert client.get("/dashboard").location.startswith("/login")


def test_a_remember_me_cookie_cannot_sign_anyone_in(app, auth):
    user = auth.login_as(Role.DELEGATE)
    with app.test_request_context():
        cookie = encode_cookie(str(user.id))
    browser = app.test_client()
    browser.set_cookie("remember_token", cookie)
    assert browser.get("/account").location.startswith("/login")


@pytest.mark.parametrize(
    ("role", "idle_minutes", "ended"),
    [
        (Role.ORGANISER, 29, False),
        (Role.ORGANISER, 31, True),
        (Role.GATE_STAFF, 31, True),
        (Role.DELEGATE, 31, False),
        (Role.DELEGATE, 11 * 60, False),
        (Role.DELEGATE, 12 * 60 + 1, True),
    ],
)
def test_idle_sessions_expire(client, auth, role, idle_minutes, ended):
    auth.login_as(role)
    _shift(client, last_seen_at=idle_minutes * 60)
    response = client.get("/account")
    if not ended:
        assert response.status_code == 200
        return
    assert response.location == "/login?next=/account"
    page = client.get(response.location).get_data(as_text=True)
    assert "Your session has expired. Please sign in again." in page
    assert client.get("/account").location.startswith("/login")


@pytest.mark.parametrize(
    ("role", "hours", "ended"),
    [
        (Role.ADMIN, 11.9, False),
        (Role.ADMIN, 12.1, True),
        (Role.DELEGATE, 6 * 24 + 23, False),
        (Role.DELEGATE, 7 * 24 + 0.1, True),
    ],
)
def test_sessions_end_some_hours_after_sign_in_however_busy(client, auth, role, hours, ended):
    auth.login_as(role)
    _shift(client, signed_in_at=hours * 3600, last_seen_at=60)
    response = client.get("/account")
    assert (response.status_code == 302) is ended


def test_activity_moves_the_idle_limit(client, auth):
    auth.login_as(Role.ORGANISER)
    _shift(client, last_seen_at=20 * 60)
    assert client.get("/account").status_code == 200
    with client.session_transaction() as session:
        assert time.time() - session["last_seen_at"] < 60


def test_the_limits_are_settings(make_app, make_user):
    short = make_app(STAFF_SESSION_IDLE_MINUTES=5, WTF_CSRF_ENABLED=False)
    user = make_user(roles=[Role.GATE_STAFF])
    browser = short.test_client()
    browser.post("/login", data={"email": user.email, "password": TEST_PASSWORD})
    _shift(browser, last_seen_at=6 * 60)
    assert browser.get("/dashboard").location.startswith("/login")


def test_an_expired_api_session_gets_a_json_401(client, auth):
    auth.login_as(Role.GATE_STAFF)
    _shift(client, last_seen_at=31 * 60)
    response = client.get("/api/v1/programme")
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "session_ended"


def test_a_role_that_needs_a_second_factor_ends_a_session_without_one(app, client, auth):
    from app.auth.services import grant_role

    delegate = auth.login_as(Role.DELEGATE)
    assert client.get("/account").status_code == 200
    with app.test_request_context():
        grant_role(db.session.get(User, delegate.id), Role.ORGANISER)
        db.session.commit()
        db.session.remove()
    assert client.get("/account").location.startswith("/login")
