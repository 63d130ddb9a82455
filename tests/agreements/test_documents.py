"""Agreement documents: only real PDFs within the size limit, stored safely, served to readers."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest

from app.agreements import services, storage
from app.agreements.models import (
    Agreement,
    AgreementDocument,
    AgreementHistory,
    AgreementStatus,
)
from app.agreements.services import AgreementError
from app.auth.models import Role
from app.extensions import db as _db
from tests.agreements.factories import (
    count_rows,
    make_agreement,
    make_partner,
    make_scope_area,
    pdf_bytes,
)


def _document_files(app) -> list[Path]:
    folder = Path(app.config["UPLOAD_DIR"]) / "agreements"
    return sorted(folder.iterdir()) if folder.exists() else []


@pytest.fixture(autouse=True)
def _no_leftover_files(app):
    """Each test starts and ends with an empty document folder."""
    for path in _document_files(app):
        path.unlink()
    yield
    for path in _document_files(app):
        path.unlink()


@pytest.fixture
def agreement_id(app) -> int:
    """A committed agreement to attach documents to."""
    with app.test_request_context():
        partner = make_partner("Perkumpulan Keluarga Berencana Indonesia", "PKBI")
        area = make_scope_area("Health and counselling", "Kesehatan dan konseling")
        agreement = make_agreement([partner], [area])
        _db.session.commit()
        return agreement.id


def _upload(client, agreement_id: int, data: bytes, filename: str = "signed.pdf"):
    return client.post(
        f"/agreements/{agreement_id}/documents/new",
        data={"file": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
    )


def _counts(app) -> tuple[int, int]:
    with app.app_context():
        return count_rows(AgreementDocument), len(_document_files(app))


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(b"Perjanjian kerja sama, plain text renamed to .pdf\n", id="text-file"),
        pytest.param(b"%PDF-1.7\n1 0 obj << /Type /Catalog >>\nbroken", id="broken-pdf"),
        pytest.param(pdf_bytes()[:300], id="truncated-pdf"),
    ],
)
def test_a_file_that_is_not_a_readable_pdf_is_refused(app, client, auth, agreement_id, content):
    auth.login_as(Role.REGISTRY_OFFICER)
    response = _upload(client, agreement_id, content, "PKS ICJR.pdf")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "This file is not a readable PDF." in page
    assert _counts(app) == (0, 0)
    with app.app_context():
        assert count_rows(AgreementHistory) == 1  # only "created"


def test_a_valid_pdf_is_stored_with_a_random_name_and_its_details(app, client, auth, agreement_id):
    officer = auth.login_as(Role.REGISTRY_OFFICER)
    content = pdf_bytes(pages=2)
    response = _upload(client, agreement_id, content, "scans/PKS “Lele” 2025.PDF")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/agreements/{agreement_id}#documents")

    (stored,) = _document_files(app)
    assert stored.read_bytes() == content
    with app.app_context():
        document = _db.session.query(AgreementDocument).one()
        assert document.stored_name == stored.name
        assert storage.STORED_NAME_PATTERN.match(document.stored_name)
        assert document.original_filename == "PKS “Lele” 2025.pdf"
        assert document.size_bytes == len(content)
        assert document.sha256 == hashlib.sha256(content).hexdigest()
        assert document.uploaded_by_id == officer.id

    page = client.get(f"/agreements/{agreement_id}").get_data(as_text=True)
    assert "PKS “Lele” 2025.pdf" in page


def test_readers_download_and_others_are_refused(app, client, auth, agreement_id):
    auth.login_as(Role.REGISTRY_OFFICER)
    content = pdf_bytes()
    _upload(client, agreement_id, content, "PKS ICJR.pdf")
    with app.app_context():
        document_id = _db.session.query(AgreementDocument.id).scalar()
    url = f"/agreements/{agreement_id}/documents/{document_id}"

    for role in (Role.REGISTRY_OFFICER, Role.ORGANISER, Role.ADMIN):
        auth.logout()
        auth.login_as(role)
        response = client.get(url)
        assert response.status_code == 200, role
        assert response.data == content
        assert response.mimetype == "application/pdf"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Content-Disposition"].startswith("attachment;")
        assert "PKS ICJR.pdf" in response.headers["Content-Disposition"]
        response.close()

    for role in (Role.GATE_STAFF, Role.DELEGATE):
        auth.logout()
        auth.login_as(role)
        assert client.get(url).status_code == 403, role

    auth.logout()
    response = client.get(url)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")

    # A document is reached only through its own agreement.
    auth.login_as(Role.ORGANISER)
    assert client.get(f"/agreements/{agreement_id + 1}/documents/{document_id}").status_code == 404


def test_organisers_cannot_upload_or_delete(app, client, auth, agreement_id):
    auth.login_as(Role.ORGANISER)
    assert _upload(client, agreement_id, pdf_bytes()).status_code == 403
    assert _counts(app) == (0, 0)


def test_a_file_over_the_limit_is_refused(app, client, auth, agreement_id, monkeypatch):
    content = pdf_bytes()
    monkeypatch.setitem(app.config, "AGREEMENT_DOCUMENT_MAX_BYTES", len(content) - 1)
    auth.login_as(Role.REGISTRY_OFFICER)
    response = _upload(client, agreement_id, content)
    assert response.status_code == 200
    assert "The file is too large" in response.get_data(as_text=True)
    assert _counts(app) == (0, 0)


def test_a_request_over_the_upload_ceiling_gets_413(app, client, auth, agreement_id, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 1024)
    auth.login_as(Role.REGISTRY_OFFICER)
    response = _upload(client, agreement_id, pdf_bytes() + b" " * 2048)
    assert response.status_code == 413
    assert _counts(app) == (0, 0)


def test_an_empty_upload_is_refused(app, client, auth, agreement_id):
    auth.login_as(Role.REGISTRY_OFFICER)
    response = _upload(client, agreement_id, b"")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Choose a PDF file to upload." in page or "The file is empty." in page
    assert _counts(app) == (0, 0)


def test_the_file_goes_when_the_transaction_is_rolled_back(app, agreement_id):
    with app.test_request_context():
        agreement = _db.session.get(Agreement, agreement_id)
        services.upload_document(agreement, filename="x.pdf", data=pdf_bytes(), actor=None)
        assert len(_document_files(app)) == 1
        _db.session.rollback()
    assert _counts(app) == (0, 0)


def test_deleting_asks_for_confirmation_then_removes_row_and_file(app, client, auth, agreement_id):
    auth.login_as(Role.REGISTRY_OFFICER)
    _upload(client, agreement_id, pdf_bytes(), "old scan.pdf")
    with app.app_context():
        document_id = _db.session.query(AgreementDocument.id).scalar()
    url = f"/agreements/{agreement_id}/documents/{document_id}/delete"

    confirmation = client.get(url)
    assert confirmation.status_code == 200
    assert "old scan.pdf" in confirmation.get_data(as_text=True)
    assert _counts(app) == (1, 1)

    response = client.post(url)
    assert response.status_code == 302
    assert _counts(app) == (0, 0)
    with app.app_context():
        actions = [entry.action for entry in _db.session.query(AgreementHistory)]
    assert sorted(actions) == ["created", "document_deleted", "document_uploaded"]


def test_a_failed_deletion_keeps_the_file(app, agreement_id):
    with app.test_request_context():
        agreement = _db.session.get(Agreement, agreement_id)
        services.upload_document(agreement, filename="x.pdf", data=pdf_bytes(), actor=None)
        _db.session.commit()
        document = _db.session.query(AgreementDocument).one()
        services.delete_document(document, actor=None)
        _db.session.rollback()
    assert _counts(app) == (1, 1)


@pytest.mark.parametrize(
    ("uploaded", "shown"),
    [
        ("../../etc/passwd", "passwd.pdf"),
        ("C:\\Users\\hilal\\PKS.pdf", "PKS.pdf"),
        ('a"b;\r\nc.PDF', "ab c.pdf"),
        ("", "document.pdf"),
        ("...pdf", "document.pdf"),
        (" .hidden ", "hidden.pdf"),
        ("Perjanjian Kerja Sama – Dukcapil.pdf", "Perjanjian Kerja Sama – Dukcapil.pdf"),
        ("x" * 300 + ".pdf", "x" * 196 + ".pdf"),
    ],
)
def test_original_filenames_are_made_safe(uploaded, shown):
    assert storage.display_filename(uploaded) == shown


def test_only_pdf_content_passes_the_check():
    assert storage.is_readable_pdf(pdf_bytes())
    assert not storage.is_readable_pdf(b"%PDF-")
    assert not storage.is_readable_pdf(b"GIF89a")
    with pytest.raises(ValueError, match="not a stored document name"):
        storage.path_for("../secret.pdf")


def test_the_service_refuses_before_writing(app, agreement_id):
    with app.test_request_context():
        agreement = _db.session.get(Agreement, agreement_id)
        with pytest.raises(AgreementError) as refused:
            services.upload_document(agreement, filename="a.pdf", data=b"hello", actor=None)
        assert refused.value.code == "not_a_pdf"
        assert refused.value.field == "file"
    assert _counts(app) == (0, 0)


def test_deleting_a_draft_removes_its_files_once_committed(app, client, auth):
    with app.test_request_context():
        partner = make_partner("Yayasan Srikandi Merah Putih")
        area = make_scope_area("Education", "Pendidikan")
        draft = make_agreement([partner], [area], status=AgreementStatus.DRAFT)
        for name in ("first.pdf", "second.pdf"):
            services.upload_document(draft, filename=name, data=pdf_bytes(), actor=None)
        _db.session.commit()
        draft_id = draft.id
    assert _counts(app) == (2, 2)

    # A deletion that is rolled back keeps the files.
    with app.test_request_context():
        services.delete_agreement(_db.session.get(Agreement, draft_id), actor=None)
        _db.session.rollback()
    assert _counts(app) == (2, 2)

    auth.login_as(Role.REGISTRY_OFFICER)
    response = client.post(f"/agreements/{draft_id}/delete")
    assert response.status_code == 302
    assert _counts(app) == (0, 0)
    with app.app_context():
        assert count_rows(Agreement) == 0
