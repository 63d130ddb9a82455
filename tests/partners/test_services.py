"""Partner rules: creation, duplicates, similar names, search, contacts, deletion."""

from __future__ import annotations

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from app.extensions import db as _db
from app.partners import services
from app.partners.models import Contact, Partner, PartnerKind
from app.partners.services import (
    ContactDetails,
    PartnerDetails,
    PartnerError,
    SimilarNamesError,
    SimilarPartner,
)
from tests.partners.conftest import partner_count

ICJR = "Institute for Criminal Justice Reform"


def _names(statement) -> list[str]:
    return [partner.name for partner in _db.session.scalars(statement)]


def _english(error: PartnerError) -> str:
    """The refusal as an English reader sees it (messages are translated when shown)."""
    with force_locale("en"):
        return str(error)


def test_create_partner_cleans_the_input_and_keeps_the_name_key(db):
    partner = services.create_partner(
        PartnerDetails(
            name="  Institute for Criminal Justice Reform ",
            acronym=" ICJR ",
            kind="ngo",
            country="id",
            website="https://icjr.or.id",
            address="Jakarta\nIndonesia",
            notes="",
        ),
        actor=None,
    )
    db.session.commit()
    assert partner.name == ICJR
    assert partner.acronym == "ICJR"
    assert partner.country == "ID"
    assert partner.name_key == "institute for criminal justice reform"
    assert partner.address == "Jakarta\nIndonesia"
    assert partner.notes is None
    assert partner.display_name == f"{ICJR} (ICJR)"


def test_editing_the_name_updates_the_name_key(db, make_partner):
    partner = db.session.get(Partner, make_partner("Yayasan Srikandi"))
    services.update_partner(
        partner, PartnerDetails("Yayasan Srikandi Merah Putih", "foundation", "ID"), actor=None
    )
    db.session.commit()
    assert partner.name_key == "yayasan srikandi merah putih"
    assert partner.kind == "foundation"


def test_the_same_name_in_the_same_country_is_refused_with_a_clear_message(db, make_partner):
    make_partner(ICJR)
    with pytest.raises(PartnerError) as refused:
        services.create_partner(
            PartnerDetails("INSTITUTE for Criminal-Justice  Reform", "ngo", "ID"), actor=None
        )
    assert refused.value.code == "duplicate_partner"
    assert refused.value.field == "name"
    assert _english(refused.value).startswith(f"“{ICJR}” is already registered in Indonesia.")
    db.session.rollback()
    # The same name elsewhere is another organisation.
    services.create_partner(PartnerDetails(ICJR, "ngo", "MY"), actor=None, confirmed_similar=True)
    db.session.commit()
    assert partner_count() == 2


def test_the_unique_constraint_refuses_a_duplicate_that_slips_past_the_check(
    db, make_partner, monkeypatch
):
    make_partner(ICJR)
    # Two people saving at once both pass the check; the database has the last word.
    monkeypatch.setattr(services, "check_not_duplicate", lambda *args, **kwargs: None)
    with pytest.raises(PartnerError) as refused:
        services.create_partner(
            PartnerDetails(ICJR.upper(), "ngo", "ID"), actor=None, confirmed_similar=True
        )
    assert refused.value.code == "duplicate_partner"
    db.session.rollback()
    assert partner_count() == 1


def test_renaming_a_partner_to_another_partners_name_is_refused(db, make_partner):
    make_partner(ICJR)
    other = db.session.get(Partner, make_partner("Lembaga Bantuan Hukum"))
    with pytest.raises(PartnerError) as refused:
        services.update_partner(other, PartnerDetails(ICJR, "ngo", "ID"), actor=None)
    assert "already registered" in _english(refused.value)
    db.session.rollback()
    # Keeping one's own name is no conflict.
    services.update_partner(
        other, PartnerDetails("Lembaga Bantuan Hukum", "ngo", "ID", acronym="LBH"), actor=None
    )
    db.session.commit()
    assert db.session.get(Partner, other.id).acronym == "LBH"


