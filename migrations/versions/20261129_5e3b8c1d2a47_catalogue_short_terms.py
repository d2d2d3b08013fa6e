"""Catalogue search for one- and two-character terms on PostgreSQL.

pg_trgm cannot use its index for a pattern shorter than three characters, and
Chinese search terms are often two (心理, 社区). An IMMUTABLE function lists the
distinct one- and two-character grams of a text; GIN indexes over the grams of
courses.title and courses.summary answer ``grams @> ARRAY['心理']``, which holds
exactly when the term is a substring. SQLite has neither: its LIKE scans as before.

These indexes exist only in migrations (courses.db.MIGRATION_ONLY_INDEXES): the
models cannot describe an index on a function that only PostgreSQL has.

Revision ID: 5e3b8c1d2a47
Revises: 0851beb1b154
Create Date: 2026-11-29 00:30:00

"""
from alembic import op

revision = '5e3b8c1d2a47'
down_revision = '0851beb1b154'
branch_labels = None
depends_on = None

GRAMS_FUNCTION = """
CREATE OR REPLACE FUNCTION academy_search_grams(value text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT coalesce(array_agg(DISTINCT gram), '{}')
    FROM (
        SELECT substr(lower(value), position, size) AS gram
        FROM generate_series(1, length(value)) AS position,
             (VALUES (1), (2)) AS sizes(size)
        WHERE position + size - 1 <= length(value)
    ) AS grams
$$
"""


def upgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.execute(GRAMS_FUNCTION)
    for column in ('title', 'summary'):
        op.execute(
            f'CREATE INDEX ix_courses_{column}_grams ON courses '
            f'USING gin (academy_search_grams({column}))'
        )


def downgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return
    for column in ('title', 'summary'):
        op.execute(f'DROP INDEX IF EXISTS ix_courses_{column}_grams')
    op.execute('DROP FUNCTION IF EXISTS academy_search_grams(text)')
