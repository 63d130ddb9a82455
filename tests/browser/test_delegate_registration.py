"""A delegate's journey in Chromium: registering in Indonesian with a visa letter, confirming the
email from the test's SMTP server, downloading the letter an organiser issued, and the public
check of that letter before and after it is revoked.

The delegate's pages are in Indonesian; their labels are looked up through the catalogue (so the
test reads the same before and after the strings are translated).
"""

from __future__ import annotations

import re

import pytest
from flask_babel import force_locale
from flask_babel import gettext as _
from playwright.sync_api import expect
from sqlalchemy import select

from app.auth.models import Role
from app.extensions import db
from app.registration.models import VisaLetter
from tests.registration.factories import make_event, make_type

pytestmark = pytest.mark.browser

EMAIL = "aroha.ngata@corrections.example.nz"
NEW_PASSWORD = "kia-ora-bali-2026-ok"


@pytest.fixture
def open_congress(app):
    """WCPP 2026 open for registration with one paid type."""
    with app.test_request_context():
        event = make_event()
        make_type(event, "delegate", name="Delegate")
        db.session.commit()


@pytest.fixture
def indonesian(app):
    """A message as the Indonesian pages show it."""

    def translate(message: str, **values: object) -> str:
        with app.test_request_context(), force_locale("id"):
            return _(message, **values)

    return translate


def _letter(app) -> VisaLetter:
    with app.app_context():
        letter = db.session.scalar(select(VisaLetter))
        db.session.expunge(letter)
        return letter


def field(label: str) -> re.Pattern:
    """A form field's label, with or without the required mark after it."""
    return re.compile(rf"^{re.escape(label)}(\s*\*)?$")


def _path(link: str) -> str:
    """The path of an emailed link (emails use SERVER_BASE_URL, not the live server)."""
    return "/" + link.split("/", 3)[3]


def test_a_delegate_registers_in_indonesian_and_gets_a_verifiable_visa_letter(
    app,
    browser,
    live_server,
    page,
    make_user,
    mailbox,
    open_congress,
    indonesian,
    tmp_path,
    sign_in,
):
    t = indonesian

    # Register, switching the form to Indonesian with the language link.
    page.goto("/register")
    page.get_by_role("link", name=re.compile(r"^ID")).click()
    expect(page.locator("html")).to_have_attribute("lang", "id")
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Register for the congress"))
    page.get_by_label(field(t("Title (Dr, Prof, …)"))).fill("Ms")
    page.get_by_label(field(t("Given name"))).fill("Aroha")
    page.get_by_label(field(t("Family name"))).fill("Ngata")
    page.get_by_label(field(t("Nationality"))).select_option("NZ")
    page.get_by_label(field(t("Country of residence"))).select_option("NZ")
    page.get_by_label(field(t("Organisation"))).fill("Ara Poutama Aotearoa")
    page.get_by_label(field(t("Email"))).fill(EMAIL)
    # The page's language is already chosen for emails and documents.
    expect(page.get_by_role("radio", name="Bahasa Indonesia")).to_be_checked()
    page.get_by_role("radio", name=re.compile(r"Delegasi \(delegate\)")).check()

    # The passport fields appear once a letter is asked for.
    passport = page.get_by_label(field(t("Passport number")))
    expect(passport).to_be_hidden()
    page.get_by_label(t("I need a visa invitation letter")).check()
    expect(passport).to_be_visible()
    passport.fill("LA123456")
    page.get_by_label(field(t("Passport expiry date"))).fill("2031-06-30")
    page.get_by_label(field(t("Date of birth"))).fill("1981-02-06")
    page.get_by_label(field(t("Place of birth"))).fill("Rotorua")
    page.get_by_label(
        t("I have read the privacy notice and agree that my data is processed as it says.")
    ).check()
    page.get_by_role("button", name=t("Register"), exact=True).click()

    expect(page.get_by_role("heading", level=1)).to_have_text(
        t("Thank you, %(name)s", name="Aroha Ngata")
    )
    expect(page.locator("main")).to_contain_text(EMAIL)

    # Confirm the address from the emailed link and choose a password.
    mailbox.wait_for(1)
    (message,) = mailbox.to(EMAIL)
    body = message.get_payload(decode=True).decode()
    confirm_link = re.search(r"https?://\S+/register/confirm/\S+", body).group(0)
    page.goto(_path(confirm_link))
    page.get_by_label(field(t("New password"))).fill(NEW_PASSWORD)
    page.get_by_label(field(t("Repeat the new password"))).fill(NEW_PASSWORD)
    page.get_by_role("button", name=t("Save the password and sign in")).click()
    expect(page).to_have_url(re.compile(r"/my/registration$"))
    expect(page.locator(".status-card")).to_contain_text(t("Awaiting payment"))
    expect(page.locator("main")).to_contain_text(
        t("Your visa invitation letter appears here once the organisers have issued it.")
    )

    # An organiser issues the letter from the queue (in their own browser, in English).
    organiser = make_user(roles=[Role.ORGANISER], language="en")
    staff_context = browser.new_context(base_url=live_server, locale="en-GB")
    staff = staff_context.new_page()
    sign_in(staff, organiser.email)
    staff.goto("/registrations/visa-letters")
    row = staff.get_by_role("row").filter(has_text="Aroha Ngata")
    row.get_by_role("button", name="Issue the letter").click()
    expect(staff.get_by_role("status")).to_contain_text("issued to Aroha Ngata")

    # The delegate downloads the PDF.
    page.reload()
    with page.expect_download() as download_info:
        page.get_by_role("link", name=t("Download the visa invitation letter (PDF)")).click()
    pdf = tmp_path / "letter.pdf"
    download_info.value.save_as(pdf)
    assert pdf.read_bytes().startswith(b"%PDF")

    # The public check confirms the letter.
    letter = _letter(app)
    page.goto(f"/visa/verify/{letter.verification_code}")
    verdict = page.locator(".verdict").first
    expect(verdict).to_contain_text(t("Genuine"))
    expect(page.locator("main")).to_contain_text(letter.number)
    expect(page.locator("main")).to_contain_text("Aroha Ngata")
    expect(page.locator("main")).not_to_contain_text("LA123456")

    # Revoked, the same check says so.
    staff.goto("/registrations/visa-letters?show=issued")
    staff.get_by_role("row").filter(has_text=letter.number).get_by_role(
        "link", name="Revoke…"
    ).click()
    staff.get_by_label("Reason for revoking").fill("Issued with a typing error in the name.")
    staff.get_by_role("button", name="Revoke the letter").click()
    expect(staff.get_by_role("status")).to_contain_text("revoked")
    staff_context.close()

    page.reload()
    expect(page.locator(".verdict").first).to_contain_text(t("Revoked"))
    page.goto("/my/registration")
    expect(
        page.get_by_role("link", name=t("Download the visa invitation letter (PDF)"))
    ).to_have_count(0)
