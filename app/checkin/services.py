"""Check-in rules: scanning a badge at a checkpoint (idempotent per nonce, one admission per
badge, checkpoint and day, even under many gates at once), offline uploads, what an offline
scanner needs, gate devices and their bearer tokens, checkpoints and their staff, and the
conflicts offline scanners caused.

Functions take model objects or plain values and an explicit actor; they add and flush, the
caller commits (one transaction per request).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_time
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from app.audit import services as audit
from app.auth.models import Role, User, UserRole
from app.badges.models import Badge, BadgeRole
from app.badges.services import holder, holders, public_keys, verify_token
from app.badges.tokens import InvalidToken, read_header
from app.checkin.models import (
    Admission,
    Checkpoint,
    CheckpointKind,
    CheckpointStaff,
    EntryMode,
    GateDevice,
    Scan,
    ScanResult,
)
from app.errors import DomainError, api_error_body
from app.events.models import Event
from app.extensions import db
from app.i18n.text import TranslatedText
from app.programme.models import ProgrammeSession, SessionSignup, SignupStatus
from app.registration.models import Registration, RegistrationStatus
from app.validation import clean_text

# A nonce is the scanner's own id for one scan: short, URL-safe, unique.
NONCE_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,64}")
# Checkpoint codes are what scanners send: lower-case letters, digits and hyphens.
CODE_PATTERN = re.compile(r"[a-z0-9][a-z0-9-]{0,31}")
MAX_CHECKPOINT_CODE = 32
MAX_TOKEN_LENGTH = 512
MAX_BATCH = 500
MAX_DEVICE_NAME = 100
MAX_BEARER_TOKEN = 200
DEVICE_TOKEN_BYTES = 32
DEVICE_HINT_LENGTH = 6
# A phone's clock may run a little fast; a scan dated further ahead is junk, not a scan.
CLOCK_SKEW = timedelta(minutes=5)
# A scan that reaches the server this much after it was made was queued offline.
OFFLINE_LAG = timedelta(minutes=1)
# last_seen_at is written at most this often: a device's every scan must not rewrite its row.
SEEN_INTERVAL = timedelta(minutes=1)
SCANNER_ROLES = (Role.GATE_STAFF, Role.ORGANISER, Role.ADMIN)
ORGANISER_ROLES = (Role.ORGANISER, Role.ADMIN)
RESULTS = tuple(result.value for result in ScanResult)

# Why a scan was refused: the machine code in the answer and the sentence on the gate's screen.
REASON_MESSAGES = {
    "malformed": _l("This is not a Kongres badge code, or part of it is missing."),
    "bad_signature": _l("This badge code is forged or damaged: its signature does not match."),
    "unknown_key": _l("This badge was signed with a key this congress does not know."),
    "wrong_event": _l("This badge belongs to another event."),
    "unknown_badge": _l("No such badge has been issued."),
    "old_version": _l("This badge has been replaced by a newer one: it no longer opens doors."),
    "badge_revoked": _l("This badge has been withdrawn."),
    "registration_ended": _l("This registration is no longer confirmed."),
    "not_valid_today": _l("This badge is not valid today."),
    "role_refused": _l("%(role)s badges are not admitted here."),
    "not_signed_up": _l("This delegate has not signed up for this session."),
    "checkpoint_closed": _l("This checkpoint is closed."),
}
# verify_token's refusals that mean the token itself cannot be trusted or found.
INVALID_REASONS = frozenset(
    {"malformed", "bad_signature", "unknown_key", "wrong_event", "unknown_badge"}
)


class CheckinError(DomainError):
    """A check-in rule refused the request (422 at the API)."""


class CheckinAccessError(CheckinError):
    """The device or person may not scan here (403 at the API)."""

    status_code = 403


# --- small helpers --------------------------------------------------------------------------


def utc_now() -> datetime:
    """The current moment in UTC."""
    return datetime.now(UTC)


def as_utc(moment: datetime) -> datetime:
    """A stored moment as aware UTC (SQLite gives naive values, which are UTC)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def iso(moment: datetime | None) -> str | None:
    """A moment as ISO-8601 in UTC, for JSON."""
    return as_utc(moment).isoformat() if moment is not None else None


def event_zone_of(event: Event) -> ZoneInfo:
    """The event's time zone."""
    return ZoneInfo(event.timezone)


def event_day(event: Event, moment: datetime) -> date:
    """The calendar day at the venue at a moment."""
    return as_utc(moment).astimezone(event_zone_of(event)).date()


def day_bounds(event: Event, day: date) -> tuple[datetime, datetime]:
    """The UTC moments a venue day starts and ends (the end excluded)."""
    zone = event_zone_of(event)
    start = datetime.combine(day, datetime.min.time(), tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=zone)
    return start.astimezone(UTC), end.astimezone(UTC)


