"""Where a recorded action came from: the request's address and id, read at the edge."""

from __future__ import annotations

from dataclasses import dataclass

from flask import has_request_context, request

from app.observability import request_id


@dataclass(frozen=True)
class Origin:
    """The client address and request id of the action being recorded (None outside a request)."""

    ip_address: str | None = None
    request_id: str | None = None


def current_origin() -> Origin:
    """The current request's origin; commands and background jobs have none.

    The address is werkzeug's remote_addr, which is the client's once the deployment's proxy
    settings (ProxyFix) are in place; the id is the one app.observability gave the request.
    """
    if not has_request_context():
        return Origin()
    return Origin(ip_address=request.remote_addr, request_id=request_id())
