"""Every state and category the domain knows, as Python enums stored by value."""

from __future__ import annotations

import enum


class StrEnum(enum.StrEnum):
    def __str__(self) -> str:
        return self.value


class Role(StrEnum):
    LEARNER = "learner"
    TRAINER = "trainer"
    ADMIN = "admin"


class QualificationLevel(StrEnum):
    NONE = "none"
    ASSISTANT = "assistant_social_worker"  # 助理社会工作师
    SOCIAL_WORKER = "social_worker"  # 社会工作师
    SENIOR = "senior_social_worker"  # 高级社会工作师


class OrganisationKind(StrEnum):
    ORGANISATION = "organisation"  # 社会组织 / 社工机构
    COMMUNITY = "community"  # 社区
    GOVERNMENT = "government"  # 街道 / 政府部门
    OTHER = "other"


class PublicationStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    ARCHIVED = "archived"


class CourseLevel(StrEnum):
    BEGINNER = "beginner"  # 初级
    INTERMEDIATE = "intermediate"  # 中级
    ADVANCED = "advanced"  # 高级


class CourseMode(StrEnum):
    ONLINE = "online"
    OFFLINE = "offline"
    HYBRID = "hybrid"


class SessionMode(StrEnum):
    OFFLINE = "offline"
    ONLINE = "online"
    RECORDED = "recorded"
    HYBRID = "hybrid"


class EnrolmentStatus(StrEnum):
    PENDING = "pending"
    ENROLLED = "enrolled"
    WAITLISTED = "waitlisted"
    COMPLETED = "completed"
    INCOMPLETE = "incomplete"
    CANCELLED = "cancelled"
    REJECTED = "rejected"


# An enrolment in one of these states blocks a second one for the same learner and course.
ACTIVE_ENROLMENT_STATUSES = (
    EnrolmentStatus.PENDING,
    EnrolmentStatus.ENROLLED,
    EnrolmentStatus.WAITLISTED,
    EnrolmentStatus.COMPLETED,
    EnrolmentStatus.INCOMPLETE,
)


class AttendanceStatus(StrEnum):
    PRESENT = "present"
    LATE = "late"
    PARTIAL = "partial"
    ABSENT = "absent"
    EXCUSED = "excused"


class AttendanceMethod(StrEnum):
    QR = "qr"
    CODE = "code"
    ROLL_CALL = "roll_call"
    ONLINE_JOIN = "online_join"
    VIDEO = "video"
    IMPORT = "import"
    MANUAL = "manual"


class ImportStatus(StrEnum):
    PREVIEW = "preview"
    APPLIED = "applied"


class CertificateKind(StrEnum):
    COURSE = "course"
    PROGRAMME = "programme"
    TRANSCRIPT = "transcript"


class CertificateStatus(StrEnum):
    VALID = "valid"
    REVOKED = "revoked"
    SUPERSEDED = "superseded"


class OutboxStatus(StrEnum):
    PENDING = "pending"
    DONE = "done"
    DEAD = "dead"


class JobStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
