"""The partner list costs the same number of SQL queries for 10 partners as for 2,000."""

from __future__ import annotations

from sqlalchemy import insert

from app.auth.models import Role
from app.extensions import db
from app.partners.models import Contact, Partner, PartnerKind, name_key

KINDS = list(PartnerKind)


def _add_partners(app, start: int, stop: int) -> None:
    """Insert partners numbered start..stop-1 in bulk, every one with two contacts."""
    # Its own application context: requests then start from a fresh session, as in production.
    with app.app_context():
        names = [f"Mitra Pemasyarakatan {number:05d}" for number in range(start, stop)]
        partner_ids = db.session.scalars(
            insert(Partner).returning(Partner.id, sort_by_parameter_order=True),
            [
                {
                    "name": name,
                    "name_key": name_key(name),
                    "acronym": f"MP{number}",
                    "kind": KINDS[number % len(KINDS)].value,
                    "country": "ID" if number % 3 else "AT",
                }
                for number, name in zip(range(start, stop), names, strict=True)
            ],
        ).all()
        db.session.execute(
            insert(Contact),
            [
                {"partner_id": partner_id, "name": f"Kontak {number}-{which}"}
                for number, partner_id in zip(range(start, stop), partner_ids, strict=True)
                for which in (1, 2)
            ],
        )
        db.session.commit()


def _list_queries(client, count_queries, **args) -> tuple[int, str]:
    """The partner list's SQL statement count and its HTML."""
    with count_queries() as counter:
        response = client.get("/partners/", query_string=args)
    assert response.status_code == 200
    return counter.count, response.get_data(as_text=True)


def test_the_partner_list_query_count_does_not_grow_with_rows(app, client, auth, count_queries):
    auth.login_as(Role.ORGANISER)
    _add_partners(app, 1, 11)
    small, html = _list_queries(client, count_queries)
    assert "10 results" in html
    assert "<td>2</td>" in html  # the contact count, from one grouped query

    _add_partners(app, 11, 2001)
    large, html = _list_queries(client, count_queries)
    assert "2000 results" in html
    assert large == small

    # Searching (here through the contacts) and filtering cost no more either.
    searched, html = _list_queries(client, count_queries, q="kontak 1999", kind="training")
    assert "Mitra Pemasyarakatan 01999" in html
    assert searched == small
