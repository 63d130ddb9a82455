"""Browser security: the Content-Security-Policy and the other headers on pages, JSON and files,
in development and in production; cookie flags; the violation report endpoint."""

from __future__ import annotations

import json
import logging
import re

import pytest
from cryptography.fernet import Fernet

from app.auth.models import Role
from tests.checkin.test_scanner_views import ScriptTags, login_clerk, venue  # noqa: F401

PRODUCTION_BASE = "https://kongres.example"


def policy_of(response, header: str = "Content-Security-Policy") -> dict[str, list[str]]:
    """The response's policy as {directive: [sources]}."""
    directives = {}
    for part in response.headers[header].split(";"):
        name, *sources = part.split()
        directives[name] = sources
    return directives


def nonce_in(policy: dict[str, list[str]]) -> str:
    """The nonce the policy's script-src allows."""
    (nonce,) = [source for source in policy["script-src"] if source.startswith("'nonce-")]
    return nonce.removeprefix("'nonce-").removesuffix("'")


def assert_browser_security_headers(response, *, stripe: str) -> None:
    """The policy and the small headers every response carries."""
    policy = policy_of(response)
    assert policy["default-src"] == ["'self'"]
    assert "'unsafe-inline'" not in policy["script-src"]
    assert "'unsafe-eval'" not in policy["script-src"]
    assert policy["script-src"][0] == "'self'"
    assert len(nonce_in(policy)) >= 22  # 16 random bytes
    assert stripe in policy["script-src"]
    assert stripe in policy["frame-src"]
    assert policy["img-src"] == ["'self'", "data:", "blob:"]
    assert policy["worker-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'self'"]
    assert policy["form-action"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["report-uri"] == ["/csp-report"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert response.headers["Cross-Origin-Opener-Policy"] == "same-origin"
    permissions = response.headers["Permissions-Policy"].split(", ")
    assert "camera=(self)" in permissions
    assert {"microphone=()", "geolocation=()", "payment=()", "usb=()"} <= set(permissions)


@pytest.fixture
def production_app(monkeypatch, make_app):
    """An application configured as in production (KONGRES_ENV=production, real Stripe)."""
    monkeypatch.setenv("KONGRES_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "a-long-production-secret")
    monkeypatch.setenv("PASSPORT_ENCRYPTION_KEY", Fernet.generate_key().decode())
    for name in ("STRIPE_API_BASE", "STRIPE_JS_URL", "TRUSTED_HOSTS", "HSTS_MAX_AGE"):
        monkeypatch.delenv(name, raising=False)
    return make_app()


def cookie_header(response, name: str) -> str:
    """The Set-Cookie header that sets the named cookie."""
    (header,) = [h for h in response.headers.getlist("Set-Cookie") if h.startswith(f"{name}=")]
    return header


# --- development (the test app: localstripe stands in for Stripe) ---------------------------


@pytest.mark.parametrize("path", ["/login", "/api/v1/programme", "/healthz", "/static/js/jobs.js"])
def test_pages_json_and_files_carry_the_policy_and_headers(app, client, path):
    response = client.get(path)
    response.close()  # a file's response holds the file open
    assert response.status_code in (200, 404)  # no programme published: a JSON 404
    localstripe = app.config["STRIPE_API_BASE"]
    assert_browser_security_headers(response, stripe=localstripe)
    policy = policy_of(response)
    # localstripe's stand-in Stripe.js calls its own origin for the card and 3-D Secure.
    assert policy["connect-src"] == ["'self'", localstripe]
    assert "Strict-Transport-Security" not in response.headers  # plain HTTP in development
    # Chromium ignores report-uri beside report-to, and reports to HTTPS endpoints only.
    assert "report-to" not in policy
    assert "Reporting-Endpoints" not in response.headers
    assert "Content-Security-Policy-Report-Only" not in response.headers


def test_error_pages_carry_the_policy_too(app, client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert_browser_security_headers(response, stripe=app.config["STRIPE_API_BASE"])


def test_the_nonce_differs_per_response_and_matches_the_pages_script_tags(client, auth, venue):  # noqa: F811
    login_clerk(auth, venue)
    nonces = []
    for _ in range(2):
        response = client.get("/checkin/scanner?checkpoint=entrance")
        assert response.status_code == 200
        nonce = nonce_in(policy_of(response))
        tags = ScriptTags()
        tags.feed(response.get_data(as_text=True))
        inline = [attrs for attrs in tags.scripts if "src" not in attrs]
        assert inline, "the scanner page keeps its strings in an inline JSON island"
        assert {attrs.get("nonce") for attrs in inline} == {nonce}
        nonces.append(nonce)
    assert nonces[0] != nonces[1]


def test_development_cookies_are_http_only_and_lax_but_not_secure(client, auth, make_user):
    organiser = make_user(roles=[Role.ORGANISER])
    session = cookie_header(auth.login(organiser.email), "kongres_session")
    language = cookie_header(client.get("/language/id"), "kongres_lang")
    for cookie in (session, language):
        flags = {flag.strip() for flag in cookie.split(";")[1:]}
        assert {"HttpOnly", "SameSite=Lax", "Path=/"} <= flags
        assert "Secure" not in flags  # plain HTTP on the developer's machine


def test_report_only_mode_sends_the_policy_without_enforcing_it(make_app):
    response = make_app(CSP_REPORT_ONLY=True).test_client().get("/healthz")
    assert "Content-Security-Policy" not in response.headers
    assert "'nonce-" in response.headers["Content-Security-Policy-Report-Only"]


# --- production ------------------------------------------------------------------------------


def test_production_adds_hsts_and_allows_stripe_itself(production_app):
    client = production_app.test_client()
    for path in ("/login", "/api/v1/programme", "/healthz"):
        response = client.get(path, base_url=PRODUCTION_BASE)
        assert_browser_security_headers(response, stripe="https://js.stripe.com")
        policy = policy_of(response)
        assert policy["connect-src"] == ["'self'", "https://api.stripe.com"]
        assert "https://hooks.stripe.com" in policy["frame-src"]  # 3-D Secure
        assert response.headers["Strict-Transport-Security"] == "max-age=31536000"
        assert policy["report-to"] == ["csp-endpoint"]  # the Reporting API, over HTTPS
        assert response.headers["Reporting-Endpoints"] == 'csp-endpoint="/csp-report"'


def test_production_session_cookie_is_host_prefixed_secure_http_only_and_lax(production_app):
    response = production_app.test_client().get("/login", base_url=PRODUCTION_BASE)
    assert response.status_code == 200
    session = cookie_header(response, "__Host-kongres_session")  # the form's CSRF token
    flags = [flag.strip() for flag in session.split(";")[1:]]
    assert {"Secure", "HttpOnly", "Path=/", "SameSite=Lax"} <= set(flags)
    assert not [flag for flag in flags if flag.lower().startswith("domain=")]
    assert production_app.config["REMEMBER_COOKIE_NAME"] == "__Host-kongres_remember"
    assert production_app.config["REMEMBER_COOKIE_SECURE"] is True
    assert production_app.config["REMEMBER_COOKIE_SAMESITE"] == "Lax"


def test_production_language_cookie_is_secure(production_app):
    response = production_app.test_client().get("/language/en", base_url=PRODUCTION_BASE)
    language = cookie_header(response, "kongres_lang")
    assert {"Secure", "HttpOnly", "SameSite=Lax"} <= {f.strip() for f in language.split(";")}


# --- /csp-report ---------------------------------------------------------------------------


def logged_violations(caplog) -> list[dict]:
    """The violations the report endpoint logged, as the structured records carry them."""
    return [r.csp_violation for r in caplog.records if hasattr(r, "csp_violation")]


def test_a_report_uri_report_is_logged_and_answered_204(client, caplog):
    report = {
        "csp-report": {
            "document-uri": "http://127.0.0.1/programme",
            "violated-directive": "script-src-elem",
            "effective-directive": "script-src-elem",
            "original-policy": "default-src 'self'; " * 50,
            "blocked-uri": "inline",
            "line-number": 12,
            "script-sample": "alert(1)" * 100,
        }
    }
    with caplog.at_level(logging.WARNING):
        response = client.post(
            "/csp-report", data=json.dumps(report), content_type="application/csp-report"
        )
    assert response.status_code == 204
    assert response.get_data() == b""
    (violation,) = logged_violations(caplog)
    assert violation["document"] == "http://127.0.0.1/programme"
    assert violation["directive"] == "script-src-elem"
    assert violation["blocked"] == "inline"
    assert violation["line"] == 12
    assert len(violation["sample"]) == 201  # shortened, with an ellipsis
    assert "original-policy" not in json.dumps(violation)
    (record,) = [r for r in caplog.records if hasattr(r, "csp_violation")]
    assert json.loads(record.getMessage().removeprefix("csp violation ")) == violation


def test_reporting_api_batches_log_their_csp_violations_only(client, caplog):
    reports = [
        {
            "type": "csp-violation",
            "age": 10,
            "url": "http://127.0.0.1/login",
            "body": {
                "documentURL": "http://127.0.0.1/login",
                "blockedURL": "https://evil.example/x.js",
                "effectiveDirective": "script-src-elem",
                "disposition": "enforce",
                "statusCode": 200,
            },
        },
        {"type": "deprecation", "body": {"id": "something"}},
        {"type": "csp-violation", "body": "not an object"},
    ]
    with caplog.at_level(logging.WARNING):
        response = client.post(
            "/csp-report", data=json.dumps(reports), content_type="application/reports+json"
        )
    assert response.status_code == 204
    assert logged_violations(caplog) == [
        {
            "document": "http://127.0.0.1/login",
            "blocked": "https://evil.example/x.js",
            "directive": "script-src-elem",
            "disposition": "enforce",
            "status": 200,
        }
    ]


def test_a_huge_batch_logs_a_bounded_number_of_lines(client, caplog):
    report = {"type": "csp-violation", "body": {"blockedURL": "inline"}}
    with caplog.at_level(logging.WARNING):
        response = client.post(
            "/csp-report", data=json.dumps([report] * 150), content_type="application/reports+json"
        )
    assert response.status_code == 204
    assert len(logged_violations(caplog)) == 20
    assert "130 more" in caplog.text


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        ('{"csp-report": {}}', "text/plain", 400),
        ("csp-report", "application/csp-report", 400),
        ('{"something": "else"}', "application/csp-report", 400),
        ("\xc3(", "application/csp-report", 400),  # not UTF-8
        ("[" + '{"type": "csp-violation", "body": {}},' * 2000 + "{}]", "application/json", 413),
    ],
)
def test_bad_reports_are_refused_and_nothing_is_logged(client, caplog, body, content_type, status):
    with caplog.at_level(logging.WARNING):
        response = client.post(
            "/csp-report", data=body.encode("latin-1"), content_type=content_type
        )
    assert response.status_code == status
    assert logged_violations(caplog) == []


def test_the_report_endpoint_needs_no_csrf_token_but_is_rate_limited(make_app):
    strict = make_app(CSP_REPORT_RATE_LIMIT="3 per minute")  # CSRF protection on
    client = strict.test_client()
    report = json.dumps({"csp-report": {"blocked-uri": "inline"}})
    answers = [
        client.post("/csp-report", data=report, content_type="application/csp-report").status_code
        for _ in range(4)
    ]
    assert answers == [204, 204, 204, 429]


def test_the_report_endpoint_takes_posts_only(client):
    assert client.get("/csp-report").status_code == 405
    assert re.search(r"\bPOST\b", client.get("/csp-report").headers["Allow"])


def test_urls_in_reports_lose_their_tokens_and_query_strings(client, caplog):
    secret = "s3cr3t-T0ken_value"
    report = {
        "csp-report": {
            "document-uri": f"http://127.0.0.1/invitation/{secret}?next=/account#top",
            "blocked-uri": f"http://127.0.0.1/programme/agenda/{secret}.ics",
            "source-file": f"https://cdn.example/x.js?key={secret}",
            "effective-directive": "script-src-elem",
        }
    }
    with caplog.at_level(logging.WARNING):
        response = client.post(
            "/csp-report", data=json.dumps(report), content_type="application/csp-report"
        )
    assert response.status_code == 204
    (violation,) = logged_violations(caplog)
    assert violation["document"] == "http://127.0.0.1/invitation/[redacted]"
    assert violation["blocked"] == "http://127.0.0.1/programme/agenda/[redacted].ics"
    assert violation["source"] == "https://cdn.example/x.js"
    assert secret not in caplog.text
