"""Small helpers for the request edge shared by every blueprint."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlencode, urlsplit

from flask import Request, current_app, request, url_for
from flask_babel import lazy_gettext as _l
from werkzeug.routing import IntegerConverter

from app.errors import DomainError, abort_with
from app.extensions import db

Result = TypeVar("Result")


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


def run_service(
    form: object, action: Callable[..., Result], *args: Any, **kwargs: Any
) -> tuple[bool, Result | None]:
    """Call a service for a submitted form and end the request's transaction.

    Success commits and returns (True, result); a refused rule rolls everything back (or, for
    an error that keeps its writes, commits them), shows the message on the form and returns
    (False, None). The one commit of a request.
    """
    try:
        result = action(*args, **kwargs)
    except DomainError as error:
        if error.keeps_writes:
            db.session.commit()
        else:
            db.session.rollback()
        show_domain_error(form, error)
        return False, None
    db.session.commit()
    return True, result


def absolute_url(endpoint: str, **values: Any) -> str:
    """A full link for emails: SERVER_BASE_URL (the site's public origin) and the route's path,
    never the request's Host header, which a client can forge."""
    return current_app.config["SERVER_BASE_URL"].rstrip("/") + url_for(endpoint, **values)


def page_url(page: int) -> str:
    """This page's URL with another page number, keeping the other query arguments as given."""
    query = [(key, value) for key, value in request.args.items(multi=True) if key != "page"]
    return f"{request.path}?{urlencode([*query, ('page', page)])}"


def refuse_nul_in_query() -> None:
    """Answer 400 to a query string carrying NUL: no search or filter ever needs one."""
    if b"%00" in request.query_string or b"\x00" in request.query_string:
        abort_with(400, _l("The address contains characters that are not allowed."))


class DatabaseIntConverter(IntegerConverter):
    """<int:...> URL parts that fit a database integer; larger numbers match no route (404)."""

    def __init__(
        self,
        url_map: Any,
        fixed_digits: int = 0,
        min: int | None = None,
        max: int | None = 2**31 - 1,
        signed: bool = False,
    ) -> None:
        super().__init__(url_map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


# Lone surrogates are legal JSON escapes but not text: no UTF-8 encoder takes them. NUL is text
# PostgreSQL refuses, and no client of Kongres means one (forms drop it, queries refuse it).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _holds_unstorable_text(value: Any) -> bool:
    """Whether decoded JSON holds, anywhere, a string no database would store."""
    if isinstance(value, str):
        return bool(_UNSTORABLE.search(value))
    if isinstance(value, dict):
        return any(_holds_unstorable_text(k) or _holds_unstorable_text(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_holds_unstorable_text(item) for item in value)
    return False


class KongresRequest(Request):
    """Flask's request, whose JSON body is malformed (a 400, or None when silent) when its
    strings hold a NUL or a lone surrogate ("\\ud800"): such text would fail deep inside
    the request, in the database. Only bodies: the session cookie's JSON is the app's own."""

    def get_json(self, force: bool = False, silent: bool = False, cache: bool = True) -> Any:
        """The decoded JSON body, refusing text no database would store."""
        value = super().get_json(force=force, silent=silent, cache=cache)
        if not _holds_unstorable_text(value):
            return value
        if silent:
            return None
        return self.on_json_loading_failed(ValueError("JSON text with a NUL or a lone surrogate"))
