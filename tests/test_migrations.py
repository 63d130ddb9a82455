"""Migrations upgrade and downgrade cleanly and match the models."""

from __future__ import annotations

import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from app import create_app
from app.extensions import db
from tests.conftest import on_postgres


@pytest.fixture
def scratch_url(database_url, tmp_path):
    """An empty database of the same kind as the run's."""
    if not on_postgres():
        yield f"sqlite:///{tmp_path / 'scratch.sqlite'}"
        return
    server = make_url(database_url)
    name = f"kongres_scratch_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield server.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_upgrade_downgrade_upgrade_round_trip(scratch_url, tmp_path):
    scratch = create_app(
        {"SQLALCHEMY_DATABASE_URI": scratch_url, "INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "x"}
    )
    with scratch.app_context():
        upgrade()
        tables = set(inspect(db.engine).get_table_names())
        assert {"users", "events", "partners", "agreements"} <= tables
        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        upgrade()
        db.engine.dispose()


def test_the_models_match_the_migrations(app):
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, db.metadata)
    assert differences == []
