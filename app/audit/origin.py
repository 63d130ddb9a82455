"""Where a recorded action came from: the request's address and id, read at the edge."""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask import g, has_request_context, request

REQUEST_ID_HEADER = "X-Request-ID"
MAX_REQUEST_ID = 64
# A request id is echoed into the log and the page: letters, digits and a few separators.
REQUEST_ID_PATTERN = re.compile(r"[A-Za-z0-9._:-]{1,64}")


@dataclass(frozen=True)
class Origin:
    """The client address and request id of the action being recorded (None outside a request)."""

    ip_address: str | None = None
    request_id: str | None = None


def current_origin() -> Origin:
    """The current request's origin; commands and background jobs have none.

    The address is werkzeug's remote_addr, which is the client's once the deployment's proxy
    settings (ProxyFix) are in place. The request id is the app's own (g.request_id) when one
    is set, else the proxy's X-Request-ID header when it is well formed.
    """
    if not has_request_context():
        return Origin()
    request_id = g.get("request_id") or request.headers.get(REQUEST_ID_HEADER)
    if request_id is not None and not REQUEST_ID_PATTERN.fullmatch(str(request_id)):
        request_id = None
    return Origin(ip_address=request.remote_addr, request_id=request_id)
