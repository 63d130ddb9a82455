"""Visa invitation letters: the queue, numbering (also under concurrency on PostgreSQL), the PDF
with its QR code, revocation, the public check and who may download what."""

from __future__ import annotations

import re
import threading
from io import BytesIO

import pypdfium2
import pytest
import zxingcpp
from pypdf import PdfReader
from sqlalchemy import select

from app.auth.models import Role, User
from app.auth.services import change_password
from app.events.models import Event
from app.extensions import db
from app.i18n.formatting import format_day
from app.registration import services, visa
from app.registration.models import (
    PassportAccess,
    Registration,
    RegistrationHistory,
    RegistrationType,
    VisaLetter,
)
from app.web import absolute_url
from tests.conftest import TEST_PASSWORD, requires_postgres
from tests.registration.factories import (
    BIRTH_DATE,
    count_rows,
    make_event,
    make_type,
    visa_details,
)

PASSPORT = "B98765432"


def visa_registration(
    event: Event, registration_type: RegistrationType, *, confirm: bool = True, **overrides
) -> Registration:
    """A delegate who asked for a visa letter, registered through the service (flushed);
    their email address confirmed unless confirm=False."""
    overrides.setdefault("passport_number", PASSPORT)
    registration, _created = services.register_delegate(
        event, visa_details(registration_type, **overrides)
    )
    if confirm:
        services.confirm_email(services.email_confirmation_token(registration))
    return registration


@pytest.fixture
def wcpp(db):
    """WCPP 2026 with a paid type (letters go to accepted, unpaid delegates too), a free one
    and one needing approval; returns them."""
    event = make_event()
    types = {
        "paid": make_type(event, "delegate"),
        "free": make_type(event, "speaker", is_free=True),
        "approval": make_type(event, "government", needs_approval=True),
    }
    db.session.commit()
    return event, types


@pytest.fixture
def organiser(make_user) -> User:
    """An organiser account (committed, detached)."""
    return make_user(roles=[Role.ORGANISER])


def reload(model, ident):
    """A fresh copy of a row, as another request would see it."""
    db.session.expire_all()
    return db.session.get(model, ident)


# --- the queue ------------------------------------------------------------------------------


def test_the_queue_holds_running_registrations_that_asked_for_a_letter_and_have_none(
    db, wcpp, organiser
):
    event, types = wcpp
    waiting = visa_registration(event, types["paid"], given_name="Waiting")
    pending = visa_registration(event, types["approval"], given_name="Pending")
    visa_registration(event, types["paid"], given_name="Cancelled").status = "cancelled"
    services.register_delegate(event, visa_details(types["paid"], needs_visa_letter=False))
    served = visa_registration(event, types["free"], given_name="Served")
    visa.issue_visa_letter(served, actor=organiser)
    db.session.commit()

    queue = db.session.scalars(visa.visa_queue(event)).all()
    assert [registration.given_name for registration in queue] == ["Waiting", "Pending"]
    assert visa.issue_blocker(waiting) is None
    assert "accepted" in visa.issue_blocker(pending)

    visa.revoke_visa_letter(visa.current_letter(served), "Issued in error", actor=organiser)
    db.session.commit()
    queue = db.session.scalars(visa.visa_queue(event)).all()
    assert "Served" in [registration.given_name for registration in queue]


def test_the_queue_page_issues_the_same_number_of_queries_for_3_and_30_delegates(
    app, client, auth, db, wcpp, count_queries
):
    event, types = wcpp
    auth.login_as(Role.ORGANISER)

    def queries_for_page() -> int:
        with count_queries() as counter:
            response = client.get("/registrations/visa-letters")
        assert response.status_code == 200
        return counter.count

    for _ in range(3):
        visa_registration(event, types["paid"])
    db.session.commit()
    few = queries_for_page()
    for _ in range(27):
        visa_registration(event, types["paid"])
    db.session.commit()
    assert queries_for_page() == few


# --- issuing --------------------------------------------------------------------------------


