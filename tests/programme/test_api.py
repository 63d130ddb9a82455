"""The programme's JSON API and its OpenAPI document: the published snapshot in both
languages, the day filter, JSON errors, and responses that match the documented schemas."""

from __future__ import annotations

import json
import re
from datetime import date, datetime, time
from typing import Any

import pytest

from app import openapi
from app.extensions import db
from app.i18n.text import TranslatedText
from app.programme.models import SessionKind
from app.programme.publishing import publish_programme
from tests.programme.factories import (
    FIRST_DAY,
    SetUpContext,
    make_room,
    make_session,
    make_speaker,
    make_track,
)
from tests.registration.factories import make_event

SECOND_DAY = date(2026, 4, 15)


@pytest.fixture
def published(app):
    """A published programme over two days: a plenary with a speaker, a thematic session with
    a track and a chair, a roomless break, and a study visit on day two."""
    with SetUpContext(app):
        event = make_event()
        hall = make_room(event, "Nusa Dua Hall", capacity=1200, floor="Ground")
        studio = make_room(event, "Studio 3", capacity=40, position=1)
        track = make_track(event, "Reintegration", name_id="Reintegrasi sosial")
        minister = make_speaker(
            event,
            "Yasonna Laoly",
            honorific="Dr",
            biography=TranslatedText(en="Minister of Law.", id="Menteri Hukum."),
        )
        chair = make_speaker(event, "Ana García", country="ES", organisation_name="CEP")
        plenary = make_session(
            event,
            title_en="Opening plenary",
            title_id="Pleno pembukaan",
            kind=SessionKind.PLENARY,
            room=hall,
            speakers=[minister],
            interpretation=True,
            abstract=TranslatedText(en="Opening.", id="Pembukaan."),
        )
        thematic = make_session(
            event,
            title_en="Back into the community",
            title_id="Kembali ke masyarakat",
            room=studio,
            track=track,
            chairs=[chair],
            requires_signup=True,
            spoken_language="id",
        )
        make_session(
            event, title_en="Lunch", kind=SessionKind.BREAK, start=time(12, 0), end=time(13, 0)
        )
        visit = make_session(
            event,
            title_en="Visit to Bapas Denpasar",
            kind=SessionKind.STUDY_VISIT,
            day=SECOND_DAY,
            location_note="Bapas Denpasar",
        )
        publish_programme(event, actor=None)
        db.session.commit()
        return {
            "plenary": plenary.id,
            "thematic": thematic.id,
            "visit": visit.id,
            "minister": minister.id,
            "chair": chair.id,
            "track": track.id,
            "rooms": [hall.id, studio.id],
        }


def test_the_programme_comes_with_both_languages(client, published):
    response = client.get("/api/v1/programme")

    assert response.status_code == 200
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert body["version"] == 1
    assert body["timezone"] == "Asia/Makassar"
    assert (body["starts_on"], body["ends_on"]) == ("2026-04-14", "2026-04-17")
    assert [room["id"] for room in body["rooms"]] == published["rooms"]
    sessions = {session["id"]: session for session in body["sessions"]}
    plenary = sessions[published["plenary"]]
    assert plenary["title"] == {"en": "Opening plenary", "id": "Pleno pembukaan"}
    assert plenary["starts_at"] == "2026-04-14T01:00:00Z"  # 09:00 WITA
    assert plenary["people"] == [{"speaker_id": published["minister"], "role": "speaker"}]
    assert sessions[published["thematic"]]["capacity"] == 40  # the room's
    assert body["tracks"] == [
        {
            "id": published["track"],
            "name": {"en": "Reintegration", "id": "Reintegrasi sosial"},
            "colour": "#1f6feb",
        }
    ]
    speakers = {speaker["id"]: speaker for speaker in body["speakers"]}
    assert speakers[published["minister"]]["biography"] == {
        "en": "Minister of Law.",
        "id": "Menteri Hukum.",
    }