def _hash_token(token: str) -> str:
    """The SHA-256 of a device token, hex: what is stored and looked up."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _check_organiser(actor: User | None) -> None:
    """Refuse an organisers' action to anyone else (None is the system itself)."""
    if actor is not None and not actor.has_role(*ORGANISER_ROLES):
        raise CheckinAccessError(_l("Only the organisers can do this."), "organisers_only")


# --- reading a scan -------------------------------------------------------------------------


@dataclass(frozen=True)
class ScanRequest:
    """One scan as a scanner sends it, its fields checked."""

    token: str
    checkpoint: str
    nonce: str
    scanned_at: datetime | None
    client_result: str | None


def clean_nonce(value: object) -> str:
    """The scanner's id for a scan: 1–64 characters of letters, digits, "-" and "_"."""
    if not isinstance(value, str) or not NONCE_PATTERN.fullmatch(value):
        raise CheckinError(
            _l("The nonce must be 1 to 64 letters, digits, hyphens or underscores."),
            "invalid_nonce",
            field="nonce",
        )
    return value


def clean_client_result(value: object) -> str | None:
    """What an offline scanner showed: one of the scan results, or nothing."""
    if value is None:
        return None
    if not isinstance(value, str) or value not in RESULTS:
        raise CheckinError(
            _l("client_result must be one of: %(results)s.", results=", ".join(RESULTS)),
            "invalid_client_result",
            field="client_result",
        )
    return value


def clean_scanned_at(value: object) -> datetime | None:
    """When an offline scan was made: ISO-8601 with its UTC offset, or nothing (now)."""
    if value is None:
        return None
    moment = None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str) and len(value) <= 40:
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            moment = None
    if moment is None or moment.tzinfo is None:
        raise CheckinError(
            _l("scanned_at must be an ISO-8601 time with its offset, e.g. 2026-04-14T08:30:00Z."),
            "invalid_scanned_at",
            field="scanned_at",
        )
    return moment.astimezone(UTC)


def _clean_token(value: object) -> str:
    """The scanned text: any non-empty string (a garbled one is answered "invalid")."""
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_TOKEN_LENGTH:
        raise CheckinError(
            _l(
                "token must be the text read from the badge (at most %(max)d characters).",
                max=MAX_TOKEN_LENGTH,
            ),
            "invalid_token_field",
            field="token",
        )
    return value.strip()


def _clean_checkpoint_code(value: object) -> str:
    """A checkpoint code as sent (looked up later)."""
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_CHECKPOINT_CODE:
        raise CheckinError(
            _l("checkpoint must be a checkpoint's code."), "invalid_checkpoint", field="checkpoint"
        )
    return value.strip()


def read_scan_request(payload: object) -> ScanRequest:
    """A scan from the API's JSON object; CheckinError names the first bad field."""
    if not isinstance(payload, Mapping):
        raise CheckinError(_l("Each scan must be a JSON object."), "invalid_scan")
    return ScanRequest(
        token=_clean_token(payload.get("token")),
        checkpoint=_clean_checkpoint_code(payload.get("checkpoint")),
        nonce=clean_nonce(payload.get("nonce")),
        scanned_at=clean_scanned_at(payload.get("scanned_at")),
        client_result=clean_client_result(payload.get("client_result")),
    )


# --- who may scan where ---------------------------------------------------------------------


def checkpoint_by_code(event: Event, code: str) -> Checkpoint:
    """The event's checkpoint with this code, or CheckinError (unknown_checkpoint)."""
    checkpoint = db.session.scalar(
        select(Checkpoint)
        .where(Checkpoint.event_id == event.id, Checkpoint.code == code.strip().lower())
        .options(joinedload(Checkpoint.session))
    )
    if checkpoint is None:
        raise CheckinError(
            _l("There is no checkpoint with the code “%(code)s”.", code=code),
            "unknown_checkpoint",
            field="checkpoint",
        )
    return checkpoint


def is_assigned(checkpoint: Checkpoint, user: User) -> bool:
    """Whether a gate clerk is assigned to the checkpoint."""
    return bool(
        db.session.scalar(
            select(
                exists().where(
                    CheckpointStaff.checkpoint_id == checkpoint.id,
                    CheckpointStaff.user_id == user.id,
                )
            )
        )
    )


def check_scanner_access(
    checkpoint: Checkpoint, *, device: GateDevice | None, user: User | None
) -> None:
    """Refuse (CheckinAccessError) a device or person who may not scan at the checkpoint.

    Devices scan at any checkpoint of their event, or only their own when they have one;
    organisers and admins anywhere; gate staff where they are assigned.
    """
    if device is not None:
        if device.revoked_at is not None or device.event_id != checkpoint.event_id:
            raise CheckinAccessError(_l("This device may not scan for this event."), "forbidden")
        if device.checkpoint_id is not None and device.checkpoint_id != checkpoint.id:
            raise CheckinAccessError(
                _l("This device scans only at its own checkpoint."), "wrong_checkpoint"
            )
        return
    if user is not None and user.has_role(*ORGANISER_ROLES):
        return
    if user is not None and user.has_role(Role.GATE_STAFF) and is_assigned(checkpoint, user):
        return
    raise CheckinAccessError(_l("You are not assigned to this checkpoint."), "not_assigned")


