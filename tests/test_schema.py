"""The migrated schema is exactly the one the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from courses.db import db, include_in_comparison
from courses.models import QualificationLevel, QualificationRequirement


def test_migrated_schema_equals_models(app_ctx):
    with db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_object": include_in_comparison}
        )
        differences = compare_metadata(context, db.metadata)
    assert differences == []


def test_every_table_is_created_by_the_migration(app_ctx):
    inspector = sa.inspect(db.engine)
    assert set(db.metadata.tables) <= set(inspector.get_table_names())


def test_constraint_names_follow_the_convention(app_ctx):
    inspector = sa.inspect(db.engine)
    for table in db.metadata.tables:
        for fk in inspector.get_foreign_keys(table):
            assert fk["name"] is None or fk["name"].startswith("fk_"), (table, fk["name"])
        for check in inspector.get_check_constraints(table):
            assert check["name"].startswith("ck_"), (table, check["name"])
        for index in inspector.get_indexes(table):
            assert index["name"].startswith(("ix_", "uq_")), (table, index["name"])


def test_migration_seeds_continuing_education_requirements(app_ctx):
    rows = {
        row.level: (row.required_hours, row.cycle_years)
        for row in db.session.scalars(sa.select(QualificationRequirement))
    }
    assert rows == {
        QualificationLevel.ASSISTANT: (72, 3),
        QualificationLevel.SOCIAL_WORKER: (90, 3),
        QualificationLevel.SENIOR: (90, 3),
    }


def test_filtered_columns_are_indexed(app_ctx):
    """Columns the catalogue, rosters and statistics filter or group by have an index."""
    inspector = sa.inspect(db.engine)

    def leading_columns(table: str) -> set[str]:
        firsts = {index["column_names"][0] for index in inspector.get_indexes(table)}
        firsts |= {unique["column_names"][0] for unique in inspector.get_unique_constraints(table)}
        pk = inspector.get_pk_constraint(table)["constrained_columns"]
        return firsts | ({pk[0]} if pk else set())

    expected = {
        "courses": {"status", "topic", "level", "mode", "programme_id"},
        "course_sessions": {"course_id", "starts_at", "mode"},
        "enrolments": {"course_id", "user_id", "status"},
        "attendance_records": {"session_id", "user_id", "status", "enrolment_id"},
        "users": {"organisation_id", "name", "email", "phone"},
        "certificates": {"user_id", "course_id", "programme_id", "issued_at", "serial"},
        "feedback_responses": {"course_id", "user_id"},
        "course_trainers": {"course_id", "user_id"},
        "outbox_events": {"status"},
        "audit_log_entries": {"object_type", "actor_id", "created_at"},
    }
    for table, columns in expected.items():
        missing = columns - leading_columns(table)
        assert not missing, f"{table}: no index leads with {sorted(missing)}"
