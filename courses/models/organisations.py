from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from courses.db import TimestampMixin, db, enum_column
from courses.models.enums import OrganisationKind


class Organisation(TimestampMixin, db.Model):
    """A social-work service organisation or community (机构 / 社区) learners belong to."""

    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120), nullable=False, unique=True)
    kind: Mapped[OrganisationKind] = mapped_column(
        enum_column(OrganisationKind, "organisation_kind"),
        nullable=False,
        default=OrganisationKind.ORGANISATION,
    )
    contact_name: Mapped[str | None] = mapped_column(sa.String(60), nullable=True)
    contact_phone: Mapped[str | None] = mapped_column(sa.String(20), nullable=True)
    is_active: Mapped[bool] = mapped_column(nullable=False, default=True)

    def __repr__(self) -> str:
        return f"<Organisation {self.id} {self.name}>"
