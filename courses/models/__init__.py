"""All tables of the academy, one module per aggregate."""

from courses.models.attendance import (
    AttendanceHeartbeat,
    AttendanceImport,
    AttendanceRecord,
    VideoProgress,
)
from courses.models.audit import AuditLogEntry
from courses.models.certificates import Certificate, CertificateCounter, CertificateSettings
from courses.models.checkin_passes import CheckinPass
from courses.models.courses import Course, course_prerequisites, course_trainers
from courses.models.enrolments import Enrolment
from courses.models.enums import (
    ACTIVE_ENROLMENT_STATUSES,
    AttendanceMethod,
    AttendanceStatus,
    CertificateKind,
    CertificateStatus,
    CourseLevel,
    CourseMode,
    EnrolmentStatus,
    ImportStatus,
    JobStatus,
    OrganisationKind,
    OutboxStatus,
    PublicationStatus,
    QualificationLevel,
    Role,
    SessionMode,
)
from courses.models.exports import ExportJob
from courses.models.feedback import FeedbackResponse
from courses.models.hours import ExternalHoursRecord, QualificationRequirement
from courses.models.materials import CourseMaterial
from courses.models.meeting_aliases import MeetingAlias
from courses.models.notices import Notice
from courses.models.organisations import Organisation
from courses.models.outbox import OutboxEvent
from courses.models.programmes import Programme
from courses.models.sessions import CourseSession
from courses.models.stats import StatCourseMonth, StatLearnerMonth, StatParticipant
from courses.models.tokens import ApiToken
from courses.models.users import User, UserRole

__all__ = [
    "ACTIVE_ENROLMENT_STATUSES",
    "ApiToken",
    "AttendanceHeartbeat",
    "AttendanceImport",
    "AttendanceMethod",
    "AttendanceRecord",
    "AttendanceStatus",
    "AuditLogEntry",
    "Certificate",
    "CertificateCounter",
    "CertificateKind",
    "CertificateSettings",
    "CertificateStatus",
    "CheckinPass",
    "Course",
    "CourseLevel",
    "CourseMaterial",
    "CourseMode",
    "CourseSession",
    "Enrolment",
    "EnrolmentStatus",
    "ExportJob",
    "ExternalHoursRecord",
    "FeedbackResponse",
    "ImportStatus",
    "JobStatus",
    "MeetingAlias",
    "Notice",
    "Organisation",
    "OrganisationKind",
    "OutboxEvent",
    "OutboxStatus",
    "Programme",
    "PublicationStatus",
    "QualificationLevel",
    "QualificationRequirement",
    "Role",
    "SessionMode",
    "StatCourseMonth",
    "StatLearnerMonth",
    "StatParticipant",
    "User",
    "UserRole",
    "VideoProgress",
    "course_prerequisites",
    "course_trainers",
]
