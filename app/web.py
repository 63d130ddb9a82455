"""Small helpers for the request edge shared by every blueprint."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import request

API_PREFIX = "/api/"


def is_api_request() -> bool:
    """Whether the request addresses the JSON API (errors answer in JSON there)."""
    return request.path.startswith(API_PREFIX)


def safe_next_url(target: str | None, default: str) -> str:
    """Return target when it is a path on this site, else the default (no open redirects)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target


def show_domain_error(form: object, error: object) -> None:
    """Attach a refused rule's message to its form field, or to the form as a whole."""
    field_name = getattr(error, "field", None)
    field = getattr(form, field_name, None) if field_name else None
    if field is not None and hasattr(field, "errors"):
        field.errors = [*field.errors, str(error)]
    else:
        form.form_errors = [*getattr(form, "form_errors", []), str(error)]  # type: ignore[attr-defined]
