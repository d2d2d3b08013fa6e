"""Certificates as workers issue them: the snapshot, serial sequence and version, the
re-issue chain, one valid (not one non-superseded) per enrolment, the serial counters
and the admins' certificate settings.

Revision ID: 5d2e8b7c4a19
Revises: 3f9a1c7e5b20
Create Date: 2026-12-04 04:20:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5d2e8b7c4a19'
down_revision = '3f9a1c7e5b20'
branch_labels = None
depends_on = None

_VALID = sa.text("enrolment_id IS NOT NULL AND status = 'valid'")
_PROGRAMME_VALID = sa.text("kind = 'programme' AND status = 'valid'")
_OLD = sa.text("enrolment_id IS NOT NULL AND status <> 'superseded'")
_PROGRAMME_OLD = sa.text("kind = 'programme' AND status <> 'superseded'")


def upgrade():
    with op.batch_alter_table('certificates', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sequence', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('version', sa.Integer(), server_default='1', nullable=False))
        batch_op.add_column(sa.Column('replaces_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('facts', sa.JSON(), nullable=False, server_default='{}'))
        batch_op.add_column(sa.Column('superseded_at', sa.DateTime(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_certificates_replaces_id_certificates'), 'certificates', ['replaces_id'], ['id'], ondelete='RESTRICT')
        batch_op.create_unique_constraint(batch_op.f('uq_certificates_replaces_id'), ['replaces_id'])
        batch_op.create_check_constraint(batch_op.f('ck_certificates_version_positive'), 'version >= 1')
        batch_op.drop_index('uq_certificates_enrolment_current')
        batch_op.drop_index('uq_certificates_programme_current')
        batch_op.create_index('uq_certificates_enrolment_current', ['enrolment_id'], unique=True, postgresql_where=_VALID, sqlite_where=_VALID)
        batch_op.create_index('uq_certificates_programme_current', ['user_id', 'programme_id'], unique=True, postgresql_where=_PROGRAMME_VALID, sqlite_where=_PROGRAMME_VALID)
        batch_op.create_index('ix_certificates_pdf_pending', ['status'], unique=False, postgresql_where=sa.text('pdf_key IS NULL'), sqlite_where=sa.text('pdf_key IS NULL'))
    with op.batch_alter_table('certificates', schema=None) as batch_op:
        batch_op.alter_column('sequence', server_default=None)
        batch_op.alter_column('facts', server_default=None)

    op.create_table('certificate_counters',
    sa.Column('prefix', sa.String(length=8), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('last_value', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('prefix', 'year', name=op.f('pk_certificate_counters'))
    )
    op.create_table('certificate_settings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('academy_name', sa.String(length=120), nullable=False),
    sa.Column('signatory', sa.String(length=60), nullable=False),
    sa.Column('seal_key', sa.String(length=255), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('id = 1', name=op.f('ck_certificate_settings_single_row')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_certificate_settings_updated_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_certificate_settings'))
    )


def downgrade():
    op.drop_table('certificate_settings')
    op.drop_table('certificate_counters')
    with op.batch_alter_table('certificates', schema=None) as batch_op:
        batch_op.drop_index('ix_certificates_pdf_pending')
        batch_op.drop_index('uq_certificates_programme_current')
        batch_op.drop_index('uq_certificates_enrolment_current')
        batch_op.create_index('uq_certificates_enrolment_current', ['enrolment_id'], unique=True, postgresql_where=_OLD, sqlite_where=_OLD)
        batch_op.create_index('uq_certificates_programme_current', ['user_id', 'programme_id'], unique=True, postgresql_where=_PROGRAMME_OLD, sqlite_where=_PROGRAMME_OLD)
        batch_op.drop_constraint(batch_op.f('ck_certificates_version_positive'), type_='check')
        batch_op.drop_constraint(batch_op.f('uq_certificates_replaces_id'), type_='unique')
        batch_op.drop_constraint(batch_op.f('fk_certificates_replaces_id_certificates'), type_='foreignkey')
        batch_op.drop_column('superseded_at')
        batch_op.drop_column('facts')
        batch_op.drop_column('replaces_id')
        batch_op.drop_column('version')
        batch_op.drop_column('sequence')
