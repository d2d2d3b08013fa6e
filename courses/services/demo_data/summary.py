"""What a load of demo data produced, in the figures the academy reports."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class SeedSummary:
    """What was loaded. ``courses``, ``sessions`` and ``class_hours`` count the year's
    courses (published or archived); ``draft_courses`` are next year's, still being
    prepared and without sessions. ``participant_times`` counts attendance records that
    earned credit (人次), ``unique_participants`` the people behind them (人数)."""

    year: int
    scale: int
    organisations: int = 0
    learners: int = 0
    trainers: int = 0
    programmes: int = 0
    courses: int = 0
    draft_courses: int = 0
    sessions: int = 0
    class_hours: float = 0.0
    enrolments: int = 0
    completions: int = 0
    attendance_records: int = 0
    participant_times: int = 0
    unique_participants: int = 0
    feedback: int = 0

    def headline(self) -> str:
        return (
            f"{self.courses:,} courses, {_hours(self.class_hours)} class hours, "
            f"{self.participant_times:,} participant-times"
        )

    def describe(self) -> str:
        return "\n".join(
            [
                f"Demo data for {self.year} (scale {self.scale}):",
                f"  {self.headline()}",
                f"  {self.unique_participants:,} people took part; "
                f"{self.draft_courses:,} draft courses for next year",
                f"  {self.organisations:,} organisations, {self.programmes:,} programmes, "
                f"{self.trainers:,} trainers, {self.learners:,} learners",
                f"  {self.sessions:,} sessions, {self.enrolments:,} enrolments "
                f"({self.completions:,} completed), "
                f"{self.attendance_records:,} attendance records, "
                f"{self.feedback:,} feedback responses",
            ]
        )


def _hours(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"
