"""Files on disk tied to the database transaction that records them.

A file written for a row that is then rolled back is removed again, and a file whose row is
deleted goes only once the deletion is committed, so that disk and database never disagree.
Used for agreement documents and speaker photos.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import event
from sqlalchemy.orm import Session

_WRITTEN_KEY = "kongres_files_written"
_DOOMED_KEY = "kongres_files_doomed"


def write_file(session: Session, path: Path, data: bytes) -> Path:
    """Write bytes atomically (through a .part file); removed again if the session rolls back."""
    temporary = path.with_suffix(".part")
    try:
        temporary.write_bytes(data)
        temporary.replace(path)
    except OSError:
        temporary.unlink(missing_ok=True)
        raise
    _remember(session, _WRITTEN_KEY, path)
    return path


def delete_after_commit(session: Session, path: Path) -> None:
    """Delete a file once the transaction that stops using it is committed (not before)."""
    _remember(session, _DOOMED_KEY, path)


def _remember(session: Session, key: str, path: Path) -> None:
    """Note a file against the session's transaction and make sure the hooks are in place."""
    session.info.setdefault(key, []).append(path)
    if not event.contains(session, "after_commit", _settle_after_commit):
        event.listen(session, "after_commit", _settle_after_commit)
        event.listen(session, "after_soft_rollback", _settle_after_rollback)


def _settle_after_commit(session: Session) -> None:
    """Committed: new files stay, files of deleted rows go."""
    session.info.pop(_WRITTEN_KEY, None)
    for path in session.info.pop(_DOOMED_KEY, []):
        path.unlink(missing_ok=True)


def _settle_after_rollback(session: Session, previous_transaction: object) -> None:
    """Rolled back: files written for the lost rows go, files of kept rows stay."""
    if getattr(previous_transaction, "nested", False):
        return  # a savepoint ended; the enclosing transaction still decides
    session.info.pop(_DOOMED_KEY, None)
    for path in session.info.pop(_WRITTEN_KEY, []):
        path.unlink(missing_ok=True)
