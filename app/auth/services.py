"""Account rules: creating users, signing in, password reset, staff invitations."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import UTC, datetime

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, select

from app.audit import services as audit
from app.auth.models import STAFF_ROLES, Role, User, UserRole
from app.auth.passwords import hash_password, needs_rehash, verify_password
from app.errors import DomainError
from app.extensions import db
from app.i18n.text import CONTENT_LANGUAGES
from app.mail.services import send_email
from app.web import absolute_url

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 128
RESET_PURPOSE = "password-reset"
INVITATION_PURPOSE = "invitation"


class AuthError(DomainError):
    """An account rule refused the action."""


def normalise_email(email: str) -> str:
    """Validate an address and return its canonical lower-case form."""
    try:
        return validate_email(email.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise AuthError(_l("Enter a valid email address."), "invalid_email", field="email") from exc


def find_user_by_email(email: str) -> User | None:
    """The account with this address, if any (case-insensitive)."""
    return db.session.scalar(select(User).where(User.email == email.strip().lower()))


def check_password_rules(password: str) -> None:
    """Refuse passwords that are too short or too long."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AuthError(
            _l("Use at least %(min)d characters.", min=MIN_PASSWORD_LENGTH),
            "password_too_short",
            field="password",
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise AuthError(
            _l("Use at most %(max)d characters.", max=MAX_PASSWORD_LENGTH),
            "password_too_long",
            field="password",
        )


def create_user(
    email: str,
    name: str,
    *,
    password: str | None = None,
    roles: Iterable[Role] = (),
    language: str = "en",
    actor: User | None = None,
) -> User:
    """Create an account; a missing password means the user sets one from an emailed link."""
    address = normalise_email(email)
    if find_user_by_email(address) is not None:
        raise AuthError(
            _l("An account with this email address already exists."), "email_taken", field="email"
        )
    if password is not None:
        check_password_rules(password)
    user = User(
        email=address,
        name=name.strip(),
        language=language,
        password_hash=hash_password(password) if password is not None else None,
    )
    user.role_grants = [UserRole(role=str(role)) for role in set(roles)]
    db.session.add(user)
    db.session.flush()
    return user


def set_roles(user: User, roles: Iterable[Role], *, actor: User) -> None:
    """Replace a user's roles; an admin cannot remove their own admin role."""
    wanted = {Role(role) for role in roles}
    if user.id == actor.id and Role.ADMIN in user.roles and Role.ADMIN not in wanted:
        raise AuthError(
            _l("You cannot remove your own administrator role."), "own_admin_role", field="roles"
        )
    if user.has_role(Role.ADMIN) and Role.ADMIN not in wanted and count_admins() <= 1:
        raise AuthError(_l("Kongres needs at least one administrator."), "last_admin")
    current = {grant.role: grant for grant in user.role_grants}
    for role_name, grant in current.items():
        if Role(role_name) not in wanted:
            user.role_grants.remove(grant)
    for role in wanted - {Role(name) for name in current}:
        user.role_grants.append(UserRole(role=str(role)))
    db.session.flush()
    if set(current) != {str(role) for role in wanted}:
        roles_change = [sorted(current), sorted(str(role) for role in wanted)]
        audit.record("auth.role_changed", actor=actor, target=user, details={"roles": roles_change})


def grant_role(user: User, role: Role) -> None:
    """Add one role to an account (registering as a delegate links an existing account)."""
    if not user.has_role(role):
        user.role_grants.append(UserRole(role=str(role)))
        db.session.flush()


def update_account(user: User, *, roles: Iterable[Role], active: bool, actor: User) -> None:
    """An administrator's change of an account's roles and status."""
    set_roles(user, roles, actor=actor)
    set_active(user, active, actor=actor)


def update_profile(user: User, *, name: str, language: str) -> None:
    """A user's change of their own name and language for emails and documents."""
    name = (name or "").strip()
    if not name:
        raise AuthError(_l("Enter your name."), "name_required", field="name")
    if language not in CONTENT_LANGUAGES:
        raise AuthError(
            _l("Choose a language from the list."), "unknown_language", field="language"
        )
    user.name = name
    user.language = language
    db.session.flush()


