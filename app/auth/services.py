"""Account rules: creating users, signing in, password reset, staff invitations."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError

from app.audit import services as audit
from app.auth.models import STAFF_ROLES, Role, SignInThrottle, User, UserRole
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
# Django's list of the 20,000 most common passwords (Royce Williams' compilation, BSD licence,
# from django/contrib/auth/common-passwords.txt.gz); compared in lower case, as Django does.
COMMON_PASSWORDS_FILE = Path(__file__).parent / "data" / "common-passwords.txt"


class AuthError(DomainError):
    """An account rule refused the action."""


class SignInDelayedError(AuthError):
    """Too many failed sign-ins for this account or address: try again after a delay."""

    status_code = 429

    def __init__(self, seconds: int):
        if seconds < 60:
            message = ngettext(
                "Too many failed attempts. Please wait %(num)d second and try again.",
                "Too many failed attempts. Please wait %(num)d seconds and try again.",
                seconds,
            )
        else:
            message = ngettext(
                "Too many failed attempts. Please wait %(num)d minute and try again.",
                "Too many failed attempts. Please wait %(num)d minutes and try again.",
                math.ceil(seconds / 60),
            )
        super().__init__(message, "sign_in_delayed")
        self.seconds = seconds


class WrongPasswordError(AuthError):
    """The current password given to confirm a sensitive change is wrong: counted like a
    failed sign-in, and the count stays although the change is refused."""

    keeps_writes = True


def normalise_email(email: str) -> str:
    """Validate an address and return its canonical lower-case form."""
    try:
        return validate_email(email.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise AuthError(_l("Enter a valid email address."), "invalid_email", field="email") from exc


def find_user_by_email(email: str) -> User | None:
    """The account with this address, if any (case-insensitive)."""
    return db.session.scalar(select(User).where(User.email == email.strip().lower()))


@lru_cache(maxsize=1)
def _common_passwords() -> frozenset[str]:
    """The shipped list of common passwords, in lower case (read once)."""
    lines = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip())


def check_password_rules(password: str) -> None:
    """Refuse passwords that are too short, too long or among the most common ones."""
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
    if password.lower() in _common_passwords():
        raise AuthError(
            _l("This password is one of the most commonly used ones. Choose another."),
            "password_common",
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


def change_own_password(user: User, *, current: str, new: str, address: str) -> None:
    """A signed-in user's password change, which needs the current password (a wrong one
    counts as a failed sign-in: a stolen session must not be a way to guess it)."""
    confirm_current_password(user, current, address=address)
    change_password(user, new)
    audit.record("auth.password_changed", actor=user, target=user)


def confirm_current_password(user: User, password: str, *, address: str) -> None:
    """Check a signed-in user's password before a change a stolen session must not make. A
    wrong one counts as a failed sign-in (the same growing delays) and raises
    WrongPasswordError; SignInDelayedError while the delays apply. Writes nothing else, so
    call it before the change itself."""
    refuse_while_delayed(user.email, address)
    if not verify_password(user.password_hash, password or ""):
        record_failed_sign_in(user.email, address)
        raise WrongPasswordError(
            _l("This is not your current password."), "wrong_password", field="current_password"
        )


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


def _as_utc(moment: datetime) -> datetime:
    """A stored time as aware UTC (SQLite hands back naive datetimes)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _throttle_keys(email: str, address: str) -> dict[str, int]:
    """The counters one attempt touches, each with the failures it allows before delays.

    The account key hashes the address as typed, so unknown addresses are delayed exactly like
    real ones (no way to tell which accounts exist).
    """
    typed = hashlib.sha256(email.strip().lower().encode()).hexdigest()
    config = current_app.config
    return {
        f"account:{typed}": config["SIGN_IN_ACCOUNT_FAILURES_BEFORE_DELAY"],
        f"address:{address}"[:100]: config["SIGN_IN_ADDRESS_FAILURES_BEFORE_DELAY"],
    }


