"""Demo partner organisations."""

from __future__ import annotations


def load_demo_partners() -> None:
    """The partners of the 2 October 2025 signing, UNODC, ICJR and others."""
