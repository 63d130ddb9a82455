"""Demo agreements: the 8 PKS of 2 October 2025 and clearly-marked sample history."""

from __future__ import annotations


def load_demo_registry() -> None:
    """Scope areas, the 2 October 2025 agreements and sample history (17 in 2024, 43 in all)."""
