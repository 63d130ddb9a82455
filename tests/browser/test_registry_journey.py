"""A registry officer's day with the agreement registry, in Chromium.

Creates a partner, an agreement with two parties and two scope areas, uploads its signed PDF,
records an evaluation and sees the dashboard change; bad input (a non-PDF, an end date before
the start) is refused with a message and leaves nothing behind.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from app.agreements.models import Agreement, AgreementDocument, Evaluation
from app.auth.models import Role
from app.extensions import db
from app.partners.models import Partner
from tests.agreements.factories import make_partner, make_scope_area, pdf_bytes

pytestmark = pytest.mark.browser


def _count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def _partner_id(app, acronym: str) -> str:
    with app.app_context():
        return str(db.session.scalar(select(Partner.id).where(Partner.acronym == acronym)))


def _dashboard_total(page: Page) -> int:
    page.goto("/reports/registry")
    figure = page.locator(".key-figures div").filter(has_text="Agreements").locator("dd")
    return int(figure.inner_text()) if figure.count() else 0


@pytest.fixture
def registry(app):
    """An existing partner (ICJR) and scope areas, as the registry would have them."""
    with app.test_request_context(headers={"Accept-Language": "en"}):
        make_partner("Institute for Criminal Justice Reform", "ICJR")
        for en, id_text in [
            ("Identity and population data", "Data kependudukan dan identitas"),
            ("Officer capacity building", "Peningkatan kapasitas petugas"),
            ("Legal aid", "Bantuan hukum"),
        ]:
            make_scope_area(en, id_text)
        db.session.commit()


def test_registry_officer_records_an_agreement_end_to_end(
    app, live_app, page, make_user, registry, tmp_path, sign_in
):
    officer = make_user(roles=[Role.REGISTRY_OFFICER], name="Hilal", language="en")
    sign_in(page, officer.email)
    expect(page).to_have_url(re.compile(r"/dashboard$"))
    assert _dashboard_total(page) == 0

    # A new partner organisation.
    page.goto("/partners/new")
    page.get_by_label("Name of the organisation").fill(
        "Direktorat Jenderal Kependudukan dan Pencatatan Sipil"
    )
    page.get_by_label("Acronym").fill("Dukcapil")
    page.get_by_label("Kind of organisation").select_option(label="Government ministry or agency")
    page.get_by_label("Country").select_option("ID")
    page.get_by_role("button", name="Create the partner").click()
    expect(
        page.get_by_role("heading", name=re.compile("Direktorat Jenderal Kependudukan"))
    ).to_be_visible()
    assert _count(app, Partner) == 2

    # The agreement: first with its end before its start, which is refused.
    page.goto("/agreements/new")
    page.locator("#kind").select_option("pks")
    page.locator("#reference_number").fill("PAS-7.HM.05.02/2025")
    page.locator("#title-en").fill("Verifying detainees' identities with population data")
    page.locator("#title-id").fill("Verifikasi identitas tahanan dengan data kependudukan")
    page.locator("#parties-0-partner_id").select_option(_partner_id(app, "Dukcapil"))
    page.locator("#parties-0-reference_number").fill("400.8/1234/DUKCAPIL")
    page.locator("#parties-1-partner_id").select_option(_partner_id(app, "ICJR"))
    page.locator("#unit_level").select_option("central")
    page.locator("#unit_name").fill("Direktorat Teknologi Informasi dan Kerja Sama")
    page.locator("#responsible_officer_id").select_option(str(officer.id))
    page.get_by_label("Identity and population data").check()
    page.get_by_label("Legal aid").check()
    page.locator("#signed_on").fill("2025-10-02")
    page.locator("#signed_place").fill("Jakarta")
    page.locator("#starts_on").fill("2025-10-02")
    page.locator("#ends_on").fill("2025-10-01")
    page.get_by_role("button", name="Save the agreement").click()
    expect(page.locator("#ends_on-error")).to_contain_text(
        "end date must be on or after the start date"
    )
    assert _count(app, Agreement) == 0

    page.locator("#ends_on").fill("2030-10-01")
    page.get_by_role("button", name="Save the agreement").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Verifying detainees' identities")
    expect(page.locator("main")).to_contain_text("Dukcapil")
    expect(page.locator("main")).to_contain_text("ICJR")
    expect(page.locator("main")).to_contain_text("Legal aid")
    assert _count(app, Agreement) == 1
    agreement_url = page.url

    # A text file dressed up as a PDF is refused and leaves nothing behind.
    fake = tmp_path / "signed.pdf"
    fake.write_text("this is not a PDF")
    page.locator("input[type=file]").set_input_files(str(fake))
    page.locator("form.upload-form button[type=submit]").click()
    expect(page.locator("main")).to_contain_text("This file is not a readable PDF.")
    assert _count(app, AgreementDocument) == 0
    assert list(Path(live_app.config["UPLOAD_DIR"]).rglob("*.pdf")) == []

    # The real signed PDF.
    signed = tmp_path / "PKS Dukcapil 2025.pdf"
    signed.write_bytes(pdf_bytes(pages=2))
    page.goto(agreement_url)
    page.locator("input[type=file]").set_input_files(str(signed))
    page.locator("form.upload-form button[type=submit]").click()
    expect(page.get_by_role("link", name=re.compile("PKS Dukcapil 2025"))).to_be_visible()
    assert _count(app, AgreementDocument) == 1

    # A periodic evaluation.
    page.goto(agreement_url)
    page.get_by_role("link", name="Record an evaluation").click()
    page.locator("#evaluated_on").fill("2026-04-02")
    page.locator("#evaluator_name").fill("Hilal")
    page.locator("#overall_rating").select_option("4")
    page.locator("#findings-en").fill("Identity checks now run at admission in 12 prisons.")
    page.locator("#findings-id").fill(
        "Pemeriksaan identitas kini dilakukan saat penerimaan di 12 lapas."
    )
    page.locator("main form button[type=submit]").last.click()
    expect(page.locator("main")).to_contain_text(
        "Identity checks now run at admission in 12 prisons."
    )
    assert _count(app, Evaluation) == 1

    # The dashboard counts the new agreement.
    assert _dashboard_total(page) == 1
    expect(page.locator("main")).to_contain_text("Central office")
