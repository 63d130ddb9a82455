"""Second factor at sign-in: TOTP codes (RFC 6238) from an authenticator app, and one-time
recovery codes for when the phone is lost."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime

import pyotp
import segno
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, or_, select, update

from app.audit import services as audit
from app.auth.models import RecoveryCode, Role, User
from app.auth.services import (
    AuthError,
    clear_failed_sign_ins,
    complete_sign_in,
    confirm_current_password,
    end_all_sessions,
    record_failed_sign_in,
    refuse_while_delayed,
)
from app.crypto import decrypt_secret, encrypt_secret
from app.extensions import db

ISSUER = "Kongres"
RECOVERY_CODE_COUNT = 10
# 31 symbols without look-alikes (no 0/o, 1/l/i): 10 of them carry about 50 random bits.
RECOVERY_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"
RECOVERY_CODE_LENGTH = 10
# A code from the step before or after the current one is accepted (clock drift).
TOTP_DRIFT_STEPS = 1


def _wrong_code() -> AuthError:
    return AuthError(_l("This code is not valid. Please try again."), "wrong_code", field="code")


def _normalise(code: str) -> str:
    """A typed code without spaces and dashes, in lower case."""
    return "".join(code.split()).replace("-", "").lower()


def _hash_recovery_code(code: str) -> str:
    return hashlib.sha256(_normalise(code).encode()).hexdigest()


def _new_recovery_code() -> str:
    """A fresh code, shown as two groups of five: "k7m2p-x9q4r"."""
    code = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_CODE_LENGTH))
    return f"{code[:5]}-{code[5:]}"


def totp_secret(user: User) -> str:
    """The user's TOTP secret in clear (base32), for the enrolment page and code checks."""
    if not user.totp_secret_encrypted:
        raise AuthError(_l("No authenticator app is set up."), "no_second_factor")
    return decrypt_secret(user.totp_secret_encrypted).decode("ascii")


def begin_totp_enrolment(user: User) -> str:
    """A secret for the user's authenticator app, kept (encrypted) until they confirm it."""
    if user.has_two_factor:
        raise AuthError(_l("Your authenticator app is already set up."), "already_enrolled")
    if not user.totp_secret_encrypted:
        user.totp_secret_encrypted = encrypt_secret(pyotp.random_base32().encode("ascii"))
        user.totp_last_counter = None
        db.session.flush()
    return totp_secret(user)


def enrolment_qr_code(user: User, secret: str) -> str:
    """The otpauth:// address of the secret as an SVG data URI (no script, no outside call)."""
    address = pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=ISSUER)
    return segno.make(address, error="m").svg_data_uri(scale=5, border=2)


def _accept_totp(user: User, code: str) -> bool:
    """Whether the code is the user's for a time step near now that was not used before; the
    step is then used up (checked in the UPDATE, so two workers cannot both accept it)."""
    code = _normalise(code)
    if len(code) != 6 or not code.isdigit() or not user.totp_secret_encrypted:
        return False
    totp = pyotp.TOTP(totp_secret(user))
    now = totp.timecode(datetime.now(UTC))
    for counter in range(now - TOTP_DRIFT_STEPS, now + TOTP_DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.generate_otp(counter), code):
            used = db.session.execute(
                update(User)
                .where(
                    User.id == user.id,
                    or_(User.totp_last_counter.is_(None), User.totp_last_counter < counter),
                )
                .values(totp_last_counter=counter)
                .execution_options(synchronize_session=False)
            )
            if used.rowcount == 1:
                user.totp_last_counter = counter
                return True
            return False
    return False


def _use_recovery_code(user: User, code: str) -> bool:
    """Whether the code is one of the user's unused recovery codes; it is then used up."""
    if len(_normalise(code)) != RECOVERY_CODE_LENGTH:
        return False
    used = db.session.execute(
        update(RecoveryCode)
        .where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == _hash_recovery_code(code),
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=datetime.now(UTC))
        .execution_options(synchronize_session=False)
    )
    return used.rowcount == 1


