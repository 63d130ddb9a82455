"""`flask kongres backup` and `restore`: the demo data and the stored files go into one archive
and come back, table by table and row by row, into a new empty database (SQLite, or PostgreSQL
with TEST_DATABASE_URL); a database holding rows is not overwritten without --force."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import tarfile
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import MetaData, Table, inspect, select, text, update

from app.auth.models import User
from app.badges.services import issue_badge
from app.demo import DEMO_ACCOUNTS
from app.events.services import current_event
from app.extensions import db as _db
from app.registration.models import Registration, RegistrationStatus
from tests.conftest import on_postgres

pytestmark = pytest.mark.skipif(
    on_postgres() and not shutil.which("pg_dump"),
    reason="PostgreSQL backups need pg_dump and pg_restore (make test installs postgresql-client)",
)


def fingerprint(application: Flask) -> dict[str, tuple[int, str]]:
    """Every table's row count and a hash of its rows in primary-key order."""
    with application.app_context(), _db.engine.connect() as connection:
        prints = {}
        for name in sorted(inspect(connection).get_table_names()):
            rows_of = Table(name, MetaData(), autoload_with=connection)
            order = list(rows_of.primary_key.columns) or list(rows_of.columns)
            rows = connection.execute(select(rows_of).order_by(*order)).all()
            digest = hashlib.sha256(repr([tuple(row) for row in rows]).encode()).hexdigest()
            prints[name] = (len(rows), digest)
        return prints


def stored_files(application: Flask) -> dict[str, bytes]:
    """The stored files (uploads, job results, speaker photos) by path, with their content."""
    roots = {
        "uploads": Path(application.config["UPLOAD_DIR"]),
        "jobs": Path(application.instance_path) / "jobs",
        "speaker_photos": Path(application.instance_path) / "speaker_photos",
    }
    return {
        f"{name}/{path.relative_to(root).as_posix()}": path.read_bytes()
        for name, root in roots.items()
        if root.is_dir()
        for path in root.rglob("*")
        if path.is_file()
    }


@pytest.fixture
def congress(app, runner):
    """The WCPP 2026 demo, badges for its confirmed delegates and some stored files."""
    result = runner.invoke(args=["kongres", "demo"])
    assert result.exit_code == 0, result.output
    with app.test_request_context():
        confirmed = _db.session.scalars(
            select(Registration).where(
                Registration.event_id == current_event().id,
                Registration.status == RegistrationStatus.CONFIRMED.value,
            )
        ).all()
        for registration in confirmed[:3]:
            issue_badge(registration, actor=None)
        _db.session.commit()
    files = {
        Path(app.config["UPLOAD_DIR"]) / "agreements" / "ab" / "mou-2025.pdf": b"%PDF-1.7 MoU",
        Path(app.instance_path) / "jobs" / f"{'e' * 32}.pdf": b"%PDF-1.4 badges",
        Path(app.instance_path) / "speaker_photos" / f"{'d' * 32}.jpg": b"\xff\xd8\xff photo",
    }
    for path, content in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    yield
    for path in files:
        path.unlink()


@pytest.fixture
def restored_app(make_app, scratch_url, tmp_path):
    """An application on a new, empty database with empty file folders."""
    instance = tmp_path / "restored"
    return make_app(
        SQLALCHEMY_DATABASE_URI=scratch_url,
        INSTANCE_PATH=str(instance),
        UPLOAD_DIR=str(instance / "uploads"),
        WTF_CSRF_ENABLED=False,
    )


def run(application: Flask, *args: str):
    """Run a `flask kongres ...` command of an application."""
    return application.test_cli_runner().invoke(args=["kongres", *args])


