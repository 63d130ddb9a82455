"""Backups: the database and the stored files in one tar.gz with a manifest, and restoring them.

An archive holds `manifest.json` (format, schema revision, when, which database, rows per table,
files per folder), the database (`database.pgdump`, pg_dump's custom format, or
`database.sqlite`, a copy made with SQLite's backup API) and the stored files under `files/`
(uploads, job results, speaker photos). The rows counted are those of the dump itself: on
PostgreSQL pg_dump runs in the snapshot the counts were taken in; on SQLite they are counted
in the copy.

A restore copies the archive's files beside the live folders first, then replaces the database
(pg_restore in one transaction, or SQLite's backup API), then swaps the folders by renaming: a
failure before the swap leaves the database and the files as they were.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from alembic.script import ScriptDirectory
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import Connection, column, create_engine, func, inspect, select, table, text
from sqlalchemy.engine import URL

from app.config import PROJECT_ROOT
from app.errors import DomainError
from app.extensions import db
from app.jobs.services import RESULT_DIR
from app.programme.photos import photo_dir

__all__ = [
    "BackupError",
    "Manifest",
    "create_backup",
    "needs_upgrade",
    "restore_backup",
    "table_counts",
]

ARCHIVE_FORMAT = 1
MANIFEST_NAME = "manifest.json"
POSTGRES_DUMP_NAME = "database.pgdump"
SQLITE_COPY_NAME = "database.sqlite"
FILES_PREFIX = "files"
ALEMBIC_TABLE = "alembic_version"
# pg_dump and pg_restore of a congress-sized database take seconds; an hour means stuck.
CLIENT_TIMEOUT = 3600


class BackupError(DomainError):
    """A backup or restore was refused or failed. Nothing was changed unless the message says
    what was: a restore failing after it replaced the database (its row counts differ from the
    backup's, "count_mismatch"; or the stored files could not be swapped in, "files_failed")."""

    status_code = 409


@dataclass(frozen=True)
class Manifest:
    """What an archive holds."""

    format: int
    schema_revision: str
    created_at: str
    database: str
    counts: dict[str, int]
    files: dict[str, int]


# --- what is backed up ----------------------------------------------------------------------


def file_folders() -> dict[str, Path]:
    """The folders of stored files, by their name inside an archive."""
    return {
        "uploads": Path(current_app.config["UPLOAD_DIR"]),
        "jobs": Path(current_app.instance_path) / RESULT_DIR,
        "speaker_photos": photo_dir(),
    }


def _files_in(folder: Path) -> list[Path]:
    """The regular files under a folder (none when it does not exist)."""
    if not folder.is_dir():
        return []
    return sorted(path for path in folder.rglob("*") if path.is_file())


def table_counts(connection: Connection) -> dict[str, int]:
    """Rows per table of the database behind a connection (Alembic's own table left out)."""
    names = sorted(set(inspect(connection).get_table_names()) - {ALEMBIC_TABLE})
    return {
        name: connection.execute(select(func.count()).select_from(table(name))).scalar_one()
        for name in names
    }


def _schema_revision(connection: Connection) -> str | None:
    """The Alembic revision a database is at (None when it was never migrated)."""
    if ALEMBIC_TABLE not in inspect(connection).get_table_names():
        return None
    version = table(ALEMBIC_TABLE, column("version_num"))
    return connection.execute(select(version.c.version_num)).scalar()


def _migrations() -> ScriptDirectory:
    """This code's migration scripts."""
    return ScriptDirectory(str(PROJECT_ROOT / "migrations"))


def _database_kind() -> str:
    """ "postgresql" or "sqlite": the two databases Kongres runs on."""
    kind = db.engine.dialect.name
    if kind not in ("postgresql", "sqlite"):
        raise BackupError(
            _("Backups support PostgreSQL and SQLite, not %(kind)s.", kind=kind), "unsupported"
        )
    return kind


# --- PostgreSQL through its client programs -------------------------------------------------


def _client_program(name: str) -> str:
    """The path of pg_dump or pg_restore, or a clear error when it is missing."""
    path = shutil.which(name)
    if path is None:
        raise BackupError(
            _(
                "%(program)s is not installed; install PostgreSQL's client programs "
                "(apt-get install postgresql-client).",
                program=name,
            ),
            "client_missing",
        )
    return path


def _libpq_target(url: URL) -> tuple[str, dict[str, str]]:
    """A libpq connection string for the database and an environment carrying its password
    (kept off the command line, where `ps` would show it)."""
    environment = dict(os.environ)
    if url.password is not None:
        environment["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), environment


def _run_client(arguments: list[str], environment: dict[str, str], code: str) -> None:
    """Run pg_dump or pg_restore; its complaint becomes a BackupError."""
    try:
        result = subprocess.run(  # noqa: S603 (a fixed program with our own arguments)
            arguments,
            env=environment,
            capture_output=True,
            text=True,
            timeout=CLIENT_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired as error:
        raise BackupError(
            _("%(program)s did not finish within an hour.", program=Path(arguments[0]).name),
            code,
        ) from error
    if result.returncode != 0:
        raise BackupError(
            _(
                "%(program)s failed: %(message)s",
                program=Path(arguments[0]).name,
                message=result.stderr.strip()[-2000:],
            ),
            code,
        )


def _dump_postgres(destination: Path) -> tuple[str | None, dict[str, int]]:
    """pg_dump the database into a file; the revision and counts seen by the same snapshot."""
    pg_dump = _client_program("pg_dump")
    target, environment = _libpq_target(db.engine.url)
    with db.engine.connect() as connection:
        snapshot_connection = connection.execution_options(isolation_level="REPEATABLE READ")
        with snapshot_connection.begin():
            # pg_dump works in this transaction's snapshot: the dump holds what was counted.
            snapshot = snapshot_connection.execute(text("SELECT pg_export_snapshot()")).scalar()
            revision = _schema_revision(snapshot_connection)
            counts = table_counts(snapshot_connection)
            _run_client(
                [
                    pg_dump,
                    "--format=custom",
                    "--no-owner",
                    "--no-privileges",
                    f"--snapshot={snapshot}",
                    f"--file={destination}",
                    f"--dbname={target}",
                ],
                environment,
                "dump_failed",
            )
    return revision, counts


def _restore_postgres(dump: Path) -> None:
    """pg_restore a dump over the database, in one transaction (all or nothing)."""
    pg_restore = _client_program("pg_restore")
    target, environment = _libpq_target(db.engine.url)
    _run_client(
        [
            pg_restore,
            "--clean",
            "--if-exists",
            "--no-owner",
            "--no-privileges",
            "--single-transaction",
            "--exit-on-error",
            f"--dbname={target}",
            str(dump),
        ],
        environment,
        "restore_failed",
    )


# --- SQLite through its backup API ----------------------------------------------------------


def _sqlite_file() -> Path:
    """The database file of a SQLite URL (an in-memory database cannot be backed up)."""
    name = db.engine.url.database
    if not name or name == ":memory:":
        raise BackupError(_("An in-memory database cannot be backed up."), "unsupported")
    return Path(name)


@contextmanager
def _engine_on(path: Path) -> Iterator[Connection]:
    """A connection to another SQLite file, closed afterwards."""
    engine = create_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as connection:
            yield connection
    finally:
        engine.dispose()


def _copy_sqlite(source: Path, destination: Path, code: str) -> None:
    """Copy a live SQLite database page by page (a consistent copy, whatever else writes); a
    failure (a file that is no database, a disk that is full) becomes a BackupError."""
    source_db = sqlite3.connect(source)
    destination_db = sqlite3.connect(destination)
    try:
        source_db.backup(destination_db)
    except sqlite3.Error as error:
        raise BackupError(
            _("SQLite could not copy the database: %(message)s", message=str(error)), code
        ) from error
    finally:
        destination_db.close()
        source_db.close()


def _dump_sqlite(destination: Path) -> tuple[str | None, dict[str, int]]:
    """Copy the database into a file; the revision and counts read from the copy."""
    _copy_sqlite(_sqlite_file(), destination, "dump_failed")
    with _engine_on(destination) as connection:
        return _schema_revision(connection), table_counts(connection)


# --- backing up -----------------------------------------------------------------------------


def create_backup(path: Path) -> Manifest:
    """Write the database and the stored files into a new tar.gz at `path`."""
    path = Path(path)
    if path.exists():
        raise BackupError(
            _("%(path)s already exists; choose a new name for the backup.", path=path), "exists"
        )
    if not path.parent.is_dir():
        raise BackupError(_("The folder %(path)s does not exist.", path=path.parent), "no_folder")
    kind = _database_kind()
    with tempfile.TemporaryDirectory(dir=path.parent, prefix=".kongres-backup-") as work:
        work_dir = Path(work)
        dump_name = POSTGRES_DUMP_NAME if kind == "postgresql" else SQLITE_COPY_NAME
        dump = work_dir / dump_name
        revision, counts = (_dump_postgres if kind == "postgresql" else _dump_sqlite)(dump)
        if revision is None:
            raise BackupError(
                _("The database has no schema yet (run flask db upgrade)."), "not_migrated"
            )
        folders = file_folders()
        manifest = Manifest(
            format=ARCHIVE_FORMAT,
            schema_revision=revision,
            created_at=datetime.now(UTC).isoformat(timespec="seconds"),
            database=kind,
            counts=counts,
            files={name: len(_files_in(folder)) for name, folder in folders.items()},
        )
        manifest_file = work_dir / MANIFEST_NAME
        manifest_file.write_text(json.dumps(asdict(manifest), indent=2, sort_keys=True))
        # Written beside the target and renamed at the end: never a half-written backup.
        partial = work_dir / "archive.tar.gz"
        with tarfile.open(partial, "w:gz") as archive:
            archive.add(manifest_file, arcname=MANIFEST_NAME)
            archive.add(dump, arcname=dump_name)
            for name, folder in folders.items():
                for file in _files_in(folder):
                    relative = file.relative_to(folder).as_posix()
                    archive.add(file, arcname=f"{FILES_PREFIX}/{name}/{relative}")
        partial.chmod(0o600)  # personal data: readable by the service account only
        partial.replace(path)
    return manifest


# --- restoring ------------------------------------------------------------------------------


def _read_manifest(folder: Path) -> Manifest:
    """The manifest of an unpacked archive, checked."""
    try:
        data = json.loads((folder / MANIFEST_NAME).read_text())
        manifest = Manifest(**data)
    except (OSError, ValueError, TypeError) as error:
        raise BackupError(
            _("This is not a Kongres backup (no manifest)."), "bad_archive"
        ) from error
    if manifest.format != ARCHIVE_FORMAT:
        raise BackupError(
            _(
                "This backup's format (%(format)s) is not one this version reads.",
                format=data["format"],
            ),
            "bad_archive",
        )
    return manifest


def _unpack(path: Path, folder: Path) -> Manifest:
    """Unpack an archive into a folder (no name may lead outside it) and read its manifest."""
    if not path.is_file():
        raise BackupError(_("There is no file at %(path)s.", path=path), "no_archive")
    try:
        with tarfile.open(path, "r:gz") as archive:
            archive.extractall(folder, filter="data")
    except (tarfile.TarError, OSError, EOFError) as error:
        raise BackupError(
            _("This is not a Kongres backup (no manifest)."), "bad_archive"
        ) from error
    return _read_manifest(folder)


def _check_revision(manifest: Manifest) -> None:
    """Refuse a backup whose schema this code does not know (made by a newer Kongres)."""
    known = {script.revision for script in _migrations().walk_revisions()}
    if manifest.schema_revision not in known:
        raise BackupError(
            _(
                "This backup's schema revision %(revision)s is unknown to this version of "
                "Kongres; restore it with the version that made it.",
                revision=manifest.schema_revision,
            ),
            "unknown_revision",
        )


def _current_counts() -> dict[str, int]:
    """Rows per table of the configured database now."""
    with db.engine.connect() as connection:
        return table_counts(connection)


def restore_backup(path: Path, *, force: bool = False) -> Manifest:
    """Put an archive's database and files back; refuses a database holding rows unless forced.
    Returns the manifest, whose counts the restored database was checked against."""
    kind = _database_kind()
    with tempfile.TemporaryDirectory(prefix="kongres-restore-") as work:
        unpacked = Path(work)
        manifest = _unpack(Path(path), unpacked)
        _check_revision(manifest)
        if manifest.database != kind:
            raise BackupError(
                _(
                    "This backup was made from %(source)s; restore it into %(source)s, "
                    "not %(target)s.",
                    source=manifest.database,
                    target=kind,
                ),
                "wrong_database",
            )
        occupied = sorted(name for name, rows in _current_counts().items() if rows)
        if occupied and not force:
            raise BackupError(
                _(
                    "The database is not empty (%(tables)s hold rows); restore into an empty "
                    "database, or add --force to replace everything in it.",
                    tables=", ".join(occupied[:5]) + ("…" if len(occupied) > 5 else ""),
                ),
                "not_empty",
            )
        # Copied beside their folders before the database is touched: a failure up to the
        # swap (a full disk, a dump pg_restore refuses) leaves the database and files as they were.
        with _staged_files(unpacked / FILES_PREFIX) as staged:
            # Pooled connections would hold locks on (or a stale view of) the replaced database.
            db.session.remove()
            db.engine.dispose()
            if kind == "postgresql":
                _restore_postgres(unpacked / POSTGRES_DUMP_NAME)
            else:
                _copy_sqlite(unpacked / SQLITE_COPY_NAME, _sqlite_file(), "restore_failed")
            db.engine.dispose()
            _swap_in(staged)
    restored = _current_counts()
    differing = sorted(
        name
        for name in restored.keys() | manifest.counts.keys()
        if restored.get(name) != manifest.counts.get(name)
    )
    if differing:
        raise BackupError(
            _(
                "The database and the stored files were replaced by the backup's, but the "
                "restored database does not hold the rows the backup lists (%(tables)s differ). "
                "Restore the backup again with --force, or another backup.",
                tables=", ".join(differing[:5]) + ("…" if len(differing) > 5 else ""),
            ),
            "count_mismatch",
        )
    return manifest


@contextmanager
def _staged_files(unpacked: Path) -> Iterator[dict[Path, Path]]:
    """Copy the archive's folders of stored files into new folders beside the live ones (same
    file system, so that a rename can swap them); yields live folder -> staged copy. Staged
    copies still there afterwards (a failure before the swap) are removed."""
    staged: dict[Path, Path] = {}
    try:
        try:
            for name, linked in file_folders().items():
                # A folder linked elsewhere (another disk) is staged and swapped where it is.
                folder = linked.resolve()
                folder.parent.mkdir(parents=True, exist_ok=True)
                copy = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}-restored-"))
                staged[folder] = copy
                if folder.is_dir():
                    shutil.copymode(folder, copy)  # mkdtemp's folder is the owner's alone
                source = unpacked / name
                if source.is_dir():
                    shutil.copytree(source, copy, dirs_exist_ok=True)
        except OSError as error:
            raise BackupError(
                _(
                    "The backup's stored files could not be copied (%(message)s); nothing was "
                    "changed.",
                    message=str(error),
                ),
                "files_failed",
            ) from error
        yield staged
    finally:
        for copy in staged.values():
            shutil.rmtree(copy, ignore_errors=True)


def _swap_in(staged: dict[Path, Path]) -> None:
    """Put each staged copy in its live folder's place by renaming, then delete the old one.
    Runs once the database is replaced, which a failure here says."""
    for folder, copy in staged.items():
        retired = folder.with_name(f".{folder.name}-retired-{copy.name.rsplit('-', 1)[-1]}")
        try:
            if folder.exists():
                folder.rename(retired)
            copy.rename(folder)
        except OSError as error:
            raise BackupError(
                _(
                    "The database was replaced by the backup's, but the stored files in "
                    "%(folder)s could not be (%(message)s); restore the backup again with --force.",
                    folder=folder,
                    message=str(error),
                ),
                "files_failed",
            ) from error
        shutil.rmtree(retired, ignore_errors=True)


def needs_upgrade(manifest: Manifest) -> bool:
    """Whether a restored database is behind this code's migrations (flask db upgrade)."""
    return manifest.schema_revision != _migrations().get_current_head()
