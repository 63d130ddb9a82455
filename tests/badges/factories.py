"""Factories for badge tests (and check-in tests): confirmed registrations and their badges.
They add and flush; the test commits when it needs to."""

from __future__ import annotations

from typing import Any

from app.badges import services
from app.badges.models import Badge
from app.events.models import Event
from app.registration.models import Registration, RegistrationStatus, RegistrationType
from tests.registration.factories import make_registration, make_type


def confirmed_registration(
    event: Event, registration_type: RegistrationType | None = None, **overrides: Any
) -> Registration:
    """A confirmed registration (of a free type unless one is given)."""
    registration_type = registration_type or make_type(event, is_free=True)
    registration = make_registration(event, registration_type, **overrides)
    assert registration.status == RegistrationStatus.CONFIRMED, registration.status
    return registration


def make_badge(
    event: Event, registration_type: RegistrationType | None = None, **overrides: Any
) -> Badge:
    """An issued badge of a new confirmed registration."""
    registration = confirmed_registration(event, registration_type, **overrides)
    return services.issue_badge(registration, actor=None)
