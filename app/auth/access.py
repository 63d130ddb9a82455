"""Every route declares who may use it; undeclared routes are refused to everyone."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import abort, current_app, request
from flask_login import current_user

from app.auth.models import Role
from app.extensions import login_manager

PUBLIC = "public"
SIGNED_IN = "signed_in"
STAFF = (Role.ADMIN, Role.ORGANISER, Role.REGISTRY_OFFICER, Role.GATE_STAFF)

# Flask's own static view cannot carry an attribute (it is a bound method).
ALWAYS_PUBLIC_ENDPOINTS = frozenset({"static"})

ViewFunc = TypeVar("ViewFunc", bound=Callable[..., Any])


def allow(*who: Role | str) -> Callable[[ViewFunc], ViewFunc]:
    """Declare who may use a view: PUBLIC, SIGNED_IN, or one or more roles."""
    if not who:
        raise ValueError("allow() needs at least one audience")

    def decorate(view: ViewFunc) -> ViewFunc:
        view.access = frozenset(str(audience) for audience in who)  # type: ignore[attr-defined]
        return view

    return decorate


def declared_access(endpoint: str) -> frozenset[str] | None:
    """The audiences declared for an endpoint, or None when it declares none."""
    if endpoint in ALWAYS_PUBLIC_ENDPOINTS:
        return frozenset({PUBLIC})
    view = current_app.view_functions.get(endpoint)
    return getattr(view, "access", None)


def enforce_access() -> Any:
    """Refuse the request unless the current user is in the view's declared audience."""
    if request.endpoint is None:
        return None  # no route matched: the 404/405 handler answers
    audience = declared_access(request.endpoint)
    if audience is None:
        current_app.logger.error("route %s declares no access rule; refused", request.endpoint)
        abort(403)
    if PUBLIC in audience:
        return None
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if SIGNED_IN in audience:
        return None
    if not current_user.has_role(*audience):
        abort(403)
    return None