def test_letters_are_numbered_in_sequence_with_an_unambiguous_code(db, wcpp, organiser, mailbox):
    event, types = wcpp
    first = visa_registration(event, types["paid"], email="first@probation.example")
    second = visa_registration(event, types["free"], language="id")
    letters = [visa.issue_visa_letter(r, actor=organiser) for r in (first, second)]
    db.session.commit()

    assert [letter.number for letter in letters] == ["WCPP2026/VISA/0001", "WCPP2026/VISA/0002"]
    assert [letter.language for letter in letters] == ["en", "id"]
    for letter in letters:
        assert re.fullmatch(r"[A-HJKMNP-Z2-9]{10}", letter.verification_code)
    assert letters[0].verification_code != letters[1].verification_code
    history = db.session.scalars(
        select(RegistrationHistory).where(
            RegistrationHistory.registration_id == first.id,
            RegistrationHistory.action == "visa_letter_issued",
        )
    ).one()
    assert history.details == {"number": "WCPP2026/VISA/0001"}
    assert history.actor_id == organiser.id
    messages = mailbox.wait_for(1)
    issued = [m for m in messages if m["To"] == "first@probation.example"]
    assert "visa invitation letter" in issued[-1]["Subject"]


def test_issuing_twice_gives_the_same_letter(db, wcpp, organiser):
    event, types = wcpp
    registration = visa_registration(event, types["paid"])
    first = visa.issue_visa_letter(registration, actor=organiser)
    again = visa.issue_visa_letter(registration, actor=organiser)
    db.session.commit()
    assert again.id == first.id
    assert count_rows(VisaLetter) == 1


@pytest.mark.parametrize(
    ("setup", "blocked_because"),
    [
        ({"type": "approval"}, "accepted"),
        ({"confirm": False}, "confirmed their email"),
        ({"status": "waitlisted"}, "accepted"),
    ],
)
def test_a_letter_waits_for_an_accepted_registration_with_a_confirmed_address(
    db, wcpp, organiser, setup, blocked_because
):
    event, types = wcpp
    registration = visa_registration(
        event, types[setup.get("type", "paid")], confirm=setup.get("confirm", True)
    )
    if "status" in setup:
        registration.status = setup["status"]
    with pytest.raises(services.RegistrationError, match=blocked_because) as refused:
        visa.issue_visa_letter(registration, actor=organiser)
    assert refused.value.code == "visa_letter_not_issuable"
    db.session.rollback()
    assert count_rows(VisaLetter) == 0


def test_revoking_needs_a_reason_and_frees_the_registration_for_a_new_number(db, wcpp, organiser):
    event, types = wcpp
    registration = visa_registration(event, types["paid"])
    letter = visa.issue_visa_letter(registration, actor=organiser)
    db.session.commit()

    with pytest.raises(services.RegistrationError) as refused:
        visa.revoke_visa_letter(letter, "   ", actor=organiser)
    assert refused.value.field == "reason"
    assert not letter.is_revoked

    visa.revoke_visa_letter(letter, "Passport replaced", actor=organiser)
    visa.revoke_visa_letter(letter, "Again", actor=organiser)
    db.session.commit()
    assert letter.revocation_reason == "Passport replaced"
    revocations = select(RegistrationHistory).where(
        RegistrationHistory.action == "visa_letter_revoked"
    )
    assert len(db.session.scalars(revocations).all()) == 1
    assert visa.current_letter(registration) is None

    new = visa.issue_visa_letter(registration, actor=organiser)
    db.session.commit()
    assert new.number == "WCPP2026/VISA/0002"
    assert visa.current_letter(registration).id == new.id


@requires_postgres
def test_ten_simultaneous_issues_get_ten_different_numbers(app, db, wcpp, organiser):
    event, types = wcpp
    ids = [visa_registration(event, types["paid"]).id for _ in range(10)]
    db.session.commit()
    barrier = threading.Barrier(len(ids))
    errors: list[BaseException] = []

    def issue(registration_id: int) -> None:
        with app.test_request_context():
            try:
                registration = db.session.get(Registration, registration_id)
                actor = db.session.get(User, organiser.id)
                barrier.wait()
                visa.issue_visa_letter(registration, actor=actor)
                db.session.commit()
            except BaseException as error:  # reported by the main thread
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=issue, args=(ident,)) for ident in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    db.session.expire_all()
    letters = db.session.scalars(select(VisaLetter).order_by(VisaLetter.sequence)).all()
    assert [letter.sequence for letter in letters] == list(range(1, 11))
    assert len({letter.number for letter in letters}) == 10
    assert sorted(letter.registration_id for letter in letters) == sorted(ids)


# --- the PDF --------------------------------------------------------------------------------


