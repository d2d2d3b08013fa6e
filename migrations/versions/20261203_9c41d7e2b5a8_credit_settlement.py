"""Credit only for time that has passed: a trainer's minutes kept apart from the
minutes credited so far, and when each session's records were settled after its end.

Revision ID: 9c41d7e2b5a8
Revises: a7c4e2f9d831
Create Date: 2026-12-03 13:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '9c41d7e2b5a8'
down_revision = 'a7c4e2f9d831'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('attendance_records', schema=None) as batch_op:
        batch_op.add_column(sa.Column('manual_minutes', sa.Integer(), nullable=True))
        batch_op.create_check_constraint(
            'manual_minutes_not_negative', 'manual_minutes IS NULL OR manual_minutes >= 0'
        )
    op.execute('UPDATE attendance_records SET manual_minutes = minutes WHERE manual')

    with op.batch_alter_table('course_sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('settled_at', sa.DateTime(), nullable=True))
    # Sessions already over were settled when their records were written.
    now = (
        "(now() AT TIME ZONE 'UTC')"
        if op.get_bind().dialect.name == 'postgresql'
        else 'CURRENT_TIMESTAMP'
    )
    op.execute(f'UPDATE course_sessions SET settled_at = ends_at WHERE ends_at <= {now}')
    op.create_index(
        'ix_course_sessions_unsettled',
        'course_sessions',
        ['ends_at'],
        unique=False,
        postgresql_where=sa.text('settled_at IS NULL'),
        sqlite_where=sa.text('settled_at IS NULL'),
    )


def downgrade():
    op.drop_index('ix_course_sessions_unsettled', table_name='course_sessions')
    with op.batch_alter_table('course_sessions', schema=None) as batch_op:
        batch_op.drop_column('settled_at')
    with op.batch_alter_table('attendance_records', schema=None) as batch_op:
        batch_op.drop_constraint('ck_attendance_records_manual_minutes_not_negative', type_='check')
        batch_op.drop_column('manual_minutes')
