"""User accounts and the roles they hold."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from flask_login import UserMixin
from sqlalchemy import BigInteger, CheckConstraint, DateTime, ForeignKey, String, Text, func
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
# Roles that see or change much personal data or the registry: their sign-in needs a second
# factor. Gate staff and delegates may add one.
TWO_FACTOR_ROLES = frozenset({Role.ADMIN, Role.ORGANISER, Role.REGISTRY_OFFICER})


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
    # Copied into the session at sign-in; raising it ends every session that holds an older one.
    session_version: Mapped[int] = mapped_column(default=1, server_default="1")
    # TOTP (RFC 6238) secret, Fernet-encrypted; set at enrolment, in use once enabled.
    totp_secret_encrypted: Mapped[str | None] = mapped_column(Text)
    totp_enabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The last time step whose code was accepted: a code is never accepted twice.
    totp_last_counter: Mapped[int | None] = mapped_column(BigInteger)

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
    def requires_two_factor(self) -> bool:
        """Whether the user's roles make a second factor mandatory at sign-in."""
        return bool(self.roles & TWO_FACTOR_ROLES)

    @property
    def has_two_factor(self) -> bool:
        """Whether the user has a confirmed authenticator app."""
        return self.totp_enabled_at is not None

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


class RecoveryCode(db.Model):
    """A one-time code that stands in for the authenticator app; only its SHA-256 is kept."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # The codes carry 50 random bits, so a fast hash is enough (no dictionary to try).
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class SignInThrottle(db.Model):
    """Recent failed sign-ins for one account or one client address (growing delays)."""

    __tablename__ = "sign_in_throttles"
    __table_args__ = (CheckConstraint("failures >= 0", name="failures"),)

    # "account:<sha256 of the address typed>" or "address:<client IP>".
    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    last_failure_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