def test_backup_and_restore_into_an_empty_database(app, congress, restored_app, tmp_path):
    archive = tmp_path / "kongres.tar.gz"
    before = fingerprint(app)
    files_before = stored_files(app)
    for table in ("users", "partners", "agreements", "registrations", "payments", "badges"):
        assert before[table][0] > 0, table

    made = run(app, "backup", str(archive))
    assert made.exit_code == 0, made.output
    assert f"Backup written to {archive}." in made.output
    assert archive.stat().st_mode & 0o077 == 0  # personal data: the owner's alone
    with tarfile.open(archive) as tar:
        names = set(tar.getnames())
        manifest = json.load(tar.extractfile("manifest.json"))
    assert ("database.pgdump" if on_postgres() else "database.sqlite") in names
    assert "files/uploads/agreements/ab/mou-2025.pdf" in names
    assert manifest["database"] == ("postgresql" if on_postgres() else "sqlite")
    with app.app_context():
        head = _db.session.execute(text("SELECT version_num FROM alembic_version")).scalar()
    assert manifest["schema_revision"] == head
    assert manifest["counts"] == {
        name: rows for name, (rows, _) in before.items() if name != "alembic_version"
    }
    # The folders may hold files of earlier tests of the run beside this test's three.
    assert {"uploads/agreements/ab/mou-2025.pdf", f"jobs/{'e' * 32}.pdf"} <= set(files_before)
    assert manifest["files"] == {
        folder: sum(path.startswith(f"{folder}/") for path in files_before)
        for folder in ("uploads", "jobs", "speaker_photos")
    }

    restored = run(restored_app, "restore", str(archive))
    assert restored.exit_code == 0, restored.output
    assert "every table holds the rows the backup lists" in restored.output
    assert f"registrations {before['registrations'][0]:>8}".replace(" ", "") in (
        restored.output.replace(" ", "")
    )
    assert fingerprint(restored_app) == before
    assert stored_files(restored_app) == files_before

    # The restored site works: the demo event's home page and a demo account's sign-in.
    client = restored_app.test_client()
    assert "WCPP 2026" in client.get("/", headers={"Accept-Language": "en"}).get_data(True)
    account = DEMO_ACCOUNTS[0]
    signed_in = client.post("/login", data={"email": account.email, "password": account.password})
    assert signed_in.status_code == 302


def test_restore_refuses_a_database_with_rows_unless_forced(app, congress, restored_app, tmp_path):
    archive = tmp_path / "kongres.tar.gz"
    assert run(app, "backup", str(archive)).exit_code == 0
    assert run(restored_app, "restore", str(archive)).exit_code == 0
    with restored_app.app_context():
        _db.session.execute(update(User).values(name="Somebody Else"))
        _db.session.commit()
    changed = fingerprint(restored_app)

    refused = run(restored_app, "restore", str(archive))
    assert refused.exit_code == 1
    assert "The database is not empty" in refused.output
    assert "--force" in refused.output
    assert fingerprint(restored_app) == changed

    forced = run(restored_app, "restore", str(archive), "--force")
    assert forced.exit_code == 0, forced.output
    assert fingerprint(restored_app) == fingerprint(app)


def _rewritten(archive: Path, destination: Path, **manifest_changes) -> Path:
    """A copy of an archive whose manifest says something else."""
    with tarfile.open(archive) as source, tarfile.open(destination, "w:gz") as copy:
        for member in source.getmembers():
            content = source.extractfile(member).read()
            if member.name == "manifest.json":
                content = json.dumps({**json.loads(content), **manifest_changes}).encode()
                member.size = len(content)
            copy.addfile(member, io.BytesIO(content))
    return destination


def test_restore_refuses_an_unknown_schema_and_junk(app, congress, restored_app, tmp_path):
    archive = tmp_path / "kongres.tar.gz"
    assert run(app, "backup", str(archive)).exit_code == 0
    empty = fingerprint(restored_app)

    newer = _rewritten(archive, tmp_path / "newer.tar.gz", schema_revision="9999")
    refused = run(restored_app, "restore", str(newer))
    assert refused.exit_code == 1
    assert "schema revision 9999 is unknown to this version of Kongres" in refused.output

    other_kind = "sqlite" if on_postgres() else "postgresql"
    wrong = _rewritten(archive, tmp_path / "wrong.tar.gz", database=other_kind)
    refused = run(restored_app, "restore", str(wrong))
    assert refused.exit_code == 1
    assert f"This backup was made from {other_kind}" in refused.output

    junk = tmp_path / "junk.tar.gz"
    junk.write_bytes(b"not an archive")
    refused = run(restored_app, "restore", str(junk))
    assert refused.exit_code == 1
    assert "This is not a Kongres backup" in refused.output
    refused = run(restored_app, "restore", str(tmp_path / "missing.tar.gz"))
    assert refused.exit_code == 1
    assert "There is no file at" in refused.output

    assert fingerprint(restored_app) == empty
    assert stored_files(restored_app) == {}


def test_backup_never_overwrites_a_file(app, tmp_path):
    existing = tmp_path / "kongres.tar.gz"
    existing.write_bytes(b"yesterday's backup")
    refused = run(app, "backup", str(existing))
    assert refused.exit_code == 1
    assert "already exists" in refused.output
    assert existing.read_bytes() == b"yesterday's backup"
    refused = run(app, "backup", str(tmp_path / "nowhere" / "kongres.tar.gz"))
    assert refused.exit_code == 1
    assert "does not exist" in refused.output