def pdf_text(data: bytes) -> str:
    """The text of a PDF's pages, as pypdf extracts it."""
    return "\n".join(page.extract_text() for page in PdfReader(BytesIO(data)).pages)


def qr_codes_on_first_page(data: bytes) -> list[str]:
    """The QR codes found on page 1 rendered at about 220 dpi."""
    document = pypdfium2.PdfDocument(data)
    try:
        page = document[0]
        image = page.render(scale=3).to_pil()
        page.close()
    finally:
        document.close()
    return [code.text for code in zxingcpp.read_barcodes(image)]


def test_the_letter_names_the_delegate_and_its_qr_code_leads_to_the_check(db, wcpp, organiser):
    event, types = wcpp
    registration = visa_registration(
        event, types["paid"], given_name="Zoë", family_name="Łukasiewicz-Núñez", nationality="DE"
    )
    letter = visa.issue_visa_letter(registration, actor=organiser)
    db.session.commit()

    data = visa.letter_pdf(letter)
    assert data.startswith(b"%PDF")
    assert len(PdfReader(BytesIO(data)).pages) == 1
    text = pdf_text(data)
    for expected in (
        "Zoë Łukasiewicz-Núñez",
        PASSPORT,
        "WCPP2026/VISA/0001",
        letter.verification_code,
        "7th World Congress on Probation and Parole",
        "Bali International Convention Center",
        "Germany",
        format_day(BIRTH_DATE),
    ):
        assert expected in text
    # English first, the Indonesian beside it.
    assert text.index("Germany") < text.index("Jerman")
    url = absolute_url("registration.verify_visa_letter", code=letter.verification_code)
    assert qr_codes_on_first_page(data) == [url]


def test_a_delegate_who_chose_indonesian_gets_the_letter_in_indonesian_first(db, wcpp, organiser):
    event, types = wcpp
    registration = visa_registration(event, types["paid"], language="id", nationality="DE")
    letter = visa.issue_visa_letter(registration, actor=organiser)
    db.session.commit()
    text = pdf_text(visa.letter_pdf(letter))
    assert text.index("Jerman") < text.index("Germany")
    assert "Kongres Dunia ke-7 tentang Probation dan Parole" in text


# --- the public check -----------------------------------------------------------------------


