"""Password rules: 12 to 128 characters, and none of the most common passwords."""

from __future__ import annotations

import pytest

from app.auth.models import Role, User
from app.auth.passwords import verify_password
from app.auth.services import AuthError, check_password_rules
from tests.conftest import TEST_PASSWORD


def _change(client, new: str, **headers):
    return client.post(
        "/account",
        data={
            "password-current_password": TEST_PASSWORD,
            "password-password": new,
            "password-confirm": new,
        },
        headers=headers,
    )


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("a" * 11, "Use at least 12 and at most 128 characters."),
        ("b" * 129, "Use at least 12 and at most 128 characters."),
        ("qwerty123456", "This password is one of the most commonly used ones."),
        ("1Q2W3E4R5T6Y", "This password is one of the most commonly used ones."),
    ],
)
def test_a_refused_password_is_explained_and_changes_nothing(client, auth, db, password, message):
    user = auth.login_as(Role.DELEGATE)
    response = _change(client, password)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert verify_password(db.session.get(User, user.id).password_hash, TEST_PASSWORD)


def test_a_common_password_is_refused_in_indonesian_too(client, auth):
    auth.login_as(Role.DELEGATE, language="id")
    response = _change(client, "qwertyuiop123", **{"Accept-Language": "id"})
    assert "Kata sandi ini termasuk yang paling sering dipakai." in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("password", "code"),
    [
        ("x" * 11, "password_too_short"),
        ("x" * 129, "password_too_long"),
        ("telechargement", "password_common"),
    ],
)
def test_the_rule_lives_in_the_service(db, password, code):
    with pytest.raises(AuthError) as refused:
        check_password_rules(password)
    assert refused.value.code == code


@pytest.mark.parametrize("password", ["x" * 12, "y" * 128, "correct-horse-battery-staple"])
def test_long_enough_uncommon_passwords_pass(db, password):
    check_password_rules(password)