def _with_member(archive: Path, destination: Path, name: str, content: bytes) -> Path:
    """A copy of an archive with one member's content replaced."""
    with tarfile.open(archive) as source, tarfile.open(destination, "w:gz") as copy:
        for member in source.getmembers():
            data = source.extractfile(member).read()
            if member.name == name:
                data = content
                member.size = len(data)
            copy.addfile(member, io.BytesIO(data))
    return destination


def _leftovers(application: Flask) -> list[Path]:
    """Staged or retired folders a restore left beside the stored files' folders."""
    parents = {Path(application.config["UPLOAD_DIR"]).parent, Path(application.instance_path)}
    return sorted(
        path
        for parent in parents
        if parent.is_dir()
        for path in parent.iterdir()
        if "-restored-" in path.name or "-retired-" in path.name
    )


def test_a_restore_that_fails_leaves_the_database_and_the_files_as_they_were(
    app, congress, restored_app, tmp_path
):
    archive = tmp_path / "kongres.tar.gz"
    assert run(app, "backup", str(archive)).exit_code == 0
    assert run(restored_app, "restore", str(archive)).exit_code == 0
    with restored_app.app_context():
        _db.session.execute(update(User).values(name="Somebody Else"))
        _db.session.commit()
    newer_upload = Path(restored_app.config["UPLOAD_DIR"]) / "agreements" / "cd" / "pks.pdf"
    newer_upload.parent.mkdir(parents=True)
    newer_upload.write_bytes(b"%PDF-1.7 PKS")
    database_before, files_before = fingerprint(restored_app), stored_files(restored_app)
    dump_name = "database.pgdump" if on_postgres() else "database.sqlite"
    broken = _with_member(archive, tmp_path / "broken.tar.gz", dump_name, b"not a dump" * 100)

    refused = run(restored_app, "restore", str(broken), "--force")

    assert refused.exit_code == 1
    assert "Traceback" not in refused.output
    assert ("pg_restore failed" if on_postgres() else "SQLite could not copy") in refused.output
    assert fingerprint(restored_app) == database_before
    assert stored_files(restored_app) == files_before
    assert _leftovers(restored_app) == []


def test_a_restore_whose_rows_differ_from_the_backups_says_what_it_replaced(
    app, congress, restored_app, tmp_path
):
    archive = tmp_path / "kongres.tar.gz"
    assert run(app, "backup", str(archive)).exit_code == 0
    with tarfile.open(archive) as tar:
        counts = json.load(tar.extractfile("manifest.json"))["counts"]
    claimed = _rewritten(archive, tmp_path / "claimed.tar.gz", counts={**counts, "users": 10_000})

    result = run(restored_app, "restore", str(claimed))

    assert result.exit_code == 1
    assert "The database and the stored files were replaced by the backup's" in result.output
    assert "(users differ)" in result.output
    # As it says: the backup's rows and files are in place.
    assert fingerprint(restored_app) == fingerprint(app)
    assert stored_files(restored_app) == stored_files(app)
    assert _leftovers(restored_app) == []


def test_backup_and_restore_speak_the_cli_language(
    app, congress, make_app, scratch_url, tmp_path, monkeypatch
):
    archive = tmp_path / "kongres.tar.gz"
    instance = tmp_path / "restored-id"
    indonesian = make_app(
        SQLALCHEMY_DATABASE_URI=scratch_url,
        INSTANCE_PATH=str(instance),
        UPLOAD_DIR=str(instance / "uploads"),
        CLI_LANGUAGE="id",
    )
    monkeypatch.setitem(app.config, "CLI_LANGUAGE", "id")
    made = run(app, "backup", str(archive))
    assert made.exit_code == 0, made.output
    assert f"Cadangan ditulis ke {archive}." in made.output
    assert "Revisi skema " in made.output
    assert "Backup written" not in made.output

    restored = run(indonesian, "restore", str(archive))
    assert restored.exit_code == 0, restored.output
    assert "setiap tabel memuat baris yang tercantum dalam cadangan" in restored.output
    assert " baris\n" in restored.output
    assert " berkas\n" in restored.output
    assert " row" not in restored.output

    refused = run(indonesian, "restore", str(archive))
    assert refused.exit_code == 1
    assert "Basis data tidak kosong" in refused.output