def confirm_totp_enrolment(user: User, code: str) -> list[str]:
    """Turn the authenticator app on once it shows a right code; returns fresh recovery codes.
    Every session of the user ends (the edge keeps or starts the asking one)."""
    if user.has_two_factor:
        raise AuthError(_l("Your authenticator app is already set up."), "already_enrolled")
    if not _accept_totp(user, code):
        raise _wrong_code()
    user.totp_enabled_at = datetime.now(UTC)
    end_all_sessions(user)
    audit.record("auth.two_factor_enabled", actor=user, target=user)
    return replace_recovery_codes(user)


def enrol_during_sign_in(user: User, code: str) -> list[str]:
    """Turn on the app a role requires, as the last step of signing in; returns fresh
    recovery codes, and the sign-in is recorded with the enrolment."""
    codes = confirm_totp_enrolment(user, code)
    complete_sign_in(user)
    return codes


def enable_two_factor(user: User, code: str, *, password: str, address: str) -> list[str]:
    """Turn the authenticator app on from the account page, which needs the current password
    (a wrong one counts as a failed sign-in); returns fresh recovery codes."""
    confirm_current_password(user, password, address=address)
    return confirm_totp_enrolment(user, code)


def verify_second_factor(user: User, code: str, *, address: str) -> bool:
    """Check the second step of a sign-in: a TOTP code or an unused recovery code. A wrong code
    counts as a failed sign-in (the same growing delays as wrong passwords); raises
    SignInDelayedError while they apply."""
    refuse_while_delayed(user.email, address)
    if user.has_two_factor and (_accept_totp(user, code) or _use_recovery_code(user, code)):
        clear_failed_sign_ins(user.email)
        db.session.flush()
        return True
    record_failed_sign_in(user.email, address)
    return False


def replace_recovery_codes(user: User) -> list[str]:
    """Replace the user's recovery codes with ten new ones, returned once in clear."""
    if user.totp_enabled_at is None:
        raise AuthError(_l("Set up an authenticator app first."), "no_second_factor")
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = [_new_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
    db.session.add_all(
        RecoveryCode(user_id=user.id, code_hash=_hash_recovery_code(code)) for code in codes
    )
    db.session.flush()
    return codes


def regenerate_recovery_codes(user: User, *, password: str, address: str) -> list[str]:
    """The user's own request for new recovery codes, which needs the current password (a
    wrong one counts as a failed sign-in); the old codes stop working."""
    confirm_current_password(user, password, address=address)
    codes = replace_recovery_codes(user)
    audit.record("auth.recovery_codes_regenerated", actor=user, target=user)
    return codes


def unused_recovery_codes(user: User) -> int:
    """How many of the user's recovery codes are left."""
    return db.session.scalar(
        select(func.count())
        .select_from(RecoveryCode)
        .where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
    )


def _remove_second_factor(user: User) -> None:
    user.totp_secret_encrypted = None
    user.totp_enabled_at = None
    user.totp_last_counter = None
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    db.session.flush()


def disable_own_two_factor(user: User, code: str, *, password: str, address: str) -> None:
    """Turn one's own second factor off (roles that do not need one), proven with the current
    password (a wrong one counts as a failed sign-in) and a code. Every session of the user
    ends (the edge keeps the asking one)."""
    if user.requires_two_factor:
        raise AuthError(
            _l("Your role needs a second factor: it cannot be turned off."), "two_factor_required"
        )
    if not user.has_two_factor:
        raise AuthError(_l("No authenticator app is set up."), "no_second_factor")
    confirm_current_password(user, password, address=address)
    if not (_accept_totp(user, code) or _use_recovery_code(user, code)):
        raise _wrong_code()
    _remove_second_factor(user)
    end_all_sessions(user)
    audit.record("auth.two_factor_disabled", actor=user, target=user)


def reset_two_factor(user: User, *, actor: User) -> None:
    """An administrator's reset of a user's lost second factor: the user enrols again at the
    next sign-in, and every session of theirs ends."""
    if not actor.has_role(Role.ADMIN):
        raise AuthError(_l("Only an administrator can do this."), "not_admin")
    if user.id == actor.id:
        raise AuthError(
            _l("You cannot reset your own second factor: ask another administrator."),
            "own_second_factor",
        )
    _remove_second_factor(user)
    end_all_sessions(user)
    audit.record("auth.two_factor_reset", actor=actor, target=user)
