"""Check-in passes used, so that a copied pass checks in no one else.

Revision ID: 3f9a1c7e5b20
Revises: 9c41d7e2b5a8
Create Date: 2026-12-03 12:50:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '3f9a1c7e5b20'
down_revision = '9c41d7e2b5a8'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('checkin_passes',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('used_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['session_id'], ['course_sessions.id'], name=op.f('fk_checkin_passes_session_id_course_sessions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_checkin_passes_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_checkin_passes'))
    )
    with op.batch_alter_table('checkin_passes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_checkin_passes_session_id'), ['session_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_checkin_passes_used_at'), ['used_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_checkin_passes_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('checkin_passes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_checkin_passes_user_id'))
        batch_op.drop_index(batch_op.f('ix_checkin_passes_used_at'))
        batch_op.drop_index(batch_op.f('ix_checkin_passes_session_id'))

    op.drop_table('checkin_passes')
