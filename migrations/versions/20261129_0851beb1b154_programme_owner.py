"""Programmes remember who built them: that trainer manages the programme with the admins.

Revision ID: 0851beb1b154
Revises: c7d2a9e4f1b3
Create Date: 2026-11-29 00:14:49.759640

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0851beb1b154'
down_revision = 'c7d2a9e4f1b3'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('programmes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('created_by_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_programmes_created_by_id'), ['created_by_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_programmes_created_by_id_users'), 'users', ['created_by_id'], ['id'], ondelete='SET NULL')



def downgrade():
    with op.batch_alter_table('programmes', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_programmes_created_by_id_users'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_programmes_created_by_id'))
        batch_op.drop_column('created_by_id')