def sign_in_delay(email: str, address: str, *, now: datetime | None = None) -> int:
    """Seconds to wait before this account may be tried again from this address (0: none)."""
    now = now or datetime.now(UTC)
    window = timedelta(minutes=current_app.config["SIGN_IN_FAILURE_WINDOW_MINUTES"])
    longest = current_app.config["SIGN_IN_MAX_DELAY_MINUTES"] * 60
    wait = 0.0
    keys = _throttle_keys(email, address)
    rows = db.session.scalars(select(SignInThrottle).where(SignInThrottle.key.in_(keys)))
    for row in rows:
        last = _as_utc(row.last_failure_at)
        allowed = keys[row.key]
        if now - last > window or row.failures < allowed:
            continue
        # 1 s after the allowed number of failures, then doubling, up to the cap.
        delay = min(2 ** (row.failures - allowed), longest)
        wait = max(wait, (last - now).total_seconds() + delay)
    return math.ceil(wait) if wait > 0 else 0


def refuse_while_delayed(email: str, address: str) -> None:
    """Raise SignInDelayedError while the account or the address must wait (even for a right
    password, else the delay would only slow down wrong guesses)."""
    seconds = sign_in_delay(email, address)
    if seconds:
        raise SignInDelayedError(seconds)


def record_failed_sign_in(email: str, address: str) -> None:
    """Count one failed attempt against the account and the client address."""
    now = datetime.now(UTC)
    window = timedelta(minutes=current_app.config["SIGN_IN_FAILURE_WINDOW_MINUTES"])
    for key in _throttle_keys(email, address):
        row = db.session.get(SignInThrottle, key, with_for_update=True)
        if row is None:
            try:
                with db.session.begin_nested():
                    db.session.add(SignInThrottle(key=key, failures=1, last_failure_at=now))
                continue
            except IntegrityError:
                # Another worker counted the first failure at the same moment.
                row = db.session.get(SignInThrottle, key, with_for_update=True)
        if now - _as_utc(row.last_failure_at) > window:
            row.failures, row.last_failure_at = 1, now
        else:
            # Added up in the database, so concurrent attempts on other workers all count.
            db.session.execute(
                update(SignInThrottle)
                .where(SignInThrottle.key == key)
                .values(failures=SignInThrottle.failures + 1, last_failure_at=now)
            )
    db.session.flush()


def clear_failed_sign_ins(email: str) -> None:
    """Forget an account's failures after a full sign-in. The address's count stays: else an
    attacker could wipe it by signing in to an account of their own between guesses."""
    typed_key = next(iter(_throttle_keys(email, "")))
    db.session.execute(delete(SignInThrottle).where(SignInThrottle.key == typed_key))


def authenticate(email: str, password: str, *, address: str) -> User | None:
    """The active user with these credentials, or None (counted as a failure); upgrades weak
    hashes on the way. Raises SignInDelayedError while failed attempts must wait."""
    refuse_while_delayed(email, address)
    user = find_user_by_email(email)
    if user is None:
        verify_password(None, password)
        record_failed_sign_in(email, address)
        return None
    if not verify_password(user.password_hash, password) or not user.active:
        record_failed_sign_in(email, address)
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    db.session.flush()
    return user


def complete_sign_in(user: User) -> None:
    """Record a full sign-in (password and, where needed, second factor)."""
    clear_failed_sign_ins(user.email)
    user.last_login_at = datetime.now(UTC)
    audit.record("auth.login", actor=user)
    db.session.flush()


def record_sign_out(user: User) -> None:
    """Record that the user signed out."""
    audit.record("auth.logout", actor=user)


def choose_password_and_sign_in(user: User, new_password: str) -> None:
    """A delegate's first password, chosen after their emailed link, and their sign-in."""
    change_password(user, new_password)
    complete_sign_in(user)


def end_all_sessions(user: User) -> None:
    """End every session of the account: they hold the old session version."""
    user.session_version = (user.session_version or 0) + 1
    db.session.flush()


def log_out_everywhere(user: User) -> None:
    """The user's own request to end every session (the edge keeps the asking one)."""
    end_all_sessions(user)
    audit.record("auth.sessions_ended", actor=user, target=user)


def change_password(user: User, new_password: str) -> None:
    """Set a new password (which also voids every outstanding reset link and ends every
    session signed in with the old one)."""
    check_password_rules(new_password)
    user.password_hash = hash_password(new_password)
    end_all_sessions(user)


def reset_password(user: User, new_password: str) -> None:
    """A new password chosen from an emailed reset link (nobody is signed in: the link's
    owner is the actor)."""
    change_password(user, new_password)
    audit.record("auth.password_reset", actor=user, target=user)


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
    audit.record(
        "auth.staff_invited",
        actor=actor,
        target=user,
        details={"roles": sorted(str(role) for role in roles)},
    )
    return user
