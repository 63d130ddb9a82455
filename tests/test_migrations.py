"""Migrations upgrade and downgrade cleanly and match the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from app import create_app
from app.extensions import db


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
