"""Every route declares who may use it, and each role gets exactly that."""

from __future__ import annotations

import pytest
from flask import Flask

from app.auth.access import PUBLIC, SIGNED_IN, declared_access
from app.auth.models import Role
from tests.routes import ROUTE_TABLE

PERSONAS = [None, *Role]


def route_table_problems(app: Flask) -> list[str]:
    """Routes missing from the table, stale table rows, and declarations that disagree."""
    problems = []
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    for endpoint in sorted(endpoints - ROUTE_TABLE.keys()):
        problems.append(f"{endpoint}: route not in tests/routes.py ROUTE_TABLE")
    for endpoint in sorted(ROUTE_TABLE.keys() - endpoints):
        problems.append(f"{endpoint}: in ROUTE_TABLE but no such route")
    with app.app_context():
        for endpoint in sorted(endpoints & ROUTE_TABLE.keys()):
            audience = ROUTE_TABLE[endpoint][0]
            expected = frozenset({audience} if isinstance(audience, str) else map(str, audience))
            declared = declared_access(endpoint)
            if declared is None:
                problems.append(f"{endpoint}: declares no access rule (use @allow)")
            elif declared != expected:
                problems.append(
                    f"{endpoint}: declares {sorted(declared)}, table says {sorted(expected)}"
                )
    return problems


def test_every_route_is_in_the_table_with_its_declared_audience(app):
    assert route_table_problems(app) == []


def test_an_unguarded_new_route_is_caught_and_refused(make_app):
    extra = make_app()

    @extra.get("/forgotten")
    def forgotten():
        return "secret"

    assert "forgotten: route not in tests/routes.py ROUTE_TABLE" in route_table_problems(extra)
    assert "forgotten: declares no access rule (use @allow)" not in route_table_problems(extra)
    # Fail closed: an undeclared route answers 403 to everyone, even before the test catches it.
    assert extra.test_client().get("/forgotten").status_code == 403


def _allowed(audience: object, persona: Role | None) -> bool:
    if audience == PUBLIC:
        return True
    if persona is None:
        return False
    if audience == SIGNED_IN:
        return True
    return persona in audience


@pytest.mark.parametrize("persona", PERSONAS, ids=lambda p: p.value if p else "anonymous")
def test_each_role_gets_exactly_its_routes(app, auth, client, persona):
    own_id = None
    if persona is not None:
        own_id = auth.login_as(persona).id
    rules = sorted(app.url_map.iter_rules(), key=lambda r: r.endpoint == "auth.logout")
    failures = []
    for rule in rules:
        audience, args = ROUTE_TABLE[rule.endpoint]
        args = {k: (own_id or 1) if v == "{own_id}" else v for k, v in args.items()}
        with app.test_request_context():
            url = app.url_for(rule.endpoint, **args)
        method = "GET" if "GET" in rule.methods else "POST"
        response = client.open(url, method=method)
        response.close()
        location = response.headers.get("Location", "")
        sent_to_login = response.status_code == 302 and location.startswith("/login")
        refused = response.status_code in (401, 403) or sent_to_login
        if _allowed(audience, persona) == refused:
            failures.append(f"{method} {url}: {response.status_code} {location}")
    assert failures == []
