"""`flask translate extract|update|compile`, wrapping pybabel."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click
from flask.cli import AppGroup

from app.config import PROJECT_ROOT

translate_group = AppGroup("translate", help="Translation catalogue commands (pybabel).")
POT = PROJECT_ROOT / "translations" / "messages.pot"


def _pybabel(*args: str) -> None:
    """Run pybabel from the project root, failing loudly."""
    command = [str(Path(sys.executable).parent / "pybabel"), *args]
    result = subprocess.run(command, cwd=PROJECT_ROOT, check=False)  # noqa: S603
    if result.returncode != 0:
        raise click.ClickException(f"pybabel {args[0]} failed")


@translate_group.command("extract")
def extract() -> None:
    """Collect every translatable string into translations/messages.pot."""
    _pybabel(
        "extract",
        "-F",
        "babel.cfg",
        "-k",
        "_l",
        "--no-location",
        "--sort-output",
        "-o",
        str(POT),
        ".",
    )


@translate_group.command("update")
def update() -> None:
    """Extract, then merge new strings into every catalogue."""
    extract.callback()
    _pybabel(
        "update", "-i", str(POT), "-d", "translations", "--no-fuzzy-matching", "--ignore-obsolete"
    )


@translate_group.command("compile")
def compile_catalogues() -> None:
    """Build the .mo files the application reads."""
    _pybabel("compile", "-d", "translations", "--statistics")
