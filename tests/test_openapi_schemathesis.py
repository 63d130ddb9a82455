"""The JSON API keeps to its OpenAPI document: schemathesis loads /api/v1/openapi.json from the
WSGI app, generates requests for every operation (valid ones, then malformed ones) and checks
each answer — no server error, a documented status code, a documented content type, a body
matching its schema. The check-in operations are called with a real gate device's token.

Bounded and reproducible: a fixed number of examples per operation, derandomised, no example
database.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode

from app.badges import services as badge_services
from app.extensions import db as _db
from app.programme.publishing import publish_programme
from tests.badges.factories import confirmed_registration
from tests.checkin.factories import make_checkpoint, make_device, make_event_today
from tests.programme.factories import make_room, make_session

EXAMPLES_PER_OPERATION = 25
CHECKS = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.content_type_conformance,
    schemathesis.checks.response_schema_conformance,
]


@pytest.fixture
def device_token(app) -> str:
    """A congress running today with a published session, an entrance with a badge holder,
    and a gate device's bearer token (committed)."""
    with app.test_request_context():
        event = make_event_today()
        make_session(event, room=make_room(event), day=event.starts_on)
        publish_programme(event, actor=None)
        checkpoint = make_checkpoint(event, "entrance")
        badge_services.issue_badge(confirmed_registration(event), actor=None)
        _device, token = make_device(event, checkpoint=checkpoint)
        _db.session.commit()
    return token


def _operations(app) -> list[Any]:
    """Every operation of the document the app serves."""
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    return [result.ok() for result in schema.get_all_operations()]


def test_the_document_describes_both_apis(app):
    labels = {operation.label for operation in _operations(app)}
    assert {
        "GET /api/v1/programme",
        "POST /api/v1/checkin/scans",
        "POST /api/v1/checkin/scans/batch",
        "GET /api/v1/checkin/offline-bundle",
    } <= labels


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_every_operation_keeps_to_the_document(app, device_token, mode):
    headers = {"Authorization": f"Bearer {device_token}"}
    failures = []
    for operation in _operations(app):

        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            derandomize=True,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        )
        @given(case=operation.as_strategy(generation_mode=mode))
        def conforms(case) -> None:
            case.call_and_validate(headers=headers, checks=CHECKS)

        try:
            conforms()
        except Exception as error:  # one report for every operation, not the first only
            failures.append(f"{operation.label}: {error}")
    assert failures == [], "\n\n".join(failures)
