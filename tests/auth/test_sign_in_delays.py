"""Growing delays after failed sign-ins, per account and per client address, kept in the
database so that every worker sees them."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from app.auth.models import Role, SignInThrottle
from app.extensions import db
from tests.conftest import TEST_PASSWORD, next_totp_code

WRONG = "not-the-password"


def _attempt(client, email: str, password: str = WRONG, **headers):
    return client.post("/login", data={"email": email, "password": password}, headers=headers)


def _wait_out(app, seconds: int) -> None:
    """Let the current delays pass, by moving the last failures back in time (no sleeping)."""
    with app.app_context():
        for row in db.session.scalars(select(SignInThrottle)):
            row.last_failure_at = row.last_failure_at - timedelta(seconds=seconds)
        db.session.commit()
        db.session.remove()


def test_an_account_waits_longer_after_each_further_failure(app, client, make_user, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_RATE_LIMIT", "100 per minute")
    user = make_user(roles=[Role.DELEGATE])
    for _ in range(5):
        assert _attempt(client, user.email).status_code == 200
    waits = []
    for _ in range(4):
        # Even the right password is refused while the delay runs.
        refused = _attempt(client, user.email, TEST_PASSWORD)
        assert refused.status_code == 429
        page = refused.get_data(as_text=True)
        waits.append(int(re.search(r"Please wait (\d+) seconds?", page).group(1)))
        # Flask-Limiter's headers may name its own, later reset time: never an earlier one.
        assert int(refused.headers["Retry-After"]) >= waits[-1]
        _wait_out(app, waits[-1])
        assert _attempt(client, user.email).status_code == 200
    assert waits == [1, 2, 4, 8]


def test_the_wait_is_explained_in_the_visitors_language(client, make_user):
    user = make_user(roles=[Role.DELEGATE])
    for _ in range(5):
        _attempt(client, user.email)
    english = _attempt(client, user.email, TEST_PASSWORD).get_data(as_text=True)
    assert "Too many failed attempts. Please wait 1 second and try again." in english
    indonesian = _attempt(client, user.email, TEST_PASSWORD, **{"Accept-Language": "id"})
    assert indonesian.status_code == 429
    assert "Terlalu banyak percobaan yang gagal" in indonesian.get_data(as_text=True)


def test_the_delay_is_capped_and_counts_reset_after_a_quiet_window(app, client, make_user):
    user = make_user(roles=[Role.DELEGATE])
    _attempt(client, user.email)
    with app.app_context():
        for row in db.session.scalars(select(SignInThrottle)):
            row.failures = 40
        db.session.commit()
        db.session.remove()
    refused = _attempt(client, user.email, TEST_PASSWORD)
    assert refused.status_code == 429
    assert 14 * 60 < int(refused.headers["Retry-After"]) <= 15 * 60
    assert "Please wait 15 minutes" in refused.get_data(as_text=True)
    _wait_out(app, 16 * 60)
    assert _attempt(client, user.email, TEST_PASSWORD).status_code == 302


def test_a_full_sign_in_clears_the_accounts_failures(app, client, make_user):
    user = make_user(roles=[Role.DELEGATE])
    for _ in range(4):
        _attempt(client, user.email)
    assert _attempt(client, user.email, TEST_PASSWORD).status_code == 302
    client.post("/logout")
    for _ in range(4):
        assert _attempt(client, user.email).status_code == 200
    assert _attempt(client, user.email, TEST_PASSWORD).status_code == 302


def test_unknown_addresses_are_delayed_like_real_ones(client):
    for _ in range(5):
        _attempt(client, "nobody@wcpp2026.example")
    assert _attempt(client, "nobody@wcpp2026.example").status_code == 429


def test_one_client_address_is_delayed_across_accounts(app, client, make_user, monkeypatch):
    monkeypatch.setitem(app.config, "SIGN_IN_ADDRESS_FAILURES_BEFORE_DELAY", 3)
    victims = [make_user(roles=[Role.DELEGATE]) for _ in range(4)]
    for victim in victims[:3]:
        assert _attempt(client, victim.email).status_code == 200
    refused = _attempt(client, victims[3].email, TEST_PASSWORD)
    assert refused.status_code == 429
    assert "Please wait 1 second " in refused.get_data(as_text=True)
    # The same account from another address is not held up by this one.
    elsewhere = app.test_client()
    elsewhere.environ_base["REMOTE_ADDR"] = "192.0.2.7"
    assert _attempt(elsewhere, victims[3].email, TEST_PASSWORD).status_code == 302


def test_wrong_second_factor_codes_count_as_failures(app, client, make_user):
    user = make_user(roles=[Role.ORGANISER])
    _attempt(client, user.email, TEST_PASSWORD)
    for _ in range(5):
        assert client.post("/login/code", data={"code": "000000"}).status_code == 200
    refused = client.post("/login/code", data={"code": next_totp_code(app, user.email)})
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) >= 1


def test_failures_counted_by_one_worker_hold_in_another(make_app, make_user):
    first = make_app(WTF_CSRF_ENABLED=False)
    second = make_app(WTF_CSRF_ENABLED=False)
    user = make_user(roles=[Role.DELEGATE])
    for _ in range(5):
        _attempt(first.test_client(), user.email)
    assert _attempt(second.test_client(), user.email, TEST_PASSWORD).status_code == 429