def test_the_language_of_the_request_changes_nothing(client, published):
    english = client.get("/api/v1/programme").get_json()
    indonesian = client.get("/api/v1/programme", headers={"Accept-Language": "id"}).get_json()

    assert english == indonesian


def test_one_day_of_the_programme(client, published):
    body = client.get(f"/api/v1/programme?day={SECOND_DAY.isoformat()}").get_json()

    assert [session["id"] for session in body["sessions"]] == [published["visit"]]
    assert body["speakers"] == []
    first = client.get(f"/api/v1/programme?day={FIRST_DAY.isoformat()}").get_json()
    assert published["visit"] not in {session["id"] for session in first["sessions"]}
    assert {speaker["id"] for speaker in first["speakers"]} == {
        published["minister"],
        published["chair"],
    }


@pytest.mark.parametrize("day", ["tomorrow", "2026-13-01", "", "2026-04-18", "2025-04-14"])
def test_a_bad_day_is_a_json_400_with_a_message(client, published, day):
    response = client.get(f"/api/v1/programme?day={day}")

    assert response.status_code == 400
    body = response.get_json()
    assert body["error"]["code"] == "bad_request"
    assert "day" in body["error"]["message"]


def test_nothing_published_is_a_json_404(client, app):
    with SetUpContext(app):
        make_session(make_event(), title_en="Draft only")
        db.session.commit()

    response = client.get("/api/v1/programme")

    assert response.status_code == 404
    assert response.get_json() == {
        "error": {"code": "not_found", "message": "The programme has not been published yet."}
    }


def test_an_unchanged_programme_answers_304_to_its_etag(client, published):
    first = client.get("/api/v1/programme")
    again = client.get("/api/v1/programme", headers={"If-None-Match": first.headers["ETag"]})

    assert "max-age=60" in first.headers["Cache-Control"]
    assert again.status_code == 304


def test_the_openapi_document_describes_the_programme(client):
    response = client.get("/api/v1/openapi.json")

    assert response.status_code == 200
    document = json.loads(response.get_data(as_text=True))
    assert document["openapi"] == "3.1.0"
    operation = document["paths"]["/api/v1/programme"]["get"]
    assert operation["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Programme"
    }
    assert operation["responses"]["400"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Error"
    }
    schemas = document["components"]["schemas"]
    assert {"Programme", "Session", "Room", "Track", "Speaker", "TranslatedText", "Error"} <= set(
        schemas
    )
    assert schemas["TranslatedText"]["properties"].keys() == {"id", "en"}
    # Every reference points at a schema the document holds.
    references = re.findall(r'"\$ref": "#/components/schemas/([^"]+)"', json.dumps(document))
    assert references
    assert set(references) <= set(schemas)


def test_another_domain_registers_its_paths_and_a_clash_is_refused():
    paths = {"/api/v1/test-only": {"get": {"responses": {"204": {"description": "Nothing."}}}}}
    openapi.register_paths(paths, {})
    openapi.register_paths(paths, {})  # the same again is harmless
    try:
        assert "/api/v1/test-only" in openapi.openapi_document()["paths"]
        with pytest.raises(ValueError, match="TranslatedText"):
            openapi.register_paths({}, {"TranslatedText": {"type": "string"}})
    finally:
        openapi._paths.pop("/api/v1/test-only")


# --- responses against the documented schemas ----------------------------------------------


def _resolve(schema: dict[str, Any], document: dict[str, Any]) -> dict[str, Any]:
    """Follow a local $ref."""
    while "$ref" in schema:
        name = schema["$ref"].removeprefix("#/components/schemas/")
        schema = document["components"]["schemas"][name]
    return schema


_TYPES = {
    "object": dict,
    "array": list,
    "string": str,
    "boolean": bool,
    "null": type(None),
}


def _has_type(value: Any, name: str) -> bool:
    if name == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, _TYPES[name])