def scanner_checkpoints(event: Event, user: User) -> list[Checkpoint]:
    """The checkpoints a person may scan at: all for organisers, the assigned ones otherwise."""
    query = select(Checkpoint).where(Checkpoint.event_id == event.id)
    if not user.has_role(*ORGANISER_ROLES):
        query = query.join(CheckpointStaff).where(CheckpointStaff.user_id == user.id)
    return list(db.session.scalars(query.order_by(Checkpoint.code)))


# --- scanning -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    """What the rules say about a scan before admission is counted."""

    result: ScanResult
    reason: str | None
    badge: Badge | None = None
    token_version: int | None = None


def _stored_answer(nonce: str, event: Event) -> dict[str, Any] | None:
    """The answer a scan with this nonce already got, or None when the nonce is new."""
    scan = db.session.scalar(select(Scan).where(Scan.nonce == nonce))
    if scan is None:
        return None
    if scan.event_id != event.id:
        raise CheckinError(
            _l("This nonce was already used for another event's scan."),
            "nonce_taken",
            field="nonce",
        )
    return dict(scan.response)


def _lock_badge(event: Event, token: str) -> None:
    """Lock the scanned badge's row until the transaction ends, and reload it.

    Scans of one badge then run one after the other (50 gates at once give one admission),
    and a reissue or revocation made meanwhile is seen. Scans of different badges do not wait
    for each other. SQLite ignores the lock: it writes one transaction at a time anyway.
    """
    try:
        header = read_header(token)
    except InvalidToken:
        return
    if header.event_id != event.id:
        return
    db.session.scalars(
        select(Badge)
        .where(Badge.id == header.badge_id, Badge.event_id == event.id)
        .options(
            joinedload(Badge.registration).joinedload(Registration.registration_type),
            joinedload(Badge.registration).joinedload(Registration.partner),
        )
        .with_for_update(of=Badge, key_share=True)
        .execution_options(populate_existing=True)
    ).unique().all()


def _is_signed_up(session_id: int, registration_id: int) -> bool:
    """Whether the registration holds a confirmed place in the session."""
    return bool(
        db.session.scalar(
            select(
                exists().where(
                    SessionSignup.session_id == session_id,
                    SessionSignup.registration_id == registration_id,
                    SessionSignup.status == SignupStatus.CONFIRMED.value,
                )
            )
        )
    )


def _judge(event: Event, checkpoint: Checkpoint, token: str, scanned_at: datetime) -> Verdict:
    """Apply the door's rules in order, up to (not including) counting the admission."""
    badge, header, reason = verify_token(event, token)
    version = header.version if header is not None else None
    if reason in INVALID_REASONS or badge is None:
        return Verdict(ScanResult.INVALID, reason or "unknown_badge", None, version)
    if reason is not None:
        return Verdict(ScanResult.REVOKED, reason, badge, version)
    if badge.registration.status != RegistrationStatus.CONFIRMED.value:
        return Verdict(ScanResult.REVOKED, "registration_ended", badge, version)
    offset = (event_day(event, scanned_at) - event.starts_on).days
    if not 0 <= offset < 8 or not header.valid_day_mask & (1 << offset):
        return Verdict(ScanResult.NOT_ALLOWED, "not_valid_today", badge, version)
    if badge.role in (checkpoint.refused_roles or []):
        return Verdict(ScanResult.NOT_ALLOWED, "role_refused", badge, version)
    session = checkpoint.session
    if (
        checkpoint.kind == CheckpointKind.SESSION_DOOR.value
        and session is not None
        and session.requires_signup
        and not _is_signed_up(session.id, badge.registration_id)
    ):
        return Verdict(ScanResult.NOT_ALLOWED, "not_signed_up", badge, version)
    if not checkpoint.active:
        return Verdict(ScanResult.NOT_ALLOWED, "checkpoint_closed", badge, version)
    return Verdict(ScanResult.ADMITTED, None, badge, version)


def _first_admission(checkpoint_id: int, badge_id: int, day: date) -> Admission | None:
    """The badge's admission at the checkpoint on a day, if any."""
    return db.session.scalar(
        select(Admission)
        .where(
            Admission.checkpoint_id == checkpoint_id,
            Admission.badge_id == badge_id,
            Admission.day == day,
        )
        .options(joinedload(Admission.checkpoint))
        .execution_options(populate_existing=True)
    )


