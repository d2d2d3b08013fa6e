"""Initial schema: every table of the academy, with the default continuing-education
requirements (72 h / 3 years for 助理社会工作师, 90 h / 3 years for 社会工作师 and
高级社会工作师).

Revision ID: b4b6e1d40366
Revises: 
Create Date: 2026-11-28 23:00:30.093354

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b4b6e1d40366'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('organisations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('kind', sa.Enum('organisation', 'community', 'government', 'other', name='organisation_kind', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('contact_name', sa.String(length=60), nullable=True),
    sa.Column('contact_phone', sa.String(length=20), nullable=True),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organisations')),
    sa.UniqueConstraint('name', name=op.f('uq_organisations_name'))
    )
    op.create_table('outbox_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('topic', sa.String(length=60), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('dedup_key', sa.String(length=120), nullable=True),
    sa.Column('status', sa.Enum('pending', 'done', 'dead', name='outbox_status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('available_at', sa.DateTime(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('processed_at', sa.DateTime(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.CheckConstraint('attempts >= 0', name=op.f('ck_outbox_events_attempts_not_negative')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_events')),
    sa.UniqueConstraint('dedup_key', name=op.f('uq_outbox_events_dedup_key'))
    )
    with op.batch_alter_table('outbox_events', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_events_status_available_at', ['status', 'available_at'], unique=False)

    op.create_table('programmes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=120), nullable=False),
    sa.Column('summary', sa.String(length=500), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('level', sa.Enum('beginner', 'intermediate', 'advanced', name='course_level', native_enum=False, create_constraint=True), nullable=True),
    sa.Column('status', sa.Enum('draft', 'published', 'archived', name='publication_status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('required_course_count', sa.Integer(), nullable=True),
    sa.Column('required_hours', sa.Numeric(precision=7, scale=2, asdecimal=False), nullable=True),
    sa.Column('certificate_title', sa.String(length=120), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('required_course_count IS NULL OR required_course_count > 0', name=op.f('ck_programmes_required_course_count_positive')),
    sa.CheckConstraint('required_hours IS NULL OR required_hours > 0', name=op.f('ck_programmes_required_hours_positive')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_programmes'))
    )
    with op.batch_alter_table('programmes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_programmes_status'), ['status'], unique=False)

    op.create_table('qualification_requirements',
    sa.Column('level', sa.Enum('none', 'assistant_social_worker', 'social_worker', 'senior_social_worker', name='qualification_level', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('required_hours', sa.Numeric(precision=6, scale=2, asdecimal=False), nullable=False),
    sa.Column('cycle_years', sa.Integer(), nullable=False),
    sa.CheckConstraint('cycle_years > 0', name=op.f('ck_qualification_requirements_cycle_years_positive')),
    sa.CheckConstraint('required_hours >= 0', name=op.f('ck_qualification_requirements_required_hours_not_negative')),
    sa.PrimaryKeyConstraint('level', name=op.f('pk_qualification_requirements'))
    )
    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('phone', sa.String(length=20), nullable=True),
    sa.Column('password_hash', sa.String(length=255), nullable=True),
    sa.Column('organisation_id', sa.Integer(), nullable=True),
    sa.Column('qualification_level', sa.Enum('none', 'assistant_social_worker', 'social_worker', 'senior_social_worker', name='qualification_level', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('cycle_starts_on', sa.Date(), nullable=True),
    sa.Column('locale', sa.String(length=10), nullable=True),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('session_nonce', sa.String(length=32), nullable=False),
    sa.Column('calendar_token', sa.String(length=43), nullable=True),
    sa.Column('last_login_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('email IS NOT NULL OR phone IS NOT NULL', name=op.f('ck_users_email_or_phone')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_users_organisation_id_organisations'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('calendar_token', name=op.f('uq_users_calendar_token')),
    sa.UniqueConstraint('email', name=op.f('uq_users_email')),
    sa.UniqueConstraint('phone', name=op.f('uq_users_phone')),
    sa.UniqueConstraint('session_nonce', name=op.f('uq_users_session_nonce'))
    )
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_users_name'), ['name'], unique=False)
        batch_op.create_index(batch_op.f('ix_users_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('api_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('last_used_at', sa.DateTime(), nullable=True),
    sa.Column('expires_at', sa.DateTime(), nullable=True),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_api_tokens_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_api_tokens_token_hash'))
    )
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_tokens_user_id'), ['user_id'], unique=False)

    op.create_table('audit_log_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=60), nullable=False),
    sa.Column('object_type', sa.String(length=40), nullable=False),
    sa.Column('object_id', sa.Integer(), nullable=True),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_audit_log_entries_actor_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log_entries'))
    )
    with op.batch_alter_table('audit_log_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_log_entries_actor_id'), ['actor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_log_entries_created_at'), ['created_at'], unique=False)
        batch_op.create_index('ix_audit_log_entries_object_type_object_id', ['object_type', 'object_id'], unique=False)

    op.create_table('courses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('programme_id', sa.Integer(), nullable=True),
    sa.Column('title', sa.String(length=120), nullable=False),
    sa.Column('summary', sa.String(length=500), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('topic', sa.String(length=40), nullable=False),
    sa.Column('level', sa.Enum('beginner', 'intermediate', 'advanced', name='course_level', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('mode', sa.Enum('online', 'offline', 'hybrid', name='course_mode', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=True),
    sa.Column('seats_taken', sa.Integer(), server_default='0', nullable=False),
    sa.Column('enrol_opens_at', sa.DateTime(), nullable=True),
    sa.Column('enrol_closes_at', sa.DateTime(), nullable=True),
    sa.Column('cancel_deadline', sa.DateTime(), nullable=True),
    sa.Column('completion_threshold', sa.Numeric(precision=4, scale=3, asdecimal=False), nullable=False),
    sa.Column('feedback_required', sa.Boolean(), nullable=False),
    sa.Column('approval_required', sa.Boolean(), nullable=False),
    sa.Column('status', sa.Enum('draft', 'published', 'archived', name='publication_status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('cloned_from_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('capacity IS NULL OR capacity > 0', name=op.f('ck_courses_capacity_positive')),
    sa.CheckConstraint('capacity IS NULL OR seats_taken <= capacity', name=op.f('ck_courses_not_overbooked')),
    sa.CheckConstraint('completion_threshold > 0 AND completion_threshold <= 1', name=op.f('ck_courses_completion_threshold_range')),
    sa.CheckConstraint('enrol_opens_at IS NULL OR enrol_closes_at IS NULL OR enrol_closes_at > enrol_opens_at', name=op.f('ck_courses_enrol_window_order')),
    sa.CheckConstraint('seats_taken >= 0', name=op.f('ck_courses_seats_taken_not_negative')),
    sa.ForeignKeyConstraint(['cloned_from_id'], ['courses.id'], name=op.f('fk_courses_cloned_from_id_courses'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_courses_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['programme_id'], ['programmes.id'], name=op.f('fk_courses_programme_id_programmes'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_courses'))
    )
    with op.batch_alter_table('courses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_courses_level'), ['level'], unique=False)
        batch_op.create_index(batch_op.f('ix_courses_mode'), ['mode'], unique=False)
        batch_op.create_index(batch_op.f('ix_courses_programme_id'), ['programme_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_courses_status'), ['status'], unique=False)
        batch_op.create_index('ix_courses_status_level_mode', ['status', 'level', 'mode'], unique=False)
        batch_op.create_index(batch_op.f('ix_courses_topic'), ['topic'], unique=False)

    op.create_table('export_jobs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('file_format', sa.String(length=8), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('status', sa.Enum('pending', 'running', 'done', 'failed', name='job_status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('progress', sa.Integer(), server_default='0', nullable=False),
    sa.Column('file_key', sa.String(length=255), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=True),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint('progress BETWEEN 0 AND 100', name=op.f('ck_export_jobs_progress_range')),
    sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'], name=op.f('fk_export_jobs_requested_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_export_jobs'))
    )
    with op.batch_alter_table('export_jobs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_export_jobs_requested_by_id'), ['requested_by_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_export_jobs_status'), ['status'], unique=False)

    op.create_table('external_hours_records',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('hours', sa.Numeric(precision=6, scale=2, asdecimal=False), nullable=False),
    sa.Column('earned_on', sa.Date(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('added_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('hours > 0', name=op.f('ck_external_hours_records_hours_positive')),
    sa.ForeignKeyConstraint(['added_by_id'], ['users.id'], name=op.f('fk_external_hours_records_added_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_external_hours_records_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_external_hours_records'))
    )
    with op.batch_alter_table('external_hours_records', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_external_hours_records_earned_on'), ['earned_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_external_hours_records_user_id'), ['user_id'], unique=False)

    op.create_table('notices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('read_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_notices_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notices'))
    )
    with op.batch_alter_table('notices', schema=None) as batch_op:
        batch_op.create_index('ix_notices_user_id_read_at', ['user_id', 'read_at'], unique=False)

    op.create_table('user_roles',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.Enum('learner', 'trainer', 'admin', name='role', native_enum=False, create_constraint=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_roles_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'role', name=op.f('pk_user_roles'))
    )
    with op.batch_alter_table('user_roles', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_roles_role'), ['role'], unique=False)

    op.create_table('course_prerequisites',
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('prerequisite_id', sa.Integer(), nullable=False),
    sa.CheckConstraint('course_id <> prerequisite_id', name=op.f('ck_course_prerequisites_not_self')),
    sa.ForeignKeyConstraint(['course_id'], ['courses.id'], name=op.f('fk_course_prerequisites_course_id_courses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['prerequisite_id'], ['courses.id'], name=op.f('fk_course_prerequisites_prerequisite_id_courses'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('course_id', 'prerequisite_id', name=op.f('pk_course_prerequisites'))
    )
    with op.batch_alter_table('course_prerequisites', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_course_prerequisites_prerequisite_id'), ['prerequisite_id'], unique=False)

    op.create_table('course_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=120), nullable=False),
    sa.Column('starts_at', sa.DateTime(), nullable=False),
    sa.Column('ends_at', sa.DateTime(), nullable=False),
    sa.Column('mode', sa.Enum('offline', 'online', 'recorded', 'hybrid', name='session_mode', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('venue', sa.String(length=120), nullable=True),
    sa.Column('room', sa.String(length=60), nullable=True),
    sa.Column('address', sa.String(length=255), nullable=True),
    sa.Column('meeting_url', sa.String(length=500), nullable=True),
    sa.Column('meeting_number', sa.String(length=40), nullable=True),
    sa.Column('video_url', sa.String(length=500), nullable=True),
    sa.Column('class_hours', sa.Numeric(precision=5, scale=2, asdecimal=False), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=True),
    sa.Column('checkin_secret', sa.String(length=64), nullable=True),
    sa.Column('checkin_code', sa.String(length=6), nullable=True),
    sa.Column('checkin_opens_at', sa.DateTime(), nullable=True),
    sa.Column('checkin_closes_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('capacity IS NULL OR capacity > 0', name=op.f('ck_course_sessions_capacity_positive')),
    sa.CheckConstraint('class_hours > 0', name=op.f('ck_course_sessions_class_hours_positive')),
    sa.CheckConstraint('ends_at > starts_at', name=op.f('ck_course_sessions_ends_after_start')),
    sa.ForeignKeyConstraint(['course_id'], ['courses.id'], name=op.f('fk_course_sessions_course_id_courses'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_course_sessions'))
    )
    with op.batch_alter_table('course_sessions', schema=None) as batch_op:
        batch_op.create_index('ix_course_sessions_course_id_starts_at', ['course_id', 'starts_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_course_sessions_mode'), ['mode'], unique=False)
        batch_op.create_index(batch_op.f('ix_course_sessions_starts_at'), ['starts_at'], unique=False)

    op.create_table('course_trainers',
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['course_id'], ['courses.id'], name=op.f('fk_course_trainers_course_id_courses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_course_trainers_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('course_id', 'user_id', name=op.f('pk_course_trainers'))
    )
    with op.batch_alter_table('course_trainers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_course_trainers_user_id'), ['user_id'], unique=False)

    op.create_table('enrolments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('pending', 'enrolled', 'waitlisted', 'completed', 'incomplete', 'cancelled', 'rejected', name='enrolment_status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('waitlist_position', sa.Integer(), nullable=True),
    sa.Column('credited_hours', sa.Numeric(precision=7, scale=2, asdecimal=False), server_default='0', nullable=False),
    sa.Column('completed_at', sa.DateTime(), nullable=True),
    sa.Column('cancelled_at', sa.DateTime(), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('enrolled_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("(status = 'waitlisted' AND waitlist_position IS NOT NULL) OR (status <> 'waitlisted' AND waitlist_position IS NULL)", name=op.f('ck_enrolments_waitlist_position_iff_waitlisted')),
    sa.CheckConstraint('credited_hours >= 0', name=op.f('ck_enrolments_credited_hours_not_negative')),
    sa.CheckConstraint('waitlist_position IS NULL OR waitlist_position > 0', name=op.f('ck_enrolments_waitlist_position_positive')),
    sa.ForeignKeyConstraint(['course_id'], ['courses.id'], name=op.f('fk_enrolments_course_id_courses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_enrolments_decided_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['enrolled_by_id'], ['users.id'], name=op.f('fk_enrolments_enrolled_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_enrolments_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_enrolments')),
    sa.UniqueConstraint('course_id', 'waitlist_position', name=op.f('uq_enrolments_course_id_waitlist_position'))
    )
    with op.batch_alter_table('enrolments', schema=None) as batch_op:
        batch_op.create_index('ix_enrolments_course_id_status', ['course_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_enrolments_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_enrolments_user_id'), ['user_id'], unique=False)
        batch_op.create_index('uq_enrolments_active', ['user_id', 'course_id'], unique=True, postgresql_where=sa.text("status IN ('pending', 'enrolled', 'waitlisted', 'completed', 'incomplete')"), sqlite_where=sa.text("status IN ('pending', 'enrolled', 'waitlisted', 'completed', 'incomplete')"))

    op.create_table('feedback_responses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('content_score', sa.SmallInteger(), nullable=False),
    sa.Column('trainer_score', sa.SmallInteger(), nullable=False),
    sa.Column('organisation_score', sa.SmallInteger(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('content_score BETWEEN 1 AND 5', name=op.f('ck_feedback_responses_content_score_range')),
    sa.CheckConstraint('organisation_score BETWEEN 1 AND 5', name=op.f('ck_feedback_responses_organisation_score_range')),
    sa.CheckConstraint('trainer_score BETWEEN 1 AND 5', name=op.f('ck_feedback_responses_trainer_score_range')),
    sa.ForeignKeyConstraint(['course_id'], ['courses.id'], name=op.f('fk_feedback_responses_course_id_courses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_feedback_responses_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_feedback_responses')),
    sa.UniqueConstraint('course_id', 'user_id', name=op.f('uq_feedback_responses_course_id_user_id'))
    )
    with op.batch_alter_table('feedback_responses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_feedback_responses_course_id'), ['course_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_feedback_responses_user_id'), ['user_id'], unique=False)

    op.create_table('attendance_records',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('enrolment_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.Enum('present', 'late', 'partial', 'absent', 'excused', name='attendance_status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('method', sa.Enum('qr', 'code', 'roll_call', 'online_join', 'video', 'import', 'manual', name='attendance_method', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('minutes', sa.Integer(), server_default='0', nullable=False),
    sa.Column('credited_hours', sa.Numeric(precision=5, scale=2, asdecimal=False), server_default='0', nullable=False),
    sa.Column('checked_in_at', sa.DateTime(), nullable=True),
    sa.Column('checked_out_at', sa.DateTime(), nullable=True),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('checked_out_at IS NULL OR checked_in_at IS NULL OR checked_out_at >= checked_in_at', name=op.f('ck_attendance_records_checkout_after_checkin')),
    sa.CheckConstraint('credited_hours >= 0', name=op.f('ck_attendance_records_credited_hours_not_negative')),
    sa.CheckConstraint('minutes >= 0', name=op.f('ck_attendance_records_minutes_not_negative')),
    sa.ForeignKeyConstraint(['enrolment_id'], ['enrolments.id'], name=op.f('fk_attendance_records_enrolment_id_enrolments'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_attendance_records_recorded_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['session_id'], ['course_sessions.id'], name=op.f('fk_attendance_records_session_id_course_sessions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_attendance_records_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attendance_records')),
    sa.UniqueConstraint('session_id', 'user_id', name=op.f('uq_attendance_records_session_id_user_id'))
    )
    with op.batch_alter_table('attendance_records', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_attendance_records_enrolment_id'), ['enrolment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_attendance_records_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_attendance_records_user_id'), ['user_id'], unique=False)

    op.create_table('certificates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('serial', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.Enum('course', 'programme', 'transcript', name='certificate_kind', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('status', sa.Enum('valid', 'revoked', 'superseded', name='certificate_status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('enrolment_id', sa.Integer(), nullable=True),
    sa.Column('course_id', sa.Integer(), nullable=True),
    sa.Column('programme_id', sa.Integer(), nullable=True),
    sa.Column('year', sa.Integer(), nullable=True),
    sa.Column('holder_name', sa.String(length=60), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('class_hours', sa.Numeric(precision=7, scale=2, asdecimal=False), nullable=False),
    sa.Column('issued_at', sa.DateTime(), nullable=False),
    sa.Column('pdf_key', sa.String(length=255), nullable=True),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.Column('revoked_reason', sa.String(length=500), nullable=True),
    sa.Column('revoked_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("(kind = 'course' AND enrolment_id IS NOT NULL AND course_id IS NOT NULL) OR (kind = 'programme' AND programme_id IS NOT NULL) OR (kind = 'transcript' AND year IS NOT NULL)", name=op.f('ck_certificates_kind_references')),
    sa.CheckConstraint('class_hours >= 0', name=op.f('ck_certificates_class_hours_not_negative')),
    sa.ForeignKeyConstraint(['course_id'], ['courses.id'], name=op.f('fk_certificates_course_id_courses'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['enrolment_id'], ['enrolments.id'], name=op.f('fk_certificates_enrolment_id_enrolments'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['programme_id'], ['programmes.id'], name=op.f('fk_certificates_programme_id_programmes'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['revoked_by_id'], ['users.id'], name=op.f('fk_certificates_revoked_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_certificates_user_id_users'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_certificates')),
    sa.UniqueConstraint('serial', name=op.f('uq_certificates_serial'))
    )
    with op.batch_alter_table('certificates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_certificates_course_id'), ['course_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_certificates_issued_at'), ['issued_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_certificates_programme_id'), ['programme_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_certificates_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_certificates_user_id'), ['user_id'], unique=False)
        batch_op.create_index('uq_certificates_enrolment_current', ['enrolment_id'], unique=True, postgresql_where=sa.text("enrolment_id IS NOT NULL AND status <> 'superseded'"), sqlite_where=sa.text("enrolment_id IS NOT NULL AND status <> 'superseded'"))
        batch_op.create_index('uq_certificates_programme_current', ['user_id', 'programme_id'], unique=True, postgresql_where=sa.text("kind = 'programme' AND status <> 'superseded'"), sqlite_where=sa.text("kind = 'programme' AND status <> 'superseded'"))

    op.create_table('course_materials',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=True),
    sa.Column('title', sa.String(length=120), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('content_type', sa.String(length=120), nullable=False),
    sa.Column('size_bytes', sa.BigInteger(), nullable=False),
    sa.Column('storage_key', sa.String(length=255), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('size_bytes >= 0', name=op.f('ck_course_materials_size_not_negative')),
    sa.ForeignKeyConstraint(['course_id'], ['courses.id'], name=op.f('fk_course_materials_course_id_courses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['session_id'], ['course_sessions.id'], name=op.f('fk_course_materials_session_id_course_sessions'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'], name=op.f('fk_course_materials_uploaded_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_course_materials')),
    sa.UniqueConstraint('storage_key', name=op.f('uq_course_materials_storage_key'))
    )
    with op.batch_alter_table('course_materials', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_course_materials_course_id'), ['course_id'], unique=False)

    requirements = sa.table(
        "qualification_requirements",
        sa.column("level", sa.String),
        sa.column("required_hours", sa.Numeric),
        sa.column("cycle_years", sa.Integer),
    )
    op.bulk_insert(
        requirements,
        [
            {"level": "assistant_social_worker", "required_hours": 72, "cycle_years": 3},
            {"level": "social_worker", "required_hours": 90, "cycle_years": 3},
            {"level": "senior_social_worker", "required_hours": 90, "cycle_years": 3},
        ],
    )


def downgrade():
    with op.batch_alter_table('course_materials', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_course_materials_course_id'))

    op.drop_table('course_materials')
    with op.batch_alter_table('certificates', schema=None) as batch_op:
        batch_op.drop_index('uq_certificates_programme_current', postgresql_where=sa.text("kind = 'programme' AND status <> 'superseded'"), sqlite_where=sa.text("kind = 'programme' AND status <> 'superseded'"))
        batch_op.drop_index('uq_certificates_enrolment_current', postgresql_where=sa.text("enrolment_id IS NOT NULL AND status <> 'superseded'"), sqlite_where=sa.text("enrolment_id IS NOT NULL AND status <> 'superseded'"))
        batch_op.drop_index(batch_op.f('ix_certificates_user_id'))
        batch_op.drop_index(batch_op.f('ix_certificates_status'))
        batch_op.drop_index(batch_op.f('ix_certificates_programme_id'))
        batch_op.drop_index(batch_op.f('ix_certificates_issued_at'))
        batch_op.drop_index(batch_op.f('ix_certificates_course_id'))

    op.drop_table('certificates')
    with op.batch_alter_table('attendance_records', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_attendance_records_user_id'))
        batch_op.drop_index(batch_op.f('ix_attendance_records_status'))
        batch_op.drop_index(batch_op.f('ix_attendance_records_enrolment_id'))

    op.drop_table('attendance_records')
    with op.batch_alter_table('feedback_responses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_feedback_responses_user_id'))
        batch_op.drop_index(batch_op.f('ix_feedback_responses_course_id'))

    op.drop_table('feedback_responses')
    with op.batch_alter_table('enrolments', schema=None) as batch_op:
        batch_op.drop_index('uq_enrolments_active', postgresql_where=sa.text("status IN ('pending', 'enrolled', 'waitlisted', 'completed', 'incomplete')"), sqlite_where=sa.text("status IN ('pending', 'enrolled', 'waitlisted', 'completed', 'incomplete')"))
        batch_op.drop_index(batch_op.f('ix_enrolments_user_id'))
        batch_op.drop_index(batch_op.f('ix_enrolments_status'))
        batch_op.drop_index('ix_enrolments_course_id_status')

    op.drop_table('enrolments')
    with op.batch_alter_table('course_trainers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_course_trainers_user_id'))

    op.drop_table('course_trainers')
    with op.batch_alter_table('course_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_course_sessions_starts_at'))
        batch_op.drop_index(batch_op.f('ix_course_sessions_mode'))
        batch_op.drop_index('ix_course_sessions_course_id_starts_at')

    op.drop_table('course_sessions')
    with op.batch_alter_table('course_prerequisites', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_course_prerequisites_prerequisite_id'))

    op.drop_table('course_prerequisites')
    with op.batch_alter_table('user_roles', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_roles_role'))

    op.drop_table('user_roles')
    with op.batch_alter_table('notices', schema=None) as batch_op:
        batch_op.drop_index('ix_notices_user_id_read_at')

    op.drop_table('notices')
    with op.batch_alter_table('external_hours_records', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_external_hours_records_user_id'))
        batch_op.drop_index(batch_op.f('ix_external_hours_records_earned_on'))

    op.drop_table('external_hours_records')
    with op.batch_alter_table('export_jobs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_export_jobs_status'))
        batch_op.drop_index(batch_op.f('ix_export_jobs_requested_by_id'))

    op.drop_table('export_jobs')
    with op.batch_alter_table('courses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_courses_topic'))
        batch_op.drop_index('ix_courses_status_level_mode')
        batch_op.drop_index(batch_op.f('ix_courses_status'))
        batch_op.drop_index(batch_op.f('ix_courses_programme_id'))
        batch_op.drop_index(batch_op.f('ix_courses_mode'))
        batch_op.drop_index(batch_op.f('ix_courses_level'))

    op.drop_table('courses')
    with op.batch_alter_table('audit_log_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_log_entries_object_type_object_id')
        batch_op.drop_index(batch_op.f('ix_audit_log_entries_created_at'))
        batch_op.drop_index(batch_op.f('ix_audit_log_entries_actor_id'))

    op.drop_table('audit_log_entries')
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_tokens_user_id'))

    op.drop_table('api_tokens')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_users_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_users_name'))

    op.drop_table('users')
    op.drop_table('qualification_requirements')
    with op.batch_alter_table('programmes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_programmes_status'))

    op.drop_table('programmes')
    with op.batch_alter_table('outbox_events', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_events_status_available_at')

    op.drop_table('outbox_events')
    op.drop_table('organisations')
