"""The programme's JSON API and the OpenAPI document.

GET /api/v1/programme gives the published snapshot as it was published (both languages,
times in UTC); the schemas below describe it field by field.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import jsonify, request
from flask_babel import lazy_gettext as _l

from app import openapi
from app.auth.access import PUBLIC, allow
from app.errors import abort_with
from app.events.services import current_event
from app.programme.models import SPOKEN_LANGUAGES, PersonRole, SessionKind
from app.programme.published import PublishedProgramme, published_programme
from app.programme.views import bp

# Clients may keep an answer this long; a new version changes the ETag at once.
API_MAX_AGE = 60

_NULLABLE_STRING = {"type": ["string", "null"]}
_ID = {"type": "integer", "minimum": 1}

PROGRAMME_SCHEMAS: dict[str, dict[str, Any]] = {
    "Room": {
        "type": "object",
        "description": "A room of the venue; the timetable's columns follow `position`.",
        "properties": {
            "id": _ID,
            "name": {"type": "string"},
            "capacity": {"type": "integer", "minimum": 1},
            "floor": _NULLABLE_STRING,
            "accessible": {"type": "boolean", "description": "Step-free access."},
            "interpretation_booth": {"type": "boolean"},
            "position": {"type": "integer"},
        },
        "required": [
            "id",
            "name",
            "capacity",
            "floor",
            "accessible",
            "interpretation_booth",
            "position",
        ],
        "additionalProperties": False,
    },
    "Track": {
        "type": "object",
        "description": "A theme of the programme and the colour its sessions wear.",
        "properties": {
            "id": _ID,
            "name": openapi.schema_ref("TranslatedText"),
            "colour": {"type": "string", "pattern": "^#[0-9a-fA-F]{6}$"},
        },
        "required": ["id", "name", "colour"],
        "additionalProperties": False,
    },
    "Speaker": {
        "type": "object",
        "description": "A speaker or chair of at least one published session.",
        "properties": {
            "id": _ID,
            "name": {"type": "string"},
            "honorific": _NULLABLE_STRING,
            "position_title": _NULLABLE_STRING,
            "organisation": {"type": "string"},
            "partner_id": {
                "type": ["integer", "null"],
                "description": "The organisation in the partner registry, when it is there.",
            },
            "country": {
                "type": "string",
                "pattern": "^[A-Z]{2}$",
                "description": "ISO 3166-1 alpha-2 code.",
            },
            "biography": {
                "anyOf": [openapi.schema_ref("TranslatedText"), {"type": "null"}],
            },
            "has_photo": {
                "type": "boolean",
                "description": "A photo is served at /programme/speakers/{id}/photo.",
            },
        },
        "required": [
            "id",
            "name",
            "honorific",
            "position_title",
            "organisation",
            "partner_id",
            "country",
            "biography",
            "has_photo",
        ],
        "additionalProperties": False,
    },
    "SessionPerson": {
        "type": "object",
        "description": "A speaker's part in a session, in the order they are listed.",
        "properties": {
            "speaker_id": _ID,
            "role": {"type": "string", "enum": [role.value for role in PersonRole]},
        },
        "required": ["speaker_id", "role"],
        "additionalProperties": False,
    },
    "Session": {
        "type": "object",
        "description": "A placed session of the published programme.",
        "properties": {
            "id": _ID,
            "kind": {"type": "string", "enum": [kind.value for kind in SessionKind]},
            "title": openapi.schema_ref("TranslatedText"),
            "abstract": {"anyOf": [openapi.schema_ref("TranslatedText"), {"type": "null"}]},
            "starts_at": {"type": "string", "format": "date-time", "description": "UTC."},
            "ends_at": {"type": "string", "format": "date-time", "description": "UTC."},
            "room_id": {
                "type": ["integer", "null"],
                "description": "Null: away from the rooms (see location_note) or every room "
                "(a break).",
            },
            "location_note": _NULLABLE_STRING,
            "track_id": {"type": ["integer", "null"]},
            "spoken_language": {"type": "string", "enum": list(SPOKEN_LANGUAGES)},
            "interpretation": {
                "type": "boolean",
                "description": "Interpretation Indonesian ↔ English is offered.",
            },
            "capacity": {
                "type": ["integer", "null"],
                "minimum": 1,
                "description": "The session's places (its own, else its room's); null: no limit.",
            },
            "requires_signup": {"type": "boolean"},
            "people": {"type": "array", "items": openapi.schema_ref("SessionPerson")},
        },
        "required": [
            "id",
            "kind",
            "title",
            "abstract",
            "starts_at",
            "ends_at",
            "room_id",
            "location_note",
            "track_id",
            "spoken_language",
            "interpretation",
            "capacity",
            "requires_signup",
            "people",
        ],
        "additionalProperties": False,
    },
    "Programme": {
        "type": "object",
        "description": "The newest published version of the programme, in both languages.",
        "properties": {
            "version": {"type": "integer", "minimum": 1},
            "published_at": {"type": "string", "format": "date-time"},
            "timezone": {
                "type": "string",
                "description": "The congress's IANA time zone (Asia/Makassar, WITA).",
            },
            "starts_on": {"type": "string", "format": "date"},
            "ends_on": {"type": "string", "format": "date"},
            "rooms": {"type": "array", "items": openapi.schema_ref("Room")},
            "tracks": {"type": "array", "items": openapi.schema_ref("Track")},
            "speakers": {"type": "array", "items": openapi.schema_ref("Speaker")},
            "sessions": {
                "type": "array",
                "items": openapi.schema_ref("Session"),
                "description": "By start time, then by room.",
            },
        },
        "required": [
            "version",
            "published_at",
            "timezone",
            "starts_on",
            "ends_on",
            "rooms",
            "tracks",
            "speakers",
            "sessions",
        ],
        "additionalProperties": False,
    },
}

PROGRAMME_PATHS: dict[str, dict[str, Any]] = {
    "/api/v1/programme": {
        "get": {
            "operationId": "getProgramme",
            "summary": "The published programme",
            "description": (
                "Sessions, rooms, tracks and speakers of the newest published version, every "
                "text in both languages. With `day`, only that day's sessions (in the "
                "congress's time zone) and their speakers."
            ),
            "tags": ["programme"],
            "parameters": [
                {
                    "name": "day",
                    "in": "query",
                    "required": False,
                    "description": "A congress day, YYYY-MM-DD.",
                    "schema": {"type": "string", "format": "date"},
                }
            ],
            "responses": {
                "200": {
                    "description": "The published programme.",
                    "content": {"application/json": {"schema": openapi.schema_ref("Programme")}},
                },
                "304": {"description": "Unchanged since the ETag the client holds."},
                "400": openapi.error_response_object("The day is malformed or not a congress day."),
                "404": openapi.error_response_object("Nothing has been published yet."),
            },
        }
    },
    "/api/v1/openapi.json": {
        "get": {
            "operationId": "getOpenApiDocument",
            "summary": "This document",
            "tags": ["meta"],
            "responses": {
                "200": {
                    "description": "The OpenAPI 3.1 document of the API.",
                    "content": {"application/json": {"schema": {"type": "object"}}},
                }
            },
        }
    },
}

openapi.register_paths(PROGRAMME_PATHS, PROGRAMME_SCHEMAS)


def _requested_day(programme: PublishedProgramme) -> date | None:
    """The ?day= filter: None when absent; a malformed day or one outside the congress is 400."""
    asked = request.args.get("day")
    if asked is None:
        return None
    try:
        day = date.fromisoformat(asked.strip())
    except ValueError:
        abort_with(400, _l("Give the day as YYYY-MM-DD."))
    if day not in programme.days():
        abort_with(
            400,
            _l(
                "The congress runs from %(first)s to %(last)s: give a day in between.",
                first=programme.starts_on.isoformat(),
                last=programme.ends_on.isoformat(),
            ),
        )
    return day


def _one_day(programme: PublishedProgramme, snapshot: dict[str, Any], day: date) -> dict[str, Any]:
    """The snapshot narrowed to one local day's sessions and the speakers they have."""
    ids = {
        session.id
        for session in programme.sessions
        if session.starts_at.astimezone(programme.zone).date() == day
    }
    sessions = [entry for entry in snapshot["sessions"] if entry["id"] in ids]
    speaking = {person["speaker_id"] for entry in sessions for person in entry["people"]}
    return {
        **snapshot,
        "sessions": sessions,
        "speakers": [entry for entry in snapshot["speakers"] if entry["id"] in speaking],
    }


@bp.get("/api/v1/programme")
@allow(PUBLIC)
def api_programme():
    """The published programme as JSON, both languages, optionally one day of it."""
    event = current_event()
    programme = published_programme(event) if event is not None else None
    if programme is None:
        abort_with(404, _l("The programme has not been published yet."))
    day = _requested_day(programme)
    snapshot = programme.as_dict()
    if day is not None:
        snapshot = _one_day(programme, snapshot, day)
    response = jsonify(snapshot)
    # The publishing moment tells apart versions numbered alike in a database filled again.
    published = int(programme.published_at.timestamp() * 1_000_000)
    response.set_etag(f"programme-{event.id}-{programme.version}-{published}-{day or 'all'}")
    response.cache_control.public = True
    response.cache_control.max_age = API_MAX_AGE
    return response.make_conditional(request)


@bp.get("/api/v1/openapi.json")
@allow(PUBLIC)
def openapi_document():
    """The OpenAPI 3.1 document describing the JSON API."""
    return jsonify(openapi.openapi_document())