def _message(
    result: ScanResult, reason: str | None, badge: Badge | None, first: Any, zone: ZoneInfo
) -> str:
    """The sentence the gate's screen shows, in the request's language."""
    if reason == "role_refused" and badge is not None:
        return _("%(role)s badges are not admitted here.", role=BadgeRole(badge.role).label)
    if reason is not None:
        return str(REASON_MESSAGES.get(reason, REASON_MESSAGES["malformed"]))
    if result is ScanResult.ALREADY_ADMITTED and first is not None:
        return _(
            "Already admitted today at %(time)s, at %(checkpoint)s.",
            time=format_time(
                as_utc(first.admitted_at).astimezone(zone), "HH:mm", locale=get_locale()
            ),
            checkpoint=first.checkpoint.name.get(),
        )
    return _("Admitted.")


def _answer(
    *,
    verdict: Verdict,
    result: ScanResult,
    checkpoint: Checkpoint,
    nonce: str,
    scanned_at: datetime,
    first: Admission | None,
) -> dict[str, Any]:
    """The API's answer for a scan (also stored, so that a repeated nonce gets it again)."""
    badge = verdict.badge
    delegate = None
    if badge is not None:
        shown = holder(badge)
        delegate = {
            "name": shown.name,
            "country": shown.country,
            "country_name": shown.country_name,
            "category": shown.category,
            "organisation": shown.organisation,
            "badge_number": shown.number,
            "role": str(shown.role),
        }
    return {
        "result": result.value,
        "reason": verdict.reason,
        "message": _message(result, verdict.reason, badge, first, event_zone_of(checkpoint.event)),
        "delegate": delegate,
        "first_admitted_at": iso(first.admitted_at) if first is not None else None,
        "first_admitted_at_checkpoint": first.checkpoint.name.get() if first is not None else None,
        "checkpoint": {"code": checkpoint.code, "name": checkpoint.name.get()},
        "nonce": nonce,
        "scanned_at": iso(scanned_at),
    }


