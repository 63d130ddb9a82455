"""The Content-Security-Policy in Chromium: a script injected into a page does not run, the
page's own nonce-carrying script does, and the browser's violation report reaches
/csp-report, where it is logged. Real pages raise no violation."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator

import pytest
from flask import render_template_string
from werkzeug.serving import make_server

from app.auth.access import PUBLIC, allow
from tests.conftest import free_port

pytestmark = pytest.mark.browser

# Organiser-entered text a template would show with |safe by mistake: an inline script and an
# inline event handler, both of which the policy must stop.
INJECTED = (
    '<script>document.title = "injected";</script>'
    '<img src="/no-such-image.png" onerror="document.title = \'handler\';" alt="">'
)
PROBE_PAGE = """<!doctype html>
<html><head><title>probe</title>
<script nonce="{{ csp_nonce() }}">document.documentElement.dataset.nonced = "ran";</script>
</head><body><h1>Probe</h1>{{ injected|safe }}</body></html>"""
REPORT_TIMEOUT_S = 10


@pytest.fixture
def probe_server(make_app) -> Iterator[str]:
    """An application with a test-only page that shows injected markup, served over HTTP."""
    application = make_app()

    @application.get("/csp-probe")
    @application.get("/csp-probe/<token>")  # a token link, as an invitation's
    @allow(PUBLIC)
    def csp_probe(token: str | None = None):
        return render_template_string(PROBE_PAGE, injected=INJECTED)

    server = make_server("127.0.0.1", free_port(), application, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


def logged_violations(caplog) -> list[dict]:
    """The violations /csp-report logged so far."""
    return [r.csp_violation for r in caplog.records if hasattr(r, "csp_violation")]


SECRET = "s3cr3t-T0ken_value"


@pytest.mark.csp_violations_expected
@pytest.mark.parametrize(
    ("path", "logged"),
    [("/csp-probe", "/csp-probe"), (f"/csp-probe/{SECRET}?next={SECRET}", "/csp-probe/[redacted]")],
)
def test_an_injected_script_is_blocked_and_reported(browser, probe_server, caplog, path, logged):
    context = browser.new_context(base_url=probe_server, locale="en-GB")
    page = context.new_page()
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text))
    try:
        with caplog.at_level(logging.WARNING):
            page.goto(path)
            page.wait_for_load_state("load")
            assert page.evaluate("document.documentElement.dataset.nonced") == "ran"
            assert page.title() == "probe"  # neither injected script nor handler ran
            deadline = time.monotonic() + REPORT_TIMEOUT_S
            while len(logged_violations(caplog)) < 2 and time.monotonic() < deadline:
                page.wait_for_timeout(200)
    finally:
        context.close()
    violations = logged_violations(caplog)
    assert len(violations) >= 2, caplog.text
    assert all(v["document"] == f"{probe_server}{logged}" for v in violations)
    assert SECRET not in caplog.text
    assert {v["directive"] for v in violations} >= {"script-src-elem", "script-src-attr"}
    assert {v["blocked"] for v in violations} == {"inline"}
    assert any("Content Security Policy" in text for text in console)


def test_real_pages_raise_no_violation(page):
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text))
    for path in ("/", "/login", "/register"):
        page.goto(path)
        page.wait_for_load_state("load")
    assert [text for text in console if "Content Security Policy" in text] == []
    assert [text for text in console if "Permissions-Policy" in text] == []
