"""The administrators' audit log page: newest first, filters, exports, the chain banner, the
empty state, who may see it, and the same queries for 10 entries as for 1,000."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime
from html import unescape

import pytest
from openpyxl import load_workbook
from sqlalchemy import update

from app.audit import services
from app.audit.models import AuditEntry
from app.auth.models import Role
from app.extensions import db
from tests.audit.factories import record_entries, tamper


def _positions_on(html: str) -> list[int]:
    """The entry numbers a list page shows, in order."""
    return [int(number) for number in re.findall(r'<td class="number">(\d+)</td>', html)]


def _banner(html: str) -> str:
    """The chain status banner's text."""
    match = re.search(r'id="chain-status">(.*?)</p>', html, re.S)
    assert match, "no chain status shown"
    return " ".join(unescape(match.group(1)).split())


def _seed(app) -> None:
    """Five entries by two people about accounts, registrations and an agreement."""
    with app.test_request_context():
        services.record("auth.login", actor=None)
        services.record(
            "registration.edited",
            actor=None,
            target=("registration", 7, "ABCD1234"),
            details={"changes": {"family_name": ["Okonkwo", "Okonkwo-Bello"]}},
        )
        services.record("agreements.status_changed", actor=None, target=("agreement", 3, "PAS-1"))
        services.record("registration.approved", actor=None, target=("registration", 8, "WXYZ9876"))
        services.record("payments.refund", actor=None, target=("refund", 1, None))
        db.session.commit()
        # Who did what, as if signed in: Ayu did the first three, Budi the rest.
        db.session.execute(
            update(AuditEntry)
            .where(AuditEntry.position <= 3)
            .values(actor_email="ayu@wcpp2026.example", actor_name="Ayu Lestari")
        )
        db.session.execute(
            update(AuditEntry)
            .where(AuditEntry.position > 3)
            .values(actor_email="budi@wcpp2026.example", actor_name="Budi Santoso")
        )
        # Back-dated by whole days so that the date filter has something to tell apart.
        for position in range(1, 6):
            db.session.execute(
                update(AuditEntry)
                .where(AuditEntry.position == position)
                .values(occurred_at=datetime(2026, 4, 10 + position, 2, 0, tzinfo=UTC))
            )
        db.session.commit()
        # The edits above changed what the hashes cover: rebuild them as the chain was.
        _rehash_all()


def _rehash_all() -> None:
    """Recompute every hash from the stored fields (test set-up only)."""
    from app.audit.models import AuditChainHead

    previous = None
    entries = db.session.scalars(db.select(AuditEntry).order_by(AuditEntry.position)).all()
    for entry in entries:
        entry.previous_hash = previous
        entry.entry_hash = services.entry_hash(services._entry_values(entry))
        previous = entry.entry_hash
    head = db.session.get(AuditChainHead, 1)
    head.last_hash = previous
    db.session.commit()


def test_only_administrators_see_the_log(client, auth):
    assert client.get("/admin/audit/").status_code == 302  # to the sign-in page
    auth.login_as(Role.ORGANISER, Role.REGISTRY_OFFICER, Role.GATE_STAFF)
    for path in ("/admin/audit/", "/admin/audit/export.csv", "/admin/audit/export.xlsx"):
        assert client.get(path).status_code == 403
    assert "/admin/audit/" not in client.get("/dashboard").get_data(as_text=True)


def test_an_empty_log_says_so(client, auth):
    auth.logout()
    response = client.get("/login")
    assert response.status_code == 200
    # Sign in (which is itself recorded) after emptying: only then is the log empty.
    auth.login_as(Role.ADMIN)
    with client.application.app_context():
        db.session.execute(db.delete(AuditEntry))
        db.session.execute(db.delete(services.AuditChainHead))
        db.session.commit()
    html = client.get("/admin/audit/").get_data(as_text=True)
    assert "Nothing has been recorded yet." in html
    assert _banner(html) == "Chain verified: 0 entries, none changed, removed or added."


def test_the_log_shows_entries_newest_first_with_labels_and_the_chain_verified(app, client, auth):
    _seed(app)
    auth.login_as(Role.ADMIN)
    html = client.get("/admin/audit/").get_data(as_text=True)
    assert _positions_on(html) == [6, 5, 4, 3, 2, 1]  # 6 is the admin's own sign-in
    assert _banner(html) == "Chain verified: 6 entries, none changed, removed or added."
    assert "Registrations: Details changed" in html
    assert "Agreements: Status changed" in html
    assert "Okonkwo → Okonkwo-Bello" in html
    assert "Ayu Lestari" in html
    assert 'href="/admin/audit/"' in client.get("/dashboard").get_data(as_text=True)