def change_own_password(user: User, *, current: str, new: str) -> None:
    """A signed-in user's password change, which needs the current password."""
    if not verify_password(user.password_hash, current):
        raise AuthError(
            _l("This is not your current password."), "wrong_password", field="current_password"
        )
    change_password(user, new)


def set_active(user: User, active: bool, *, actor: User) -> None:
    """Deactivate or reactivate an account (never one's own)."""
    if user.id == actor.id and not active:
        raise AuthError(_l("You cannot deactivate your own account."), "own_account")
    if user.active != active:
        audit.record("auth.activated" if active else "auth.deactivated", actor=actor, target=user)
    user.active = active
    db.session.flush()


def count_admins() -> int:
    """How many active administrators there are."""
    return db.session.scalar(
        select(func.count())
        .select_from(UserRole)
        .join(User)
        .where(UserRole.role == Role.ADMIN.value, User.active.is_(True))
    )


def authenticate(email: str, password: str) -> User | None:
    """The active user with these credentials, or None; upgrades weak hashes on the way."""
    user = find_user_by_email(email)
    if user is None:
        verify_password(None, password)
        return None
    if not verify_password(user.password_hash, password) or not user.active:
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = datetime.now(UTC)
    db.session.flush()
    return user


def change_password(user: User, new_password: str) -> None:
    """Set a new password (which also voids every outstanding reset link)."""
    check_password_rules(new_password)
    user.password_hash = hash_password(new_password)
    db.session.flush()


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="kongres-account-links")


def _password_fingerprint(user: User) -> str:
    """Changes whenever the password does, so a used link stops working (single use)."""
    return hashlib.sha256((user.password_hash or "unset").encode()).hexdigest()[:16]


def make_account_link_token(user: User, purpose: str) -> str:
    """A signed token for a password-reset or invitation link."""
    return _serializer().dumps({"u": user.id, "p": purpose, "f": _password_fingerprint(user)})


def user_from_account_link(token: str, purpose: str) -> User:
    """The user an account link was made for, if it is genuine, unused and not expired."""
    max_age = current_app.config[
        "INVITATION_MAX_AGE" if purpose == INVITATION_PURPOSE else "PASSWORD_RESET_MAX_AGE"
    ]
    try:
        payload = _serializer().loads(token, max_age=max_age)
    except SignatureExpired as exc:
        raise AuthError(
            _l("This link has expired. Please ask for a new one."), "link_expired"
        ) from exc
    except BadSignature as exc:
        raise AuthError(_l("This link is not valid."), "link_invalid") from exc
    user = db.session.get(User, payload.get("u")) if isinstance(payload, dict) else None
    if user is None or payload.get("p") != purpose or not user.active:
        raise AuthError(_l("This link is not valid."), "link_invalid")
    if payload.get("f") != _password_fingerprint(user):
        raise AuthError(
            _l("This link has already been used. Please ask for a new one."), "link_used"
        )
    return user


def request_password_reset(email: str) -> None:
    """Email a reset link when the address has an active account; say nothing otherwise."""
    user = find_user_by_email(email)
    if user is None or not user.active:
        return
    link = absolute_url("auth.reset_password", token=make_account_link_token(user, RESET_PURPOSE))
    minutes = current_app.config["PASSWORD_RESET_MAX_AGE"] // 60
    send_email(
        user.email, user.language, "mail/password_reset.txt", user=user, link=link, minutes=minutes
    )


def invite_staff(
    email: str, name: str, roles: Iterable[Role], language: str, *, actor: User
) -> User:
    """Create a staff account and email the person a link to choose their password."""
    roles = {Role(role) for role in roles}
    if not roles or not roles <= STAFF_ROLES:
        raise AuthError(_l("Choose at least one staff role."), "no_staff_role", field="roles")
    user = create_user(email, name, roles=roles, language=language, actor=actor)
    link = absolute_url(
        "auth.accept_invitation", token=make_account_link_token(user, INVITATION_PURPOSE)
    )
    days = current_app.config["INVITATION_MAX_AGE"] // 86400
    send_email(
        user.email,
        user.language,
        "mail/staff_invitation.txt",
        user=user,
        link=link,
        inviter=actor,
        days=days,
    )
    return user
