"""Domain errors and the error pages (HTML for pages, JSON for the API)."""

from __future__ import annotations

from typing import Any

from flask import Flask, jsonify, render_template, request
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException, InternalServerError, SecurityError

API_PREFIX = "/api/"


def is_api_request() -> bool:
    """Whether the request addresses the JSON API (errors answer in JSON there)."""
    return request.path.startswith(API_PREFIX)


class DomainError(Exception):
    """A business rule refused an action; carries a translated message and a stable code."""

    status_code = 422
    # A refusal whose own writes must stand (a wrong password counted against later tries);
    # the service raising it writes nothing else before it.
    keeps_writes = False

    def __init__(self, message: Any, code: str, *, field: str | None = None):
        # Rendered now, as plain text: a lazy string would reach templates unescaped
        # (Flask-Babel's LazyString counts as safe markup) with user text inside.
        self.message = str(message)
        super().__init__(self.message)
        self.code = code
        self.field = field

    def __str__(self) -> str:
        return str(self.message)


ERROR_TEXTS = {
    400: (
        _l("Bad request"),
        _l("The request could not be understood. Please check the form and try again."),
    ),
    401: (_l("Please sign in"), _l("You need to sign in to use this.")),
    403: (_l("Not allowed"), _l("Your account does not have permission to see this page.")),
    404: (
        _l("Page not found"),
        _l("There is nothing at this address. It may have moved or been removed."),
    ),
    405: (_l("Method not allowed"), _l("This address does not accept that kind of request.")),
    409: (
        _l("Conflict"),
        _l("This changed while you were working on it. Reload the page and try again."),
    ),
    413: (_l("Too large"), _l("What you sent is larger than allowed.")),
    422: (_l("Cannot be processed"), _l("The request was understood but cannot be carried out.")),
    429: (
        _l("Too many attempts"),
        _l("Too many requests in a short time. Please wait a moment and try again."),
    ),
    500: (
        _l("Something went wrong"),
        _l("An unexpected error happened on our side. It has been logged; please try again later."),
    ),
}
ERROR_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    422: "unprocessable",
    429: "too_many_requests",
    500: "server_error",
}


def api_error_body(code: str, message: Any, field: str | None = None) -> dict[str, Any]:
    """The one JSON error shape of the API (the OpenAPI document's Error schema):
    {"error": {"code", "message", "field"?}}, the message in the caller's language."""
    error: dict[str, Any] = {"code": code, "message": str(message)}
    if field:
        error["field"] = field
    return {"error": error}


def error_response(
    status: int, detail: Any = None, code: str | None = None, field: str | None = None
) -> Any:
    """Render an error as JSON under /api/ and as a translated page elsewhere."""
    title, explanation = ERROR_TEXTS.get(status, ERROR_TEXTS[500])
    message = str(detail) if detail else str(explanation)
    if is_api_request():
        body = api_error_body(code or ERROR_CODES.get(status, "error"), message, field)
        return jsonify(body), status
    return (
        render_template("errors/error.html", status=status, title=title, message=message),
        status,
    )


def _handle_http_exception(exc: HTTPException) -> Any:
    """Answer an HTTP error in the visitor's language."""
    if isinstance(exc, SecurityError):
        # An untrusted Host header: no URLs can be built for it, so no page either.
        return "Bad request: unknown host.", 400, {"Content-Type": "text/plain; charset=utf-8"}
    status = exc.code or 500
    # Werkzeug's own descriptions are English; show our translated text unless a view gave one.
    detail = exc.description if getattr(exc, "kongres_detail", False) else None
    response = error_response(status, detail)
    if status == 405 and hasattr(exc, "valid_methods") and exc.valid_methods:
        body, code = response
        return body, code, {"Allow": ", ".join(exc.valid_methods)}
    if status == 429:
        body, code = response
        headers = {}
        limit = getattr(exc, "limit", None)
        if limit is not None:
            headers["Retry-After"] = str(int(limit.limit.get_expiry()))
        return body, code, headers
    return response


def _handle_domain_error(exc: DomainError) -> Any:
    """A refused business rule that reached the edge unhandled."""
    return error_response(exc.status_code, exc.message, exc.code, exc.field)


def _handle_unexpected(exc: Exception) -> Any:
    """Log the failure and answer a plain 500: no stack trace reaches the user."""
    from app.extensions import db

    db.session.rollback()
    if isinstance(exc, HTTPException):
        return _handle_http_exception(exc)
    from flask import current_app

    current_app.logger.exception("unhandled error", exc_info=exc)
    return error_response(InternalServerError.code)


def abort_with(status: int, message: Any) -> None:
    """Abort with a translated message shown on the error page or in the JSON body."""
    from werkzeug.exceptions import default_exceptions

    exc = default_exceptions[status](description=str(message))
    exc.kongres_detail = True  # type: ignore[attr-defined]
    raise exc


def register_error_handlers(app: Flask) -> None:
    """Install the handlers on the application."""
    app.register_error_handler(HTTPException, _handle_http_exception)
    app.register_error_handler(DomainError, _handle_domain_error)
    app.register_error_handler(Exception, _handle_unexpected)