def test_a_name_resembling_others_is_refused_until_the_user_confirms(db, make_partner):
    existing = make_partner(ICJR, acronym="ICJR")
    details = PartnerDetails("Institute for Criminal Justice Reforms", "ngo", "ID")
    with pytest.raises(SimilarNamesError) as refused:
        services.create_partner(details, actor=None)
    assert refused.value.code == "similar_names"
    assert refused.value.matches == [SimilarPartner(existing, f"{ICJR} (ICJR)", "ID")]
    db.session.rollback()
    assert partner_count() == 1

    services.create_partner(details, actor=None, confirmed_similar=True)
    db.session.commit()
    assert partner_count() == 2


def test_a_true_duplicate_is_refused_before_any_similar_names_question(db, make_partner):
    make_partner(ICJR)
    with pytest.raises(PartnerError) as refused:
        services.create_partner(PartnerDetails(ICJR, "ngo", "ID"), actor=None)
    assert refused.value.code == "duplicate_partner"
    db.session.rollback()
    # Confirming similar names does not let a duplicate through either.
    with pytest.raises(PartnerError) as still_refused:
        services.create_partner(
            PartnerDetails(ICJR, "ngo", "ID"), actor=None, confirmed_similar=True
        )
    assert still_refused.value.code == "duplicate_partner"


@pytest.mark.parametrize(
    ("changes", "field", "code"),
    [
        ({"name": "   "}, "name", "required"),
        ({"name": "x" * 301}, "name", "too_long"),
        ({"name": "!!! ---"}, "name", "name_without_letters"),
        ({"name": "Nul\x00byte"}, "name", "control_characters"),
        ({"acronym": "A" * 51}, "acronym", "too_long"),
        ({"kind": "church"}, "kind", "unknown_kind"),
        ({"country": "XX"}, "country", "unknown_country"),
        ({"country": "EU"}, "country", "unknown_country"),
        ({"country": ""}, "country", "unknown_country"),
        ({"website": "javascript:alert(1)"}, "website", "invalid_website"),
        ({"website": "javascript://example.org/%0Aalert(1)"}, "website", "invalid_website"),
        ({"website": "ftp://files.example.org"}, "website", "invalid_website"),
        ({"website": "www.icjr.or.id"}, "website", "invalid_website"),
        ({"website": "https://"}, "website", "invalid_website"),
        ({"website": "https://icjr or id"}, "website", "invalid_website"),
        ({"website": "https://icjr.or.id:99999/"}, "website", "invalid_website"),
        ({"notes": "n" * 5001}, "notes", "too_long"),
    ],
)
def test_bad_partner_input_is_refused_per_field_and_nothing_is_saved(db, changes, field, code):
    values = {"name": "Yayasan Contoh", "kind": "foundation", "country": "ID", **changes}
    with pytest.raises(PartnerError) as refused:
        services.create_partner(PartnerDetails(**values), actor=None)
    assert (refused.value.field, refused.value.code) == (field, code)
    db.session.rollback()
    assert partner_count() == 0


def test_names_in_other_scripts_have_their_own_keys(db):
    services.create_partner(PartnerDetails("国連薬物犯罪事務所", "international", "JP"), actor=None)
    services.create_partner(PartnerDetails("Управление ООН", "international", "JP"), actor=None)
    db.session.commit()
    assert partner_count() == 2


