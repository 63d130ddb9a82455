"""Sign-in rules that must hold when requests race (PostgreSQL): one code, one sign-in; every
failed attempt counted."""

from __future__ import annotations

import threading

from sqlalchemy import select

from app.auth.models import Role, SignInThrottle
from app.extensions import db
from tests.conftest import TEST_PASSWORD, next_totp_code, requires_postgres

THREADS = 8


def _together(requests: list) -> list:
    """Send the prepared requests from as many threads, released at the same moment."""
    barrier = threading.Barrier(len(requests), timeout=30)
    answers: list = [None] * len(requests)

    def send(index: int) -> None:
        barrier.wait()
        answers[index] = requests[index]()

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(requests))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return answers


@requires_postgres
def test_one_code_sent_from_many_browsers_at_once_signs_in_once(make_app, make_user):
    app = make_app(
        WTF_CSRF_ENABLED=False,
        LOGIN_RATE_LIMIT="1000 per minute",
        SQLALCHEMY_ENGINE_OPTIONS={"pool_size": THREADS + 2, "max_overflow": 0},
    )
    organiser = make_user(roles=[Role.ORGANISER])
    browsers = [app.test_client() for _ in range(THREADS)]
    for browser in browsers:
        browser.post("/login", data={"email": organiser.email, "password": TEST_PASSWORD})
    code = next_totp_code(app, organiser.email)

    answers = _together(
        [lambda b=browser: b.post("/login/code", data={"code": code}) for browser in browsers]
    )
    assert sorted(answer.status_code for answer in answers) == [200] * (THREADS - 1) + [302]


@requires_postgres
def test_failures_sent_at_once_are_all_counted(make_app, make_user):
    app = make_app(
        WTF_CSRF_ENABLED=False,
        LOGIN_RATE_LIMIT="1000 per minute",
        SIGN_IN_ACCOUNT_FAILURES_BEFORE_DELAY=100,
        SIGN_IN_ADDRESS_FAILURES_BEFORE_DELAY=100,
        SQLALCHEMY_ENGINE_OPTIONS={"pool_size": THREADS + 2, "max_overflow": 0},
    )
    user = make_user(roles=[Role.DELEGATE])
    data = {"email": user.email, "password": "not-the-password"}
    browsers = [app.test_client() for _ in range(THREADS)]
    answers = _together([lambda b=browser: b.post("/login", data=data) for browser in browsers])
    assert [answer.status_code for answer in answers] == [200] * THREADS
    with app.app_context():
        counts = db.session.scalars(select(SignInThrottle.failures)).all()
        db.session.remove()
    assert counts == [THREADS, THREADS]
