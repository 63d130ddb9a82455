"""The OpenAPI 3.1 document describing Kongres's JSON API.

Each domain with an API registers its paths and component schemas here when its module is
imported (programme now, check-in next); `openapi_document()` assembles the whole document,
served at /api/v1/openapi.json. Schemas are JSON Schema 2020-12, as OpenAPI 3.1 uses them, so
that clients and contract tests (schemathesis) can validate every response against them.
"""

from __future__ import annotations

import copy
import threading
from typing import Any

API_TITLE = "Kongres API"
API_VERSION = "1.0.0"
OPENAPI_VERSION = "3.1.0"

# Schemas every domain's responses share.
COMMON_SCHEMAS: dict[str, dict[str, Any]] = {
    "Error": {
        "type": "object",
        "description": (
            "Every error of the API (app/errors.py api_error_body): a stable code, a message "
            "in the client's language and, when one field is at fault, its name."
        ),
        "properties": {
            "error": {
                "type": "object",
                "properties": {
                    "code": {
                        "type": "string",
                        "description": "A stable code, e.g. not_found, bad_request, invalid_nonce.",
                    },
                    "message": {
                        "type": "string",
                        "description": "What went wrong, in the language of Accept-Language.",
                    },
                    "field": {
                        "type": "string",
                        "description": "The request field at fault, when there is one.",
                    },
                },
                "required": ["code", "message"],
                "additionalProperties": False,
            },
        },
        "required": ["error"],
    },
    "TranslatedText": {
        "type": "object",
        "description": (
            "Organiser-entered text in each language it was written in "
            "(id: Indonesian, en: English); a language not translated yet is absent."
        ),
        "properties": {
            "id": {"type": "string", "minLength": 1},
            "en": {"type": "string", "minLength": 1},
        },
        "additionalProperties": False,
    },
}

_registry_lock = threading.Lock()
_paths: dict[str, dict[str, Any]] = {}
_schemas: dict[str, dict[str, Any]] = dict(COMMON_SCHEMAS)
_security_schemes: dict[str, dict[str, Any]] = {}


def register_paths(
    paths: dict[str, dict[str, Any]],
    schemas: dict[str, dict[str, Any]],
    security_schemes: dict[str, dict[str, Any]] | None = None,
) -> None:
    """Add a domain's paths, component schemas and security schemes to the document.

    Registering the same definitions again is harmless; a different definition under a name
    already taken is a programming error (two domains would describe one thing two ways).
    """
    additions = (
        (_paths, paths),
        (_schemas, schemas),
        (_security_schemes, security_schemes or {}),
    )
    with _registry_lock:
        for registry, added in additions:
            for name, definition in added.items():
                if name in registry and registry[name] != definition:
                    raise ValueError(f"OpenAPI name registered twice, differently: {name}")
        for registry, added in additions:
            registry.update(copy.deepcopy(added))


def schema_ref(name: str) -> dict[str, str]:
    """A reference to a component schema."""
    return {"$ref": f"#/components/schemas/{name}"}


def error_response_object(description: str) -> dict[str, Any]:
    """A response whose body is the common Error object."""
    return {
        "description": description,
        "content": {"application/json": {"schema": schema_ref("Error")}},
    }


def openapi_document() -> dict[str, Any]:
    """The whole OpenAPI 3.1 document (a fresh copy: callers may change it)."""
    with _registry_lock:
        paths = copy.deepcopy(dict(sorted(_paths.items())))
        schemas = copy.deepcopy(dict(sorted(_schemas.items())))
        security_schemes = copy.deepcopy(dict(sorted(_security_schemes.items())))
    return {
        "openapi": OPENAPI_VERSION,
        "jsonSchemaDialect": "https://spec.openapis.org/oas/3.1/dialect/base",
        "info": {
            "title": API_TITLE,
            "version": API_VERSION,
            "description": (
                "The public JSON API of Kongres, the congress system of the 7th World "
                "Congress on Probation and Parole (WCPP 2026). Times are UTC (ISO 8601); "
                "the congress's own time zone is given where it matters."
            ),
        },
        "paths": paths,
        "components": {"schemas": schemas, "securitySchemes": security_schemes},
    }
