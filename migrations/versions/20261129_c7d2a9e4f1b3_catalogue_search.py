"""Catalogue search: trigram GIN indexes on courses.title and courses.summary.

On PostgreSQL the catalogue's substring search (``ILIKE '%心理%'``) is served by
pg_trgm GIN indexes instead of a scan of every course. SQLite has no trigram index:
it gets plain indexes of the same names so that the schema matches the models on
both backends (its ``LIKE '%…%'`` scans the courses table either way).

Revision ID: c7d2a9e4f1b3
Revises: b4b6e1d40366
Create Date: 2026-11-29 00:00:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'c7d2a9e4f1b3'
down_revision = 'b4b6e1d40366'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('CREATE EXTENSION IF NOT EXISTS pg_trgm')
    for column in ('title', 'summary'):
        op.create_index(
            f'ix_courses_{column}_trgm',
            'courses',
            [column],
            postgresql_using='gin',
            postgresql_ops={column: 'gin_trgm_ops'},
        )


def downgrade():
    for column in ('summary', 'title'):
        op.drop_index(f'ix_courses_{column}_trgm', table_name='courses')
