"""Badge tokens: the format, and every way a token can be refused."""

from __future__ import annotations

import base64
import os

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from app.badges.models import BadgeRole
from app.badges.tokens import (
    PREFIX,
    TOKEN_LENGTH,
    InvalidToken,
    TokenHeader,
    decode_token,
    encode_token,
    read_header,
)

HEADER = TokenHeader(
    event_id=3,
    badge_id=123_456,
    version=2,
    role=BadgeRole.PRESS,
    category=17,
    valid_day_mask=0b1111,
    key_id=1,
)


@pytest.fixture
def private_key() -> Ed25519PrivateKey:
    """A fresh signing key."""
    return Ed25519PrivateKey.generate()


def _keys(private_key: Ed25519PrivateKey, key_id: int = 1) -> dict:
    """The verifying side of a key, by key id."""
    return {key_id: private_key.public_key()}


def _reason(token: str, keys: dict) -> str:
    """Why decode_token refuses a token."""
    with pytest.raises(InvalidToken) as refused:
        decode_token(token, keys)
    return refused.value.reason


def test_round_trip_is_compact_and_url_safe(private_key):
    token = encode_token(HEADER, private_key)
    assert token.startswith(PREFIX)
    assert len(token) == TOKEN_LENGTH == 107 <= 120
    assert set(token[len(PREFIX) :]) <= set(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    )
    assert decode_token(token, _keys(private_key)) == HEADER
    assert read_header(token) == HEADER


def test_signing_is_deterministic(private_key):
    assert encode_token(HEADER, private_key) == encode_token(HEADER, private_key)


def test_header_layout_matches_the_contract(private_key):
    raw = base64.urlsafe_b64decode(encode_token(HEADER, private_key)[3:] + "=")
    assert raw[:14] == bytes.fromhex("0100030001e24000020200110f01")
    assert len(raw) == 14 + 64


def test_every_role_round_trips(private_key):
    for role in BadgeRole:
        header = TokenHeader(1, 1, 1, role, 1, 1, 1)
        assert decode_token(encode_token(header, private_key), _keys(private_key)).role is role


def test_forged_signature_is_refused(private_key):
    forger = Ed25519PrivateKey.generate()
    forged = encode_token(HEADER, forger)
    assert _reason(forged, _keys(private_key)) == "bad_signature"


def test_changed_header_is_refused(private_key):
    token = encode_token(HEADER, private_key)
    raw = bytearray(base64.urlsafe_b64decode(token[3:] + "="))
    raw[5] ^= 0x01  # another badge id
    tampered = PREFIX + base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()
    assert read_header(tampered).badge_id != HEADER.badge_id
    assert _reason(tampered, _keys(private_key)) == "bad_signature"


@pytest.mark.parametrize("position", [3, 20, 60, 106])
def test_flipped_character_is_refused(private_key, position):
    token = encode_token(HEADER, private_key)
    replacement = "A" if token[position] != "A" else "B"
    flipped = token[:position] + replacement + token[position + 1 :]
    assert _reason(flipped, _keys(private_key)) in {"bad_signature", "malformed"}


@pytest.mark.parametrize("cut", [1, 2, 50, 104])
def test_truncated_token_is_malformed(private_key, cut):
    token = encode_token(HEADER, private_key)
    assert _reason(token[:-cut], _keys(private_key)) == "malformed"
    with pytest.raises(InvalidToken):
        read_header(token[:-cut])


def test_wrong_key_is_refused(private_key):
    token = encode_token(HEADER, private_key)
    other = Ed25519PrivateKey.generate()
    assert _reason(token, _keys(other)) == "bad_signature"
    assert _reason(token, _keys(private_key, key_id=2)) == "unknown_key"


@pytest.mark.parametrize(
    "garbage",
    [
        "",
        "K1.",
        "hello",
        "K1." + "A" * 104,
        "K2." + "A" * 104,
        "K1." + "*" * 104,
        "K1." + "é" * 104,
        "https://example.com/badge/123",
        "K1." + base64.urlsafe_b64encode(os.urandom(78)).decode().rstrip("="),
        None,
        12345,
    ],
)
def test_garbage_is_malformed(private_key, garbage):
    assert _reason(garbage, _keys(private_key)) == "malformed"


def test_unknown_format_and_role_are_malformed(private_key):
    for header_bytes in (
        bytes.fromhex("0200030001e24000020200110f01"),
        bytes.fromhex("0100030001e24000020900110f01"),
    ):
        signed = header_bytes + private_key.sign(header_bytes)
        token = PREFIX + base64.urlsafe_b64encode(signed).rstrip(b"=").decode()
        assert _reason(token, _keys(private_key)) == "malformed"


def test_out_of_range_field_is_refused_at_encoding(private_key):
    with pytest.raises(ValueError, match="out of range"):
        encode_token(TokenHeader(70_000, 1, 1, BadgeRole.DELEGATE, 1, 1, 1), private_key)
