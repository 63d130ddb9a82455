"""Factories for the check-in tests: checkpoints, gate devices, scans, and tokens made by hand
(forged, truncated, of another key). They add and flush; the test commits when it needs to."""

from __future__ import annotations

import base64
import itertools
from datetime import UTC, date, datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from app.auth.models import User
from app.badges.models import Badge
from app.badges.services import signing_key
from app.badges.tokens import PREFIX, TokenHeader, encode_token, read_header
from app.checkin import services
from app.checkin.models import Checkpoint, GateDevice
from app.checkin.services import CheckpointDetails
from app.crypto import decrypt_secret
from app.events.models import Event
from app.i18n.text import TranslatedText
from app.programme.models import ProgrammeSession
from app.registration.services import event_today
from tests.registration.factories import WCPP_STARTS_ON, make_event

_nonces = itertools.count(1)

# 09:00 WITA (UTC+8) on the congress's first day: a moment every badge is valid.
FIRST_MORNING = datetime(2026, 4, 14, 1, 0, tzinfo=UTC)


def congress_day(offset: int, hour: int = 9) -> datetime:
    """A moment (UTC) at `hour` WITA on the congress's day `offset` (0 = first day)."""
    local = datetime.combine(WCPP_STARTS_ON + timedelta(days=offset), datetime.min.time())
    return (local + timedelta(hours=hour - 8)).replace(tzinfo=UTC)


def make_event_today(**overrides: Any) -> Event:
    """The congress running today (at the venue), so that scans made now are on a valid day."""
    today = event_today()
    return make_event(starts_on=today, ends_on=today + timedelta(days=3), **overrides)


def make_checkpoint(
    event: Event,
    code: str = "entrance",
    name: str | None = None,
    *,
    kind: str = "entrance",
    session: ProgrammeSession | None = None,
    staff: tuple[User, ...] | list[User] = (),
    **values: Any,
) -> Checkpoint:
    """A checkpoint made through create_checkpoint (flushed)."""
    label = name or code.replace("-", " ").title()
    return services.create_checkpoint(
        event,
        CheckpointDetails(
            code=code,
            name=TranslatedText(en=label, id=f"{label} (id)"),
            kind=kind,
            session_id=session.id if session is not None else None,
            staff_ids=tuple(user.id for user in staff),
            **values,
        ),
        actor=None,
    )


def make_device(
    event: Event, name: str = "Entrance phone", *, checkpoint: Checkpoint | None = None
) -> tuple[GateDevice, str]:
    """A gate device and its bearer token (flushed)."""
    return services.issue_device(event, name, checkpoint=checkpoint, actor=None)


def new_nonce() -> str:
    """A fresh scan id, as a scanner makes them."""
    return f"test-nonce-{next(_nonces)}"


def scan(
    event: Event,
    token: str,
    checkpoint: Checkpoint,
    *,
    device: GateDevice | None = None,
    user: User | None = None,
    nonce: str | None = None,
    now: datetime = FIRST_MORNING,
    scanned_at: datetime | None = None,
    client_result: str | None = None,
) -> dict[str, Any]:
    """Scan a token at a checkpoint through record_scan; returns the answer."""
    return services.record_scan(
        event,
        token=token,
        checkpoint_code=checkpoint.code,
        nonce=nonce or new_nonce(),
        scanned_at=scanned_at,
        device=device,
        user=user,
        client_result=client_result,
        now=now,
    )


def private_key_of(event: Event) -> Ed25519PrivateKey:
    """The event's signing key, to make tokens the way the server does."""
    return Ed25519PrivateKey.from_private_bytes(
        decrypt_secret(signing_key(event).private_key_encrypted)
    )


def token_for(event: Event, badge: Badge | None = None, **changes: Any) -> str:
    """A token signed with the event's real key, for a header that may say anything."""
    key = signing_key(event)
    values: dict[str, Any] = {
        "event_id": event.id,
        "badge_id": badge.id if badge is not None else 60_000,
        "version": badge.version if badge is not None else 1,
        "role": badge.role if badge is not None else "delegate",
        "category": badge.registration.registration_type_id if badge is not None else 1,
        "valid_day_mask": 0b1111,
        "key_id": key.id % 256,
        **changes,
    }
    return encode_token(TokenHeader(**values), private_key_of(event))


def token_of_another_key(token: str) -> str:
    """The same header signed with a key the event does not have (a forger's own key)."""
    return encode_token(read_header(token), Ed25519PrivateKey.generate())


def forged(token: str) -> str:
    """The token with its header changed after signing (another badge id), signature kept."""
    encoded = token[len(PREFIX) :]
    raw = bytearray(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)))
    raw[6] ^= 1  # the low byte of the badge id (bytes 3–6 of the header)
    return PREFIX + base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode("ascii")


def local_day(offset: int) -> date:
    """The congress's day `offset` (0 = the first)."""
    return WCPP_STARTS_ON + timedelta(days=offset)
