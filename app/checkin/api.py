"""The check-in API a scanner uses: record a scan, upload scans made offline, and fetch what a
scanner needs to judge badges offline. Described in the OpenAPI document.

Two kinds of callers: gate devices, with the bearer token an organiser issued them, and the
scanner page, with its session cookie (then the CSRF token goes in the X-CSRFToken header).
Errors answer {"error": {"code": ..., "message": ...}} with the message in the caller's
language (Accept-Language).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app, jsonify, request
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError

from app.auth.access import PUBLIC, allow
from app.auth.models import Role, User
from app.checkin import services
from app.checkin.models import CheckpointKind, EntryMode, GateDevice, ScanResult
from app.checkin.services import CheckinError
from app.checkin.views import bp
from app.errors import api_error_body
from app.events.models import Event
from app.events.services import current_event
from app.extensions import csrf, db, limiter
from app.openapi import error_response_object, register_paths, schema_ref
from app.rate_limits import client_address_key, configured_limit, signed_in_user_key

# The access hook lets every request in (PUBLIC is in the audience) because gate devices sign
# in with a bearer token, which the hook does not know. Each view authenticates the caller
# itself (_scanner): no credentials → 401, a person without one of the roles listed → 403.
# tests/routes.py lists the same audience, so the access walk checks exactly that.
SCANNER_AUDIENCE = (PUBLIC, Role.GATE_STAFF, Role.ORGANISER, Role.ADMIN)
SESSION_ROLES = (Role.GATE_STAFF, Role.ORGANISER, Role.ADMIN)
BEARER_REALM = 'Bearer realm="kongres-checkin"'


class ApiError(Exception):
    """An API refusal: HTTP status, stable code, message in the caller's language."""

    def __init__(self, status: int, code: str, message: str, *, field: str | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = str(message)
        self.field = field


@bp.errorhandler(ApiError)
def _api_error(error: ApiError) -> Any:
    """Answer a refusal as JSON (and undo whatever the request had started)."""
    db.session.rollback()
    response = jsonify(api_error_body(error.code, error.message, error.field))
    response.status_code = error.status
    if error.status == 401:
        response.headers["WWW-Authenticate"] = BEARER_REALM
    response.headers["Cache-Control"] = "no-store"
    return response


def _refused(error: CheckinError) -> ApiError:
    """A refused check-in rule as an API error (422, or 403 for access)."""
    return ApiError(error.status_code, error.code, error.message, field=error.field)


@dataclass(frozen=True)
class Scanner:
    """Who is scanning: a gate device or a signed-in person (never both)."""

    device: GateDevice | None
    user: User | None


def _event() -> Event:
    """The congress the API serves."""
    event = current_event()
    if event is None:
        raise ApiError(404, "no_event", _("There is no congress to check in to."))
    return event


BEARER_DEVICE_KEY = "kongres.bearer_device"


def _bearer_device() -> GateDevice | None:
    """The device whose bearer token the Authorization header carries, if it is valid; looked
    up once per request (the rate limit's key asks before the view does). Kept in the request's
    environ, not on g: an application context may span several requests."""
    if BEARER_DEVICE_KEY not in request.environ:
        scheme, _space, token = request.headers.get("Authorization", "").partition(" ")
        valid = scheme.lower() == "bearer"
        device = services.authenticate_device(token.strip()) if valid else None
        request.environ[BEARER_DEVICE_KEY] = device
    return request.environ[BEARER_DEVICE_KEY]


def scanner_rate_limit_key() -> str:
    """Whom a scan counts against: its gate device, or the person signed in on the scanner
    page; not the address, which every gate at the venue shares (NAT). A token that is not
    valid counts against its address."""
    if request.headers.get("Authorization"):
        device = _bearer_device()
        return f"device:{device.id}" if device is not None else client_address_key()
    return signed_in_user_key()


def _scanner() -> Scanner:
    """Authenticate the request: a device's bearer token, else the scanner page's session."""
    if request.headers.get("Authorization"):
        device = _bearer_device()
        if device is None:
            raise _invalid_device_token()
        return Scanner(device, None)
    if not current_user.is_authenticated:
        raise ApiError(
            401, "unauthorized", _("Sign in on the scanner page, or send a device token.")
        )
    if not current_user.has_role(*SESSION_ROLES):
        raise ApiError(403, "forbidden", _("Your account may not scan badges."))
    # Exempt from the global check (devices have no session), so checked here for cookies.
    if current_app.config.get("WTF_CSRF_ENABLED", True):
        try:
            csrf.protect()
        except CSRFError as error:
            raise ApiError(
                400,
                "csrf_failed",
                _("The page's security token is missing or expired. Reload the scanner page."),
            ) from error
    return Scanner(None, current_user._get_current_object())


def _invalid_device_token() -> ApiError:
    """The refusal of a device token that is unknown, revoked or of another event."""
    return ApiError(
        401, "invalid_token", _("This device's token is not valid (it may have been revoked).")
    )


def _authenticated_event() -> tuple[Event, Scanner]:
    """Who is scanning (checked first: nothing is told to strangers) and for which congress."""
    scanner = _scanner()
    event = _event()
    if scanner.device is not None and scanner.device.event_id != event.id:
        raise _invalid_device_token()
    return event, scanner


def _json_object() -> dict[str, Any]:
    """The request's JSON object, or 400."""
    payload = request.get_json(force=True, silent=True)
    if not isinstance(payload, dict):
        raise ApiError(400, "invalid_json", _("Send a JSON object in the request body."))
    return payload


@bp.post("/api/v1/checkin/scans")
@allow(*SCANNER_AUDIENCE)
@limiter.limit(configured_limit("SCAN_RATE_LIMIT"), key_func=scanner_rate_limit_key)
@csrf.exempt
def post_scan() -> Any:
    """Record one scan and answer what the gate shows."""
    event, scanner = _authenticated_event()
    payload = _json_object()
    try:
        scan = services.read_scan_request(payload)
        answer = services.record_scan(
            event,
            token=scan.token,
            checkpoint_code=scan.checkpoint,
            nonce=scan.nonce,
            scanned_at=scan.scanned_at,
            device=scanner.device,
            user=scanner.user,
            client_result=scan.client_result,
        )
    except CheckinError as error:
        raise _refused(error) from error
    db.session.commit()
    return jsonify(answer)


@bp.post("/api/v1/checkin/scans/batch")
@allow(*SCANNER_AUDIENCE)
@limiter.limit(configured_limit("SCAN_BATCH_RATE_LIMIT"), key_func=scanner_rate_limit_key)
@csrf.exempt
def post_scan_batch() -> Any:
    """Record up to 500 scans made offline; one answer (or error) per scan, in order."""
    event, scanner = _authenticated_event()
    payload = _json_object()
    try:
        results = services.record_scans(
            event, payload.get("scans"), device=scanner.device, user=scanner.user
        )
    except CheckinError as error:
        raise _refused(error) from error
    db.session.commit()
    return jsonify({"results": results})


@bp.get("/api/v1/checkin/offline-bundle")
@allow(*SCANNER_AUDIENCE)
@csrf.exempt
def get_offline_bundle() -> Any:
    """What a scanner needs at one checkpoint to judge badges without the network."""
    event, scanner = _authenticated_event()
    code = request.args.get("checkpoint", "")
    if not code.strip():
        raise ApiError(
            400,
            "checkpoint_required",
            _("Name the checkpoint: ?checkpoint=<code>."),
            field="checkpoint",
        )
    try:
        checkpoint = services.checkpoint_by_code(event, code[: services.MAX_CHECKPOINT_CODE])
        services.check_scanner_access(checkpoint, device=scanner.device, user=scanner.user)
        bundle = services.offline_bundle(event, checkpoint)
    except CheckinError as error:
        raise _refused(error) from error
    db.session.commit()  # the device's last_seen_at
    response = jsonify(bundle)
    # Names of delegates: kept by the scanner's own store, never by shared caches.
    response.headers["Cache-Control"] = "no-store"
    return response


# --- the OpenAPI description ----------------------------------------------------------------

_RESULTS = [result.value for result in ScanResult]
_ISO = {"type": "string", "format": "date-time"}
_NULLABLE_ISO = {"type": ["string", "null"], "format": "date-time"}
_AUTH = (
    "Authenticated by a gate device's bearer token (`Authorization: Bearer <token>`, issued "
    "by an organiser, revocable) or by the scanner page's session cookie, then with the CSRF "
    "token in the `X-CSRFToken` header. Session callers must be gate staff assigned to the "
    "checkpoint, organisers or admins; a device bound to a checkpoint scans only there."
)
_REASONS = sorted(services.REASON_MESSAGES)

SCHEMAS: dict[str, dict[str, Any]] = {
    "CheckinError": {
        "description": "A batch item that could not be recorded: the common error, with the "
        "item's nonce when it had a well-formed one.",
        "allOf": [schema_ref("Error")],
        "properties": {"nonce": {"type": "string", "description": "The item's nonce."}},
    },
    "CheckinScan": {
        "type": "object",
        "description": "One scan of a badge QR at a checkpoint.",
        "properties": {
            "token": {
                "type": "string",
                "minLength": 1,
                "maxLength": services.MAX_TOKEN_LENGTH,
                "description": "The text read from the badge QR (K1.…).",
            },
            "checkpoint": {
                "type": "string",
                "minLength": 1,
                "maxLength": services.MAX_CHECKPOINT_CODE,
                "description": "The checkpoint's code, e.g. entrance.",
            },
            "nonce": {
                "type": "string",
                "pattern": "^[A-Za-z0-9_-]{1,64}$",
                "description": "The scanner's unique id for this scan; repeating it returns "
                "the stored answer and records nothing new.",
            },
            "scanned_at": {
                **_ISO,
                "description": "When the scan was made, with its UTC offset (offline scans); "
                "now when absent.",
            },
            "client_result": {
                "enum": _RESULTS,
                "description": "What an offline scanner showed at the door.",
            },
        },
        "required": ["token", "checkpoint", "nonce"],
    },
    "CheckinAnswer": {
        "type": "object",
        "description": "What the gate shows for a scan (stored with it).",
        "properties": {
            "result": {"enum": _RESULTS},
            "reason": {
                "type": ["string", "null"],
                "description": "Why not admitted: " + ", ".join(_REASONS) + ".",
            },
            "message": {"type": "string", "description": "For the screen, translated."},
            "delegate": {
                "anyOf": [
                    {"type": "null"},
                    {
                        "type": "object",
                        "properties": {
                            "name": {"type": "string"},
                            "country": {"type": ["string", "null"]},
                            "country_name": {"type": "string"},
                            "category": {"type": "string"},
                            "organisation": {"type": ["string", "null"]},
                            "badge_number": {"type": "string"},
                            "role": {"type": "string"},
                        },
                        "required": ["name", "country", "category", "badge_number"],
                    },
                ]
            },
            "first_admitted_at": _NULLABLE_ISO,
            "first_admitted_at_checkpoint": {"type": ["string", "null"]},
            "checkpoint": {
                "type": "object",
                "properties": {"code": {"type": "string"}, "name": {"type": "string"}},
                "required": ["code", "name"],
            },
            "nonce": {"type": "string"},
            "scanned_at": _ISO,
        },
        "required": [
            "result",
            "reason",
            "message",
            "delegate",
            "first_admitted_at",
            "first_admitted_at_checkpoint",
            "checkpoint",
            "nonce",
            "scanned_at",
        ],
    },
    "CheckinBatch": {
        "type": "object",
        "properties": {
            "scans": {
                "type": "array",
                "maxItems": services.MAX_BATCH,
                "items": schema_ref("CheckinScan"),
            }
        },
        "required": ["scans"],
    },
    "CheckinBatchAnswer": {
        "type": "object",
        "properties": {
            "results": {
                "type": "array",
                "description": "One per scan sent, in the same order.",
                "items": {"anyOf": [schema_ref("CheckinAnswer"), schema_ref("CheckinError")]},
            }
        },
        "required": ["results"],
    },
    "CheckinBundle": {
        "type": "object",
        "description": "Everything a scanner needs offline at one checkpoint. No passport, "
        "email or phone data.",
        "properties": {
            "generated_at": _ISO,
            "event": {
                "type": "object",
                "properties": {
                    "id": {"type": "integer"},
                    "timezone": {"type": "string"},
                    "starts_on": {"type": "string", "format": "date"},
                    "ends_on": {"type": "string", "format": "date"},
                },
                "required": ["id", "timezone", "starts_on", "ends_on"],
            },
            "checkpoint": {
                "type": "object",
                "properties": {
                    "code": {"type": "string"},
                    "name": {"type": "string"},
                    "kind": {"enum": [kind.value for kind in CheckpointKind]},
                    "entry_mode": {"enum": [mode.value for mode in EntryMode]},
                    "refused_roles": {"type": "array", "items": {"type": "string"}},
                    "active": {"type": "boolean"},
                    "session": {
                        "anyOf": [
                            {"type": "null"},
                            {
                                "type": "object",
                                "properties": {
                                    "id": {"type": "integer"},
                                    "title": {"type": "string"},
                                    "starts_at": _NULLABLE_ISO,
                                    "ends_at": _NULLABLE_ISO,
                                    "requires_signup": {"type": "boolean"},
                                },
                            },
                        ]
                    },
                },
                "required": ["code", "name", "kind", "entry_mode", "refused_roles", "active"],
            },
            "public_keys": {
                "type": "array",
                "description": "Ed25519 public keys (raw 32 bytes, base64url) by key id.",
                "items": {
                    "type": "object",
                    "properties": {
                        "key_id": {"type": "integer"},
                        "public_key": {"type": "string"},
                    },
                    "required": ["key_id", "public_key"],
                },
            },
            "badges": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "integer"},
                        "version": {"type": "integer"},
                        "number": {"type": "string"},
                        "name": {"type": "string"},
                        "country": {"type": ["string", "null"]},
                        "country_name": {"type": "string"},
                        "category": {"type": "string"},
                        "organisation": {"type": ["string", "null"]},
                        "role": {"type": "string"},
                        "registration_confirmed": {"type": "boolean"},
                    },
                    "required": ["id", "version", "number", "name", "registration_confirmed"],
                },
            },
            "revoked": {
                "type": "array",
                "description": "Tokens below a version are revoked; whole_badge: every version.",
                "items": {
                    "type": "object",
                    "properties": {
                        "badge_id": {"type": "integer"},
                        "below_version": {"type": "integer"},
                        "whole_badge": {"type": "boolean"},
                    },
                    "required": ["badge_id", "below_version", "whole_badge"],
                },
            },
            "signed_up_badge_ids": {
                "type": ["array", "null"],
                "items": {"type": "integer"},
                "description": "For a door of a session that requires sign-up: who may enter.",
            },
            "admitted": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "badge_id": {"type": "integer"},
                        "day": {"type": "string", "format": "date"},
                        "admitted_at": _ISO,
                    },
                    "required": ["badge_id", "day", "admitted_at"],
                },
            },
        },
        "required": [
            "generated_at",
            "event",
            "checkpoint",
            "public_keys",
            "badges",
            "revoked",
            "signed_up_badge_ids",
            "admitted",
        ],
    },
}


