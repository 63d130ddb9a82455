"""Recording actions in the audit log and checking that nobody tampered with it.

Each entry's hash covers its fields and the previous entry's hash, so an edited, removed,
reordered or slipped-in entry breaks the chain. record() only adds the entry to the current
transaction; its place in the chain is fixed just before that transaction commits, under a
lock on the one-row chain head, so that concurrent requests append one after the other and
a rolled-back request leaves nothing behind.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator, Mapping
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, event, inspect, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, SessionTransaction
from werkzeug.local import LocalProxy

from app.audit.models import CHAIN_HEAD_ID, AuditChainHead, AuditEntry
from app.audit.origin import current_origin
from app.auth.models import User
from app.extensions import db
from app.i18n.formatting import event_zone

# session.info key of the entries this session recorded and has not yet committed.
PENDING_KEY = "audit_pending"
MAX_LABEL = AuditEntry.__table__.c.target_label.type.length
MAX_TARGET_ID = AuditEntry.__table__.c.target_id.type.length
# Tried in this order for a target's label: its reference reads best in a log.
LABEL_ATTRIBUTES = ("reference", "reference_number", "number", "name", "email", "title")
# Values that must never reach the log, whatever a caller passes in details.
HIDDEN_KEYS = frozenset(
    {"password", "password_hash", "passport_number", "passport_number_encrypted", "token"}
)
HIDDEN_VALUE = "changed"
VERIFY_BATCH = 1000


class BreakReason(StrEnum):
    """Why the chain breaks at an entry."""

    EDITED = "edited"
    MISSING = "missing"
    REORDERED = "reordered"
    UNCHAINED = "unchained"
    REMOVED = "removed"


BREAK_REASON_LABELS = {
    BreakReason.EDITED: _l("its contents were changed after it was recorded"),
    BreakReason.MISSING: _l("an entry before it is missing"),
    BreakReason.REORDERED: _l("it does not follow the entry before it"),
    BreakReason.UNCHAINED: _l("it is not part of the recorded chain"),
    BreakReason.REMOVED: _l("the newest entries, from this one on, were removed"),
}


@dataclass(frozen=True)
class ChainBreak:
    """The first place where the chain does not hold: its position, and the entry found
    there (None when the newest entries were removed)."""

    position: int
    entry_id: int | None
    reason: BreakReason

    @property
    def reason_label(self) -> str:
        """Why the chain breaks here, in the reader's language."""
        return str(BREAK_REASON_LABELS[self.reason])


@dataclass(frozen=True)
class ChainStatus:
    """What verify found: how many entries, and the first break if any."""

    entries: int
    broken_at: ChainBreak | None


def _snake_case(name: str) -> str:
    """GateDevice -> gate_device."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def describe_target(target: Any) -> tuple[str | None, str | None, str | None]:
    """A model object as (type, id, label) for the log; (type, id, label) tuples pass through."""
    if target is None:
        return None, None, None
    if isinstance(target, LocalProxy):
        # current_user and the like: the entry names the object behind the proxy.
        target = target._get_current_object()
    if isinstance(target, tuple):
        kind, key, label = target
    else:
        if getattr(target, "id", None) is None:
            db.session.flush()  # a new object gets its id, so the entry can name it
        kind = _snake_case(type(target).__name__)
        key = getattr(target, "id", None)
        label = next(
            (value for name in LABEL_ATTRIBUTES if (value := getattr(target, name, None))), None
        )
    return (
        kind,
        None if key is None else str(key)[:MAX_TARGET_ID],
        None if label is None else str(label)[:MAX_LABEL],
    )


def _scrub(value: Any) -> Any:
    """Details as plain JSON with every secret replaced by "changed"."""
    if isinstance(value, Mapping):
        return {
            str(key): HIDDEN_VALUE if str(key) in HIDDEN_KEYS else _scrub(item)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple | set | frozenset):
        return [_scrub(item) for item in value]
    return value


def clean_details(details: Mapping[str, Any] | None) -> dict[str, Any]:
    """What is stored is exactly what is hashed: JSON types only (dates as ISO text)."""
    return json.loads(json.dumps(_scrub(details or {}), default=str, sort_keys=True))


def record(
    action: str,
    *,
    actor: User | None,
    target: Any = None,
    details: Mapping[str, Any] | None = None,
) -> AuditEntry:
    """Add an entry to the current transaction; it is chained when the transaction commits."""
    target_type, target_id, target_label = describe_target(target)
    origin = current_origin()
    # current_user may be an anonymous visitor: no account to name.
    actor_id = getattr(actor, "id", None) if actor is not None else None
    entry = AuditEntry(
        occurred_at=datetime.now(UTC),
        actor_id=actor_id,
        actor_email=getattr(actor, "email", None) if actor_id is not None else None,
        actor_name=getattr(actor, "name", None) if actor_id is not None else None,
        action=action,
        target_type=target_type,
        target_id=target_id,
        target_label=target_label,
        details=clean_details(details),
        ip_address=origin.ip_address,
        request_id=origin.request_id,
    )
    db.session.add(entry)
    db.session.info.setdefault(PENDING_KEY, []).append(entry)
    return entry


# --- the hash chain -------------------------------------------------------------------------


def _utc_text(moment: datetime) -> str:
    """A moment as UTC text that survives the database: SQLite gives it back without a zone."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.isoformat(timespec="microseconds")


