"""The Indonesian catalogue is complete, current and free of fuzzy entries."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

from app.config import PROJECT_ROOT

ID_CATALOGUE = PROJECT_ROOT / "translations" / "id" / "LC_MESSAGES" / "messages.po"


def _read(path: Path):
    with path.open("rb") as handle:
        return read_po(handle)


def _key(message) -> str:
    return message.id if isinstance(message.id, str) else message.id[0]


def test_every_indonesian_entry_is_translated_and_none_is_fuzzy():
    catalogue = _read(ID_CATALOGUE)
    problems = []
    for message in catalogue:
        if not message.id:
            continue
        strings = [message.string] if isinstance(message.string, str) else list(message.string)
        if not all(strings):
            problems.append(f"untranslated: {_key(message)!r}")
        if message.fuzzy:
            problems.append(f"fuzzy: {_key(message)!r}")
    assert problems == []


def test_the_catalogue_holds_every_string_in_the_source(tmp_path):
    """A string added to the code without `flask translate update` fails here."""
    pot = tmp_path / "fresh.pot"
    pybabel = Path(sys.executable).parent / "pybabel"
    subprocess.run(
        [str(pybabel), "extract", "-F", "babel.cfg", "-k", "_l", "-o", str(pot), "."],
        cwd=PROJECT_ROOT,
        check=True,
        capture_output=True,
    )
    in_source = {_key(m) for m in _read(pot) if m.id}
    in_catalogue = {_key(m) for m in _read(ID_CATALOGUE) if m.id}
    assert sorted(in_source - in_catalogue) == []


def test_placeholders_survive_translation():
    import re

    placeholder = re.compile(r"%\(\w+\)[sd]|\{\w+\}")
    catalogue = _read(ID_CATALOGUE)
    problems = []
    for message in catalogue:
        if not message.id:
            continue
        sources = [message.id] if isinstance(message.id, str) else list(message.id)
        allowed = [sorted(placeholder.findall(source)) for source in sources]
        strings = [message.string] if isinstance(message.string, str) else list(message.string)
        # A plural form may drop the number ("Setiap bulan" for "Every month").
        problems += [
            sources[0] for text in strings if sorted(placeholder.findall(text)) not in allowed
        ]
    assert problems == []
