from __future__ import annotations

import secrets
from datetime import date, datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from courses.db import TimestampMixin, UTCDateTime, db, enum_column
from courses.models.enums import QualificationLevel, Role

if TYPE_CHECKING:
    from courses.models.organisations import Organisation


def new_session_nonce() -> str:
    return secrets.token_hex(16)


class User(TimestampMixin, db.Model):
    """A person: learner, trainer, admin, or several of those.

    ``session_nonce`` is what the login session and the remember-me cookie carry;
    rotating it (on password change or deactivation) logs the user out everywhere.
    """

    __tablename__ = "users"
    __table_args__ = (
        sa.CheckConstraint("email IS NOT NULL OR phone IS NOT NULL", name="email_or_phone"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(60), nullable=False, index=True)
    email: Mapped[str | None] = mapped_column(sa.String(254), nullable=True, unique=True)
    phone: Mapped[str | None] = mapped_column(sa.String(20), nullable=True, unique=True)
    password_hash: Mapped[str | None] = mapped_column(sa.String(255), nullable=True)
    organisation_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("organisations.id", ondelete="SET NULL"), nullable=True, index=True
    )
    qualification_level: Mapped[QualificationLevel] = mapped_column(
        enum_column(QualificationLevel, "qualification_level"),
        nullable=False,
        default=QualificationLevel.NONE,
    )
    # Start of the learner's current continuing-education registration cycle (登记周期).
    cycle_starts_on: Mapped[date | None] = mapped_column(sa.Date, nullable=True)
    locale: Mapped[str | None] = mapped_column(sa.String(10), nullable=True)
    is_active: Mapped[bool] = mapped_column(nullable=False, default=True)
    session_nonce: Mapped[str] = mapped_column(
        sa.String(32), nullable=False, unique=True, default=new_session_nonce
    )
    calendar_token: Mapped[str | None] = mapped_column(sa.String(43), nullable=True, unique=True)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    organisation: Mapped[Organisation | None] = relationship(lazy="joined")
    role_rows: Mapped[list[UserRole]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )

    # Flask-Login protocol, without importing the web layer.
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return self.session_nonce

    @property
    def roles(self) -> set[Role]:
        return {row.role for row in self.role_rows}

    def has_role(self, *roles: Role) -> bool:
        mine = self.roles
        return any(role in mine for role in roles)

    @property
    def is_admin(self) -> bool:
        return Role.ADMIN in self.roles

    @property
    def is_trainer(self) -> bool:
        return Role.TRAINER in self.roles

    def __repr__(self) -> str:
        return f"<User {self.id} {self.name}>"


class UserRole(db.Model):
    __tablename__ = "user_roles"

    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[Role] = mapped_column(enum_column(Role, "role"), primary_key=True, index=True)

    user: Mapped[User] = relationship(back_populates="role_rows")
