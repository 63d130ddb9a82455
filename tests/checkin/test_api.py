"""The check-in API through HTTP: bearer devices and the scanner page's session (with CSRF),
answers, errors, batches, the offline bundle, and the OpenAPI description."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.auth.models import Role
from app.badges.services import badge_token, reissue_badge, revoke_badge
from app.checkin.models import Admission, GateDevice, Scan
from app.extensions import db
from tests.badges.factories import make_badge
from tests.checkin.factories import (
    forged,
    make_checkpoint,
    make_device,
    make_event_today,
    new_nonce,
    token_of_another_key,
)
from tests.conftest import TEST_PASSWORD
from tests.programme.factories import SetUpContext
from tests.programme.test_api import schema_problems
from tests.registration.factories import count_rows

SCANS = "/api/v1/checkin/scans"
BATCH = "/api/v1/checkin/scans/batch"
BUNDLE = "/api/v1/checkin/offline-bundle"


@pytest.fixture
def gate(app, make_user):
    """A congress running today: entrance and hall, a device for each (the hall's bound to it),
    a gate clerk at the entrance, three badges (one revoked, one reissued)."""
    clerk = make_user(roles=[Role.GATE_STAFF])
    with SetUpContext(app):
        event = make_event_today()
        entrance = make_checkpoint(event, "entrance", "Venue entrance", staff=[clerk])
        hall = make_checkpoint(event, "hall", "Plenary hall", kind="hall")
        _roaming, roaming_token = make_device(event, "Roaming phone")
        _bound, hall_token = make_device(event, "Hall phone", checkpoint=hall)
        badge = make_badge(event, given_name="Ngozi", family_name="Okafor", nationality="NG")
        withdrawn = make_badge(event)
        revoke_badge(withdrawn, actor=None)
        reissued = make_badge(event)
        old_token = badge_token(reissued)
        reissue_badge(reissued, actor=None)
        values = {
            "clerk": clerk,
            "token": badge_token(badge),
            "withdrawn_token": badge_token(withdrawn),
            "old_token": old_token,
            "device_token": roaming_token,
            "hall_device_token": hall_token,
            "badge_number": badge.number,
        }
        db.session.commit()
        del entrance
    return values


def bearer(token: str) -> dict[str, str]:
    """The header a gate device sends."""
    return {"Authorization": f"Bearer {token}"}


def body(gate, **changes):
    """A scan request body at the entrance."""
    return {"token": gate["token"], "checkpoint": "entrance", "nonce": new_nonce(), **changes}


def assert_error(response, status: int, code: str):
    """A JSON error with a code and a message."""
    assert response.status_code == status, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert error["code"] == code
    assert error["message"]
    return error


# --- devices --------------------------------------------------------------------------------


def test_a_device_scans_and_the_same_nonce_gets_the_same_answer(client, gate):
    request = body(gate, nonce="dev1-000001")

    first = client.post(SCANS, json=request, headers=bearer(gate["device_token"]))
    again = client.post(SCANS, json=request, headers=bearer(gate["device_token"]))

    assert first.status_code == again.status_code == 200
    assert first.get_json() == again.get_json()
    answer = first.get_json()
    assert answer["result"] == "admitted"
    assert answer["delegate"]["badge_number"] == gate["badge_number"]
    assert answer["delegate"]["country"] == "NG"
    assert answer["nonce"] == "dev1-000001"
    with client.application.app_context():
        assert count_rows(Scan) == 1
        assert count_rows(Admission) == 1
        device = db.session.scalar(select(GateDevice).where(GateDevice.name == "Roaming phone"))
        assert db.session.scalar(select(Scan.device_id)) == device.id
        assert device.last_seen_at is not None


def test_a_second_scan_is_already_admitted(client, gate):
    client.post(SCANS, json=body(gate), headers=bearer(gate["device_token"]))
    answer = client.post(SCANS, json=body(gate), headers=bearer(gate["device_token"])).get_json()

    assert answer["result"] == "already_admitted"
    assert answer["first_admitted_at_checkpoint"] == "Venue entrance"
    assert answer["first_admitted_at"]


@pytest.mark.parametrize(
    ("make_token", "result", "reason"),
    [
        (lambda gate: forged(gate["token"]), "invalid", "bad_signature"),
        (lambda gate: token_of_another_key(gate["token"]), "invalid", "bad_signature"),
        (lambda gate: gate["token"][:60], "invalid", "malformed"),
        (lambda gate: gate["token"][:-1], "invalid", "malformed"),
        (lambda gate: "https://example.org/not-a-badge", "invalid", "malformed"),
        (lambda gate: gate["withdrawn_token"], "revoked", "badge_revoked"),
        (lambda gate: gate["old_token"], "revoked", "old_version"),
    ],
    ids=["forged", "foreign key", "truncated", "one short", "a URL", "revoked", "old version"],
)
def test_forged_truncated_and_revoked_tokens_are_refused(client, gate, make_token, result, reason):
    response = client.post(
        SCANS, json=body(gate, token=make_token(gate)), headers=bearer(gate["device_token"])
    )

    assert response.status_code == 200
    answer = response.get_json()
    assert (answer["result"], answer["reason"]) == (result, reason)
    with client.application.app_context():
        assert count_rows(Admission) == 0
        assert db.session.scalar(select(Scan.result)) == result


def test_no_credentials_get_401_in_json(client, gate):
    for response in (
        client.post(SCANS, json=body(gate)),
        client.post(BATCH, json={"scans": []}),
        client.get(f"{BUNDLE}?checkpoint=entrance"),
    ):
        assert_error(response, 401, "unauthorized")
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    with client.application.app_context():
        assert count_rows(Scan) == 0


@pytest.mark.parametrize(
    "header",
    ["Bearer not-a-token", "Bearer ", "Basic dXNlcjpwYXNz", "Bearer{token}", "{token}"],
)
def test_a_wrong_or_malformed_token_gets_401(client, gate, header):
    headers = {"Authorization": header.replace("{token}", gate["device_token"])}
    assert_error(client.post(SCANS, json=body(gate), headers=headers), 401, "invalid_token")


def test_a_revoked_device_gets_401(client, gate, app):
    with SetUpContext(app):
        device = db.session.scalar(select(GateDevice).where(GateDevice.name == "Roaming phone"))
        from app.checkin.services import revoke_device

        revoke_device(device, actor=None)
        db.session.commit()

    response = client.post(SCANS, json=body(gate), headers=bearer(gate["device_token"]))

    assert_error(response, 401, "invalid_token")
    assert_error(
        client.get(f"{BUNDLE}?checkpoint=entrance", headers=bearer(gate["device_token"])),
        401,
        "invalid_token",
    )


def test_a_device_bound_to_a_checkpoint_scans_only_there(client, gate):
    headers = bearer(gate["hall_device_token"])

    elsewhere = client.post(SCANS, json=body(gate), headers=headers)
    there = client.post(SCANS, json=body(gate, checkpoint="hall"), headers=headers)

    assert_error(elsewhere, 403, "wrong_checkpoint")
    assert there.get_json()["result"] == "admitted"


# --- bad requests ---------------------------------------------------------------------------


def test_malformed_requests_get_400_or_422_with_the_field(client, gate):
    headers = bearer(gate["device_token"])

    not_json = client.post(SCANS, data="{not json", headers=headers)
    a_list = client.post(SCANS, json=[1, 2], headers=headers)
    no_nonce = client.post(SCANS, json=body(gate, nonce=None), headers=headers)
    bad_time = client.post(SCANS, json=body(gate, scanned_at="14/04/2026"), headers=headers)
    unknown = client.post(SCANS, json=body(gate, checkpoint="roof"), headers=headers)
    number_token = client.post(SCANS, json=body(gate, token=12345), headers=headers)

    assert_error(not_json, 400, "invalid_json")
    assert_error(a_list, 400, "invalid_json")
    assert assert_error(no_nonce, 422, "invalid_nonce")["field"] == "nonce"
    assert assert_error(bad_time, 422, "invalid_scanned_at")["field"] == "scanned_at"
    assert assert_error(unknown, 422, "unknown_checkpoint")["field"] == "checkpoint"
    assert assert_error(number_token, 422, "invalid_token_field")["field"] == "token"
    with client.application.app_context():
        assert count_rows(Scan) == 0


def test_messages_follow_accept_language(client, gate):
    response = client.post(
        SCANS,
        json=body(gate, checkpoint="roof"),
        headers={**bearer(gate["device_token"]), "Accept-Language": "id"},
    )
    assert_error(response, 422, "unknown_checkpoint")


def test_a_wrong_method_is_refused(client, gate):
    assert client.get(SCANS, headers=bearer(gate["device_token"])).status_code == 405


# --- the scanner page's session -------------------------------------------------------------


def test_gate_staff_scan_where_assigned_only(client, gate, auth):
    assert auth.login(gate["clerk"].email).status_code == 302

    assigned = client.post(SCANS, json=body(gate))
    elsewhere = client.post(SCANS, json=body(gate, checkpoint="hall"))
    bundle_elsewhere = client.get(f"{BUNDLE}?checkpoint=hall")

    assert assigned.get_json()["result"] == "admitted"
    assert_error(elsewhere, 403, "not_assigned")
    assert_error(bundle_elsewhere, 403, "not_assigned")


def test_a_delegate_session_gets_403(client, gate, auth):
    auth.login_as(Role.DELEGATE)
    assert_error(client.post(SCANS, json=body(gate)), 403, "forbidden")


def test_an_organiser_scans_anywhere(client, gate, auth):
    auth.login_as(Role.ORGANISER)
    answer = client.post(SCANS, json=body(gate, checkpoint="hall")).get_json()
    assert answer["result"] == "admitted"
    with client.application.app_context():
        assert db.session.scalar(select(Scan.user_id)) is not None


def _csrf_token(html: str) -> str:
    """The CSRF token a page carries."""
    field = re.search(r'<input[^>]*name="csrf_token"[^>]*>', html).group(0)
    return re.search(r'value="([^"]+)"', field).group(1)


def test_the_session_needs_the_csrf_header_a_device_does_not(app, make_app, gate):
    protected = make_app(WTF_CSRF_ENABLED=True, SERVER_NAME=None)
    browser = protected.test_client()
    browser.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    login_page = browser.get("/login").get_data(as_text=True)
    signed_in = browser.post(
        "/login",
        data={
            "email": gate["clerk"].email,
            "password": TEST_PASSWORD,
            "csrf_token": _csrf_token(login_page),
        },
    )
    assert signed_in.status_code == 302
    token = _csrf_token(browser.get("/dashboard").get_data(as_text=True))

    without = browser.post(SCANS, json=body(gate))
    wrong = browser.post(SCANS, json=body(gate), headers={"X-CSRFToken": "forged"})
    with_token = browser.post(SCANS, json=body(gate), headers={"X-CSRFToken": token})
    device = protected.test_client().post(
        SCANS, json=body(gate), headers=bearer(gate["device_token"])
    )

    assert_error(without, 400, "csrf_failed")
    assert_error(wrong, 400, "csrf_failed")
    assert with_token.status_code == 200
    assert with_token.get_json()["result"] == "admitted"
    assert device.get_json()["result"] == "already_admitted"
    # A GET needs no CSRF token.
    assert browser.get(f"{BUNDLE}?checkpoint=entrance").status_code == 200


# --- batches --------------------------------------------------------------------------------


def test_a_batch_answers_per_scan(client, gate):
    scans = [
        body(gate, scanned_at="2020-01-01T08:00:00+08:00", client_result="admitted"),
        body(gate, nonce="no good"),
        body(gate, token=gate["withdrawn_token"], client_result="revoked"),
        body(gate),
    ]

    response = client.post(BATCH, json={"scans": scans}, headers=bearer(gate["device_token"]))

    assert response.status_code == 200
    results = response.get_json()["results"]
    assert len(results) == 4
    assert (results[0]["result"], results[0]["reason"]) == ("not_allowed", "not_valid_today")
    assert results[1]["error"]["code"] == "invalid_nonce"
    assert results[2]["result"] == "revoked"
    assert results[3]["result"] == "admitted"
    with client.application.app_context():
        assert count_rows(Scan) == 3


def test_a_batch_must_be_a_list_of_at_most_500(client, gate):
    headers = bearer(gate["device_token"])
    too_many = [body(gate) for _number in range(501)]

    assert_error(
        client.post(BATCH, json={"scans": too_many}, headers=headers), 422, "batch_too_large"
    )
    assert_error(client.post(BATCH, json={"scans": "all"}, headers=headers), 422, "invalid_batch")
    assert_error(client.post(BATCH, json={}, headers=headers), 422, "invalid_batch")
    assert_error(client.post(BATCH, data="[]", headers=headers), 400, "invalid_json")


# --- the offline bundle ---------------------------------------------------------------------


def test_the_bundle_for_a_device(client, gate):
    response = client.get(f"{BUNDLE}?checkpoint=entrance", headers=bearer(gate["device_token"]))

    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    bundle = response.get_json()
    assert bundle["checkpoint"]["code"] == "entrance"
    assert len(bundle["badges"]) == 3
    assert len(bundle["revoked"]) == 2
    assert bundle["public_keys"]
    assert "email" not in response.get_data(as_text=True)


def test_the_bundle_needs_a_known_checkpoint(client, gate):
    headers = bearer(gate["device_token"])
    assert_error(client.get(BUNDLE, headers=headers), 400, "checkpoint_required")
    assert_error(
        client.get(f"{BUNDLE}?checkpoint=roof", headers=headers), 422, "unknown_checkpoint"
    )
    assert_error(
        client.get(f"{BUNDLE}?checkpoint=entrance", headers=bearer(gate["hall_device_token"])),
        403,
        "wrong_checkpoint",
    )


# --- the OpenAPI document -------------------------------------------------------------------


def test_the_api_is_described_in_the_openapi_document(client):
    document = client.get("/api/v1/openapi.json").get_json()

    scans = document["paths"]["/api/v1/checkin/scans"]["post"]
    assert scans["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/CheckinScan"
    }
    assert set(scans["responses"]) == {"200", "400", "401", "403", "422", "429"}
    assert "Retry-After" in scans["responses"]["429"]["headers"]
    assert "/api/v1/checkin/scans/batch" in document["paths"]
    assert "/api/v1/checkin/offline-bundle" in document["paths"]
    schemas = document["components"]["schemas"]
    for name in (
        "CheckinScan",
        "CheckinAnswer",
        "CheckinBatch",
        "CheckinBatchAnswer",
        "CheckinBundle",
        "CheckinError",
    ):
        assert name in schemas
    assert "Bearer" in scans["description"]


def test_answers_match_the_documented_schemas(client, gate):
    document = client.get("/api/v1/openapi.json").get_json()
    headers = bearer(gate["device_token"])

    def documented(path: str, method: str, status: str) -> dict:
        operation = document["paths"][path][method]
        return operation["responses"][status]["content"]["application/json"]["schema"]

    admitted = client.post(SCANS, json=body(gate), headers=headers).get_json()
    again = client.post(SCANS, json=body(gate), headers=headers).get_json()
    forged_answer = client.post(
        SCANS, json=body(gate, token=forged(gate["token"])), headers=headers
    ).get_json()
    batch = client.post(
        BATCH, json={"scans": [body(gate), {"nonce": "bad one"}]}, headers=headers
    ).get_json()
    bundle = client.get(f"{BUNDLE}?checkpoint=entrance", headers=headers).get_json()
    refused = client.post(SCANS, json=body(gate, checkpoint="roof"), headers=headers).get_json()
    anonymous = client.post(SCANS, json=body(gate)).get_json()

    answer_schema = documented(SCANS, "post", "200")
    for answer in (admitted, again, forged_answer):
        assert schema_problems(answer, answer_schema, document) == []
    assert schema_problems(batch, documented(BATCH, "post", "200"), document) == []
    assert schema_problems(bundle, documented(BUNDLE, "get", "200"), document) == []
    assert schema_problems(refused, documented(SCANS, "post", "422"), document) == []
    assert schema_problems(anonymous, documented(SCANS, "post", "401"), document) == []
    # The checker does catch what the schema forbids.
    admitted["result"] = "welcome"
    assert schema_problems(admitted, answer_schema, document) != []


def test_strangers_learn_nothing_even_without_a_congress(client, auth):
    assert_error(client.post(SCANS, json={}), 401, "unauthorized")
    auth.login_as(Role.ORGANISER)
    assert_error(client.post(SCANS, json={}), 404, "no_event")
