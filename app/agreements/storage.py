"""Agreement document files on disk: PDF checks, safe names, and files tied to transactions.

Files live under UPLOAD_DIR/agreements/ (inside instance/, outside the web root) with random
names; the database row keeps the original name. A file written for a row that is rolled back
is removed again, and a file whose row is deleted goes only once the deletion is committed.
"""

from __future__ import annotations

import hashlib
import io
import re
import unicodedata
import uuid
import warnings
from pathlib import Path, PurePosixPath

from flask import current_app
from pypdf import PdfReader
from sqlalchemy.orm import Session

from app import files

PDF_MAGIC = b"%PDF-"
PDF_SUFFIX = ".pdf"
DEFAULT_MAX_BYTES = 15 * 1024 * 1024
MAX_DISPLAY_NAME = 200
FALLBACK_NAME = "document.pdf"
STORED_NAME_PATTERN = re.compile(r"^[0-9a-f]{32}\.pdf$")


def max_document_bytes() -> int:
    """The largest document accepted (AGREEMENT_DOCUMENT_MAX_BYTES, 15 MiB by default)."""
    return int(current_app.config.get("AGREEMENT_DOCUMENT_MAX_BYTES", DEFAULT_MAX_BYTES))


def document_dir() -> Path:
    """The folder holding agreement documents, created on first use."""
    folder = Path(current_app.config["UPLOAD_DIR"]) / "agreements"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def path_for(stored_name: str) -> Path:
    """Where a stored document lives; refuses names this module did not make."""
    if not STORED_NAME_PATTERN.match(stored_name):
        raise ValueError(f"not a stored document name: {stored_name!r}")
    return document_dir() / stored_name


def is_readable_pdf(data: bytes) -> bool:
    """Whether the bytes are a PDF: the PDF header, and pypdf can parse the file."""
    if not data.startswith(PDF_MAGIC):
        return False
    try:
        # pypdf warns about (and then fails on) malformed files; the verdict is all we need.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reader = PdfReader(io.BytesIO(data))
            # An encrypted PDF parsed this far is a real PDF even if its pages stay locked.
            return reader.is_encrypted or len(reader.pages) > 0
    except Exception:  # pypdf raises many different error types on broken input
        return False


def sha256_hex(data: bytes) -> str:
    """The SHA-256 digest of the bytes, in hex."""
    return hashlib.sha256(data).hexdigest()


def display_filename(filename: str | None) -> str:
    """An uploaded file's name made safe to show and to offer for download.

    Keeps the person's own words (accents included) but drops folders, control characters
    and quotes, and always ends in ".pdf".
    """
    name = PurePosixPath((filename or "").replace("\\", "/")).name
    name = unicodedata.normalize("NFC", name)
    name = "".join(
        " " if unicodedata.category(char).startswith(("C", "Z")) else char for char in name
    )
    name = re.sub(r"\s+", " ", name.replace('"', "").replace(";", " ")).strip()
    stem = name[: -len(PDF_SUFFIX)] if name.lower().endswith(PDF_SUFFIX) else name
    stem = stem.strip(" .")[: MAX_DISPLAY_NAME - len(PDF_SUFFIX)].rstrip(" .")
    return f"{stem}{PDF_SUFFIX}" if stem else FALLBACK_NAME


def new_stored_name() -> str:
    """A random file name that reveals nothing and cannot collide in practice."""
    return f"{uuid.uuid4().hex}{PDF_SUFFIX}"


def write_document(session: Session, stored_name: str, data: bytes) -> Path:
    """Write a document's bytes; the file is removed again if the session rolls back."""
    return files.write_file(session, path_for(stored_name), data)


def remove_document_after_commit(session: Session, stored_name: str) -> None:
    """Delete a document's file once the deletion of its row is committed (not before)."""
    files.delete_after_commit(session, path_for(stored_name))