def _is_format(value: str, schema: dict[str, Any]) -> bool:
    """Whether a string is an ISO date, or an ISO date-time with its offset."""
    try:
        if schema["format"] == "date":
            return date.fromisoformat(value).isoformat() == value
        return datetime.fromisoformat(value).tzinfo is not None
    except ValueError:
        return False


def schema_problems(value: Any, schema: dict[str, Any], document: dict, where: str = "$") -> list:
    """What in `value` breaks `schema`: the subset of JSON Schema the document uses (type,
    enum, pattern, minimum, minLength, format date/date-time, properties, required,
    additionalProperties, items, anyOf, $ref). A stand-in for jsonschema, not installed here."""
    schema = _resolve(schema, document)
    if "anyOf" in schema:
        if all(schema_problems(value, option, document, where) for option in schema["anyOf"]):
            return [f"{where}: matches no anyOf option"]
        return []
    types = schema.get("type")
    if types is not None:
        types = [types] if isinstance(types, str) else types
        if not any(_has_type(value, name) for name in types):
            return [f"{where}: {value!r} is not {types}"]
    problems = []
    if "enum" in schema and value not in schema["enum"]:
        problems.append(f"{where}: {value!r} not in {schema['enum']}")
    if isinstance(value, str):
        if "pattern" in schema and not re.search(schema["pattern"], value):
            problems.append(f"{where}: {value!r} does not match {schema['pattern']}")
        if len(value) < schema.get("minLength", 0):
            problems.append(f"{where}: too short")
        if schema.get("format") in ("date", "date-time") and not _is_format(value, schema):
            problems.append(f"{where}: {value!r} is not a {schema['format']}")
    if _has_type(value, "integer") and value < schema.get("minimum", value):
        problems.append(f"{where}: {value} below {schema['minimum']}")
    if isinstance(value, dict):
        properties = schema.get("properties", {})
        problems += [
            f"{where}: missing {key}" for key in schema.get("required", ()) if key not in value
        ]
        for key, item in value.items():
            if key in properties:
                problems += schema_problems(item, properties[key], document, f"{where}.{key}")
            elif schema.get("additionalProperties") is False:
                problems.append(f"{where}: undocumented {key}")
    if isinstance(value, list) and "items" in schema:
        for index, item in enumerate(value):
            problems += schema_problems(item, schema["items"], document, f"{where}[{index}]")
    return problems


def _documented_schema(document: dict, path: str, status: str) -> dict[str, Any]:
    return document["paths"][path]["get"]["responses"][status]["content"]["application/json"][
        "schema"
    ]


def test_responses_match_the_documented_schemas(client, published):
    document = client.get("/api/v1/openapi.json").get_json()
    programme = client.get("/api/v1/programme").get_json()
    one_day = client.get(f"/api/v1/programme?day={SECOND_DAY.isoformat()}").get_json()
    error = client.get("/api/v1/programme?day=never").get_json()
    schema = _documented_schema(document, "/api/v1/programme", "200")

    assert schema_problems(programme, schema, document) == []
    assert schema_problems(one_day, schema, document) == []
    assert (
        schema_problems(error, _documented_schema(document, "/api/v1/programme", "400"), document)
        == []
    )
    # The checker does catch what the schema forbids.
    programme["sessions"][0]["kind"] = "picnic"
    programme["rooms"][0]["colour"] = "#ffffff"
    del programme["speakers"][0]["country"]
    assert len(schema_problems(programme, schema, document)) == 3


def test_responses_validate_with_jsonschema(client, published):
    jsonschema = pytest.importorskip("jsonschema")
    document = client.get("/api/v1/openapi.json").get_json()
    programme = client.get("/api/v1/programme").get_json()
    # The Programme schema with the document's components beside it, so $refs resolve.
    schema = {"$ref": "#/components/schemas/Programme", "components": document["components"]}

    jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    ).validate(programme)
