"""Signing in and out, wrong passwords, deactivated accounts, rate limits."""

from __future__ import annotations

import re

import pyotp
from sqlalchemy import event as sqlalchemy_event
from sqlalchemy.orm import Session

from app.auth.models import Role
from tests.conftest import TEST_PASSWORD, next_totp_code


def test_staff_sign_in_lands_on_the_dashboard(client, auth, make_user):
    user = make_user(roles=[Role.ORGANISER])
    response = auth.login(user.email)
    assert response.status_code == 302
    assert response.headers["Location"] == "/dashboard"
    assert "Dashboard" in client.get("/dashboard").get_data(as_text=True)


def test_email_is_matched_without_regard_to_case_or_spaces(client, make_user):
    user = make_user(roles=[Role.GATE_STAFF])
    response = client.post(
        "/login", data={"email": f"  {user.email.upper()} ", "password": TEST_PASSWORD}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/dashboard"


def test_sign_in_returns_to_the_page_asked_for_but_never_off_site(app, client, make_user):
    user = make_user(roles=[Role.ADMIN])
    data = {"email": user.email, "password": TEST_PASSWORD}
    assert client.post("/login?next=/staff", data=data).headers["Location"] == "/login/code"
    code = next_totp_code(app, user.email)
    assert client.post("/login/code", data={"code": code}).headers["Location"] == "/staff"
    client.post("/logout")
    client.post("/login?next=https://evil.example/", data=data)
    evil = client.post("/login/code", data={"code": next_totp_code(app, user.email)})
    assert evil.headers["Location"] == "/dashboard"


def test_wrong_password_gets_a_clear_error_in_the_chosen_language(client, make_user):
    user = make_user(roles=[Role.ORGANISER])
    client.get("/language/id")
    response = client.post("/login", data={"email": user.email, "password": "wrong password!"})
    assert response.status_code == 200
    assert "Email atau kata sandi salah." in response.get_data(as_text=True)
    assert client.get("/dashboard").status_code == 302


def test_unknown_email_gets_the_same_error_as_a_wrong_password(client):
    response = client.post(
        "/login", data={"email": "nobody@wcpp2026.example", "password": "whatever-it-is"}
    )
    assert "Wrong email or password." in response.get_data(as_text=True)


def test_a_deactivated_account_cannot_sign_in(client, make_user, db):
    from app.auth.models import User

    user = make_user(roles=[Role.ORGANISER])
    db.session.get(User, user.id).active = False
    db.session.commit()
    response = client.post("/login", data={"email": user.email, "password": TEST_PASSWORD})
    assert "Wrong email or password." in response.get_data(as_text=True)


def test_sign_out_ends_the_session(client, auth):
    auth.login_as(Role.ORGANISER)
    assert client.get("/dashboard").status_code == 200
    assert auth.logout().status_code == 302
    assert client.get("/dashboard").status_code == 302


def test_sign_in_attempts_are_rate_limited_with_a_translated_429(app, client):
    limit = int(app.config["LOGIN_RATE_LIMIT"].split()[0])
    for _ in range(limit):
        client.post("/login", data={"email": "x@wcpp2026.example", "password": "nope-nope-nope"})
    response = client.post(
        "/login",
        data={"email": "x@wcpp2026.example", "password": "nope-nope-nope"},
        headers={"Accept-Language": "id"},
    )
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0
    assert "Terlalu banyak" in response.get_data(as_text=True)
    # Reading the form is not limited.
    assert client.get("/login").status_code == 200


def test_a_weak_stored_hash_is_upgraded_on_sign_in(app, auth, make_user, db):
    from argon2 import PasswordHasher

    from app.auth.models import User

    user = make_user(roles=[Role.ORGANISER])
    weak = PasswordHasher(time_cost=1, memory_cost=32, parallelism=1).hash(TEST_PASSWORD)
    db.session.get(User, user.id).password_hash = weak
    db.session.commit()
    auth.login(user.email)
    db.session.expire_all()
    stored = db.session.get(User, user.id).password_hash
    assert stored != weak
    assert stored.startswith("$argon2id$")


def _commits_during(action) -> int:
    """How many transactions commit while `action` runs."""
    commits = []
    listener = lambda session: commits.append(session)  # noqa: E731
    sqlalchemy_event.listen(Session, "after_commit", listener)
    try:
        action()
    finally:
        sqlalchemy_event.remove(Session, "after_commit", listener)
    return len(commits)


def test_each_sign_in_step_commits_once(client, make_user):
    delegate = make_user(roles=[Role.DELEGATE])
    organiser = make_user(roles=[Role.ORGANISER])
    data = {"password": TEST_PASSWORD}

    assert (
        _commits_during(lambda: client.post("/login", data={**data, "email": delegate.email})) == 1
    )
    client.post("/logout")
    assert (
        _commits_during(lambda: client.post("/login", data={**data, "email": organiser.email})) == 1
    )
    code = next_totp_code(client.application, organiser.email)
    assert _commits_during(lambda: client.post("/login/code", data={"code": code})) == 1
    assert client.get("/account").status_code == 200


def test_enrolling_at_sign_in_commits_once(client, make_user):
    registry_officer = make_user(roles=[Role.REGISTRY_OFFICER], two_factor=False)
    client.post("/login", data={"email": registry_officer.email, "password": TEST_PASSWORD})
    page = client.get("/account/two-factor").get_data(as_text=True)
    secret = re.search(r"<code[^>]*>([A-Z2-7 ]+)</code>", page)[1].replace(" ", "")
    code = pyotp.TOTP(secret).now()
    enrol = lambda: client.post("/account/two-factor", data={"code": code})  # noqa: E731
    assert _commits_during(enrol) == 1
    assert client.get("/account").status_code == 200
