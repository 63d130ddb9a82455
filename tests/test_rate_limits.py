"""Rate limits: every limited route answers 429 with Retry-After after its limit, in the
client's language, as a page or as JSON under /api/; the scan API counts per gate device and
the resend action per organiser (not per address: the venue's gates share one NAT address);
with REDIS_URL separate worker processes share the counts.

Limits are tiny here ("2 per minute") through the applications' own settings."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid

import pytest
from redis import Redis

from app.auth.models import Role
from app.badges.services import badge_token
from app.config import PROJECT_ROOT
from app.extensions import db
from app.i18n.locale import LANGUAGE_COOKIE
from tests.badges.factories import make_badge
from tests.checkin.factories import make_checkpoint, make_device, make_event_today, new_nonce
from tests.conftest import TEST_PASSPORT_KEY, TEST_PASSWORD, AuthActions
from tests.programme.factories import SetUpContext

REDIS_URL = "redis://127.0.0.1:6379/0"
SCANS = "/api/v1/checkin/scans"
BATCH = "/api/v1/checkin/scans/batch"
TINY = "2 per minute"
INDONESIAN_TOO_MANY = "Terlalu banyak permintaan"
ENGLISH_TOO_MANY = "Too many requests"
REGISTRATION = {"given_name": "Ana", "email": "ana@wcpp2026.example"}

# (route, the setting that limits it, the form sent). Each route is a public form that writes
# (or, for the visa check, a lookup by a secret code).
LIMITED_PUBLIC_ROUTES = [
    ("/login", "LOGIN_RATE_LIMIT", {"email": "x@wcpp2026.example", "password": "wrong-one"}),
    ("/password/forgot", "PASSWORD_RESET_RATE_LIMIT", {"email": "x@wcpp2026.example"}),
    ("/password/reset/not-a-real-token", "ACCOUNT_LINK_RATE_LIMIT", {"password": "x"}),
    ("/invitation/not-a-real-token", "ACCOUNT_LINK_RATE_LIMIT", {"password": "x"}),
    ("/register", "REGISTRATION_RATE_LIMIT", REGISTRATION),
    ("/register/delegation", "REGISTRATION_RATE_LIMIT", REGISTRATION),
    ("/register/member/not-a-real-token", "ACCOUNT_LINK_RATE_LIMIT", REGISTRATION),
    ("/register/confirm/not-a-real-token", "ACCOUNT_LINK_RATE_LIMIT", {"password": "x"}),
]


@pytest.fixture
def limited_app(make_app):
    """An application with some limits set tiny: limited_app(LOGIN_RATE_LIMIT="2 per minute").
    Counts in memory (never Redis here: the limiter is one per process)."""

    def _make(**limits: str):
        return make_app(WTF_CSRF_ENABLED=False, RATELIMIT_STORAGE_URI="memory://", **limits)

    return _make


def error_code_and_message(response) -> tuple[str, str]:
    """The code and message of a JSON error. The check-in API nests them
    ({"error": {"code", "message"}}), the shape all JSON errors are moving to; app/errors.py's
    error_response still answers {"error": code, "message": ...} until that change lands."""
    body = response.get_json()
    error = body["error"]
    if isinstance(error, dict):
        return error["code"], error["message"]
    return error, body["message"]


def assert_limited(response, limit: int = 2) -> None:
    """A 429 that says when to come back and which limit was hit."""
    assert response.status_code == 429, response.get_data(as_text=True)
    assert 0 < int(response.headers["Retry-After"]) <= 60
    assert response.headers["X-RateLimit-Limit"] == str(limit)
    assert response.headers["X-RateLimit-Remaining"] == "0"
    assert int(response.headers["X-RateLimit-Reset"]) > 0


# --- pages ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("path", "setting", "form"), LIMITED_PUBLIC_ROUTES)
def test_a_public_form_answers_429_in_indonesian_after_its_limit(limited_app, path, setting, form):
    client = limited_app(**{setting: TINY}).test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "id"
    answers = [client.post(path, data=form) for _ in range(2)]
    assert [answer.status_code for answer in answers if answer.status_code == 429] == []
    assert answers[-1].headers["X-RateLimit-Remaining"] == "0"

    refused = client.post(path, data=form)

    assert_limited(refused)
    page = refused.get_data(as_text=True)
    assert refused.mimetype == "text/html"
    assert '<html lang="id">' in page
    assert INDONESIAN_TOO_MANY in page
    # Reading the form is not limited: only sending it is.
    assert client.get(path).status_code != 429


def test_the_language_cookie_chooses_the_language_of_the_429_page(limited_app):
    client = limited_app(LOGIN_RATE_LIMIT="1 per minute").test_client()
    client.set_cookie(LANGUAGE_COOKIE, "id")
    attempt = {"email": "x@wcpp2026.example", "password": "wrong-one"}
    client.post("/login", data=attempt, headers={"Accept-Language": "en"})

    refused = client.post("/login", data=attempt, headers={"Accept-Language": "en"})

    assert_limited(refused, limit=1)
    assert INDONESIAN_TOO_MANY in refused.get_data(as_text=True)


def test_an_english_browser_reads_the_429_page_in_english(limited_app):
    client = limited_app(PASSWORD_RESET_RATE_LIMIT="1 per minute").test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    client.post("/password/forgot", data={"email": "x@wcpp2026.example"})

    refused = client.post("/password/forgot", data={"email": "x@wcpp2026.example"})

    assert_limited(refused, limit=1)
    assert ENGLISH_TOO_MANY in refused.get_data(as_text=True)


def test_the_visa_letter_check_is_limited(limited_app):
    client = limited_app(VISA_VERIFICATION_RATE_LIMIT=TINY).test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "id"
    for _ in range(2):
        assert client.get("/visa/verify/ABCDEFGHJK").status_code != 429

    refused = client.get("/visa/verify/ABCDEFGHJK")

    assert_limited(refused)
    assert INDONESIAN_TOO_MANY in refused.get_data(as_text=True)


def test_resending_emails_counts_per_organiser_not_per_address(limited_app, make_user):
    application = limited_app(RESEND_EMAIL_RATE_LIMIT=TINY)
    first, second = application.test_client(), application.test_client()
    for client in (first, second):
        user = make_user(roles=[Role.ORGANISER])
        signed_in = AuthActions(client, make_user, application).login(user.email)
        assert signed_in.status_code == 302
    resend = "/registrations/WCPP-NONE/resend"
    for _ in range(2):
        assert first.post(resend, data={"kind": "confirmation"}).status_code != 429

    assert_limited(first.post(resend, data={"kind": "confirmation"}))
    # A colleague in the same office (same address) is still served.
    assert second.post(resend, data={"kind": "confirmation"}).status_code != 429


def test_the_stripe_webhook_and_healthz_are_never_limited(limited_app):
    every_limit = dict.fromkeys(
        (
            "LOGIN_RATE_LIMIT",
            "PASSWORD_RESET_RATE_LIMIT",
            "ACCOUNT_LINK_RATE_LIMIT",
            "REGISTRATION_RATE_LIMIT",
            "SCAN_RATE_LIMIT",
            "SCAN_BATCH_RATE_LIMIT",
        ),
        "1 per minute",
    )
    client = limited_app(**every_limit).test_client()
    for _ in range(5):
        webhook = client.post(
            "/payments/stripe/webhook", data="{}", content_type="application/json"
        )
        health = client.get("/healthz")
        for response in (webhook, health):
            assert response.status_code != 429
            assert "X-RateLimit-Limit" not in response.headers


# --- the check-in API -----------------------------------------------------------------------


@pytest.fixture
def gates(app, make_user):
    """A congress running today with its entrance, two gate devices, two gate clerks and a
    badge."""
    clerks = [make_user(roles=[Role.GATE_STAFF]) for _ in range(2)]
    with SetUpContext(app):
        event = make_event_today()
        make_checkpoint(event, "entrance", "Venue entrance", staff=clerks)
        _first, first_token = make_device(event, "Gate A")
        _second, second_token = make_device(event, "Gate B")
        values = {
            "badge": badge_token(make_badge(event)),
            "device_a": first_token,
            "device_b": second_token,
            "clerks": clerks,
        }
        db.session.commit()
    return values


def scan_of(gates) -> dict[str, str]:
    """One scan of the badge at the entrance."""
    return {"token": gates["badge"], "checkpoint": "entrance", "nonce": new_nonce()}


def bearer(token: str) -> dict[str, str]:
    """What a gate device sends: its token, and a language."""
    return {"Authorization": f"Bearer {token}", "Accept-Language": "id"}


def test_the_scan_api_counts_per_device_and_answers_json(limited_app, gates):
    client = limited_app(SCAN_RATE_LIMIT=TINY).test_client()
    for _ in range(2):
        answer = client.post(SCANS, json=scan_of(gates), headers=bearer(gates["device_a"]))
        assert answer.status_code == 200, answer.get_data(as_text=True)

    refused = client.post(SCANS, json=scan_of(gates), headers=bearer(gates["device_a"]))

    assert_limited(refused)
    assert refused.is_json
    code, message = error_code_and_message(refused)
    assert code == "too_many_requests"
    assert INDONESIAN_TOO_MANY in message
    # Gate B, behind the same venue address, still scans.
    other = client.post(SCANS, json=scan_of(gates), headers=bearer(gates["device_b"]))
    assert other.status_code == 200
    assert other.get_json()["result"] in {"admitted", "already_admitted"}


def test_batch_uploads_count_per_device(limited_app, gates):
    client = limited_app(SCAN_BATCH_RATE_LIMIT="1 per minute").test_client()
    batch = {"scans": [scan_of(gates)]}
    assert client.post(BATCH, json=batch, headers=bearer(gates["device_a"])).status_code == 200

    refused = client.post(BATCH, json=batch, headers=bearer(gates["device_a"]))

    assert_limited(refused, limit=1)
    assert error_code_and_message(refused)[0] == "too_many_requests"
    assert client.post(BATCH, json=batch, headers=bearer(gates["device_b"])).status_code == 200
    # Single scans have their own, separate count.
    assert (
        client.post(SCANS, json=scan_of(gates), headers=bearer(gates["device_a"])).status_code
        == 200
    )


def test_the_scanner_page_counts_per_signed_in_clerk(limited_app, gates):
    application = limited_app(SCAN_RATE_LIMIT=TINY)
    first, second = application.test_client(), application.test_client()
    for client, clerk in zip((first, second), gates["clerks"], strict=True):
        signed_in = client.post("/login", data={"email": clerk.email, "password": TEST_PASSWORD})
        assert signed_in.status_code == 302
    for _ in range(2):
        assert first.post(SCANS, json=scan_of(gates)).status_code == 200

    assert_limited(first.post(SCANS, json=scan_of(gates)))
    assert second.post(SCANS, json=scan_of(gates)).status_code == 200


def test_a_token_that_is_not_valid_counts_against_the_address(limited_app, gates):
    client = limited_app(SCAN_RATE_LIMIT=TINY).test_client()
    for number in range(2):
        answer = client.post(SCANS, json=scan_of(gates), headers=bearer(f"made-up-{number}"))
        assert answer.status_code == 401
    # Inventing a new token for each request does not escape the limit...
    assert_limited(client.post(SCANS, json=scan_of(gates), headers=bearer("made-up-3")))
    # ...while a real device is unaffected.
    assert (
        client.post(SCANS, json=scan_of(gates), headers=bearer(gates["device_a"])).status_code
        == 200
    )


# --- several worker processes on one Redis --------------------------------------------------

# One gunicorn-like worker: its own process and application, the same Redis. Makes the
# requests it is given and prints their status codes.
WORKER = """
import json, sys
from app import create_app
config, calls = json.loads(sys.argv[1]), json.loads(sys.argv[2])
app = create_app({"TESTING": True, "WTF_CSRF_ENABLED": False, **config})
client = app.test_client()
codes = [
    client.open(call["path"], method="POST", json=call.get("json"), data=call.get("data"),
                headers=call.get("headers", {})).status_code
    for call in calls
]
print(json.dumps(codes))
"""


@pytest.fixture
def redis_prefix() -> str:
    """A key prefix of this test's own in the shared Redis; its keys are deleted afterwards."""
    prefix = f"kongres-test-{uuid.uuid4().hex}"
    yield prefix
    connection = Redis.from_url(REDIS_URL)
    try:
        keys = list(connection.scan_iter(match=f"*{prefix}*"))
        if keys:
            connection.delete(*keys)
    finally:
        connection.close()