def test_a_tampered_log_shows_where_the_chain_breaks(app, client, auth):
    _seed(app)
    with app.app_context():
        tamper(2, details={})
    auth.login_as(Role.ADMIN)
    html = client.get("/admin/audit/").get_data(as_text=True)
    assert _banner(html) == (
        "The chain is broken at entry 2: its contents were changed after it was recorded. "
        "The log has been tampered with; entries from this one on cannot be trusted."
    )


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("actor=budi", [5, 4]),
        ("actor=AYU%40wcpp", [3, 2, 1]),
        ("action=registration.edited", [2]),
        ("target_type=registration", [4, 2]),
        ("q=ABCD1234", [2]),
        ("q=budi.santoso", []),
        ("q=Budi+Santoso", [5, 4]),
        ("date_from=2026-04-12&date_to=2026-04-13", [3, 2]),
        ("date_from=2026-04-15", [6, 5]),
        ("actor=ayu&target_type=registration", [2]),
    ],
)
def test_filters(app, client, auth, query, expected):
    _seed(app)
    auth.login_as(Role.ADMIN)
    response = client.get(f"/admin/audit/?{query}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert _positions_on(html) == expected
    if not expected:
        assert "No entry matches these filters." in html


def test_bad_filters_get_an_error_and_are_ignored(app, client, auth):
    _seed(app)
    auth.login_as(Role.ADMIN)
    for query in (
        "date_from=yesterday",
        "date_from=9999-01-01",
        "action=no.such.action",
        "date_from=2026-04-14&date_to=2026-04-12",
        "q=" + "x" * 500,
    ):
        response = client.get(f"/admin/audit/?{query}")
        assert response.status_code == 200, query
        html = response.get_data(as_text=True)
        assert '<p class="error"' in html, query
    too_late = client.get("/admin/audit/?date_from=2026-04-14&date_to=2026-04-12")
    assert "The end of the range comes before its start." in too_late.get_data(as_text=True)


def test_csv_export_holds_the_filtered_entries(app, client, auth):
    _seed(app)
    auth.login_as(Role.ADMIN)
    response = client.get("/admin/audit/export.csv?target_type=registration")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert [row["Entry number"] for row in rows] == ["4", "2"]
    edited = rows[1]
    assert edited["Action"] == "Registrations: Details changed"
    assert edited["Action code"] == "registration.edited"
    assert edited["Done by"] == "Ayu Lestari"
    assert edited["Record"] == "ABCD1234"
    assert edited["Kind of record"] == "Delegate registration"
    assert '"family_name": ["Okonkwo", "Okonkwo-Bello"]' in edited["Details"]
    assert len(edited["Hash"]) == 64


def test_xlsx_export_holds_the_filtered_entries(app, client, auth):
    _seed(app)
    auth.login_as(Role.ADMIN)
    response = client.get("/admin/audit/export.xlsx?actor=budi")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    header, *body = list(sheet.iter_rows(values_only=True))
    assert header[:3] == ("Entry number", "When", "Action")
    assert [row[0] for row in body] == [5, 4]
    assert isinstance(body[0][1], datetime)
    # Shown in the event's zone (WITA, UTC+8): 02:00 UTC is 10:00.
    assert body[0][1] == datetime(2026, 4, 15, 10, 0)


def test_the_page_is_in_indonesian(app, client, auth):
    _seed(app)
    auth.login_as(Role.ADMIN)
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "id"
    client.get("/language/id")
    html = client.get("/admin/audit/").get_data(as_text=True)
    assert "Log audit" in html
    assert "Rantai terverifikasi" in html


def test_the_list_issues_the_same_queries_for_10_and_1000_entries(app, client, auth, count_queries):
    auth.login_as(Role.ADMIN)
    with app.test_request_context():
        record_entries(9)
    client.get("/admin/audit/")  # warm caches (locale, session)
    with count_queries() as small:
        response = client.get("/admin/audit/?page=1")
    assert response.status_code == 200
    assert "Chain verified: 10 entries" in _banner(response.get_data(as_text=True))

    with app.test_request_context():
        record_entries(990)
    with count_queries() as large:
        response = client.get("/admin/audit/?page=1")
    assert response.status_code == 200
    assert "Chain verified: 1000 entries" in _banner(response.get_data(as_text=True))
    assert small.count == large.count, (small.statements, large.statements)


def test_times_are_shown_in_the_event_zone(app, client, auth):
    _seed(app)
    auth.login_as(Role.ADMIN)
    html = client.get("/admin/audit/?action=auth.login&date_to=2026-04-11").get_data(as_text=True)
    assert _positions_on(html) == [1]
    assert "10:00\u202fAM" in html or "10:00 AM" in html  # 02:00 UTC in WITA (UTC+8)