def _errors(*statuses: tuple[int, str]) -> dict[str, Any]:
    """Error responses with the API's common error body."""
    return {str(status): error_response_object(description) for status, description in statuses}


_COMMON_ERRORS = (
    (401, "No credentials, or a revoked or unknown device token."),
    (403, "Not allowed to scan at this checkpoint."),
)


def _rate_limited(setting: str) -> dict[str, Any]:
    """The 429 answer of a route limited per device (or per signed-in scanner)."""
    return {
        "429": {
            "description": f"Too many requests from this device or person ({setting}); "
            "try again after Retry-After seconds.",
            "headers": {
                "Retry-After": {
                    "description": "Seconds until the limit resets.",
                    "schema": {"type": "integer"},
                }
            },
        }
    }


# Either credential will do (OpenAPI: alternatives are separate requirement objects).
_SECURITY = [{"deviceToken": []}, {"sessionCookie": []}]
SECURITY_SCHEMES: dict[str, dict[str, Any]] = {
    "deviceToken": {
        "type": "http",
        "scheme": "bearer",
        "description": "A gate device's token, issued (and revocable) by an organiser.",
    },
    "sessionCookie": {
        "type": "apiKey",
        "in": "cookie",
        "name": "kongres_session",
        "description": "The scanner page's signed-in session (named __Host-kongres_session in "
        "production); the CSRF token then goes in the X-CSRFToken header.",
    },
}
_LANGUAGE = {
    "name": "Accept-Language",
    "in": "header",
    "required": False,
    "schema": {"type": "string"},
    "description": "The language of messages: id or en.",
}