@pytest.fixture
def registry(make_partner):
    """A handful of partners with contacts to search in."""
    return {
        "icjr": make_partner(
            ICJR, acronym="ICJR", contacts=(("Nadia Putri", "nadia.putri@icjr.example"),)
        ),
        "pkbi": make_partner(
            "Perkumpulan Keluarga Berencana Indonesia",
            acronym="PKBI",
            contacts=(("Sari Handayani", "sari@pkbi.example"),),
        ),
        "unodc": make_partner(
            "United Nations Office on Drugs and Crime",
            acronym="UNODC",
            kind=PartnerKind.INTERNATIONAL,
            country="AT",
        ),
        "ecole": make_partner("École Nationale de la Magistrature", country="FR"),
        "mitra": make_partner("PT Mitra Sejati Laksana", kind=PartnerKind.BUSINESS),
    }


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("criminal justice", [ICJR]),
        ("icjr", [ICJR]),
        ("PkBi", ["Perkumpulan Keluarga Berencana Indonesia"]),
        ("nadia", [ICJR]),
        ("SARI@PKBI", ["Perkumpulan Keluarga Berencana Indonesia"]),
        ("ecole", ["École Nationale de la Magistrature"]),
        ("École", ["École Nationale de la Magistrature"]),
        ("%", []),
        ("_", []),
        ("nobody here", []),
    ],
)
def test_search_finds_name_acronym_and_contact_case_insensitively(db, registry, text, expected):
    assert _names(services.search_partners(text)) == expected


def test_search_text_is_trimmed_and_cut_to_its_maximum_before_querying(db, registry):
    # Past the first 200 characters nothing counts: here only "United" and spaces remain.
    text = "  United" + " " * services.SEARCH_MAX + "no such words"
    assert _names(services.search_partners(text)) == ["United Nations Office on Drugs and Crime"]


@pytest.mark.parametrize(
    "text",
    [
        "x" * 10_000,
        "\ufdfa" * 300,  # one character that NFKD spreads over eighteen
        "\u202etfel-ot-thgir \u200b\u200d\ufeff",
        "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 🏳️‍🌈 ẞ ǅ",
        "\ufffd\uffff",
        "\\%_'\"",
    ],
)
def test_odd_search_text_finds_nothing_without_failing(db, registry, text):
    assert _names(services.search_partners(text)) == []


def test_search_filters_by_kind_and_country_and_orders_by_name(db, registry):
    assert _names(services.search_partners()) == [
        "École Nationale de la Magistrature",
        ICJR,
        "Perkumpulan Keluarga Berencana Indonesia",
        "PT Mitra Sejati Laksana",
        "United Nations Office on Drugs and Crime",
    ]
    assert _names(services.search_partners(kind="international")) == [
        "United Nations Office on Drugs and Crime"
    ]
    assert _names(services.search_partners(country="id", kind="ngo")) == [
        ICJR,
        "Perkumpulan Keluarga Berencana Indonesia",
    ]
    assert _names(services.search_partners("n", kind="business", country="ID")) == [
        "PT Mitra Sejati Laksana"
    ]


def test_contact_counts_come_from_one_grouped_query(db, registry):
    counts = services.contact_counts(list(registry.values()))
    assert counts == {registry["icjr"]: 1, registry["pkbi"]: 1}
    assert services.contact_counts([]) == {}


@pytest.mark.parametrize(
    ("name", "acronym", "expected"),
    [
        # the same name in another country
        (ICJR.upper(), None, [ICJR]),
        # one name contains the other
        ("Institute for Criminal Justice Reform Jakarta", None, [ICJR]),
        ("Keluarga Berencana", None, ["Perkumpulan Keluarga Berencana Indonesia"]),
        # a typo (difflib ratio >= 0.8)
        ("Institut for Criminal Justise Reform", None, [ICJR]),
        (
            "United Nation Office on Drug and Crimes",
            None,
            ["United Nations Office on Drugs and Crime"],
        ),
        # the same acronym, or a name that is an existing acronym
        ("Pusat Kajian Baru", "UNODC", ["United Nations Office on Drugs and Crime"]),
        ("pkbi", None, ["Perkumpulan Keluarga Berencana Indonesia"]),
        # nothing alike
        ("Yayasan Srikandi Merah Putih", None, []),
        ("PT", None, []),
        ("", None, []),
    ],
)
def test_similar_partners_finds_names_that_resemble(db, registry, name, acronym, expected):
    found = services.similar_partners(name, acronym=acronym)
    assert [partner.name for partner in found] == expected


