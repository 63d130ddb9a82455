"""Request ids and structured logs: one JSON access line per request carrying the id the
response header also carries, incoming ids reused only when sane, failures logged with their
traceback and shown to the user with the id; the settings that choose the format."""

from __future__ import annotations

import json
import re

import pytest

from app.auth.access import PUBLIC, allow
from app.auth.models import Role
from app.config import ConfigError, load_config
from tests.conftest import AuthActions

GENERATED_ID = re.compile(r"[0-9a-f]{32}")


def json_lines(stderr: str) -> list[dict]:
    """Every line written, each of which must be one JSON object."""
    return [json.loads(line) for line in stderr.splitlines() if line.strip()]


def access_lines(stderr: str) -> list[dict]:
    """The access-log lines among them."""
    return [line for line in json_lines(stderr) if line["logger"] == "kongres.access"]


@pytest.fixture
def json_app(make_app):
    """An application logging JSON lines (to standard error, which capsys reads)."""
    return make_app(LOG_FORMAT="json", WTF_CSRF_ENABLED=False, RATELIMIT_STORAGE_URI="memory://")


def test_a_request_writes_one_json_access_line_with_the_id_of_its_response(json_app, capsys):
    capsys.readouterr()
    response = json_app.test_client().get("/healthz?probe=1")

    request_id = response.headers["X-Request-ID"]
    assert GENERATED_ID.fullmatch(request_id)
    [line] = access_lines(capsys.readouterr().err)
    assert line["request_id"] == request_id
    assert line["level"] == "INFO"
    assert (line["method"], line["path"], line["status"]) == ("GET", "/healthz", 200)
    assert line["duration_ms"] >= 0
    assert line["remote_addr"] == "127.0.0.1"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", line["time"])
    assert "user_id" not in line


def test_each_request_gets_its_own_id(json_app):
    client = json_app.test_client()
    ids = {client.get("/healthz").headers["X-Request-ID"] for _ in range(3)}
    assert len(ids) == 3


def test_the_signed_in_users_id_is_on_the_line(json_app, make_user, capsys):
    user = make_user(roles=[Role.ORGANISER])
    client = json_app.test_client()
    AuthActions(client, make_user, json_app).login(user.email)
    capsys.readouterr()

    client.get("/account", headers={"Accept-Language": "en"})

    [line] = access_lines(capsys.readouterr().err)
    assert (line["path"], line["status"], line["user_id"]) == ("/account", 200, user.id)


def test_an_incoming_request_id_from_the_proxy_is_reused(json_app, capsys):
    capsys.readouterr()
    proxy_id = "5f0c6a1e9b2d4c7f8a3e1d2c4b6a8f00"

    response = json_app.test_client().get("/healthz", headers={"X-Request-ID": proxy_id})

    assert response.headers["X-Request-ID"] == proxy_id
    assert [line["request_id"] for line in access_lines(capsys.readouterr().err)] == [proxy_id]


@pytest.mark.parametrize(
    "malicious",
    [
        'abc\n{"level": "CRITICAL", "message": "forged"}',
        "x" * 1000,
        'quote" and space',
        "",
    ],
)
def test_an_incoming_request_id_that_is_not_sane_is_replaced(json_app, capsys, malicious):
    capsys.readouterr()
    # Set in the WSGI environment directly: the test client refuses newlines in headers, a
    # hostile client or proxy need not.
    response = json_app.test_client().get("/healthz", environ_base={"HTTP_X_REQUEST_ID": malicious})

    request_id = response.headers["X-Request-ID"]
    assert GENERATED_ID.fullmatch(request_id)
    stderr = capsys.readouterr().err
    assert "forged" not in stderr
    assert "x" * 200 not in stderr
    assert [line["request_id"] for line in access_lines(stderr)] == [request_id]


def test_a_failure_is_logged_with_its_traceback_and_the_page_shows_the_id(make_app, capsys):
    failing = make_app(LOG_FORMAT="json", TESTING=False, PROPAGATE_EXCEPTIONS=False)

    @failing.get("/boom")
    @allow(PUBLIC)
    def boom():
        raise RuntimeError("secret internal detail")

    capsys.readouterr()
    response = failing.test_client().get("/boom", headers={"Accept-Language": "id"})

    assert response.status_code == 500
    request_id = response.headers["X-Request-ID"]
    page = response.get_data(as_text=True)
    assert f"<code>{request_id}</code>" in page
    assert "sebutkan kode rujukan ini" in page
    assert "secret internal detail" not in page
    lines = json_lines(capsys.readouterr().err)
    [error] = [line for line in lines if line["level"] == "ERROR"]
    assert error["request_id"] == request_id
    assert error["path"] == "/boom"
    assert "Traceback (most recent call last)" in error["traceback"]
    assert "RuntimeError: secret internal detail" in error["traceback"]
    [access] = [line for line in lines if line["logger"] == "kongres.access"]
    assert (access["status"], access["request_id"]) == (500, request_id)


def test_other_error_pages_do_not_show_a_reference(json_app):
    response = json_app.test_client().get("/no-such-page", headers={"Accept-Language": "en"})
    assert response.status_code == 404
    assert "quote this reference" not in response.get_data(as_text=True)
    assert GENERATED_ID.fullmatch(response.headers["X-Request-ID"])