PATHS: dict[str, dict[str, Any]] = {
    "/api/v1/checkin/scans": {
        "post": {
            "operationId": "recordScan",
            "tags": ["check-in"],
            "summary": "Record a badge scan at a checkpoint",
            "description": _AUTH
            + " Every well-formed scan, refused ones included, is stored with its answer.",
            "security": _SECURITY,
            "parameters": [_LANGUAGE],
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": schema_ref("CheckinScan")}},
            },
            "responses": {
                "200": {
                    "description": "The answer for the gate.",
                    "content": {"application/json": {"schema": schema_ref("CheckinAnswer")}},
                },
                **_errors(
                    (400, "The body is not a JSON object, or the CSRF token is missing."),
                    *_COMMON_ERRORS,
                    (422, "A field is malformed, or the checkpoint is unknown."),
                ),
                **_rate_limited("SCAN_RATE_LIMIT"),
            },
        }
    },
    "/api/v1/checkin/scans/batch": {
        "post": {
            "operationId": "recordScanBatch",
            "tags": ["check-in"],
            "summary": "Upload scans made offline (at most 500)",
            "description": _AUTH
            + " Each scan is judged in turn; a malformed or refused one gets an error object "
            "in its place and does not spoil the others.",
            "security": _SECURITY,
            "parameters": [_LANGUAGE],
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": schema_ref("CheckinBatch")}},
            },
            "responses": {
                "200": {
                    "description": "One answer per scan, in the order sent.",
                    "content": {"application/json": {"schema": schema_ref("CheckinBatchAnswer")}},
                },
                **_errors(
                    (400, "The body is not a JSON object, or the CSRF token is missing."),
                    *_COMMON_ERRORS,
                    (422, "scans is not a list, or holds more than 500 scans."),
                ),
                **_rate_limited("SCAN_BATCH_RATE_LIMIT"),
            },
        }
    },
    "/api/v1/checkin/offline-bundle": {
        "get": {
            "operationId": "getOfflineBundle",
            "tags": ["check-in"],
            "summary": "What a scanner needs to work offline at a checkpoint",
            "description": _AUTH,
            "security": _SECURITY,
            "parameters": [
                {
                    "name": "checkpoint",
                    "in": "query",
                    "required": True,
                    "schema": {"type": "string", "maxLength": services.MAX_CHECKPOINT_CODE},
                    "description": "The checkpoint's code.",
                },
                _LANGUAGE,
            ],
            "responses": {
                "200": {
                    "description": "The bundle.",
                    "content": {"application/json": {"schema": schema_ref("CheckinBundle")}},
                },
                **_errors(
                    (400, "No checkpoint given."),
                    *_COMMON_ERRORS,
                    (422, "Unknown checkpoint."),
                ),
            },
        }
    },
}

register_paths(PATHS, SCHEMAS, SECURITY_SCHEMES)
