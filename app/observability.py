"""Request ids, structured logs and one access-log line per request.

Every request gets an id: the incoming X-Request-ID when it is a sane token (nginx sets it, so
the proxy's and the app's lines share it), else a fresh one. It is kept on `flask.g`, sent back
in the X-Request-ID response header, shown on the 500 page and written on every log line of
the request. With LOG_FORMAT=json each line is one JSON object; with "text" a readable line.

Logging is process-wide, so the last application created decides the format (one per process
in production; tests create several).

Paths are logged through `loggable_path`, which hides the secrets some URLs carry (invitation,
password-reset and confirmation tokens, private calendar feeds, visa verification codes): a log
is read by more people than those links were sent to.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from datetime import UTC, datetime
from typing import IO, Any
from urllib.parse import unquote, urlsplit, urlunsplit

from flask import Flask, Response, current_app, g, has_request_context, request
from flask.logging import default_handler
from sqlalchemy import inspect
from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import BuildError, RequestRedirect

REQUEST_ID_HEADER = "X-Request-ID"
# An incoming id is used only when it looks like one (nginx's $request_id is 32 hex digits;
# UUIDs pass too). Anything else, such as newlines or a kilobyte of text, could forge or bloat
# log lines, so it is replaced.
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
ACCESS_LOGGER = "kongres.access"
# Request details each line may carry, in the order a JSON line lists them.
REQUEST_FIELDS = (
    "request_id",
    "method",
    "path",
    "status",
    "duration_ms",
    "user_id",
    "remote_addr",
)

# What a secret URL argument's value is logged as.
REDACTED = "[redacted]"

access_log = logging.getLogger(ACCESS_LOGGER)


def _is_secret_argument(name: str) -> bool:
    """Whether a URL argument holds a secret: any token, and verification codes ("code")."""
    return "token" in name or name == "code"


def loggable_path(path: str) -> str:
    """The path with the value of each secret URL argument of the route it matches replaced
    by "[redacted]"; a path no route matches, or one without secrets, is returned as it is."""
    adapter = current_app.url_map.bind("")
    try:
        try:
            endpoint, values = adapter.match(path, method="GET")
            method = "GET"
        except MethodNotAllowed as refused:
            # A route taking only POST (say) still hides its token.
            method = sorted(refused.valid_methods or ["GET"])[0]
            endpoint, values = adapter.match(path, method=method)
    except (NotFound, MethodNotAllowed, RequestRedirect):
        return path
    if not any(_is_secret_argument(name) for name in values):
        return path
    hidden = {
        name: REDACTED if _is_secret_argument(name) else value for name, value in values.items()
    }
    try:
        built = adapter.build(endpoint, hidden, method=method)
    except BuildError:
        # Never the secret: a log line without its path is better than one with it.
        return REDACTED
    # Built quoted, as a URL; logged unquoted, as request.path is.
    return unquote(built)


def loggable_url(url: str) -> str:
    """A URL someone else reported (a CSP report's page or blocked resource) fit for a log:
    its path passed through loggable_path, its query string and fragment dropped (either may
    carry a secret). Keywords such as "inline" or "eval" pass unchanged."""
    try:
        parts = urlsplit(url)
    except ValueError:  # such as an unbalanced "[" in the host
        return REDACTED
    path = parts.path
    if path.startswith("/"):
        decoded = unquote(path)
        hidden = loggable_path(decoded)
        path = path if hidden == decoded else hidden  # left as reported unless redacted
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def request_id() -> str | None:
    """The current request's id, or None outside a request."""
    return g.get("request_id") if has_request_context() else None


def _start_request() -> None:
    """Give the request its id and note when it started."""
    incoming = request.headers.get(REQUEST_ID_HEADER, "")
    g.request_id = incoming if SANE_REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
    g.request_started = time.perf_counter()


def _finish_request(response: Response) -> Response:
    """Echo the id to the client and write the request's access line."""
    response.headers[REQUEST_ID_HEADER] = g.get("request_id") or ""
    started = g.get("request_started")
    duration_ms = round((time.perf_counter() - started) * 1000, 1) if started else None
    access_log.info(
        "%s %s %s %sms",
        request.method,
        loggable_path(request.path),
        response.status_code,
        duration_ms,
        extra={"status": response.status_code, "duration_ms": duration_ms},
    )
    return response


def _signed_in_user_id() -> int | None:
    """The id of the user this request already loaded, if signed in. Read from where
    Flask-Login keeps it, never loaded for a log line: the database may be what failed, and the
    row may be detached (a job or command run inside a request's context). The identity key is
    read without touching the database; an anonymous visitor is no mapped row and has none."""
    user = g.get("_login_user")
    state = inspect(user, raiseerr=False) if user is not None else None
    identity = state.identity if state is not None else None
    return identity[0] if identity else None


class RequestContextFilter(logging.Filter):
    """Adds the current request's details to every record (None outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Annotate the record; never drops one."""
        inside = has_request_context()
        details = {
            "request_id": request_id(),
            "method": request.method if inside else None,
            "path": loggable_path(request.path) if inside else None,
            "user_id": _signed_in_user_id() if inside else None,
            "remote_addr": request.remote_addr if inside else None,
        }
        for name, value in details.items():
            if getattr(record, name, None) is None:
                setattr(record, name, value)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line, for log collectors."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as a single-line JSON object (a traceback stays inside its string)."""
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in REQUEST_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                entry[name] = value
        if record.exc_info:
            entry["traceback"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """A readable line for people at a terminal, with the request id in brackets."""

    def __init__(self) -> None:
        """Time, level, logger, request id, message."""
        super().__init__("%(asctime)s %(levelname)s %(name)s [%(request_label)s] %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        """The record with "-" where no request is being served."""
        record.request_label = getattr(record, "request_id", None) or "-"
        return super().format(record)


class StderrHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is when a line is written (gunicorn and test runners
    replace it after start-up)."""

    @property
    def stream(self) -> IO[str]:  # type: ignore[override]
        """The current standard error."""
        return sys.stderr

    @stream.setter
    def stream(self, _value: IO[str]) -> None:
        """Ignored: the stream is always the current standard error."""


def init_observability(app: Flask) -> None:
    """Send every logger's lines to standard error in LOG_FORMAT, replacing an earlier
    application's handler, and give each request its id and access line."""
    handler = StderrHandler()
    handler.addFilter(RequestContextFilter())
    handler.setFormatter(JsonFormatter() if app.config["LOG_FORMAT"] == "json" else TextFormatter())
    root = logging.getLogger()
    for old in [each for each in root.handlers if isinstance(each, StderrHandler)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(app.config["LOG_LEVEL"])
    # The root handler writes the application's lines; Flask's own would write them twice.
    app.logger.removeHandler(default_handler)
    # Tells the migrations' env.py not to replace this set-up with alembic.ini's.
    app.extensions["observability"] = handler
    # Registered before any other hook, so that even a request refused early has its id.
    app.before_request(_start_request)
    app.after_request(_finish_request)