def test_the_check_says_genuine_then_revoked_and_shows_no_other_personal_data(
    app, client, db, wcpp, organiser
):
    event, types = wcpp
    registration = visa_registration(
        event, types["paid"], given_name="Amara", family_name="Okonkwo", nationality="NG"
    )
    letter = visa.issue_visa_letter(registration, actor=organiser)
    db.session.commit()
    code, email = letter.verification_code, registration.email

    response = client.get(f"/visa/verify/{code}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert "genuine" in page
    assert "Amara Okonkwo" in page
    assert "Nigeria" in page
    assert "WCPP2026/VISA/0001" in page
    assert 'lang="id"' in page  # the Indonesian version beside the English one
    for private in (PASSPORT, "5432", email, "Lagos", "1979", registration.reference):
        assert private not in page

    visa.revoke_visa_letter(reload(VisaLetter, letter.id), "Withdrawn", actor=organiser)
    db.session.commit()
    page = client.get(f"/visa/verify/{code.lower()}").get_data(as_text=True)
    assert "revoked on" in page
    assert "genuine" not in page
    assert "Withdrawn" not in page  # the reason is for the organisers


def test_an_unknown_code_is_not_found_and_the_form_leads_to_the_check(client, db, wcpp):
    response = client.get("/visa/verify/ABCDEFGHJK")
    assert response.status_code == 404
    assert "No letter has this verification code" in response.get_data(as_text=True)
    assert client.get("/visa/verify/<script>").status_code == 404

    response = client.get("/visa/verify?code=abcde-fghjk")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/visa/verify/ABCDEFGHJK")

    response = client.get("/visa/verify?code=12")
    assert response.status_code == 200
    assert "A code has 10 letters and digits" in response.get_data(as_text=True)
    assert client.get("/visa/verify").status_code == 200


def test_the_check_is_rate_limited(client, db, wcpp):
    for _ in range(30):
        assert client.get("/visa/verify/ABCDEFGHJK").status_code == 404
    assert client.get("/visa/verify/ABCDEFGHJK").status_code == 429


# --- pages and access -----------------------------------------------------------------------


def sign_in_as(auth, registration: Registration) -> None:
    """Give the delegate's account a password (as the confirmation link does) and sign in."""
    change_password(registration.user, TEST_PASSWORD)
    db.session.commit()
    assert auth.login(registration.email).status_code == 302


def test_a_delegate_downloads_only_their_own_current_letter(app, client, auth, db, wcpp, organiser):
    event, types = wcpp
    holder = visa_registration(event, types["paid"])
    other = visa_registration(event, types["paid"])
    letter = visa.issue_visa_letter(holder, actor=organiser)
    db.session.commit()

    sign_in_as(auth, other)
    assert client.get("/my/registration/visa-letter.pdf").status_code == 404
    assert client.get(f"/registrations/{holder.reference}/visa-letter.pdf").status_code == 403
    auth.logout()

    sign_in_as(auth, holder)
    response = client.get("/my/registration/visa-letter.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Cache-Control"] == "no-store"
    assert "visa-letter-WCPP2026-VISA-0001.pdf" in response.headers["Content-Disposition"]
    assert PASSPORT in pdf_text(response.data)

    visa.revoke_visa_letter(reload(VisaLetter, letter.id), "Withdrawn", actor=organiser)
    db.session.commit()
    assert client.get("/my/registration/visa-letter.pdf").status_code == 404


@pytest.mark.parametrize(
    ("role", "status"), [(Role.ORGANISER, 200), (Role.ADMIN, 200), (Role.REGISTRY_OFFICER, 403)]
)
def test_organisers_download_any_letter_and_the_passport_view_is_logged(
    client, auth, db, wcpp, organiser, role, status
):
    event, types = wcpp
    registration = visa_registration(event, types["paid"])
    visa.issue_visa_letter(registration, actor=organiser)
    db.session.commit()

    viewer = auth.login_as(role)
    response = client.get(f"/registrations/{registration.reference}/visa-letter.pdf")
    assert response.status_code == status
    logged = db.session.scalars(select(PassportAccess)).all()
    if status == 200:
        assert [(access.user_id, access.purpose) for access in logged] == [
            (viewer.id, "visa_letter")
        ]
    else:
        assert logged == []
    assert client.get("/registrations/NOSUCHREF/visa-letter.pdf").status_code in (404, 403)


def test_organisers_issue_and_revoke_from_the_queue(client, auth, db, wcpp):
    event, types = wcpp
    ready = visa_registration(event, types["paid"], given_name="Ready")
    pending = visa_registration(event, types["approval"], given_name="Pending")
    db.session.commit()
    auth.login_as(Role.ORGANISER)

    page = client.get("/registrations/visa-letters").get_data(as_text=True)
    assert "Ready" in page
    assert "Pending" in page
    assert page.count("Issue the letter") == 1
    assert "•••••5432" in page
    assert PASSPORT not in page

    response = client.post(
        f"/registrations/{pending.reference}/visa-letter/issue",
        data={"next": "/registrations/visa-letters?page=1"},
    )
    assert response.headers["Location"] == "/registrations/visa-letters?page=1"
    assert "accepted" in client.get("/registrations/visa-letters").get_data(as_text=True)
    assert count_rows(VisaLetter) == 0

    response = client.post(f"/registrations/{ready.reference}/visa-letter/issue")
    assert response.status_code == 302
    page = client.get("/registrations/visa-letters?show=issued").get_data(as_text=True)
    assert "Visa letter WCPP2026/VISA/0001 issued to Ready" in page
    assert "Revoke" in page

    revoke_url = f"/registrations/{ready.reference}/visa-letter/revoke"
    assert client.get(revoke_url).status_code == 200
    page = client.post(revoke_url, data={"reason": ""}).get_data(as_text=True)
    assert "Give the reason for revoking the letter." in page
    assert reload(VisaLetter, 1).revoked_at is None
    too_long = client.post(revoke_url, data={"reason": "x" * 501}).get_data(as_text=True)
    assert "Use at most 500 characters." in too_long

    response = client.post(revoke_url, data={"reason": "Passport replaced"})
    assert response.status_code == 302
    assert reload(VisaLetter, 1).revocation_reason == "Passport replaced"
    assert client.get(revoke_url).status_code == 404  # no current letter any more
    assert client.post("/registrations/NOSUCHREF/visa-letter/issue").status_code == 404
