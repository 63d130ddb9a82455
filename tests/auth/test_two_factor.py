"""Two-factor sign-in: TOTP codes and recovery codes, enrolment, reset by an administrator."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pyotp
import pytest

from app.auth.access import PUBLIC
from app.auth.models import Role, User
from app.auth.two_factor import replace_recovery_codes, totp_secret
from app.crypto import decrypt_secret
from app.extensions import db
from tests.conftest import TEST_PASSWORD, next_totp_code
from tests.routes import ROUTE_TABLE


def _password_step(client, user):
    return client.post("/login", data={"email": user.email, "password": TEST_PASSWORD})


def _signed_in(client) -> bool:
    with client.session_transaction() as session:
        return "_user_id" in session


def _stored(app, user_id: int) -> User:
    """The account as stored now (read in its own app context: the test's requests share
    Flask's g with any context the test keeps open)."""
    with app.app_context():
        user = db.session.get(User, user_id)
        db.session.expunge(user)
        db.session.remove()
    return user


def _recovery_codes(app, user) -> list[str]:
    with app.test_request_context():
        codes = replace_recovery_codes(db.session.get(User, user.id))
        db.session.commit()
    return codes


def test_staff_cannot_sign_in_without_their_second_factor(app, client, make_user):
    admin = make_user(roles=[Role.ADMIN])
    response = _password_step(client, admin)
    assert response.status_code == 302
    assert response.location == "/login/code"
    assert not _signed_in(client)

    # Half-signed-in is not signed in: every page that needs an account refuses.
    reached = []
    for rule in app.url_map.iter_rules():
        audience, args = ROUTE_TABLE[rule.endpoint]
        if audience == PUBLIC or "GET" not in rule.methods:
            continue
        args = {key: 1 if value == "{own_id}" else value for key, value in args.items()}
        with app.test_request_context():
            url = app.url_for(rule.endpoint, **args)
        page = client.get(url)
        page.close()
        if not (page.status_code in (401, 403) or page.location.startswith("/login")):
            reached.append(f"{url}: {page.status_code}")
    assert reached == []

    wrong = client.post("/login/code", data={"code": "000000"})
    assert wrong.status_code == 200
    assert "This code is not valid." in wrong.get_data(as_text=True)
    assert not _signed_in(client)

    done = client.post("/login/code", data={"code": next_totp_code(app, admin.email)})
    assert done.location == "/dashboard"
    assert client.get("/staff").status_code == 200


def test_the_half_signed_in_state_expires_after_five_minutes(app, client, make_user):
    organiser = make_user(roles=[Role.ORGANISER])
    _password_step(client, organiser)
    with client.session_transaction() as session:
        pending = session["pending_sign_in"]
        session["pending_sign_in"] = {**pending, "at": pending["at"] - 5 * 60 - 1}
    response = client.post("/login/code", data={"code": next_totp_code(app, organiser.email)})
    assert response.status_code == 400
    assert "Please sign in again." in response.get_data(as_text=True)
    assert not _signed_in(client)


def test_the_second_step_without_a_password_step_is_refused(client):
    response = client.post(
        "/login/code", data={"code": "123456"}, headers={"Accept-Language": "id"}
    )
    assert response.status_code == 400
    assert "Silakan masuk lagi." in response.get_data(as_text=True)


def test_a_recovery_code_works_once(app, client, make_user):
    organiser = make_user(roles=[Role.ORGANISER])
    first, second, *_rest = _recovery_codes(app, organiser)

    _password_step(client, organiser)
    assert client.post("/login/code", data={"code": first}).location == "/dashboard"
    client.post("/logout")

    _password_step(client, organiser)
    again = client.post("/login/code", data={"code": first})
    assert again.status_code == 200
    assert "This code is not valid." in again.get_data(as_text=True)
    # Typed loosely (capitals, spaces) the next code still works.
    loose = second.upper().replace("-", " ")
    assert client.post("/login/code", data={"code": loose}).location == "/dashboard"
    assert "8 unused recovery codes left." in client.get("/account").get_data(as_text=True)


def test_a_replayed_code_is_refused(app, client, make_user):
    registry_officer = make_user(roles=[Role.REGISTRY_OFFICER])
    code = next_totp_code(app, registry_officer.email)
    _password_step(client, registry_officer)
    assert client.post("/login/code", data={"code": code}).location == "/dashboard"
    client.post("/logout")

    # Someone who watched the code being typed tries it within the same half minute.
    _password_step(client, registry_officer)
    replay = client.post("/login/code", data={"code": code})
    assert replay.status_code == 200
    assert not _signed_in(client)


def test_codes_more_than_one_time_step_away_are_refused(app, client, make_user):
    organiser = make_user(roles=[Role.ORGANISER])
    with app.app_context():
        totp = pyotp.TOTP(totp_secret(_stored(app, organiser.id)))
        db.session.remove()
    now = totp.timecode(datetime.now(UTC))
    _password_step(client, organiser)
    for counter in (now - 3, now + 3):
        refused = client.post("/login/code", data={"code": totp.generate_otp(counter)})
        assert refused.status_code == 200
    assert client.post("/login/code", data={"code": totp.generate_otp(now + 1)}).status_code == 302


def test_a_role_that_needs_a_second_factor_enrols_before_any_page(app, client, make_user):
    admin = make_user(roles=[Role.ADMIN], two_factor=False)
    response = _password_step(client, admin)
    assert response.location == "/account/two-factor"
    assert client.get("/dashboard").location.startswith("/login")

    page = client.get("/account/two-factor").get_data(as_text=True)
    # The QR code is an inline image made on the server (no script), the key is also text.
    assert 'src="data:image/svg+xml' in page
    assert "<script" not in page.split("<main", 1)[-1]
    secret = re.search(r'<code class="totp-secret">([A-Z2-7]+)</code>', page).group(1)
    stored = _stored(app, admin.id).totp_secret_encrypted
    assert secret not in stored
    with app.app_context():
        assert decrypt_secret(stored).decode() == secret

    wrong = client.post("/account/two-factor", data={"code": "12345"})
    assert "This code is not valid." in wrong.get_data(as_text=True)
    assert not _signed_in(client)

    confirmed = client.post("/account/two-factor", data={"code": pyotp.TOTP(secret).now()})
    codes = re.findall(
        r"<li><code>([a-z0-9]{5}-[a-z0-9]{5})</code></li>", confirmed.get_data(as_text=True)
    )
    assert len(set(codes)) == 10
    # Shown once: no cache keeps the codes.
    assert confirmed.headers["Cache-Control"] == "no-store"
    assert _signed_in(client)
    assert client.get("/staff").status_code == 200
    # The codes are kept hashed only.
    assert _stored(app, admin.id).has_two_factor


def test_a_delegate_may_turn_two_factor_on_and_off(app, client, auth):
    delegate = auth.login_as(Role.DELEGATE)
    account = client.get("/account").get_data(as_text=True)
    assert "Set up two-factor sign-in" in account
    page = client.get("/account/two-factor").get_data(as_text=True)
    secret = re.search(r'<code class="totp-secret">([A-Z2-7]+)</code>', page).group(1)
    code = pyotp.TOTP(secret).now()
    done = client.post(
        "/account/two-factor", data={"current_password": TEST_PASSWORD, "code": code}
    )
    recovery = re.findall(r"<li><code>([a-z0-9-]{11})</code></li>", done.get_data(as_text=True))
    assert len(recovery) == 10
    client.post("/logout")

    response = _password_step(client, delegate)
    assert response.location == "/login/code"
    assert auth.login(delegate.email).status_code == 302

    password = {"disable-current_password": TEST_PASSWORD}
    refused = client.post(
        "/account/two-factor/disable", data={**password, "disable-code": "999999"}
    )
    assert refused.status_code == 422
    assert _stored(app, delegate.id).has_two_factor
    off = client.post("/account/two-factor/disable", data={**password, "disable-code": recovery[0]})
    assert off.status_code == 302
    assert not _stored(app, delegate.id).has_two_factor


def test_an_organiser_cannot_turn_their_second_factor_off(app, client, auth):
    organiser = auth.login_as(Role.ORGANISER)
    assert "Turn two-factor sign-in off" not in client.get("/account").get_data(as_text=True)
    code = next_totp_code(app, organiser.email)
    refused = client.post(
        "/account/two-factor/disable",
        data={"disable-current_password": TEST_PASSWORD, "disable-code": code},
    )
    assert "cannot be turned off" in refused.get_data(as_text=True)
    assert _stored(app, organiser.id).has_two_factor


def test_new_recovery_codes_replace_the_old_ones(app, client, auth):
    organiser = auth.login_as(Role.ORGANISER)
    [old, *_rest] = _recovery_codes(app, organiser)
    response = client.post(
        "/account/recovery-codes", data={"codes-current_password": TEST_PASSWORD}
    )
    page = response.get_data(as_text=True)
    fresh = re.findall(r"<li><code>([a-z0-9]{5}-[a-z0-9]{5})</code></li>", page)
    assert len(fresh) == 10
    assert old not in fresh
    client.post("/logout")
    _password_step(client, organiser)
    assert client.post("/login/code", data={"code": old}).status_code == 200
    assert client.post("/login/code", data={"code": fresh[0]}).status_code == 302


@pytest.mark.parametrize("confirm", [False, True])
def test_an_admin_resets_a_lost_second_factor_after_confirming(
    app, client, auth, make_user, confirm
):
    auth.login_as(Role.ADMIN)
    organiser = make_user(roles=[Role.ORGANISER])
    phone = app.test_client()
    phone.post("/login", data={"email": organiser.email, "password": TEST_PASSWORD})
    phone.post("/login/code", data={"code": next_totp_code(app, organiser.email)})
    assert phone.get("/dashboard").status_code == 200

    path = f"/staff/{organiser.id}/two-factor/reset"
    assert "Reset the second factor" in client.get(path).get_data(as_text=True)
    response = client.post(path, data={"confirm": "y"} if confirm else {})
    if not confirm:
        assert "Tick the box to confirm." in response.get_data(as_text=True)
        assert _stored(app, organiser.id).has_two_factor
        assert phone.get("/dashboard").status_code == 200
        return
    assert response.status_code == 302
    assert not _stored(app, organiser.id).has_two_factor
    # Their sessions end, and the next sign-in enrols a new app.
    assert phone.get("/dashboard").location.startswith("/login")
    again = phone.post("/login", data={"email": organiser.email, "password": TEST_PASSWORD})
    assert again.location == "/account/two-factor"


def test_only_an_admin_may_reset_a_second_factor(client, auth, make_user):
    auth.login_as(Role.ORGANISER)
    other = make_user(roles=[Role.ORGANISER])
    assert (
        client.post(f"/staff/{other.id}/two-factor/reset", data={"confirm": "y"}).status_code == 403
    )
