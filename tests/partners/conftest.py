"""Partner factories shared by the partner tests."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from app.agreements.models import Agreement, AgreementKind, AgreementParty, UnitLevel
from app.extensions import db as _db
from app.i18n.text import TranslatedText
from app.partners.models import Partner, PartnerKind
from app.partners.services import ContactDetails, PartnerDetails, add_contact, create_partner


@pytest.fixture
def make_partner(app):
    """Create and commit a partner through the service (similar names taken as confirmed):
    make_partner("ICJR", acronym=...)."""

    def _make(
        name: str,
        *,
        kind: PartnerKind = PartnerKind.NGO,
        country: str = "ID",
        contacts: tuple[tuple[str, str | None], ...] = (),
        **details: str,
    ) -> int:
        with app.test_request_context():
            partner = create_partner(
                PartnerDetails(name=name, kind=kind.value, country=country, **details),
                actor=None,
                confirmed_similar=True,
            )
            for contact_name, email in contacts:
                add_contact(partner, ContactDetails(contact_name, email=email), actor=None)
            _db.session.commit()
            return partner.id

    return _make


@pytest.fixture
def make_agreement_with(app):
    """Make a partner a party to an agreement, straight through the models."""

    def _make(partner_id: int) -> int:
        with app.test_request_context():
            agreement = Agreement(
                kind=AgreementKind.PKS.value,
                title=TranslatedText(en="Identity verification", id="Verifikasi identitas"),
                unit_level=UnitLevel.CENTRAL.value,
                unit_name="Direktorat Jenderal Pemasyarakatan",
                signed_on=date(2025, 10, 2),
            )
            agreement.parties.append(AgreementParty(partner_id=partner_id))
            _db.session.add(agreement)
            _db.session.commit()
            return agreement.id

    return _make


def partner_count() -> int:
    """How many partners the database holds."""
    return _db.session.scalar(select(func.count()).select_from(Partner))
