"""The audit log: every domain records who did what through app.audit.services.record.

A cross-cutting package: it imports no domain except auth.models (to name the actor); the
domains import it.
"""

from __future__ import annotations

from flask import Flask


def init_audit(app: Flask) -> None:
    """Chain entries at every commit."""
    from app.audit.services import listen_for_commits

    listen_for_commits()
