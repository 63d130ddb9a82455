"""PROXY_FIX_HOPS: behind nginx the client's address and scheme come from X-Forwarded-For and
-Proto; without the setting those headers are ignored (anyone could forge them)."""

from __future__ import annotations

import pytest

from app.extensions import limiter

ATTEMPT = {"email": "nobody@wcpp2026.example", "password": "wrong-password-here"}


def _sign_in_codes(application, addresses: list[str]) -> list[int]:
    """Status codes of failed sign-ins, each claiming to come through a proxy from an address."""
    client = application.test_client()
    return [
        client.post(
            "/login",
            data=ATTEMPT,
            headers={"X-Forwarded-For": address, "X-Forwarded-Proto": "https"},
        ).status_code
        for address in addresses
    ]


@pytest.fixture
def limited_app(make_app):
    """Build an application allowing two sign-in attempts a minute per client address."""

    def _make(**config):
        application = make_app(WTF_CSRF_ENABLED=False, LOGIN_RATE_LIMIT="2 per minute", **config)
        with application.app_context():
            limiter.reset()
        return application

    return _make


def test_behind_one_proxy_each_client_has_its_own_limit(limited_app):
    application = limited_app(PROXY_FIX_HOPS=1)
    addresses = ["203.0.113.5", "203.0.113.5", "203.0.113.5", "198.51.100.7"]
    assert _sign_in_codes(application, addresses) == [200, 200, 429, 200]
    # nginx's redirects and the app's agree on the scheme the visitor used.
    response = application.test_client().get(
        "/organiser/badges", headers={"X-Forwarded-Proto": "https"}
    )
    assert response.headers["Location"].startswith("https://")


def test_without_the_setting_forwarded_headers_change_nothing(limited_app):
    application = limited_app()
    # Claiming another address for each attempt does not dodge the limit.
    addresses = ["203.0.113.5", "198.51.100.7", "192.0.2.9"]
    assert _sign_in_codes(application, addresses) == [200, 200, 429]
    response = application.test_client().get(
        "/organiser/badges", headers={"X-Forwarded-Proto": "https"}
    )
    assert response.headers["Location"].startswith("http://")
