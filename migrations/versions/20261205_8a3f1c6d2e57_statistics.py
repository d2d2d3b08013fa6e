"""Statistics: the summary tables workers keep (course × month, learners' organisation ×
course × month, and one row per participant × course × month for counting people).

Revision ID: 8a3f1c6d2e57
Revises: 5d2e8b7c4a19
Create Date: 2026-12-05 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '8a3f1c6d2e57'
down_revision = '5d2e8b7c4a19'
branch_labels = None
depends_on = None

_HOURS = sa.Numeric(10, 2)


def upgrade():
    op.create_table(
        'stat_course_months',
        sa.Column('course_id', sa.Integer(), nullable=False),
        sa.Column('month', sa.Integer(), nullable=False),
        sa.Column('sessions', sa.Integer(), nullable=False),
        sa.Column('sessions_online', sa.Integer(), nullable=False),
        sa.Column('class_hours', _HOURS, nullable=False),
        sa.Column('class_hours_online', _HOURS, nullable=False),
        sa.ForeignKeyConstraint(['course_id'], ['courses.id'], name=op.f('fk_stat_course_months_course_id_courses'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('course_id', 'month', name=op.f('pk_stat_course_months')),
    )
    op.create_index('ix_stat_course_months_month', 'stat_course_months', ['month'], unique=False)
    op.create_table(
        'stat_learner_months',
        sa.Column('course_id', sa.Integer(), nullable=False),
        sa.Column('month', sa.Integer(), nullable=False),
        sa.Column('organisation_id', sa.Integer(), nullable=False),
        sa.Column('enrolments', sa.Integer(), nullable=False),
        sa.Column('completions', sa.Integer(), nullable=False),
        sa.Column('participant_times', sa.Integer(), nullable=False),
        sa.Column('participant_times_online', sa.Integer(), nullable=False),
        sa.Column('credited_hours', _HOURS, nullable=False),
        sa.Column('certificates', sa.Integer(), nullable=False),
        sa.Column('feedback_count', sa.Integer(), nullable=False),
        sa.Column('score_sum', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['course_id'], ['courses.id'], name=op.f('fk_stat_learner_months_course_id_courses'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('course_id', 'month', 'organisation_id', name=op.f('pk_stat_learner_months')),
    )
    op.create_index('ix_stat_learner_months_month', 'stat_learner_months', ['month'], unique=False)
    op.create_table(
        'stat_participants',
        sa.Column('course_id', sa.Integer(), nullable=False),
        sa.Column('month', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('organisation_id', sa.Integer(), nullable=False),
        sa.Column('online', sa.Boolean(), nullable=False),
        sa.Column('offline', sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(['course_id'], ['courses.id'], name=op.f('fk_stat_participants_course_id_courses'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('course_id', 'month', 'user_id', name=op.f('pk_stat_participants')),
    )
    op.create_index('ix_stat_participants_month', 'stat_participants', ['month'], unique=False)


def downgrade():
    op.drop_index('ix_stat_participants_month', table_name='stat_participants')
    op.drop_table('stat_participants')
    op.drop_index('ix_stat_learner_months_month', table_name='stat_learner_months')
    op.drop_table('stat_learner_months')
    op.drop_index('ix_stat_course_months_month', table_name='stat_course_months')
    op.drop_table('stat_course_months')
