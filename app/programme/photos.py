"""Speaker photos on disk: checked and re-encoded with Pillow, stored under random names.

An upload is never kept as sent: Pillow verifies it, then it is decoded, shrunk to at most
800 pixels a side and written again as a plain JPEG, which drops anything hidden in the file
(metadata, scripts in polyglot files). Files live in <instance>/speaker_photos/ (outside the
web root) and follow the transaction like agreement documents (app.files).
"""

from __future__ import annotations

import io
import re
import uuid
import warnings
from pathlib import Path

from flask import current_app
from flask_babel import lazy_gettext as _l
from PIL import Image, ImageOps, UnidentifiedImageError

from app import files
from app.errors import DomainError
from app.extensions import db

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
MAX_SIDE = 800
ACCEPTED_FORMATS = frozenset({"JPEG", "PNG", "WEBP"})
JPEG_QUALITY = 85
# Refuse decompression bombs well before Pillow's own (warning-only) limit.
MAX_PIXELS = 40_000_000
STORED_NAME_PATTERN = re.compile(r"^[0-9a-f]{32}\.jpg$")


class PhotoError(DomainError):
    """An uploaded photo was refused."""


def photo_dir() -> Path:
    """The folder holding speaker photos, created on first use."""
    folder = Path(current_app.instance_path) / "speaker_photos"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def path_for(stored_name: str) -> Path:
    """Where a stored photo lives; refuses names this module did not make."""
    if not STORED_NAME_PATTERN.match(stored_name):
        raise ValueError(f"not a stored photo name: {stored_name!r}")
    return photo_dir() / stored_name


def _refused() -> PhotoError:
    """The one message for anything that is not a usable picture."""
    return PhotoError(
        _l("Upload a photo as a JPEG, PNG or WebP image."), "invalid_photo", field="photo"
    )


def reencode(data: bytes) -> bytes:
    """The upload as a JPEG of at most MAX_SIDE pixels a side; refuses what is not a picture."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise PhotoError(
            _l("The photo is too large: upload at most %(size)d MB.", size=5),
            "photo_too_large",
            field="photo",
        )
    try:
        with warnings.catch_warnings():
            # Pillow warns about odd but readable files; the checks below decide.
            warnings.simplefilter("ignore")
            with Image.open(io.BytesIO(data)) as probe:
                if probe.format not in ACCEPTED_FORMATS:
                    raise _refused()
                if probe.width * probe.height > MAX_PIXELS:
                    raise _refused()
                probe.verify()
            # verify() leaves the image unusable: decode it again from the start.
            with Image.open(io.BytesIO(data)) as image:
                image.load()
                picture = ImageOps.exif_transpose(image).convert("RGB")
    except PhotoError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        raise _refused() from None
    picture.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
    output = io.BytesIO()
    picture.save(output, "JPEG", quality=JPEG_QUALITY, optimize=True)
    return output.getvalue()


def store_photo(data: bytes) -> str:
    """Check, re-encode and write an upload under a new random name, which is returned; the
    file goes again if the transaction rolls back."""
    encoded = reencode(data)
    stored_name = f"{uuid.uuid4().hex}.jpg"
    files.write_file(db.session, path_for(stored_name), encoded)
    return stored_name


def remove_photo_after_commit(stored_name: str) -> None:
    """Delete a photo's file once the change that drops it is committed."""
    files.delete_after_commit(db.session, path_for(stored_name))


def existing_path(stored_name: str | None) -> Path | None:
    """The photo's file when it is there, else None."""
    if not stored_name or not STORED_NAME_PATTERN.match(stored_name):
        return None
    path = photo_dir() / stored_name
    return path if path.is_file() else None