def test_similar_partners_ranks_closest_first_keeps_five_and_can_exclude_one(db, make_partner):
    exact = make_partner("Yayasan Pemasyarakatan Indonesia")
    for region in ("Bali", "Jawa Timur", "Papua", "Aceh", "Maluku", "Riau"):
        make_partner(f"Yayasan Pemasyarakatan Indonesia {region}")
    found = services.similar_partners("Yayasan Pemasyarakatan Indonesia")
    assert len(found) == services.SIMILAR_LIMIT
    assert found[0].id == exact
    without_itself = services.similar_partners("Yayasan Pemasyarakatan Indonesia", exclude_id=exact)
    assert exact not in [partner.id for partner in without_itself]


def test_contacts_are_added_changed_and_removed(db, make_partner):
    partner = db.session.get(Partner, make_partner(ICJR))
    contact = services.add_contact(
        partner,
        ContactDetails(
            name=" Nadia Putri ",
            position="Researcher",
            email="Nadia.Putri@ICJR.example",
            phone="+62 21 5550 1707",
        ),
        actor=None,
    )
    db.session.commit()
    assert (contact.name, contact.email) == ("Nadia Putri", "Nadia.Putri@icjr.example")
    services.update_contact(
        contact, ContactDetails("Nadia P.", email=None, phone="(021) 555-0100"), actor=None
    )
    db.session.commit()
    assert (contact.name, contact.email, contact.position) == ("Nadia P.", None, None)
    services.remove_contact(contact, actor=None)
    db.session.commit()
    assert db.session.scalars(select(Contact)).all() == []


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": ""}, "name"),
        ({"email": "not-an-email"}, "email"),
        ({"email": "a@b"}, "email"),
        ({"phone": "call me"}, "phone"),
        ({"phone": "12"}, "phone"),
        ({"position": "p" * 201}, "position"),
    ],
)
def test_bad_contact_input_is_refused_per_field(db, make_partner, changes, field):
    partner = db.session.get(Partner, make_partner(ICJR))
    with pytest.raises(PartnerError) as refused:
        services.add_contact(partner, ContactDetails(**{"name": "Nadia", **changes}), actor=None)
    assert refused.value.field == field
    db.session.rollback()
    assert db.session.scalars(select(Contact)).all() == []


def test_a_partner_and_its_contacts_can_be_deleted(db, make_partner):
    partner = db.session.get(
        Partner, make_partner(ICJR, contacts=(("Nadia Putri", "nadia@icjr.example"),))
    )
    services.delete_partner(partner, actor=None)
    db.session.commit()
    assert partner_count() == 0
    assert db.session.scalars(select(Contact)).all() == []


def test_deleting_a_party_to_an_agreement_is_refused(db, make_partner, make_agreement_with):
    partner_id = make_partner(ICJR, contacts=(("Nadia Putri", "nadia@icjr.example"),))
    make_agreement_with(partner_id)
    partner = db.session.get(Partner, partner_id)
    with pytest.raises(PartnerError) as refused:
        services.delete_partner(partner, actor=None)
    assert refused.value.code == "partner_in_use"
    assert "is a party to one or more agreements" in _english(refused.value)
    db.session.rollback()
    kept = db.session.get(Partner, partner_id)
    assert kept is not None
    assert [contact.name for contact in kept.contacts] == ["Nadia Putri"]


def test_demo_partners_load_once(db):
    from app.partners.demo import DEMO_PARTNERS, load_demo_partners

    load_demo_partners()
    db.session.commit()
    load_demo_partners()
    db.session.commit()
    assert partner_count() == len(DEMO_PARTNERS)
    unodc = services.find_partner("United Nations Office on Drugs and Crime", "AT")
    assert unodc.kind == "international"
    assert all(contact.email.endswith(".example") for contact in unodc.contacts)
