"""Helpers for the audit tests: recorded entries and tampering behind the log's back."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update

from app.audit import services
from app.audit.models import AuditEntry
from app.extensions import db


def record_entries(count: int, *, actor: Any = None, action: str = "auth.login") -> None:
    """Record and commit `count` entries in one transaction."""
    for number in range(count):
        services.record(action, actor=actor, target=("user", number, f"User {number}"))
    db.session.commit()


def entries(**where: Any) -> list[AuditEntry]:
    """The committed entries (matching column=value filters), oldest first."""
    query = select(AuditEntry).filter_by(**where).order_by(AuditEntry.position)
    return list(db.session.scalars(query))


def actions() -> list[str]:
    """The recorded action codes, oldest first."""
    return [entry.action for entry in entries()]


def tamper(at: int, **values: Any) -> None:
    """Change the stored columns of the entry at a position, as an intruder would."""
    db.session.execute(update(AuditEntry).where(AuditEntry.position == at).values(**values))
    db.session.commit()
    db.session.expire_all()
