"""The audit log: who did what to whom, as a tamper-evident hash chain."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, DateTime, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db

HASH_LENGTH = 64  # sha256 as hexadecimal
CHAIN_HEAD_ID = 1


class AuditEntry(db.Model):
    """One recorded action; position and hashes are set when its transaction commits."""

    __tablename__ = "audit_entries"
    __table_args__ = (
        # Appended entries always carry both (they are filled in just before commit).
        CheckConstraint("(position IS NULL) = (entry_hash IS NULL)", name="position_with_hash"),
        Index("ix_audit_entries_occurred_at", "occurred_at"),
        Index("ix_audit_entries_target", "target_type", "target_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The place in the chain: ids follow insertion, positions follow commit order.
    position: Mapped[int | None] = mapped_column(unique=True)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # Deleting a user keeps their entries: the copied email and name still say who it was.
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    actor_email: Mapped[str | None] = mapped_column(String(254))
    actor_name: Mapped[str | None] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(64), index=True)
    target_type: Mapped[str | None] = mapped_column(String(64))
    target_id: Mapped[str | None] = mapped_column(String(64))
    target_label: Mapped[str | None] = mapped_column(String(300))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    ip_address: Mapped[str | None] = mapped_column(String(45))
    request_id: Mapped[str | None] = mapped_column(String(64))
    previous_hash: Mapped[str | None] = mapped_column(String(HASH_LENGTH))
    entry_hash: Mapped[str | None] = mapped_column(String(HASH_LENGTH))

    def __repr__(self) -> str:
        return f"<AuditEntry {self.position} {self.action}>"


class AuditChainHead(db.Model):
    """The one row holding the chain's end: locked by every append, and it reveals a
    deleted last entry (the newest entry's hash must equal the head's)."""

    __tablename__ = "audit_chain_head"
    __table_args__ = (CheckConstraint(f"id = {CHAIN_HEAD_ID}", name="single_row"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last_position: Mapped[int] = mapped_column(default=0)
    last_hash: Mapped[str | None] = mapped_column(String(HASH_LENGTH))
