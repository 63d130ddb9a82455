"""User accounts and the roles they hold."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from flask_login import UserMixin
from sqlalchemy import CheckConstraint, DateTime, ForeignKey, String, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db, one_of


class Role(StrEnum):
    """What a user may do; a user may hold several."""

    ADMIN = "admin"
    ORGANISER = "organiser"
    REGISTRY_OFFICER = "registry_officer"
    GATE_STAFF = "gate_staff"
    DELEGATE = "delegate"

    @property
    def label(self) -> str:
        """The role's name in the current language."""
        return str(ROLE_LABELS[self])


ROLE_LABELS = {
    Role.ADMIN: _l("Administrator"),
    Role.ORGANISER: _l("Organiser"),
    Role.REGISTRY_OFFICER: _l("Registry officer"),
    Role.GATE_STAFF: _l("Gate staff"),
    Role.DELEGATE: _l("Delegate"),
}
STAFF_ROLES = frozenset({Role.ADMIN, Role.ORGANISER, Role.REGISTRY_OFFICER, Role.GATE_STAFF})


class User(UserMixin, db.Model):
    """A person who signs in: staff member or delegate."""

    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("language IN ('id', 'en')", name="language"),
        CheckConstraint("email = lower(email)", name="email_lowercase"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    language: Mapped[str] = mapped_column(String(5), default="en")
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    role_grants: Mapped[list[UserRole]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def is_active(self) -> bool:
        """Flask-Login refuses sign-in to deactivated accounts."""
        return self.active

    @property
    def roles(self) -> frozenset[Role]:
        """The roles this user holds."""
        return frozenset(Role(grant.role) for grant in self.role_grants)

    def has_role(self, *roles: Role | str) -> bool:
        """Whether the user holds any of the given roles."""
        held = {grant.role for grant in self.role_grants}
        return any(str(role) in held for role in roles)

    @property
    def is_staff(self) -> bool:
        """Whether the user holds any staff role."""
        return bool(self.roles & STAFF_ROLES)

    def __repr__(self) -> str:
        return f"<User {self.email}>"


class UserRole(db.Model):
    """One role granted to one user."""

    __tablename__ = "user_roles"
    __table_args__ = (CheckConstraint(one_of("role", Role), name="role"),)

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(String(32), primary_key=True)

    user: Mapped[User] = relationship(back_populates="role_grants")