def run_worker(database_url: str, tmp_path, config: dict, calls: list[dict]) -> list[int]:
    """Run one worker process with REDIS_URL set; the status codes of its requests."""
    env = {
        **os.environ,
        "REDIS_URL": REDIS_URL,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-secret-key-not-for-production",
        "PASSPORT_ENCRYPTION_KEY": TEST_PASSPORT_KEY,
        "MAIL_OUTBOX_DIR": str(tmp_path),
    }
    result = subprocess.run(
        [sys.executable, "-c", WORKER, json.dumps(config), json.dumps(calls)],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_sign_in_attempts_in_one_worker_count_in_another(database_url, tmp_path, redis_prefix):
    config = {
        "INSTANCE_PATH": str(tmp_path),
        "RATELIMIT_KEY_PREFIX": redis_prefix,
        "LOGIN_RATE_LIMIT": "4 per minute",
    }
    attempt = {"path": "/login", "data": {"email": "x@wcpp2026.example", "password": "wrong"}}
    assert run_worker(database_url, tmp_path, config, [attempt] * 3) == [200, 200, 200]
    assert run_worker(database_url, tmp_path, config, [attempt] * 2) == [200, 429]


def test_a_devices_scans_count_across_workers(database_url, tmp_path, redis_prefix, gates):
    config = {
        "INSTANCE_PATH": str(tmp_path),
        "RATELIMIT_KEY_PREFIX": redis_prefix,
        "SCAN_RATE_LIMIT": "3 per minute",
    }

    def scan_by(device: str) -> dict:
        return {"path": SCANS, "json": scan_of(gates), "headers": bearer(gates[device])}

    first = run_worker(database_url, tmp_path, config, [scan_by("device_a")] * 2)
    second = run_worker(
        database_url,
        tmp_path,
        config,
        [scan_by("device_a"), scan_by("device_a"), scan_by("device_b")],
    )

    assert first == [200, 200]
    assert second == [200, 429, 200]
    # The counts lived in Redis, under this test's prefix.
    connection = Redis.from_url(REDIS_URL)
    try:
        assert list(connection.scan_iter(match=f"*{redis_prefix}*"))
    finally:
        connection.close()
