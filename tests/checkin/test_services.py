"""Check-in rules: each result and reason, their order, nonce idempotency, batches, the offline
bundle, gate devices, who may scan where, checkpoints, offline conflicts."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.auth.models import Role
from app.badges.services import badge_token, reissue_badge, revoke_badge
from app.checkin import services
from app.checkin.models import Admission, Checkpoint, CheckpointStaff, Scan
from app.checkin.services import CheckinAccessError, CheckinError, CheckpointDetails
from app.extensions import db as _db
from app.i18n.text import TranslatedText
from app.programme.models import SignupStatus
from app.registration.models import RegistrationStatus
from tests.badges.factories import make_badge
from tests.checkin.factories import (
    FIRST_MORNING,
    congress_day,
    forged,
    make_checkpoint,
    make_device,
    new_nonce,
    scan,
    token_for,
    token_of_another_key,
)
from tests.programme.factories import make_room, make_session, make_signup
from tests.registration.factories import count_rows, make_event, make_type


@pytest.fixture
def venue(db, make_user):
    """The congress, its entrance (once per day), a badge and an organiser."""
    event = make_event()
    organiser = make_user(roles=[Role.ORGANISER])
    entrance = make_checkpoint(event, "entrance", "Venue entrance")
    badge = make_badge(event, given_name="Ketut", family_name="Arsana", nationality="ID")
    db.session.commit()
    return {
        "event": event,
        "entrance": entrance,
        "badge": badge,
        "token": badge_token(badge),
        "organiser": _db.session.get(type(organiser), organiser.id),
    }


def _scan(venue, token=None, checkpoint=None, **kwargs):
    """Scan at the venue (the entrance, the organiser's scanner page, the first morning)."""
    kwargs.setdefault("user", venue["organiser"])
    return scan(venue["event"], token or venue["token"], checkpoint or venue["entrance"], **kwargs)


# --- results and reasons --------------------------------------------------------------------


def test_first_scan_admits_and_shows_the_delegate(venue):
    answer = _scan(venue)

    assert answer["result"] == "admitted"
    assert answer["reason"] is None
    assert answer["message"] == "Admitted."
    assert answer["delegate"]["name"] == venue["badge"].registration.badge_name
    assert answer["delegate"]["country"] == "ID"
    assert answer["delegate"]["country_name"] == "Indonesia"
    assert answer["delegate"]["badge_number"] == venue["badge"].number
    assert answer["checkpoint"] == {"code": "entrance", "name": "Venue entrance"}
    assert answer["first_admitted_at"] == FIRST_MORNING.isoformat()
    assert answer["first_admitted_at_checkpoint"] == "Venue entrance"
    assert count_rows(Admission) == 1
    stored = _db.session.scalar(select(Scan))
    assert stored.result == "admitted"
    assert stored.badge_id == venue["badge"].id
    assert stored.user_id == venue["organiser"].id
    assert stored.response == answer
    assert not stored.offline


def test_second_scan_the_same_day_is_already_admitted_with_the_first_time_and_gate(venue):
    _scan(venue)
    later = FIRST_MORNING + timedelta(hours=2)

    answer = _scan(venue, now=later)

    assert answer["result"] == "already_admitted"
    assert answer["reason"] is None
    assert answer["first_admitted_at"] == FIRST_MORNING.isoformat()
    assert answer["first_admitted_at_checkpoint"] == "Venue entrance"
    assert answer["message"] == "Already admitted today at 09:00, at Venue entrance."
    assert answer["delegate"]["badge_number"] == venue["badge"].number
    assert count_rows(Admission) == 1
    assert count_rows(Scan) == 2


def test_the_next_day_admits_again(venue):
    _scan(venue)

    answer = _scan(venue, now=congress_day(1))

    assert answer["result"] == "admitted"
    assert count_rows(Admission) == 2


def test_every_entry_admits_each_time_but_keeps_one_admission(venue):
    hall = make_checkpoint(
        venue["event"], "hall", "Plenary hall", kind="hall", entry_mode="every_entry"
    )

    first = _scan(venue, checkpoint=hall)
    second = _scan(venue, checkpoint=hall, now=FIRST_MORNING + timedelta(minutes=30))

    assert first["result"] == second["result"] == "admitted"
    assert second["first_admitted_at"] == FIRST_MORNING.isoformat()
    assert count_rows(Admission) == 1
    assert count_rows(Scan) == 2


@pytest.mark.parametrize(
    ("make_token", "reason"),
    [
        (lambda venue: "not a badge at all", "malformed"),
        (lambda venue: venue["token"][:-6], "malformed"),
        (lambda venue: venue["token"] + "A", "malformed"),
        (lambda venue: forged(venue["token"]), "bad_signature"),
        (lambda venue: token_of_another_key(venue["token"]), "bad_signature"),
        (lambda venue: token_for(venue["event"], venue["badge"], key_id=200), "unknown_key"),
        (
            lambda venue: token_for(venue["event"], venue["badge"], event_id=venue["event"].id + 1),
            "wrong_event",
        ),
        (lambda venue: token_for(venue["event"], None, badge_id=99_999), "unknown_badge"),
    ],
    ids=[
        "garbage",
        "truncated",
        "too long",
        "forged",
        "foreign key",
        "unknown key",
        "other event",
        "unknown badge",
    ],
)
def test_tokens_that_cannot_be_trusted_are_invalid(venue, make_token, reason):
    answer = _scan(venue, make_token(venue))

    assert answer["result"] == "invalid"
    assert answer["reason"] == reason
    assert answer["delegate"] is None
    assert answer["message"] == str(services.REASON_MESSAGES[reason])
    stored = _db.session.scalar(select(Scan))
    assert (stored.result, stored.reason, stored.badge_id) == ("invalid", reason, None)
    assert count_rows(Admission) == 0


def test_the_old_token_of_a_reissued_badge_is_revoked_and_the_new_one_admits(venue):
    old_token = venue["token"]
    reissue_badge(venue["badge"], actor=None)
    new_token = badge_token(venue["badge"])

    old = _scan(venue, old_token)
    new = _scan(venue, new_token)

    assert (old["result"], old["reason"]) == ("revoked", "old_version")
    assert old["delegate"]["name"] == venue["badge"].registration.badge_name
    assert new["result"] == "admitted"


def test_a_revoked_badge_is_revoked(venue):
    revoke_badge(venue["badge"], actor=None)

    answer = _scan(venue)

    assert (answer["result"], answer["reason"]) == ("revoked", "badge_revoked")
    assert count_rows(Admission) == 0


def test_a_registration_no_longer_confirmed_is_revoked(venue):
    venue["badge"].registration.status = RegistrationStatus.CANCELLED.value
    _db.session.flush()

    answer = _scan(venue)

    assert (answer["result"], answer["reason"]) == ("revoked", "registration_ended")


@pytest.mark.parametrize("moment", [congress_day(-1), congress_day(4), congress_day(0, hour=7)])
def test_a_day_outside_the_badge_is_not_allowed(venue, moment):
    # congress_day(0, 7) is 07:00 WITA on the first day: valid. The others are not.
    answer = _scan(venue, now=moment)

    if moment == congress_day(0, hour=7):
        assert answer["result"] == "admitted"
    else:
        assert (answer["result"], answer["reason"]) == ("not_allowed", "not_valid_today")


def test_the_day_is_the_venue_day_not_the_utc_day(venue):
    # 23:30 UTC on 13 April is 07:30 WITA on 14 April, the first day.
    answer = _scan(venue, now=congress_day(0, hour=7) - timedelta(minutes=30) + timedelta(hours=1))
    assert answer["result"] == "admitted"
    assert _db.session.scalar(select(Admission.day)).isoformat() == "2026-04-14"


def test_a_badge_valid_on_one_day_only_is_refused_on_the_others(venue):
    badge = venue["badge"]
    badge.valid_to = badge.valid_from
    _db.session.flush()
    token = badge_token(badge)

    assert _scan(venue, token)["result"] == "admitted"
    refused = _scan(venue, token, now=congress_day(1))
    assert (refused["result"], refused["reason"]) == ("not_allowed", "not_valid_today")


def test_a_refused_role_is_not_allowed(venue):
    closed = make_checkpoint(venue["event"], "closed-door", kind="hall", refused_roles=("press",))
    press = make_badge(venue["event"], make_type(venue["event"], "press", is_free=True))

    refused = _scan(venue, badge_token(press), closed)
    delegate = _scan(venue, venue["token"], closed)

    assert (refused["result"], refused["reason"]) == ("not_allowed", "role_refused")
    assert refused["message"] == "Press badges are not admitted here."
    assert delegate["result"] == "admitted"


def test_a_session_that_requires_signup_admits_only_confirmed_places(venue):
    event = venue["event"]
    session = make_session(event, requires_signup=True, capacity=10, room=make_room(event))
    door = make_checkpoint(event, "s-door", kind="session_door", session=session)
    waiting = make_badge(event)
    signed = make_badge(event)
    make_signup(session, signed.registration)
    make_signup(session, waiting.registration, SignupStatus.WAITLISTED)

    outsider = _scan(venue, venue["token"], door)
    on_the_list = _scan(venue, badge_token(waiting), door)
    admitted = _scan(venue, badge_token(signed), door)

    assert (outsider["result"], outsider["reason"]) == ("not_allowed", "not_signed_up")
    assert on_the_list["reason"] == "not_signed_up"
    assert admitted["result"] == "admitted"


def test_a_session_without_signup_admits_everyone(venue):
    session = make_session(venue["event"])
    door = make_checkpoint(venue["event"], "open-door", kind="session_door", session=session)

    assert _scan(venue, checkpoint=door)["result"] == "admitted"


def test_a_closed_checkpoint_is_not_allowed(venue):
    closed = make_checkpoint(venue["event"], "annex", active=False)

    answer = _scan(venue, checkpoint=closed)

    assert (answer["result"], answer["reason"]) == ("not_allowed", "checkpoint_closed")
    assert count_rows(Admission) == 0


def test_rules_apply_in_order(venue):
    """A revoked badge at a closed door is "revoked"; a forged one there is "invalid"."""
    closed = make_checkpoint(venue["event"], "annex", active=False, refused_roles=("delegate",))
    forged_answer = _scan(venue, forged(venue["token"]), closed)
    refused_role = _scan(venue, venue["token"], closed)
    revoke_badge(venue["badge"], actor=None)
    revoked_answer = _scan(venue, venue["token"], closed)

    assert forged_answer["result"] == "invalid"
    assert refused_role["reason"] == "role_refused"
    assert revoked_answer["result"] == "revoked"


# --- nonces and bad input -------------------------------------------------------------------


def test_the_same_nonce_twice_returns_the_same_answer_and_writes_nothing(venue, count_queries):
    first = _scan(venue, nonce="phone1-0001")
    _db.session.commit()

    with count_queries() as counter:
        again = _scan(venue, nonce="phone1-0001", now=FIRST_MORNING + timedelta(hours=1))
    # Even another badge under the same nonce gets the stored answer: the nonce names the scan.
    other = _scan(venue, badge_token(make_badge(venue["event"])), nonce="phone1-0001")

    assert again == first == other
    assert again["result"] == "admitted"
    assert count_rows(Scan) == 1
    assert count_rows(Admission) == 1
    writes = [s for s in counter.statements if s.lstrip().upper().startswith(("INSERT", "UPDATE"))]
    assert writes == []


def test_a_racing_copy_of_the_same_scan_is_caught_by_the_nonce_key(venue, monkeypatch):
    """When the twin's row appears between the look-up and the insert, the stored answer is
    returned and the caller's transaction stays usable (on SQLite too)."""
    first = _scan(venue, nonce="race-1")
    _db.session.commit()
    real_lookup = services._stored_answer
    calls = []

    def missing_twice(nonce, event):
        """The look-ups before the insert miss the row, as if the twin had not committed."""
        calls.append(nonce)
        return None if len(calls) <= 2 else real_lookup(nonce, event)

    monkeypatch.setattr(services, "_stored_answer", missing_twice)
    again = _scan(venue, nonce="race-1")
    _db.session.commit()

    assert again == first
    assert len(calls) == 3
    assert count_rows(Scan) == 1
    assert count_rows(Admission) == 1


def test_a_racing_admission_is_caught_by_the_admission_key(venue, monkeypatch):
    """When another gate's admission appears between the look-up and the insert (no row lock
    on SQLite), the admission key refuses the second one: "already admitted", stored so."""
    _scan(venue)
    _db.session.commit()
    real_lookup = services._first_admission
    calls = []

    def missing_once(*args):
        """The first look-up misses the admission, as if the other gate had not committed."""
        calls.append(args)
        return None if len(calls) == 1 else real_lookup(*args)

    monkeypatch.setattr(services, "_first_admission", missing_once)
    answer = _scan(venue, nonce="late-gate")
    _db.session.commit()

    assert answer["result"] == "already_admitted"
    assert answer["first_admitted_at"] == FIRST_MORNING.isoformat()
    stored = _db.session.scalar(select(Scan).where(Scan.nonce == "late-gate"))
    assert stored.result == "already_admitted"
    assert stored.response == answer
    assert count_rows(Admission) == 1
    assert count_rows(Scan) == 2


@pytest.mark.parametrize(
    ("changes", "code", "field"),
    [
        ({"nonce": ""}, "invalid_nonce", "nonce"),
        ({"nonce": "x" * 65}, "invalid_nonce", "nonce"),
        ({"nonce": "has space"}, "invalid_nonce", "nonce"),
        ({"checkpoint_code": "nowhere"}, "unknown_checkpoint", "checkpoint"),
        ({"checkpoint_code": ""}, "invalid_checkpoint", "checkpoint"),
        ({"token": ""}, "invalid_token_field", "token"),
        ({"client_result": "maybe"}, "invalid_client_result", "client_result"),
        ({"scanned_at": "yesterday"}, "invalid_scanned_at", "scanned_at"),
        ({"scanned_at": "2026-04-14T09:00:00"}, "invalid_scanned_at", "scanned_at"),
        ({"scanned_at": "2026-04-14T09:00:00+08:00"}, "scanned_in_future", "scanned_at"),
    ],
)
def test_bad_input_is_refused_and_records_nothing(venue, changes, code, field):
    values = {
        "token": venue["token"],
        "checkpoint_code": "entrance",
        "nonce": new_nonce(),
        "scanned_at": None,
        "device": None,
        "user": venue["organiser"],
        "now": FIRST_MORNING - timedelta(hours=1),
        **changes,
    }

    with pytest.raises(CheckinError) as refused:
        services.record_scan(venue["event"], **values)

    assert (refused.value.code, refused.value.field) == (code, field)
    assert count_rows(Scan) == 0


# --- offline scans and conflicts ------------------------------------------------------------


def test_an_offline_double_admission_is_a_conflict_with_both_gates(venue):
    event = venue["event"]
    gate_a, _token = make_device(event, "Gate A phone")
    gate_b, _token = make_device(event, "Gate B phone")
    _scan(
        venue,
        device=gate_a,
        scanned_at=FIRST_MORNING,
        client_result="admitted",
        now=FIRST_MORNING + timedelta(minutes=20),
    )
    late = _scan(
        venue,
        device=gate_b,
        scanned_at=FIRST_MORNING + timedelta(minutes=5),
        client_result="admitted",
        now=FIRST_MORNING + timedelta(minutes=30),
    )
    # Refused offline and refused here: no conflict.
    _scan(venue, forged(venue["token"]), device=gate_b, client_result="invalid")

    found = services.conflicts(event)

    assert late["result"] == "already_admitted"
    assert len(found) == 1
    conflict = found[0]
    assert conflict.scan.device.name == "Gate B phone"
    assert conflict.scan.offline
    assert conflict.admission.scan.device.name == "Gate A phone"
    assert services.as_utc(conflict.admission.admitted_at) == FIRST_MORNING
    assert services.as_utc(conflict.scan.scanned_at) == FIRST_MORNING + timedelta(minutes=5)


# --- batches --------------------------------------------------------------------------------


def _item(venue, token=None, **changes):
    """One scan as the batch endpoint receives it."""
    return {
        "token": token or venue["token"],
        "checkpoint": "entrance",
        "nonce": new_nonce(),
        "scanned_at": (FIRST_MORNING - timedelta(minutes=10)).isoformat(),
        "client_result": "admitted",
        **changes,
    }


def test_a_batch_answers_each_scan_in_order_and_a_bad_item_spoils_nothing(venue):
    event = venue["event"]
    annex = make_checkpoint(event, "annex")
    device, _token = make_device(event, checkpoint=venue["entrance"])
    other = make_badge(event)
    items = [
        _item(venue),
        {"token": venue["token"], "checkpoint": "entrance"},  # no nonce
        _item(venue, badge_token(other), checkpoint="annex"),  # not this device's door
        "not an object",
        _item(venue, badge_token(other)),
        _item(venue, checkpoint="nowhere", nonce="lost-1"),
    ]

    results = services.record_scans(event, items, device=device, user=None, now=FIRST_MORNING)

    assert [r.get("result") for r in results] == ["admitted", None, None, None, "admitted", None]
    assert results[1]["error"]["code"] == "invalid_nonce"
    assert results[2]["error"]["code"] == "wrong_checkpoint"
    assert results[2]["nonce"] == items[2]["nonce"]
    assert results[3]["error"]["code"] == "invalid_scan"
    assert results[5] == {
        "error": {
            "code": "unknown_checkpoint",
            "message": "There is no checkpoint with the code “nowhere”.",
            "field": "checkpoint",
        },
        "nonce": "lost-1",
    }
    assert count_rows(Scan) == 2
    assert all(scan.offline for scan in _db.session.scalars(select(Scan)))
    assert annex.id is not None


def test_a_batch_admits_the_earliest_of_one_badges_scans(venue):
    late = _item(venue, scanned_at=(FIRST_MORNING - timedelta(minutes=1)).isoformat())
    early = _item(venue, scanned_at=(FIRST_MORNING - timedelta(minutes=30)).isoformat())

    results = services.record_scans(
        venue["event"], [late, early], device=None, user=venue["organiser"], now=FIRST_MORNING
    )

    assert [r["result"] for r in results] == ["already_admitted", "admitted"]
    assert results[0]["first_admitted_at"] == early["scanned_at"].replace("+00:00", "+00:00")


def test_a_batch_repeated_records_nothing_new(venue):
    items = [_item(venue), _item(venue, badge_token(make_badge(venue["event"])))]
    first = services.record_scans(
        venue["event"], items, device=None, user=venue["organiser"], now=FIRST_MORNING
    )
    again = services.record_scans(
        venue["event"],
        items,
        device=None,
        user=venue["organiser"],
        now=FIRST_MORNING + timedelta(minutes=5),
    )

    assert again == first
    assert count_rows(Scan) == 2


@pytest.mark.parametrize(
    ("scans", "code"),
    [("nope", "invalid_batch"), (None, "invalid_batch"), ([{}] * 501, "batch_too_large")],
)
def test_a_batch_that_is_not_a_list_of_at_most_500_is_refused(venue, scans, code):
    with pytest.raises(CheckinError) as refused:
        services.record_scans(venue["event"], scans, device=None, user=venue["organiser"])
    assert refused.value.code == code


# --- who may scan where ---------------------------------------------------------------------


def test_who_may_scan_where(venue, make_user):
    event = venue["event"]
    entrance = venue["entrance"]
    hall = make_checkpoint(event, "hall", kind="hall")
    clerk = make_user(roles=[Role.GATE_STAFF])
    services.assign_staff(entrance, [clerk.id], actor=None)
    delegate = make_user(roles=[Role.DELEGATE])
    anywhere, _token = make_device(event, "Roaming phone")
    bound, _token = make_device(event, "Hall phone", checkpoint=hall)
    clerk = _db.session.get(type(clerk), clerk.id)
    delegate = _db.session.get(type(delegate), delegate.id)

    def allowed(checkpoint, **who):
        try:
            services.check_scanner_access(
                checkpoint, device=who.get("device"), user=who.get("user")
            )
        except CheckinAccessError:
            return False
        return True

    assert allowed(entrance, user=clerk)
    assert not allowed(hall, user=clerk)
    assert allowed(hall, user=venue["organiser"])
    assert not allowed(entrance, user=delegate)
    assert not allowed(entrance)
    assert allowed(entrance, device=anywhere)
    assert allowed(hall, device=anywhere)
    assert allowed(hall, device=bound)
    assert not allowed(entrance, device=bound)
    services.revoke_device(anywhere, actor=None)
    assert not allowed(entrance, device=anywhere)
    assert [cp.code for cp in services.scanner_checkpoints(event, clerk)] == ["entrance"]
    assert [cp.code for cp in services.scanner_checkpoints(event, venue["organiser"])] == [
        "entrance",
        "hall",
    ]


def test_a_scan_where_the_scanner_may_not_scan_is_refused_and_not_recorded(venue, make_user):
    clerk = make_user(roles=[Role.GATE_STAFF])
    clerk = _db.session.get(type(clerk), clerk.id)

    with pytest.raises(CheckinAccessError) as refused:
        _scan(venue, user=clerk)

    assert refused.value.code == "not_assigned"
    assert refused.value.status_code == 403
    assert count_rows(Scan) == 0


# --- gate devices ---------------------------------------------------------------------------


def test_a_device_token_is_shown_once_and_only_its_hash_is_kept(venue):
    device, token = services.issue_device(
        venue["event"], "  Entrance phone 1 ", actor=venue["organiser"]
    )

    assert len(token) >= 43
    assert device.name == "Entrance phone 1"
    assert device.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert device.token_hint == token[:6]
    assert token not in json.dumps(
        {c.name: str(getattr(device, c.name)) for c in device.__table__.columns}
    )
    assert device.issued_by_id == venue["organiser"].id
    assert services.authenticate_device(token) is device
    assert device.last_seen_at is not None
    assert services.authenticate_device(token[:-1] + ("A" if token[-1] != "A" else "B")) is None
    assert services.authenticate_device("") is None
    assert services.authenticate_device("x" * 1000) is None
    services.revoke_device(device, actor=venue["organiser"])
    assert services.authenticate_device(token) is None


def test_issuing_a_device_needs_a_name_and_an_organiser(venue, make_user):
    with pytest.raises(CheckinError) as unnamed:
        services.issue_device(venue["event"], "  ", actor=None)
    clerk = make_user(roles=[Role.GATE_STAFF])
    with pytest.raises(CheckinAccessError):
        services.issue_device(venue["event"], "Phone", actor=_db.session.get(type(clerk), clerk.id))
    assert unnamed.value.field == "name"


# --- checkpoints ----------------------------------------------------------------------------


def _details(**changes):
    """Valid checkpoint details."""
    values = {"code": "hall", "name": TranslatedText(en="Plenary hall"), "kind": "hall", **changes}
    return CheckpointDetails(**values)


@pytest.mark.parametrize(
    ("changes", "code", "field"),
    [
        ({"code": "Entrance"}, "code_taken", "code"),
        ({"code": "has space"}, "invalid_code", "code"),
        ({"code": "x" * 33}, "invalid_code", "code"),
        ({"name": TranslatedText()}, "required", "name"),
        ({"kind": "roof"}, "invalid_kind", "kind"),
        ({"entry_mode": "sometimes"}, "invalid_entry_mode", "entry_mode"),
        ({"kind": "session_door"}, "session_required", "session_id"),
        ({"kind": "session_door", "session_id": 99_999}, "session_required", "session_id"),
        ({"refused_roles": ("vip",)}, "invalid_roles", "refused_roles"),
    ],
)
def test_checkpoint_details_are_checked(venue, changes, code, field):
    with pytest.raises(CheckinError) as refused:
        services.create_checkpoint(venue["event"], _details(**changes), actor=None)
    assert (refused.value.code, refused.value.field) == (code, field)
    # The transaction is still usable, and holds only the venue's entrance.
    assert count_rows(Checkpoint) == 1


def test_a_code_is_unique_per_event_only(venue):
    other = make_event(slug="other-congress", short_name="Other")
    make_checkpoint(other, "entrance")
    assert count_rows(Checkpoint) == 2


def test_renaming_to_a_taken_code_is_refused_and_keeps_the_old_code(venue):
    hall = services.create_checkpoint(venue["event"], _details(), actor=None)

    with pytest.raises(CheckinError) as refused:
        services.update_checkpoint(hall, _details(code="entrance"), actor=None)

    assert refused.value.code == "code_taken"
    assert _db.session.get(Checkpoint, hall.id).code == "hall"


def test_a_session_door_must_lead_to_a_session_of_the_event(venue):
    other = make_event(slug="other-congress", short_name="Other")
    foreign = make_session(other)
    with pytest.raises(CheckinError):
        services.create_checkpoint(
            venue["event"], _details(kind="session_door", session_id=foreign.id), actor=None
        )
    own = make_session(venue["event"])
    door = services.create_checkpoint(
        venue["event"], _details(code="s-1", kind="session_door", session_id=own.id), actor=None
    )
    assert door.session is own
    # A door turned into a hall forgets its session.
    services.update_checkpoint(door, _details(code="s-1"), actor=None)
    assert door.session_id is None


def test_only_gate_staff_can_be_assigned(venue, make_user):
    clerk = make_user(roles=[Role.GATE_STAFF])
    other_clerk = make_user(roles=[Role.GATE_STAFF])
    organiser = venue["organiser"]
    entrance = venue["entrance"]

    with pytest.raises(CheckinError) as refused:
        services.assign_staff(entrance, [clerk.id, organiser.id], actor=None)
    services.assign_staff(entrance, [clerk.id], actor=None)
    services.update_checkpoint(
        entrance,
        _details(code="entrance", kind="entrance", staff_ids=(other_clerk.id,)),
        actor=None,
    )

    assert refused.value.field == "staff_ids"
    assert list(_db.session.scalars(select(CheckpointStaff.user_id))) == [other_clerk.id]


def test_a_checkpoint_with_scans_cannot_be_deleted(venue):
    hall = services.create_checkpoint(venue["event"], _details(), actor=None)
    _scan(venue)

    with pytest.raises(CheckinError) as refused:
        services.delete_checkpoint(venue["entrance"], actor=None)
    services.delete_checkpoint(hall, actor=None)

    assert refused.value.code == "has_scans"
    assert [cp.code for cp in _db.session.scalars(select(Checkpoint))] == ["entrance"]


# --- the offline bundle ---------------------------------------------------------------------


def test_the_bundle_has_what_a_scanner_needs_and_no_contact_data(venue):
    event = venue["event"]
    session = make_session(event, requires_signup=True, capacity=20)
    door = make_checkpoint(event, "s-door", kind="session_door", session=session)
    reissued = make_badge(event, email="reissued@probation.example")
    reissue_badge(reissued, actor=None)
    withdrawn = make_badge(event)
    revoke_badge(withdrawn, actor=None)
    cancelled = make_badge(event)
    cancelled.registration.status = RegistrationStatus.CANCELLED.value
    make_signup(session, reissued.registration)
    _scan(venue, checkpoint=door)  # refused: not signed up
    _scan(venue, badge_token(reissued), door)
    _db.session.flush()

    bundle = services.offline_bundle(event, door, now=FIRST_MORNING)

    assert bundle["event"] == {
        "id": event.id,
        "timezone": "Asia/Makassar",
        "starts_on": "2026-04-14",
        "ends_on": "2026-04-17",
    }
    assert bundle["checkpoint"]["code"] == "s-door"
    assert bundle["checkpoint"]["session"]["requires_signup"] is True
    assert bundle["public_keys"]
    assert set(bundle["public_keys"][0]) == {"key_id", "public_key"}
    assert {badge["id"] for badge in bundle["badges"]} == {
        venue["badge"].id,
        reissued.id,
        withdrawn.id,
        cancelled.id,
    }
    by_id = {badge["id"]: badge for badge in bundle["badges"]}
    assert set(by_id[reissued.id]) == {
        "id",
        "version",
        "number",
        "name",
        "country",
        "country_name",
        "category",
        "organisation",
        "role",
        "registration_confirmed",
    }
    assert by_id[reissued.id]["version"] == 2
    assert by_id[cancelled.id]["registration_confirmed"] is False
    assert sorted(bundle["revoked"], key=lambda item: item["badge_id"]) == [
        {"badge_id": reissued.id, "below_version": 2, "whole_badge": False},
        {"badge_id": withdrawn.id, "below_version": 1, "whole_badge": True},
    ]
    assert bundle["signed_up_badge_ids"] == [reissued.id]
    assert bundle["admitted"] == [
        {"badge_id": reissued.id, "day": "2026-04-14", "admitted_at": FIRST_MORNING.isoformat()}
    ]
    text = json.dumps(bundle)
    registration = reissued.registration
    for private in ("reissued@probation.example", registration.phone, "passport", "email", "phone"):
        assert private not in text
    # A door without sign-up gives no list.
    assert services.offline_bundle(event, venue["entrance"])["signed_up_badge_ids"] is None


def test_the_bundle_takes_the_same_queries_for_3_or_30_badges(venue, count_queries):
    event = venue["event"]
    for _number in range(2):
        make_badge(event)
    _db.session.commit()
    _db.session.expire_all()
    with count_queries() as few:
        services.offline_bundle(event, venue["entrance"])
    for _number in range(27):
        make_badge(event)
    _db.session.commit()
    _db.session.expire_all()
    with count_queries() as many:
        bundle = services.offline_bundle(event, venue["entrance"])

    assert len(bundle["badges"]) == 30
    assert many.count == few.count
