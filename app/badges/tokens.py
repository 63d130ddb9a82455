"""Badge tokens: a compact header signed with the event's Ed25519 key, carried by the badge QR.

token = "K1." + base64url_without_padding(header (14 bytes) + Ed25519 signature (64 bytes))
(107 characters). The header, big-endian (struct ">BHIHBHBB"): format (1), event id, badge id,
version, role index (the order of BadgeRole), category (registration type id), valid-day mask
(bit i: the day event.starts_on + i), key id (BadgeSigningKey.id % 256). The scanner page
(static/js) parses and verifies the same bytes with WebCrypto: keep both in step.
"""

from __future__ import annotations

import base64
import binascii
import struct
from collections.abc import Mapping
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from app.badges.models import BadgeRole

PREFIX = "K1."
FORMAT = 1
HEADER = struct.Struct(">BHIHBHBB")
SIGNATURE_SIZE = 64
TOKEN_LENGTH = len(PREFIX) + len(
    base64.urlsafe_b64encode(bytes(HEADER.size + SIGNATURE_SIZE)).rstrip(b"=")
)
# Role indexes follow the declaration order of BadgeRole (delegate, speaker, press, staff).
ROLES = tuple(BadgeRole)


class InvalidToken(Exception):  # noqa: N818 - the name the check-in contract uses
    """A token that cannot be read or trusted; reason: malformed, bad_signature, unknown_key."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class TokenHeader:
    """What a badge token says about its badge."""

    event_id: int
    badge_id: int
    version: int
    role: BadgeRole
    category: int
    valid_day_mask: int
    key_id: int

    def pack(self) -> bytes:
        """The header's 14 bytes, as signed."""
        return HEADER.pack(
            FORMAT,
            self.event_id,
            self.badge_id,
            self.version,
            ROLES.index(BadgeRole(self.role)),
            self.category,
            self.valid_day_mask,
            self.key_id,
        )


def encode_token(header: TokenHeader, private_key: Ed25519PrivateKey) -> str:
    """The signed token for a header."""
    try:
        body = header.pack()
    except struct.error as error:
        # A value beyond its field (e.g. more than 65,535 events) must never wrap silently.
        raise ValueError(f"A badge token field is out of range: {error}") from error
    signed = body + private_key.sign(body)
    return PREFIX + base64.urlsafe_b64encode(signed).rstrip(b"=").decode("ascii")


def _split(token: str) -> tuple[bytes, bytes]:
    """The header bytes and the signature of a token, or InvalidToken("malformed")."""
    if not isinstance(token, str) or len(token) != TOKEN_LENGTH or not token.startswith(PREFIX):
        raise InvalidToken("malformed")
    encoded = token[len(PREFIX) :]
    try:
        raw = base64.b64decode(
            encoded.encode("ascii") + b"=" * (-len(encoded) % 4), altchars=b"-_", validate=True
        )
    except (binascii.Error, UnicodeEncodeError, ValueError) as error:
        raise InvalidToken("malformed") from error
    if len(raw) != HEADER.size + SIGNATURE_SIZE:
        raise InvalidToken("malformed")
    # A token re-encoded differently (non-zero padding bits) is not the token that was issued.
    if base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii") != encoded:
        raise InvalidToken("malformed")
    return raw[: HEADER.size], raw[HEADER.size :]


def _unpack(body: bytes) -> TokenHeader:
    """The header fields of 14 bytes, or InvalidToken("malformed")."""
    format_, event_id, badge_id, version, role, category, mask, key_id = HEADER.unpack(body)
    if format_ != FORMAT or role >= len(ROLES):
        raise InvalidToken("malformed")
    return TokenHeader(
        event_id=event_id,
        badge_id=badge_id,
        version=version,
        role=ROLES[role],
        category=category,
        valid_day_mask=mask,
        key_id=key_id,
    )


def read_header(token: str) -> TokenHeader:
    """The header of a token without checking its signature (to find the key or the badge)."""
    body, _signature = _split(token)
    return _unpack(body)


def decode_token(token: str, public_keys: Mapping[int, Ed25519PublicKey]) -> TokenHeader:
    """The header of a token whose signature one of the given keys (by key id) verifies."""
    body, signature = _split(token)
    header = _unpack(body)
    key = public_keys.get(header.key_id)
    if key is None:
        raise InvalidToken("unknown_key")
    try:
        key.verify(signature, body)
    except InvalidSignature as error:
        raise InvalidToken("bad_signature") from error
    return header
