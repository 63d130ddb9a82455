"""Factories for the registry tests: partners, scope areas, agreements, PDFs."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import date
from typing import Any

from pypdf import PdfWriter
from sqlalchemy import func, select

from app.agreements import services
from app.agreements.models import AgreementKind, AgreementStatus, ScopeArea, UnitLevel
from app.auth.models import User
from app.extensions import db
from app.i18n.text import TranslatedText
from app.partners.models import Partner, PartnerKind, name_key


def pdf_bytes(pages: int = 1) -> bytes:
    """A small, valid PDF made with pypdf."""
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def make_partner(
    name: str, acronym: str | None = None, kind: PartnerKind = PartnerKind.NGO
) -> Partner:
    """A partner organisation (flushed, not committed)."""
    partner = Partner(
        name=name, name_key=name_key(name), acronym=acronym, kind=kind.value, country="ID"
    )
    db.session.add(partner)
    db.session.flush()
    return partner


def make_scope_area(en: str, id_text: str | None = None, *, active: bool = True) -> ScopeArea:
    """A scope area (flushed, not committed)."""
    area = services.create_scope_area(TranslatedText(en=en, id=id_text), actor=None)
    area.active = active
    db.session.flush()
    return area


def agreement_details(
    partners: list[Partner], scope_areas: list[ScopeArea], **overrides: Any
) -> services.AgreementDetails:
    """Valid details for an agreement with these parties and scope areas."""
    details = services.AgreementDetails(
        kind=AgreementKind.PKS.value,
        title=TranslatedText(
            en="Verifying detainees' identities with population data",
            id="Verifikasi identitas tahanan dengan data kependudukan",
        ),
        unit_level=UnitLevel.CENTRAL.value,
        unit_name="Direktorat Kerja Sama",
        parties=[
            services.PartyDetails(partner.id, f"REF/{index}/2025")
            for index, partner in enumerate(partners, start=1)
        ],
        scope_area_ids=[area.id for area in scope_areas],
        reference_number="PAS-1/2025",
        signed_on=date(2025, 10, 2),
        signed_place="Jakarta",
        starts_on=date(2025, 10, 2),
        ends_on=date(2030, 10, 1),
        evaluation_interval_months=12,
    )
    return replace(details, **overrides)


def make_agreement(
    partners: list[Partner],
    scope_areas: list[ScopeArea],
    *,
    actor: User | None = None,
    status: AgreementStatus = AgreementStatus.ACTIVE,
    **overrides: Any,
):
    """An agreement registered through the service (flushed, not committed)."""
    return services.create_agreement(
        agreement_details(partners, scope_areas, **overrides), actor=actor, status=status
    )


def count_rows(model: Any) -> int:
    """How many rows a table holds."""
    return db.session.scalar(select(func.count()).select_from(model))


def attached(user: User) -> User:
    """The same user, loaded into the current session (factories hand out detached users)."""
    return db.session.get(User, user.id)