def test_text_logs_carry_the_request_id_too(make_app, capsys):
    text_app = make_app(LOG_FORMAT="text")
    capsys.readouterr()

    response = text_app.test_client().get("/healthz")

    [line] = [each for each in capsys.readouterr().err.splitlines() if "kongres.access" in each]
    assert f"[{response.headers['X-Request-ID']}]" in line
    assert "GET /healthz 200" in line


# --- settings -------------------------------------------------------------------------------


def test_logs_are_json_in_production_and_text_in_development(monkeypatch, tmp_path):
    monkeypatch.delenv("LOG_FORMAT", raising=False)
    monkeypatch.delenv("KONGRES_ENV", raising=False)
    assert load_config(tmp_path)["LOG_FORMAT"] == "text"
    monkeypatch.setenv("KONGRES_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "a-long-production-secret")
    monkeypatch.setenv("PASSPORT_ENCRYPTION_KEY", "a29uZ3Jlcy10ZXN0LXBhc3Nwb3J0LWtleS0zMmJ5dGU=")
    assert load_config(tmp_path)["LOG_FORMAT"] == "json"
    monkeypatch.setenv("LOG_FORMAT", "text")
    assert load_config(tmp_path)["LOG_FORMAT"] == "text"


@pytest.mark.parametrize(
    ("name", "value", "complaint"),
    [
        ("LOG_FORMAT", "xml", "LOG_FORMAT must be json or text"),
        ("LOG_LEVEL", "loud", "LOG_LEVEL must be one of"),
        ("SCAN_RATE_LIMIT", "lots", "SCAN_RATE_LIMIT must be a rate limit"),
    ],
)
def test_unusable_settings_stop_the_start_with_a_clear_message(
    monkeypatch, tmp_path, name, value, complaint
):
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=complaint):
        load_config(tmp_path)


def test_rate_limits_are_read_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("SCAN_RATE_LIMIT", "1200 per minute")
    monkeypatch.setenv("SCAN_BATCH_RATE_LIMIT", "10 per minute; 100 per hour")
    config = load_config(tmp_path)
    assert config["SCAN_RATE_LIMIT"] == "1200 per minute"
    assert config["SCAN_BATCH_RATE_LIMIT"] == "10 per minute; 100 per hour"


# --- secrets in paths -----------------------------------------------------------------------

SECRET = "s3cr3t-T0ken_value"


@pytest.mark.parametrize(
    ("method", "path", "logged"),
    [
        ("GET", f"/invitation/{SECRET}", "/invitation/[redacted]"),
        ("GET", f"/password/reset/{SECRET}", "/password/reset/[redacted]"),
        ("POST", f"/password/reset/{SECRET}", "/password/reset/[redacted]"),
        ("GET", f"/register/confirm/{SECRET}", "/register/confirm/[redacted]"),
        ("GET", f"/register/member/{SECRET}", "/register/member/[redacted]"),
        ("GET", f"/programme/agenda/{SECRET}.ics", "/programme/agenda/[redacted].ics"),
        ("GET", f"/visa/verify/{SECRET}", "/visa/verify/[redacted]"),
    ],
)
def test_tokens_in_paths_are_redacted_on_the_access_line(json_app, capsys, method, path, logged):
    capsys.readouterr()
    response = json_app.test_client().open(path, method=method, headers={"Accept-Language": "en"})

    stderr = capsys.readouterr().err
    assert SECRET not in stderr
    [line] = access_lines(stderr)
    assert (line["method"], line["path"], line["status"]) == (method, logged, response.status_code)


def test_a_path_without_secrets_is_logged_as_it_is(json_app, capsys):
    capsys.readouterr()
    json_app.test_client().get("/partners/4711", headers={"Accept-Language": "en"})

    [line] = access_lines(capsys.readouterr().err)
    assert line["path"] == "/partners/4711"


def test_an_error_line_during_a_token_request_carries_the_redacted_path(make_app, capsys):
    failing = make_app(LOG_FORMAT="json", TESTING=False, PROPAGATE_EXCEPTIONS=False)

    @failing.get("/boom/<token>")
    @allow(PUBLIC)
    def boom(token):
        raise RuntimeError("failed")

    capsys.readouterr()
    response = failing.test_client().get(f"/boom/{SECRET}")

    assert response.status_code == 500
    stderr = capsys.readouterr().err
    assert SECRET not in stderr
    [error] = [line for line in json_lines(stderr) if line["level"] == "ERROR"]
    assert error["path"] == "/boom/[redacted]"


def test_text_access_lines_redact_tokens_too(make_app, capsys):
    text_app = make_app(LOG_FORMAT="text")
    capsys.readouterr()

    text_app.test_client().get(f"/invitation/{SECRET}")

    stderr = capsys.readouterr().err
    assert SECRET not in stderr
    [line] = [each for each in stderr.splitlines() if "kongres.access" in each]
    assert "GET /invitation/[redacted] " in line


def test_the_language_switch_is_logged_with_its_language(json_app, capsys):
    json_app.test_client().get("/language/id")
    [line] = access_lines(capsys.readouterr().err)
    assert line["path"] == "/language/id"
