"""Meeting aliases: the learner a trainer chose for a name or a platform user id in a
meeting report, for one course or for every course.

Revision ID: a7c4e2f9d831
Revises: 6803b289e477
Create Date: 2026-12-03 12:50:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a7c4e2f9d831'
down_revision = '6803b289e477'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('meeting_aliases',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=True),
    sa.Column('alias', sa.String(length=200), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('chosen_by_id', sa.Integer(), nullable=True),
    sa.Column('chosen_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['chosen_by_id'], ['users.id'], name=op.f('fk_meeting_aliases_chosen_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['course_id'], ['courses.id'], name=op.f('fk_meeting_aliases_course_id_courses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_meeting_aliases_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_meeting_aliases'))
    )
    with op.batch_alter_table('meeting_aliases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_meeting_aliases_user_id'), ['user_id'], unique=False)
        batch_op.create_index('uq_meeting_aliases_course_alias', ['course_id', 'alias'], unique=True, postgresql_where=sa.text('course_id IS NOT NULL'), sqlite_where=sa.text('course_id IS NOT NULL'))
        batch_op.create_index('uq_meeting_aliases_global_alias', ['alias'], unique=True, postgresql_where=sa.text('course_id IS NULL'), sqlite_where=sa.text('course_id IS NULL'))


def downgrade():
    with op.batch_alter_table('meeting_aliases', schema=None) as batch_op:
        batch_op.drop_index('uq_meeting_aliases_global_alias', postgresql_where=sa.text('course_id IS NULL'), sqlite_where=sa.text('course_id IS NULL'))
        batch_op.drop_index('uq_meeting_aliases_course_alias', postgresql_where=sa.text('course_id IS NOT NULL'), sqlite_where=sa.text('course_id IS NOT NULL'))
        batch_op.drop_index(batch_op.f('ix_meeting_aliases_user_id'))

    op.drop_table('meeting_aliases')