def record_scan(
    event: Event,
    *,
    token: str,
    checkpoint_code: str,
    nonce: str,
    scanned_at: datetime | None,
    device: GateDevice | None,
    user: User | None,
    client_result: str | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Judge a scanned badge at a checkpoint, store the scan with its answer, return the answer.

    Idempotent per nonce: the same nonce again returns the stored answer and writes nothing.
    Once-per-day doors admit a badge once a day: the admission row's key decides, inside a
    savepoint, so that two gates at the same moment give one admission and one
    "already_admitted".
    """
    request = ScanRequest(
        token=_clean_token(token),
        checkpoint=_clean_checkpoint_code(checkpoint_code),
        nonce=clean_nonce(nonce),
        scanned_at=clean_scanned_at(scanned_at),
        client_result=clean_client_result(client_result),
    )
    checkpoint = checkpoint_by_code(event, request.checkpoint)
    check_scanner_access(checkpoint, device=device, user=user)
    return _record(event, checkpoint, request, device=device, user=user, now=now)


def _record(
    event: Event,
    checkpoint: Checkpoint,
    request: ScanRequest,
    *,
    device: GateDevice | None,
    user: User | None,
    now: datetime | None,
) -> dict[str, Any]:
    """record_scan once the request is read and the scanner may scan at the checkpoint."""
    now = as_utc(now or utc_now())
    token, nonce, moment = request.token, request.nonce, request.scanned_at
    client_result = request.client_result
    stored = _stored_answer(nonce, event)
    if stored is not None:
        return stored
    if moment is not None and moment > now + CLOCK_SKEW:
        raise CheckinError(
            _l("scanned_at lies in the future: check the scanner's clock."),
            "scanned_in_future",
            field="scanned_at",
        )
    scanned = moment or now
    _lock_badge(event, token)
    # A twin of this request (a retry) may have finished while this one waited for the lock.
    stored = _stored_answer(nonce, event)
    if stored is not None:
        return stored

    verdict = _judge(event, checkpoint, token, scanned)
    badge = verdict.badge
    day = event_day(event, scanned)
    first = None
    admission = None
    result = verdict.result
    if result is ScanResult.ADMITTED:
        first = _first_admission(checkpoint.id, badge.id, day)
        if first is None:
            # Written below, after the scan it points to; the answer already names it.
            first = admission = Admission(
                checkpoint_id=checkpoint.id,
                badge_id=badge.id,
                day=day,
                admitted_at=scanned,
                checkpoint=checkpoint,
            )
        elif checkpoint.entry_mode == EntryMode.ONCE_PER_DAY.value:
            result = ScanResult.ALREADY_ADMITTED

    def answer() -> dict[str, Any]:
        """The answer as things stand."""
        return _answer(
            verdict=verdict,
            result=result,
            checkpoint=checkpoint,
            nonce=nonce,
            scanned_at=scanned,
            first=first,
        )

    scan = Scan(
        event_id=event.id,
        nonce=nonce,
        checkpoint_id=checkpoint.id,
        badge_id=badge.id if badge is not None else None,
        badge_version=verdict.token_version,
        device_id=device.id if device is not None else None,
        user_id=user.id if user is not None and device is None else None,
        scanned_at=scanned,
        received_at=now,
        offline=client_result is not None or (moment is not None and now - moment > OFFLINE_LAG),
        result=result.value,
        reason=verdict.reason,
        client_result=client_result,
        response=answer(),
    )
    try:
        # The nonce's unique key settles a race between two copies of one scan.
        with db.session.begin_nested():
            db.session.add(scan)
    except IntegrityError:
        stored = _stored_answer(nonce, event)
        if stored is None:
            raise
        return stored

    if admission is not None:
        admission.scan_id = scan.id
        try:
            # The admission's key (checkpoint, badge, day) has the last word on double entry.
            with db.session.begin_nested():
                db.session.add(admission)
        except IntegrityError:
            # Another gate's admission got in first (where no row lock made this one wait).
            first = _first_admission(checkpoint.id, badge.id, day)
            if checkpoint.entry_mode == EntryMode.ONCE_PER_DAY.value:
                result = ScanResult.ALREADY_ADMITTED
            scan.result = result.value
            scan.response = answer()
            db.session.flush()
    return dict(scan.response)


def error_item(error: CheckinError, nonce: object = None) -> dict[str, Any]:
    """A batch item's place in the answer when it could not be recorded."""
    item = api_error_body(error.code, error.message, error.field)
    if isinstance(nonce, str) and NONCE_PATTERN.fullmatch(nonce):
        item["nonce"] = nonce
    return item


def _lock_order(index: int, request: ScanRequest, now: datetime) -> tuple[int, datetime, int]:
    """Process a batch badge by badge: two uploads lock badges in the same order (no deadlock),
    and one badge's scans in the order they were made."""
    try:
        badge_id = read_header(request.token).badge_id
    except InvalidToken:
        badge_id = -1
    return badge_id, request.scanned_at or now, index


def record_scans(
    event: Event,
    scans: Sequence[object],
    *,
    device: GateDevice | None,
    user: User | None,
    now: datetime | None = None,
) -> list[dict[str, Any]]:
    """Record up to MAX_BATCH scans made offline; one answer per scan, in the order given.

    A malformed or refused item gets {"error": {...}} in its place; each item runs in its own
    savepoint, so it never spoils the others.
    """
    if isinstance(scans, (str, bytes)) or not isinstance(scans, Sequence):
        raise CheckinError(_l("scans must be a list of scans."), "invalid_batch", field="scans")
    if len(scans) > MAX_BATCH:
        raise CheckinError(
            _l("Send at most %(max)d scans at once.", max=MAX_BATCH),
            "batch_too_large",
            field="scans",
        )
    now = as_utc(now or utc_now())
    results: list[dict[str, Any] | None] = [None] * len(scans)
    readable: list[tuple[int, ScanRequest]] = []
    for index, item in enumerate(scans):
        try:
            readable.append((index, read_scan_request(item)))
        except CheckinError as error:
            nonce = item.get("nonce") if isinstance(item, Mapping) else None
            results[index] = error_item(error, nonce)
    readable.sort(key=lambda pair: _lock_order(pair[0], pair[1], now))
    # A batch names a few checkpoints many times: each is looked up and checked once.
    doors: dict[str, Checkpoint | CheckinError] = {}
    for index, request in readable:
        if request.checkpoint not in doors:
            try:
                checkpoint = checkpoint_by_code(event, request.checkpoint)
                check_scanner_access(checkpoint, device=device, user=user)
                doors[request.checkpoint] = checkpoint
            except CheckinError as error:
                doors[request.checkpoint] = error
        door = doors[request.checkpoint]
        if isinstance(door, CheckinError):
            results[index] = error_item(door, request.nonce)
            continue
        try:
            with db.session.begin_nested():
                results[index] = _record(event, door, request, device=device, user=user, now=now)
        except CheckinError as error:
            results[index] = error_item(error, request.nonce)
    return [item for item in results if item is not None]


# --- what an offline scanner needs ----------------------------------------------------------


def offline_bundle(
    event: Event, checkpoint: Checkpoint, *, now: datetime | None = None
) -> dict[str, Any]:
    """Everything a scanner needs to judge badges at a checkpoint without the network.

    Display data only (no passport, email or phone); a constant number of queries whatever the
    number of badges.
    """
    now = as_utc(now or utc_now())
    shown = holders(event)
    states = {
        badge_id: (revoked_at, status)
        for badge_id, revoked_at, status in db.session.execute(
            select(Badge.id, Badge.revoked_at, Registration.status)
            .join(Registration, Badge.registration_id == Registration.id)
            .where(Badge.event_id == event.id)
        )
    }
    badges = []
    revoked = []
    for item in shown:
        revoked_at, status = states.get(item.badge_id, (None, None))
        badges.append(
            {
                "id": item.badge_id,
                "version": item.version,
                "number": item.number,
                "name": item.name,
                "country": item.country,
                "country_name": item.country_name,
                "category": item.category,
                "organisation": item.organisation,
                "role": str(item.role),
                "registration_confirmed": status == RegistrationStatus.CONFIRMED.value,
            }
        )
        if revoked_at is not None or item.version > 1:
            revoked.append(
                {
                    "badge_id": item.badge_id,
                    "below_version": item.version,
                    "whole_badge": revoked_at is not None,
                }
            )
    session = checkpoint.session
    signed_up = None
    if session is not None and session.requires_signup:
        signed_up = sorted(
            db.session.scalars(
                select(Badge.id)
                .join(SessionSignup, SessionSignup.registration_id == Badge.registration_id)
                .where(
                    SessionSignup.session_id == session.id,
                    SessionSignup.status == SignupStatus.CONFIRMED.value,
                )
            )
        )
    admitted = [
        {"badge_id": badge_id, "day": day.isoformat(), "admitted_at": iso(admitted_at)}
        for badge_id, day, admitted_at in db.session.execute(
            select(Admission.badge_id, Admission.day, Admission.admitted_at)
            .where(Admission.checkpoint_id == checkpoint.id)
            .order_by(Admission.day, Admission.badge_id)
        )
    ]
    return {
        "generated_at": iso(now),
        "event": {
            "id": event.id,
            "timezone": event.timezone,
            "starts_on": event.starts_on.isoformat(),
            "ends_on": event.ends_on.isoformat(),
        },
        "checkpoint": checkpoint_summary(checkpoint),
        "public_keys": public_keys(event),
        "badges": badges,
        "revoked": revoked,
        "signed_up_badge_ids": signed_up,
        "admitted": admitted,
    }


def checkpoint_summary(checkpoint: Checkpoint) -> dict[str, Any]:
    """A checkpoint as scanners see it."""
    session = checkpoint.session
    return {
        "code": checkpoint.code,
        "name": checkpoint.name.get(),
        "kind": checkpoint.kind,
        "entry_mode": checkpoint.entry_mode,
        "refused_roles": list(checkpoint.refused_roles or []),
        "active": checkpoint.active,
        "session": (
            {
                "id": session.id,
                "title": session.title.get(),
                "starts_at": iso(session.starts_at),
                "ends_at": iso(session.ends_at),
                "requires_signup": session.requires_signup,
            }
            if session is not None
            else None
        ),
    }


# --- gate devices ---------------------------------------------------------------------------


def issue_device(
    event: Event, name: str, *, checkpoint: Checkpoint | None = None, actor: User | None
) -> tuple[GateDevice, str]:
    """A new scanner device and its bearer token (shown once: only its hash is kept)."""
    _check_organiser(actor)
    clean_name = clean_text(
        name,
        field="name",
        max_length=MAX_DEVICE_NAME,
        required=_l("Name the device, e.g. “Entrance phone 1”."),
        error=CheckinError,
    )
    if checkpoint is not None and checkpoint.event_id != event.id:
        raise CheckinError(
            _l("Choose one of this event's checkpoints."), "wrong_event", field="checkpoint_id"
        )
    token = secrets.token_urlsafe(DEVICE_TOKEN_BYTES)
    device = GateDevice(
        event_id=event.id,
        name=clean_name,
        token_hash=_hash_token(token),
        token_hint=token[:DEVICE_HINT_LENGTH],
        checkpoint_id=checkpoint.id if checkpoint is not None else None,
        issued_by_id=actor.id if actor is not None else None,
        created_at=utc_now(),
    )
    db.session.add(device)
    db.session.flush()
    audit.record("checkin.device_issued", actor=actor, target=device)
    return device, token


def authenticate_device(bearer_token: str, *, now: datetime | None = None) -> GateDevice | None:
    """The unrevoked device a bearer token belongs to, or None; notes when it was last seen.

    Looked up by the token's SHA-256: the database compares hashes, never the secret itself.
    """
    if not isinstance(bearer_token, str) or not 0 < len(bearer_token) <= MAX_BEARER_TOKEN:
        return None
    device = db.session.scalar(
        select(GateDevice).where(
            GateDevice.token_hash == _hash_token(bearer_token), GateDevice.revoked_at.is_(None)
        )
    )
    if device is None:
        return None
    now = as_utc(now or utc_now())
    if device.last_seen_at is None or now - as_utc(device.last_seen_at) > SEEN_INTERVAL:
        device.last_seen_at = now
        db.session.flush()
    return device


def revoke_device(device: GateDevice, *, actor: User | None) -> None:
    """Withdraw a device's token: its next request is refused."""
    _check_organiser(actor)
    if device.revoked_at is None:
        device.revoked_at = utc_now()
        audit.record("checkin.device_revoked", actor=actor, target=device)
        db.session.flush()


def devices(event: Event) -> list[GateDevice]:
    """The event's gate devices, newest first, with their checkpoint."""
    return list(
        db.session.scalars(
            select(GateDevice)
            .where(GateDevice.event_id == event.id)
            .options(joinedload(GateDevice.checkpoint))
            .order_by(GateDevice.revoked_at.is_not(None), GateDevice.id.desc())
        )
    )


# --- checkpoints ----------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckpointDetails:
    """What an organiser enters for a checkpoint."""

    code: str
    name: TranslatedText
    kind: str
    entry_mode: str = EntryMode.ONCE_PER_DAY.value
    session_id: int | None = None
    refused_roles: tuple[str, ...] = ()
    active: bool = True
    staff_ids: tuple[int, ...] = ()


def checkpoints(event: Event) -> list[Checkpoint]:
    """The event's checkpoints with their session and staff, by code."""
    return list(
        db.session.scalars(
            select(Checkpoint)
            .where(Checkpoint.event_id == event.id)
            .options(
                joinedload(Checkpoint.session).joinedload(ProgrammeSession.room),
                joinedload(Checkpoint.staff).joinedload(CheckpointStaff.user),
            )
            .order_by(Checkpoint.code)
        ).unique()
    )


def door_sessions(event: Event) -> list[ProgrammeSession]:
    """The event's sessions a door can be linked to, in programme order."""
    return list(
        db.session.scalars(
            select(ProgrammeSession)
            .where(ProgrammeSession.event_id == event.id)
            .order_by(
                ProgrammeSession.starts_at.is_(None),
                ProgrammeSession.starts_at,
                ProgrammeSession.id,
            )
        )
    )


def gate_staff_users() -> list[User]:
    """Everyone who holds the gate staff role, by name."""
    return list(
        db.session.scalars(
            select(User)
            .join(UserRole)
            .where(UserRole.role == Role.GATE_STAFF.value)
            .order_by(User.name, User.id)
        )
    )


def _clean_details(event: Event, details: CheckpointDetails) -> dict[str, Any]:
    """The checkpoint's columns from the organiser's input, or CheckinError on its field."""
    code = (details.code or "").strip().lower()
    if not CODE_PATTERN.fullmatch(code):
        raise CheckinError(
            _l("Use 1 to 32 lower-case letters, digits and hyphens, e.g. “entrance”."),
            "invalid_code",
            field="code",
        )
    name = details.name if isinstance(details.name, TranslatedText) else TranslatedText()
    if name.is_empty():
        raise CheckinError(_l("Write this in at least one language."), "required", field="name")
    for language in ("id", "en"):
        clean_text(name.in_language(language), field="name", max_length=120, error=CheckinError)
    if details.kind not in {kind.value for kind in CheckpointKind}:
        raise CheckinError(
            _l("Choose what kind of checkpoint this is."), "invalid_kind", field="kind"
        )
    if details.entry_mode not in {mode.value for mode in EntryMode}:
        raise CheckinError(
            _l("Choose how often a badge may pass."), "invalid_entry_mode", field="entry_mode"
        )
    session_id = None
    if details.kind == CheckpointKind.SESSION_DOOR.value:
        session = (
            db.session.get(ProgrammeSession, details.session_id) if details.session_id else None
        )
        if session is None or session.event_id != event.id:
            raise CheckinError(
                _l("Choose the session this door leads to."),
                "session_required",
                field="session_id",
            )
        session_id = session.id
    roles = {role.value for role in BadgeRole}
    refused = sorted(set(details.refused_roles))
    if not set(refused) <= roles:
        raise CheckinError(
            _l("Choose roles from the list."), "invalid_roles", field="refused_roles"
        )
    return {
        "code": code,
        "name": name,
        "kind": details.kind,
        "entry_mode": details.entry_mode,
        "session_id": session_id,
        "refused_roles": refused,
        "active": bool(details.active),
    }


def _code_taken() -> CheckinError:
    """The error for a code another checkpoint of the event already has."""
    return CheckinError(_l("Another checkpoint already has this code."), "code_taken", field="code")


def _save(checkpoint: Checkpoint, event: Event, values: Mapping[str, Any]) -> None:
    """Give a checkpoint its values and flush it inside a savepoint: a duplicate code (also
    one saved by someone else a moment ago) becomes a field error, the transaction intact."""
    clash = select(Checkpoint.id).where(
        Checkpoint.event_id == event.id, Checkpoint.code == values["code"]
    )
    if checkpoint.id is not None:
        clash = clash.where(Checkpoint.id != checkpoint.id)
    if db.session.scalar(clash) is not None:
        raise _code_taken()
    try:
        with db.session.begin_nested():
            for name, value in values.items():
                setattr(checkpoint, name, value)
            db.session.add(checkpoint)
    except IntegrityError as error:
        raise _code_taken() from error


def assign_staff(checkpoint: Checkpoint, user_ids: Iterable[int], *, actor: User | None) -> None:
    """Make exactly these gate clerks the checkpoint's staff."""
    _check_organiser(actor)
    wanted = set(user_ids)
    if wanted:
        eligible = set(
            db.session.scalars(
                select(UserRole.user_id).where(
                    UserRole.user_id.in_(wanted), UserRole.role == Role.GATE_STAFF.value
                )
            )
        )
        if wanted - eligible:
            raise CheckinError(
                _l("Only people with the gate staff role can be assigned to a checkpoint."),
                "not_gate_staff",
                field="staff_ids",
            )
    current = {member.user_id: member for member in checkpoint.staff}
    for user_id, member in current.items():
        if user_id not in wanted:
            checkpoint.staff.remove(member)
    for user_id in sorted(wanted - current.keys()):
        checkpoint.staff.append(CheckpointStaff(user_id=user_id))
    db.session.flush()


def create_checkpoint(
    event: Event, details: CheckpointDetails, *, actor: User | None
) -> Checkpoint:
    """A new checkpoint of the event, with its staff."""
    _check_organiser(actor)
    checkpoint = Checkpoint(event_id=event.id)
    _save(checkpoint, event, _clean_details(event, details))
    assign_staff(checkpoint, details.staff_ids, actor=actor)
    return checkpoint


def update_checkpoint(
    checkpoint: Checkpoint, details: CheckpointDetails, *, actor: User | None
) -> Checkpoint:
    """Change a checkpoint and its staff."""
    _check_organiser(actor)
    _save(checkpoint, checkpoint.event, _clean_details(checkpoint.event, details))
    assign_staff(checkpoint, details.staff_ids, actor=actor)
    return checkpoint


def delete_checkpoint(checkpoint: Checkpoint, *, actor: User | None) -> None:
    """Delete a checkpoint nobody has scanned at yet (close it otherwise: scans are history)."""
    _check_organiser(actor)
    scanned = db.session.scalar(select(exists().where(Scan.checkpoint_id == checkpoint.id)))
    if scanned:
        raise CheckinError(
            _l("Badges have been scanned here: close the checkpoint instead of deleting it."),
            "has_scans",
        )
    db.session.delete(checkpoint)
    db.session.flush()


# --- the scan log and offline conflicts ------------------------------------------------------


def scan_log_query(event: Event, *, checkpoint_id: int | None = None, result: str | None = None):
    """The event's scans, newest first, with what a log line shows loaded (for paginate)."""
    query = (
        select(Scan)
        .where(Scan.event_id == event.id)
        .options(
            joinedload(Scan.checkpoint),
            joinedload(Scan.device),
            joinedload(Scan.badge).joinedload(Badge.registration),
        )
        .order_by(Scan.received_at.desc(), Scan.id.desc())
    )
    if checkpoint_id is not None:
        query = query.where(Scan.checkpoint_id == checkpoint_id)
    if result is not None:
        query = query.where(Scan.result == result)
    return query


@dataclass(frozen=True)
class Conflict:
    """One badge admitted offline at two gates: the admission that counted and the other."""

    scan: Scan
    admission: Admission | None


def conflicts(event: Event) -> list[Conflict]:
    """Scans an offline scanner admitted but the server did not (the badge was admitted
    elsewhere first), each with the admission that counted; newest first."""
    found = list(
        db.session.scalars(
            select(Scan)
            .where(
                Scan.event_id == event.id,
                Scan.client_result == ScanResult.ADMITTED.value,
                Scan.result != ScanResult.ADMITTED.value,
            )
            .options(
                joinedload(Scan.checkpoint),
                joinedload(Scan.device),
                joinedload(Scan.badge).joinedload(Badge.registration),
            )
            .order_by(Scan.scanned_at.desc(), Scan.id.desc())
        )
    )
    keys = {(scan.checkpoint_id, scan.badge_id) for scan in found if scan.badge_id is not None}
    admissions: dict[tuple[int, int, date], Admission] = {}
    if keys:
        badge_ids = {badge_id for _checkpoint_id, badge_id in keys}
        for admission in db.session.scalars(
            select(Admission)
            .where(Admission.badge_id.in_(badge_ids))
            .options(
                joinedload(Admission.checkpoint),
                joinedload(Admission.scan).joinedload(Scan.device),
            )
        ):
            admissions[(admission.checkpoint_id, admission.badge_id, admission.day)] = admission
    return [
        Conflict(
            scan,
            admissions.get((scan.checkpoint_id, scan.badge_id, event_day(event, scan.scanned_at))),
        )
        for scan in found
    ]


def scan_user_names(scans: Iterable[Scan]) -> dict[int, str]:
    """The names of the people who scanned (scans made through the scanner page), by user id."""
    ids = {scan.user_id for scan in scans if scan.user_id is not None}
    if not ids:
        return {}
    return dict(db.session.execute(select(User.id, User.name).where(User.id.in_(ids))).all())


def count_scans(event: Event) -> int:
    """How many scans the event has."""
    return db.session.scalar(select(func.count(Scan.id)).where(Scan.event_id == event.id)) or 0
