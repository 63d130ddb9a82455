"""Partner history: who changed what in a partner and its contacts, kept after a deletion."""

from __future__ import annotations

from sqlalchemy import select

from app.auth.models import Role
from app.extensions import db as _db
from app.partners import services
from app.partners.models import Partner, PartnerHistory
from app.partners.services import ContactDetails, PartnerDetails

ICJR = "Institute for Criminal Justice Reform"


def _entries(partner_id: int | None = None) -> list[PartnerHistory]:
    """History entries, oldest first (all of them, or one partner's)."""
    query = select(PartnerHistory).order_by(PartnerHistory.id)
    if partner_id is not None:
        query = query.where(PartnerHistory.partner_id == partner_id)
    return list(_db.session.scalars(query))


def test_every_partner_and_contact_change_is_recorded_with_its_actor(db, make_user):
    officer = make_user(roles=[Role.REGISTRY_OFFICER], name="Petugas Registri")
    partner = services.create_partner(
        PartnerDetails(ICJR, "ngo", "ID", acronym="ICJR"), actor=officer
    )
    db.session.commit()
    services.update_partner(
        partner,
        PartnerDetails(ICJR, "ngo", "ID", acronym="ICJR", website="https://icjr.or.id"),
        actor=officer,
    )
    contact = services.add_contact(
        partner, ContactDetails("Nadia Putri", email="nadia@icjr.example"), actor=officer
    )
    services.update_contact(
        contact, ContactDetails("Nadia Putri", phone="+62 21 5550 1707"), actor=officer
    )
    services.remove_contact(contact, actor=officer)
    db.session.commit()

    entries = _entries(partner.id)
    assert [entry.action for entry in entries] == [
        "created",
        "updated",
        "contact_added",
        "contact_updated",
        "contact_removed",
    ]
    assert {entry.actor_id for entry in entries} == {officer.id}
    assert {entry.partner_name for entry in entries} == {ICJR}
    created, updated, added, changed, removed = (entry.changes for entry in entries)
    assert created == {
        "name": [None, ICJR],
        "acronym": [None, "ICJR"],
        "kind": [None, "ngo"],
        "country": [None, "ID"],
    }
    # Only what changed, from what to what.
    assert updated == {"website": [None, "https://icjr.or.id"]}
    assert added == {"contact": [None, "Nadia Putri"], "email": [None, "nadia@icjr.example"]}
    # The contact is named even when its name did not change.
    assert changed == {
        "contact": ["Nadia Putri", "Nadia Putri"],
        "email": ["nadia@icjr.example", None],
        "phone": [None, "+62 21 5550 1707"],
    }
    # A removed contact's email and phone go with it; the log keeps only who was removed.
    assert removed == {"contact": ["Nadia Putri", None]}


def test_saving_without_changes_records_nothing(db, make_partner):
    partner = db.session.get(Partner, make_partner(ICJR, acronym="ICJR"))
    before = len(_entries(partner.id))
    services.update_partner(partner, PartnerDetails(ICJR, "ngo", "ID", acronym="ICJR"), actor=None)
    db.session.commit()
    assert len(_entries(partner.id)) == before


def test_a_deleted_partner_keeps_its_history_and_the_deletion_is_recorded(
    db, make_partner, make_user
):
    admin = make_user(roles=[Role.ADMIN])
    partner_id = make_partner(ICJR, contacts=(("Nadia Putri", "nadia@icjr.example"),))
    services.delete_partner(_db.session.get(Partner, partner_id), actor=admin)
    db.session.commit()
    db.session.expire_all()

    assert _db.session.get(Partner, partner_id) is None
    entries = _entries()
    assert [entry.action for entry in entries] == ["created", "contact_added", "deleted"]
    # The rows outlive the partner (partner_id SET NULL); the name says whose they were.
    assert {entry.partner_id for entry in entries} == {None}
    assert {entry.partner_name for entry in entries} == {ICJR}
    deletion = entries[-1]
    assert deletion.actor_id == admin.id
    assert deletion.changes["name"] == [ICJR, None]
    assert deletion.changes["contacts"] == [["Nadia Putri"], None]


def test_a_refused_change_records_nothing(db, make_partner, make_agreement_with):
    partner_id = make_partner(ICJR)
    make_agreement_with(partner_id)
    count = len(_entries())
    partner = _db.session.get(Partner, partner_id)
    try:
        services.delete_partner(partner, actor=None)
    except services.PartnerError:
        db.session.rollback()
    assert len(_entries()) == count


def test_the_partner_page_shows_the_history_in_the_readers_language(client, auth, db):
    officer = auth.login_as(Role.REGISTRY_OFFICER, name="Petugas Registri")
    client.post(
        "/partners/new",
        data={"name": ICJR, "kind": "ngo", "country": "ID", "website": "https://icjr.or.id"},
    )
    partner_id = db.session.scalar(select(Partner.id))
    client.post(
        f"/partners/{partner_id}/edit",
        data={"name": ICJR, "kind": "foundation", "country": "MY", "website": "https://icjr.or.id"},
    )
    client.post(f"/partners/{partner_id}/contacts", data={"name": "Nadia Putri"})

    html = client.get(f"/partners/{partner_id}").get_data(as_text=True)
    history = html.split('id="history"', 1)[1]
    assert "<h2>History</h2>" in history
    assert "Partner registered" in history
    assert "Details changed" in history
    assert "Contact added" in history
    assert officer.name in history
    # Codes are shown in words: the kind's label, the country's name.
    assert "<del>NGO / civil society</del> → <ins>Foundation</ins>" in history
    assert "<del>Indonesia</del> → <ins>Malaysia</ins>" in history
    # Newest first.
    assert history.index("Contact added") < history.index("Partner registered")


def test_an_organiser_reads_the_history_too_in_indonesian(client, auth, make_partner):
    partner_id = make_partner(ICJR)
    auth.login_as(Role.ORGANISER, language="id")
    html = client.get(f"/partners/{partner_id}").get_data(as_text=True)
    history = html.split('id="history"', 1)[1]
    assert "<h2>Riwayat</h2>" in history
    # The demo loader and other system changes have no actor.
    assert "· sistem</span>" in history