def entry_hash(values: Mapping[str, Any]) -> str:
    """sha256 over the canonical JSON of an entry's fields and the previous entry's hash.

    The actor's id is left out: deleting the account sets it to NULL, while the copied email
    and name (which are covered) keep saying who it was.
    """
    fields = {
        "position": values["position"],
        "occurred_at": _utc_text(values["occurred_at"]),
        "actor_email": values["actor_email"],
        "actor_name": values["actor_name"],
        "action": values["action"],
        "target_type": values["target_type"],
        "target_id": values["target_id"],
        "target_label": values["target_label"],
        "details": values["details"],
        "ip_address": values["ip_address"],
        "request_id": values["request_id"],
        "previous_hash": values["previous_hash"],
    }
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _entry_values(entry: AuditEntry) -> dict[str, Any]:
    """An entry's hashed fields as a mapping (the shape verify reads from rows)."""
    return {column.key: getattr(entry, column.key) for column in AuditEntry.__table__.columns}


def _locked_head(session: Session) -> AuditChainHead:
    """The chain head, created when missing, locked until this transaction ends.

    INSERT ... ON CONFLICT DO NOTHING lets two first appends race safely; SELECT ... FOR
    UPDATE then makes every other appender wait (SQLite has one writer at a time anyway).
    """
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(
        insert(AuditChainHead)
        .values(id=CHAIN_HEAD_ID, last_position=0, last_hash=None)
        .on_conflict_do_nothing(index_elements=["id"])
    )
    return session.execute(
        select(AuditChainHead)
        .where(AuditChainHead.id == CHAIN_HEAD_ID)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()


def _chain_pending(session: Session) -> None:
    """Before commit: give this transaction's entries their places at the end of the chain."""
    if session.in_nested_transaction():
        return  # a savepoint's release: the chain waits for the real commit, locked briefly
    recorded = session.info.pop(PENDING_KEY, [])
    # Entries of a rolled-back savepoint or transaction have left the session: skip them.
    entries = [entry for entry in recorded if inspect(entry).pending or inspect(entry).persistent]
    if not entries:
        return
    # Everything else first: once the head is locked, this transaction waits for no other row.
    session.flush()
    head = _locked_head(session)
    for entry in entries:
        entry.position = head.last_position + 1
        entry.previous_hash = head.last_hash
        entry.entry_hash = entry_hash(_entry_values(entry))
        head.last_position, head.last_hash = entry.position, entry.entry_hash


def _forget_pending(session: Session, transaction: SessionTransaction) -> None:
    """When the outermost transaction ends, nothing recorded in it remains to be chained (a
    savepoint's end changes nothing: the entries before it still commit with the rest)."""
    if transaction.parent is None and not transaction.nested:
        session.info.pop(PENDING_KEY, None)


def listen_for_commits() -> None:
    """Chain recorded entries in every session's commit (once per process)."""
    if not event.contains(Session, "before_commit", _chain_pending):
        event.listen(Session, "before_commit", _chain_pending)
        event.listen(Session, "after_transaction_end", _forget_pending)


# --- verification ---------------------------------------------------------------------------


def _entries_in_chain_order() -> Iterator[Mapping[str, Any]]:
    """Every entry's stored fields, oldest first, streamed in batches (one query)."""
    statement = (
        select(*AuditEntry.__table__.columns)
        .order_by(AuditEntry.position.asc().nulls_last(), AuditEntry.id)
        .execution_options(yield_per=VERIFY_BATCH)
    )
    result = db.session.execute(statement)
    try:
        for row in result:
            yield row._mapping
    finally:
        result.close()  # a server-side cursor on PostgreSQL: closed even when verify stops early


def _head_for_reading() -> AuditChainHead | None:
    """The chain head, share-locked on PostgreSQL so that no append lands while the chain is
    read (an entry committed meanwhile would look like one slipped in)."""
    return db.session.execute(
        select(AuditChainHead)
        .where(AuditChainHead.id == CHAIN_HEAD_ID)
        .with_for_update(read=True)
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()


def _break_at(
    values: Mapping[str, Any], expected: int, previous_hash: str | None
) -> ChainBreak | None:
    """How an entry breaks the chain where position `expected` should be, if it does."""
    position = values["position"]
    if position is None or position < expected:
        return ChainBreak(expected, values["id"], BreakReason.UNCHAINED)
    if position > expected:
        return ChainBreak(expected, values["id"], BreakReason.MISSING)
    if values["previous_hash"] != previous_hash:
        return ChainBreak(position, values["id"], BreakReason.REORDERED)
    if values["entry_hash"] != entry_hash(values):
        return ChainBreak(position, values["id"], BreakReason.EDITED)
    return None


def check_chain() -> ChainStatus:
    """Walk the whole chain: how many entries, and where it first breaks."""
    head = _head_for_reading()
    last_position = head.last_position if head is not None else 0
    last_hash = head.last_hash if head is not None else None
    previous_hash: str | None = None
    previous_id: int | None = None
    count = 0
    with closing(_entries_in_chain_order()) as rows:
        for values in rows:
            count += 1
            broken = _break_at(values, count, previous_hash)
            if broken is None and count > last_position:
                # Well formed, but after the end the head remembers: added behind its back.
                broken = ChainBreak(count, values["id"], BreakReason.UNCHAINED)
            if broken is not None:
                return ChainStatus(count, broken)
            previous_hash, previous_id = values["entry_hash"], values["id"]
    if count < last_position:
        # The newest entries are gone: the head still remembers where the chain ended.
        return ChainStatus(count, ChainBreak(count + 1, None, BreakReason.REMOVED))
    if previous_hash != last_hash:
        return ChainStatus(count, ChainBreak(count, previous_id, BreakReason.UNCHAINED))
    return ChainStatus(count, None)


def verify_chain() -> ChainBreak | None:
    """The first broken entry (edited, deleted, reordered or inserted), or None when intact."""
    return check_chain().broken_at


# --- the admin list -------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditFilters:
    """What the audit list is narrowed to; None leaves a filter out."""

    q: str | None = None
    actor: str | None = None
    action: str | None = None
    target_type: str | None = None
    date_from: date | None = None
    date_to: date | None = None


def _start_of_day(day: date) -> datetime:
    """Midnight of a day in the event's zone, in UTC (the list's days are the event's)."""
    return datetime.combine(day, time.min, tzinfo=event_zone()).astimezone(UTC)


def entry_query(filters: AuditFilters) -> Select[tuple[AuditEntry]]:
    """The committed entries matching the filters, newest first."""
    query = select(AuditEntry).where(AuditEntry.position.is_not(None))
    if filters.q:
        text = filters.q
        query = query.where(
            or_(
                AuditEntry.action.icontains(text, autoescape=True),
                AuditEntry.target_label.icontains(text, autoescape=True),
                AuditEntry.target_id == text,
                AuditEntry.actor_email.icontains(text, autoescape=True),
                AuditEntry.actor_name.icontains(text, autoescape=True),
                AuditEntry.ip_address == text,
                AuditEntry.request_id == text,
            )
        )
    if filters.actor:
        query = query.where(
            or_(
                AuditEntry.actor_email.icontains(filters.actor, autoescape=True),
                AuditEntry.actor_name.icontains(filters.actor, autoescape=True),
            )
        )
    if filters.action:
        query = query.where(AuditEntry.action == filters.action)
    if filters.target_type:
        query = query.where(AuditEntry.target_type == filters.target_type)
    if filters.date_from:
        query = query.where(AuditEntry.occurred_at >= _start_of_day(filters.date_from))
    if filters.date_to:
        next_day = filters.date_to + timedelta(days=1)
        query = query.where(AuditEntry.occurred_at < _start_of_day(next_day))
    return query.order_by(AuditEntry.position.desc())


def target_types() -> list[str]:
    """The kinds of record the log names, for the filter."""
    return list(
        db.session.scalars(
            select(AuditEntry.target_type)
            .where(AuditEntry.target_type.is_not(None))
            .distinct()
            .order_by(AuditEntry.target_type)
        )
    )
