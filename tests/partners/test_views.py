"""Partner pages: registry officers edit through the forms, organisers only read."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.auth.models import Role
from app.partners.models import Contact, Partner
from tests.partners.conftest import partner_count

ICJR = "Institute for Criminal Justice Reform"
VALID = {
    "name": "Yayasan Srikandi Merah Putih",
    "acronym": "",
    "kind": "foundation",
    "country": "ID",
    "address": "Jakarta",
    "website": "https://srikandi.example.org",
    "notes": "",
}


def _field_error(html: str, field: str) -> str:
    """The error text shown under one field ('' when none)."""
    marker = f'<p class="error" id="{field}-error">'
    if marker not in html:
        return ""
    return html.split(marker, 1)[1].split("</p>", 1)[0]


def test_a_registry_officer_creates_a_partner_through_the_form(client, auth, db):
    auth.login_as(Role.REGISTRY_OFFICER)
    form = client.get("/partners/new").get_data(as_text=True)
    assert 'name="name"' in form
    assert '<option value="AT">Austria</option>' in form

    response = client.post("/partners/new", data=VALID)
    assert response.status_code == 302
    partner = db.session.scalar(select(Partner))
    assert response.headers["Location"] == f"/partners/{partner.id}"
    assert (partner.name, partner.kind, partner.country) == (VALID["name"], "foundation", "ID")
    page = client.get(f"/partners/{partner.id}").get_data(as_text=True)
    assert "Partner Yayasan Srikandi Merah Putih created." in page
    assert 'href="https://srikandi.example.org"' in page
    assert "Foundation" in page


def test_the_country_list_is_sorted_in_the_pages_language(client, auth):
    auth.login_as(Role.REGISTRY_OFFICER, language="id")
    form = client.get("/partners/new").get_data(as_text=True)
    # Jerman (Germany) comes after Jepang (Japan) in Indonesian, before it in English.
    assert form.index(">Jepang</option>") < form.index(">Jerman</option>")


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"name": ""}, "name", "name."),
        ({"name": "x" * 10_000}, "name", "Use at most 300 characters."),
        ({"country": "XX"}, "country", "Choose a country from the list."),
        ({"country": ""}, "country", "Choose a country from the list."),
        ({"kind": "church"}, "kind", "Choose the kind of organisation."),
        ({"website": "not a website"}, "website", "starting with http:// or https://"),
        ({"website": "javascript:alert(1)"}, "website", "starting with http:// or https://"),
        ({"name": "Bell\x07character"}, "name", "Remove the control characters"),
    ],
)
def test_bad_input_gets_a_per_field_error_and_nothing_is_saved(
    client, auth, db, changes, field, message
):
    auth.login_as(Role.REGISTRY_OFFICER)
    response = client.post("/partners/new", data={**VALID, **changes})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert message in _field_error(html, field)
    assert "Please correct the marked fields." in html or field == "name"
    assert partner_count() == 0


def test_html_in_a_name_is_stored_as_text_and_escaped_in_every_page(client, auth, db):
    auth.login_as(Role.REGISTRY_OFFICER)
    name = '<script>alert("x")</script> & <b>Partners</b>'
    response = client.post("/partners/new", data={**VALID, "name": name})
    assert response.status_code == 302
    partner = db.session.scalar(select(Partner))
    assert partner.name == name
    for url in (f"/partners/{partner.id}", "/partners/", f"/partners/{partner.id}/edit"):
        html = client.get(url).get_data(as_text=True)
        assert "<script>alert" not in html
        assert "<b>Partners</b>" not in html
        assert "&lt;script&gt;alert(" in html


def test_a_true_duplicate_is_refused_with_a_message_on_the_name(client, auth, make_partner, db):
    make_partner(ICJR)
    auth.login_as(Role.REGISTRY_OFFICER)
    response = client.post(
        "/partners/new", data={**VALID, "name": "institute for criminal justice REFORM"}
    )
    html = response.get_data(as_text=True)
    assert "is already registered in Indonesia" in _field_error(html, "name")
    assert "Create anyway" not in html
    assert partner_count() == 1


def test_similar_names_need_confirmation_then_create_anyway_works(client, auth, make_partner, db):
    existing = make_partner(ICJR, acronym="ICJR")
    auth.login_as(Role.REGISTRY_OFFICER)
    data = {**VALID, "name": "Institute for Criminal Justice Reforms", "kind": "ngo"}

    warning = client.post("/partners/new", data=data)
    html = warning.get_data(as_text=True)
    assert warning.status_code == 200
    assert "Is this partner already registered?" in html
    assert f'href="/partners/{existing}"' in html
    assert "Create anyway" in html
    assert 'name="confirmed_name" type="hidden" value="Institute for Criminal Justice Reforms"' in (
        html
    )
    assert partner_count() == 1

    # A different name asks again; the name the warning was about creates anyway.
    renamed = client.post(
        "/partners/new",
        data={
            **data,
            "name": "Institute for Criminal Justice Reform Bali",
            "confirmed_name": data["name"],
        },
    )
    assert "Is this partner already registered?" in renamed.get_data(as_text=True)
    assert partner_count() == 1
    confirmed = client.post("/partners/new", data={**data, "confirmed_name": data["name"]})
    assert confirmed.status_code == 302
    assert partner_count() == 2


def _name_lookups(statements: list[str]) -> int:
    """How many of these SQL statements look a partner up by its folded name."""
    return sum(1 for statement in statements if "partners.name_key =" in statement.replace('"', ""))


def test_one_submission_looks_for_a_duplicate_name_once(client, auth, make_partner, count_queries):
    make_partner(ICJR, acronym="ICJR")
    auth.login_as(Role.REGISTRY_OFFICER)
    data = {**VALID, "name": "Institute for Criminal Justice Reforms", "kind": "ngo"}
    with count_queries() as warned:
        assert "Is this partner already registered?" in client.post(
            "/partners/new", data=data
        ).get_data(as_text=True)
    with count_queries() as created:
        response = client.post("/partners/new", data={**data, "confirmed_name": data["name"]})
        assert response.status_code == 302
    assert _name_lookups(warned.statements) == 1
    assert _name_lookups(created.statements) == 1


def test_the_similar_names_json_lists_resembling_partners(client, auth, make_partner):
    existing = make_partner(ICJR, acronym="ICJR")
    auth.login_as(Role.ORGANISER)
    found = client.get(
        "/partners/similar", query_string={"name": "Institut Criminal Justice Reform"}
    )
    assert found.get_json() == [
        {
            "id": existing,
            "name": ICJR,
            "acronym": "ICJR",
            "country": "ID",
            "country_name": "Indonesia",
            "url": f"/partners/{existing}",
        }
    ]
    assert client.get("/partners/similar").get_json() == []
    assert client.get("/partners/similar", query_string={"name": "x" * 5000}).get_json() == []
    excluded = client.get("/partners/similar", query_string={"name": ICJR, "exclude": existing})
    assert excluded.get_json() == []


def test_an_organiser_reads_but_cannot_change_anything(client, auth, make_partner, db):
    partner_id = make_partner(ICJR, contacts=(("Nadia Putri", "nadia@icjr.example"),))
    contact_id = db.session.scalar(select(Contact.id))
    auth.login_as(Role.ORGANISER)
    listing = client.get("/partners/").get_data(as_text=True)
    assert ICJR in listing
    assert "Add a partner" not in listing
    page = client.get(f"/partners/{partner_id}").get_data(as_text=True)
    assert "Nadia Putri" in page
    assert "Delete the partner" not in page
    assert "Add a contact" not in page

    refused = [
        client.get("/partners/new"),
        client.post("/partners/new", data=VALID),
        client.get(f"/partners/{partner_id}/edit"),
        client.post(f"/partners/{partner_id}/edit", data=VALID),
        client.post(f"/partners/{partner_id}/delete", data={"confirm": "y"}),
        client.post(f"/partners/{partner_id}/contacts", data={"name": "Someone"}),
        client.post(f"/partners/{partner_id}/contacts/{contact_id}/edit", data={"name": "X"}),
        client.post(f"/partners/{partner_id}/contacts/{contact_id}/delete"),
    ]
    assert [response.status_code for response in refused] == [403] * len(refused)
    db.session.expire_all()
    assert db.session.get(Partner, partner_id).name == ICJR
    assert db.session.scalar(select(Contact.name)) == "Nadia Putri"


def test_editing_a_partner(client, auth, make_partner, db):
    partner_id = make_partner("Yayasan Srikandi")
    auth.login_as(Role.ADMIN)
    form = client.get(f"/partners/{partner_id}/edit").get_data(as_text=True)
    assert 'value="Yayasan Srikandi"' in form
    response = client.post(
        f"/partners/{partner_id}/edit", data={**VALID, "acronym": "YSMP", "country": "MY"}
    )
    assert response.headers["Location"] == f"/partners/{partner_id}"
    partner = db.session.get(Partner, partner_id)
    assert (partner.name, partner.acronym, partner.country) == (VALID["name"], "YSMP", "MY")
    bad = client.post(f"/partners/{partner_id}/edit", data={**VALID, "website": "ftp://x.org"})
    assert "starting with http" in _field_error(bad.get_data(as_text=True), "website")
    db.session.expire_all()
    assert db.session.get(Partner, partner_id).website == VALID["website"]


def test_deleting_needs_the_confirmation_box(client, auth, make_partner, db):
    partner_id = make_partner(ICJR, contacts=(("Nadia Putri", "nadia@icjr.example"),))
    auth.login_as(Role.REGISTRY_OFFICER)
    unconfirmed = client.post(f"/partners/{partner_id}/delete", data={})
    assert "Tick the box to confirm the deletion." in unconfirmed.get_data(as_text=True)
    assert partner_count() == 1
    confirmed = client.post(f"/partners/{partner_id}/delete", data={"confirm": "y"})
    assert confirmed.headers["Location"] == "/partners/"
    assert partner_count() == 0
    assert client.post(f"/partners/{partner_id}/delete", data={"confirm": "y"}).status_code == 404


def test_a_party_to_an_agreement_cannot_be_deleted(
    client, auth, make_partner, make_agreement_with, db
):
    partner_id = make_partner(ICJR)
    make_agreement_with(partner_id)
    auth.login_as(Role.REGISTRY_OFFICER)
    response = client.post(
        f"/partners/{partner_id}/delete", data={"confirm": "y"}, follow_redirects=True
    )
    html = response.get_data(as_text=True)
    assert "cannot be deleted because it is a party to one or more agreements" in html
    assert partner_count() == 1


def test_contacts_are_added_edited_and_removed_through_the_pages(client, auth, make_partner, db):
    partner_id = make_partner(ICJR)
    auth.login_as(Role.REGISTRY_OFFICER)
    bad = client.post(f"/partners/{partner_id}/contacts", data={"name": "Nadia", "email": "nadia@"})
    assert "Enter a valid email address." in _field_error(bad.get_data(as_text=True), "email")
    assert db.session.scalar(select(Contact)) is None

    added = client.post(
        f"/partners/{partner_id}/contacts",
        data={"name": "Nadia Putri", "position": "Researcher", "email": "nadia@icjr.example"},
    )
    assert added.headers["Location"] == f"/partners/{partner_id}#contacts"
    contact_id = db.session.scalar(select(Contact.id))
    assert "Nadia Putri" in client.get("/partners/").get_data(as_text=True)

    edited = client.post(
        f"/partners/{partner_id}/contacts/{contact_id}/edit",
        data={"name": "Nadia P.", "phone": "+62 21 5550 1707"},
    )
    assert edited.status_code == 302
    db.session.expire_all()
    assert db.session.get(Contact, contact_id).phone == "+62 21 5550 1707"

    other = make_partner("Perkumpulan Keluarga Berencana Indonesia")
    assert client.get(f"/partners/{other}/contacts/{contact_id}/edit").status_code == 404
    assert client.post(f"/partners/{other}/contacts/{contact_id}/delete").status_code == 404

    removed = client.post(f"/partners/{partner_id}/contacts/{contact_id}/delete")
    assert removed.status_code == 302
    assert db.session.scalar(select(Contact)) is None


def test_the_list_searches_filters_and_says_when_nothing_matches(client, auth, make_partner):
    make_partner(ICJR, acronym="ICJR", contacts=(("Nadia Putri", "nadia@icjr.example"),))
    make_partner("United Nations Office on Drugs and Crime", country="AT")
    auth.login_as(Role.ORGANISER)

    everything = client.get("/partners/").get_data(as_text=True)
    assert "2 results" in everything
    assert 'class="error"' not in everything
    assert ">Austria</option>" in everything
    by_contact = client.get("/partners/", query_string={"q": "nadia"}).get_data(as_text=True)
    assert ICJR in by_contact
    assert "United Nations" not in by_contact
    by_country = client.get("/partners/", query_string={"country": "AT"}).get_data(as_text=True)
    assert "United Nations" in by_country
    assert ICJR not in by_country
    nothing = client.get("/partners/", query_string={"q": "zzz"}).get_data(as_text=True)
    assert "No partner matches this search." in nothing
    # Junk in the address is ignored, not an error page.
    junk = client.get("/partners/", query_string={"kind": "<x>", "country": "XX", "page": "-3"})
    assert junk.status_code == 200
    assert "2 results" in junk.get_data(as_text=True)


@pytest.mark.parametrize(
    "query",
    [
        "q=" + "x" * 10_000,
        "q=" + "%EF%B7%BA" * 500,  # U+FDFA, which NFKD spreads over eighteen characters
        "q=%ED%A0%80%FF%FE",  # a lone surrogate and bytes that are not UTF-8
        "q=%E2%80%AE%F0%9F%8F%B3%EF%B8%8F%E2%80%8D%F0%9F%8C%88",
        "q=%25%5F%5C",
    ],
)
def test_long_or_odd_search_text_gets_a_page_not_an_error(client, auth, make_partner, query):
    make_partner(ICJR)
    auth.login_as(Role.ORGANISER)
    response = client.get(f"/partners/?{query}")
    assert response.status_code == 200


def test_an_empty_registry_invites_the_first_partner(client, auth):
    auth.login_as(Role.REGISTRY_OFFICER)
    html = client.get("/partners/").get_data(as_text=True)
    assert "No partner organisations yet." in html
    assert "Add the first partner" in html
