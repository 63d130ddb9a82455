"""Second-factor changes on the account page: each needs the current password (a wrong one
counts as a failed sign-in), and turning the second factor on or off ends every other
session while the one that asked carries on."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import pyotp
import pytest
from sqlalchemy import select

from app.auth.models import RecoveryCode, Role, SignInThrottle, User
from app.auth.passwords import verify_password
from app.extensions import db
from tests.auth.test_sessions import _stolen_copy
from tests.conftest import TEST_PASSWORD, AuthActions, next_totp_code

WRONG = "not-the-password"


def _enrolled(app, user_id: int) -> tuple[bool, list[str]]:
    """Whether the account has a second factor, and its recovery code hashes, as stored."""
    with app.app_context():
        user = db.session.get(User, user_id)
        hashes = db.session.scalars(
            select(RecoveryCode.code_hash).where(RecoveryCode.user_id == user_id)
        ).all()
        state = (user.has_two_factor, sorted(hashes))
        db.session.remove()
    return state


def _failures(app) -> list[int]:
    """The counted failed sign-ins, one number per counter (the account's, the address's)."""
    with app.app_context():
        counts = sorted(db.session.scalars(select(SignInThrottle.failures)).all())
        db.session.remove()
    return counts


def _enable(app, client, user: User, password: str):
    """Turn the authenticator app on from the account page."""
    page = client.get("/account/two-factor").get_data(as_text=True)
    secret = re.search(r'<code class="totp-secret">([A-Z2-7]+)</code>', page).group(1)
    code = pyotp.TOTP(secret).now()
    return client.post("/account/two-factor", data={"current_password": password, "code": code})


def _disable(app, client, user: User, password: str):
    """Turn the second factor off, with a right code from the app."""
    data = {"disable-current_password": password, "disable-code": next_totp_code(app, user.email)}
    return client.post("/account/two-factor/disable", data=data)


def _regenerate(app, client, user: User, password: str):
    """Ask for new recovery codes."""
    return client.post("/account/recovery-codes", data={"codes-current_password": password})


@dataclass(frozen=True)
class Change:
    """A second-factor change on the account page, and the account it starts from."""

    post: Callable
    two_factor: bool
    success_status: int


CHANGES = {
    "enable": Change(_enable, two_factor=False, success_status=200),
    "disable": Change(_disable, two_factor=True, success_status=302),
    "regenerate": Change(_regenerate, two_factor=True, success_status=200),
}


@pytest.mark.parametrize("name", CHANGES)
def test_a_wrong_password_refuses_the_change_and_counts_as_a_failed_sign_in(
    app, client, auth, name
):
    change = CHANGES[name]
    user = auth.login_as(Role.DELEGATE, two_factor=change.two_factor)
    before = _enrolled(app, user.id)

    refused = change.post(app, client, user, WRONG)
    assert refused.status_code == 422
    assert "This is not your current password." in refused.get_data(as_text=True)
    assert _enrolled(app, user.id) == before
    # Counted against the account and the address, like a wrong password at sign-in.
    assert _failures(app) == [1, 1]

    for _ in range(4):
        assert change.post(app, client, user, WRONG).status_code == 422
    # Five failures: now even the right password waits, here and at the sign-in form.
    delayed = change.post(app, client, user, TEST_PASSWORD)
    assert "Too many failed attempts." in delayed.get_data(as_text=True)
    assert _enrolled(app, user.id) == before
    other_browser = app.test_client()
    login = other_browser.post("/login", data={"email": user.email, "password": TEST_PASSWORD})
    assert login.status_code == 429


@pytest.mark.parametrize("name", CHANGES)
def test_the_right_password_makes_the_change(app, client, auth, name):
    change = CHANGES[name]
    user = auth.login_as(Role.DELEGATE, two_factor=change.two_factor)
    before = _enrolled(app, user.id)
    done = change.post(app, client, user, TEST_PASSWORD)
    assert done.status_code == change.success_status
    assert _enrolled(app, user.id) != before
    assert _failures(app) == []


def test_a_missing_password_is_asked_for(app, client, auth):
    user = auth.login_as(Role.DELEGATE, two_factor=True)
    before = _enrolled(app, user.id)
    refused = client.post("/account/recovery-codes", data={})
    assert refused.status_code == 422
    assert "This field is required." in refused.get_data(as_text=True)
    assert _enrolled(app, user.id) == before
    assert _failures(app) == []


@pytest.mark.parametrize("name", ["enable", "disable"])
def test_turning_two_factor_on_or_off_ends_every_other_session(app, client, auth, name):
    change = CHANGES[name]
    user = auth.login_as(Role.DELEGATE, two_factor=change.two_factor)
    other_browser = _stolen_copy(app, client)
    assert other_browser.get("/account").status_code == 200

    assert change.post(app, client, user, TEST_PASSWORD).status_code == change.success_status
    # The session that asked carries on; every other one is signed out.
    assert client.get("/account").status_code == 200
    assert other_browser.get("/account").location.startswith("/login")


def test_new_recovery_codes_leave_other_sessions_signed_in(app, client, auth):
    user = auth.login_as(Role.DELEGATE, two_factor=True)
    other_browser = _stolen_copy(app, client)
    assert _regenerate(app, client, user, TEST_PASSWORD).status_code == 200
    assert other_browser.get("/account").status_code == 200


@pytest.mark.parametrize(
    "path", ["/account/two-factor", "/account/two-factor/disable", "/account/recovery-codes"]
)
def test_the_forms_share_the_sign_in_rate_limit(make_app, make_user, path):
    limited = make_app(
        WTF_CSRF_ENABLED=False, RATELIMIT_STORAGE_URI="memory://", LOGIN_RATE_LIMIT="2 per minute"
    )
    client = limited.test_client()
    user = make_user(roles=[Role.DELEGATE], two_factor=True)
    assert AuthActions(client, make_user, limited).login(user.email).status_code == 302
    for _ in range(2):
        assert client.post(path, data={}).status_code != 429
    refused = client.post(path, data={})
    assert refused.status_code == 429
    # Reading the account page is not limited: only sending the forms is.
    assert client.get("/account").status_code == 200


def test_a_wrong_current_password_on_a_password_change_counts_as_a_failed_sign_in(
    app, client, auth
):
    user = auth.login_as(Role.DELEGATE)
    new = "a-brand-new-passphrase"
    attempt = {
        "password-current_password": WRONG,
        "password-password": new,
        "password-confirm": new,
    }
    for _ in range(5):
        refused = client.post("/account", data=attempt)
        assert "This is not your current password." in refused.get_data(as_text=True)
    assert _failures(app) == [5, 5]
    # The right password now waits too: a stolen session cannot keep guessing.
    delayed = client.post("/account", data={**attempt, "password-current_password": TEST_PASSWORD})
    assert "Too many failed attempts." in delayed.get_data(as_text=True)
    with app.app_context():
        assert verify_password(db.session.get(User, user.id).password_hash, TEST_PASSWORD)
        db.session.remove()
