"""The gate scanner: the checkpoint chooser, the scanner page (an offline-first web app), its
service worker and manifest, and the manual search for damaged badges.

The scanner decides scans through the check-in API (app/checkin/api.py) when online and on the
phone, from the offline bundle, when not; these routes give it its page and what the API does
not: the badges' tokens for manual admission and a fresh CSRF token for a page open all day.
"""

from __future__ import annotations

import hashlib
import unicodedata
from pathlib import Path
from typing import Any

from flask import current_app, jsonify, render_template, request, send_from_directory, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from sqlalchemy import select

from app.auth.access import PUBLIC, allow
from app.auth.models import Role
from app.badges.models import BADGE_ROLE_LABELS, Badge
from app.badges.services import badge_tokens, holders, load_badges, signing_key
from app.checkin.models import CHECKPOINT_KIND_LABELS, Checkpoint
from app.checkin.services import (
    REASON_MESSAGES,
    CheckinAccessError,
    CheckinError,
    check_scanner_access,
    checkpoint_by_code,
    scanner_checkpoints,
)
from app.checkin.views import bp
from app.errors import abort_with, api_error_body
from app.events.models import Event
from app.events.services import current_event
from app.extensions import db
from app.registration.models import Registration

SCANNER_ROLES = (Role.GATE_STAFF, Role.ORGANISER, Role.ADMIN)
SEARCH_MIN_LENGTH = 2
SEARCH_MAX_LENGTH = 100
SEARCH_LIMIT = 20
NO_STORE = {"Cache-Control": "no-store"}


def _event() -> Event:
    """The current event, or 404 when there is none."""
    event = current_event()
    if event is None:
        abort_with(404, _("There is no congress to check in to yet."))
    return event


def _open_checkpoints(event: Event) -> list[Checkpoint]:
    """The open checkpoints the current user may scan at, by name."""
    open_ones = [c for c in scanner_checkpoints(event, current_user) if c.active]
    return sorted(
        open_ones, key=lambda checkpoint: (checkpoint.name.get().casefold(), checkpoint.id)
    )


def _checkpoint(event: Event, code: str | None) -> Checkpoint:
    """The open checkpoint named in the request, if the current user may scan there
    (404 for an unknown or closed one, 403 where the user is not assigned)."""
    try:
        checkpoint = checkpoint_by_code(event, code or "")
    except CheckinError:
        checkpoint = None
    if checkpoint is None or not checkpoint.active:
        abort_with(404, _("There is no open checkpoint with this code."))
    try:
        check_scanner_access(checkpoint, device=None, user=current_user)
    except CheckinAccessError as error:
        abort_with(403, error.message)
    return checkpoint


def _fold(text: str) -> str:
    """Text compared without case or accents ("Ñúñez" finds "nunez")."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    return "".join(char for char in decomposed if not unicodedata.combining(char)).casefold()


def _compact(text: str) -> str:
    """Only the letters and digits, so that "k7qm 2xhp" finds "K7QM-2XHP"."""
    return "".join(char for char in _fold(text) if char.isalnum())


def scanner_strings() -> dict[str, Any]:
    """Every text the scanner script shows, in the current language (placeholders in braces)."""
    return {
        "online": _("Online"),
        "offline": _("Offline: badges are checked on this phone"),
        "no_bundle": _("No badge list on this phone yet"),
        "bundle_age": _("Badge list of {count} from {time}"),
        "queue_none": _("No scans waiting to upload"),
        "queue_one": _("1 scan waiting to upload"),
        "queue_many": _("{count} scans waiting to upload"),
        "session_ended": _("Your session has ended: sign in again to upload the waiting scans."),
        "no_ed25519": _("This browser cannot check badge signatures: it works only while online."),
        "camera_starting": _("Starting the camera…"),
        "camera_hint": _("Hold the badge's QR code inside the frame."),
        "camera_refused": _(
            "The camera could not be opened. Allow camera access, or use the hardware scanner "
            "field or the search below."
        ),
        "camera_unavailable": _("This browser has no camera access. Use the fields below."),
        "decided_offline": _("Checked on this phone (offline); it will be uploaded later."),
        "conflicts": _(
            "{count} badge(s) admitted on this phone offline had already been admitted "
            "elsewhere: the organisers see them in the conflicts list."
        ),
        "first_admitted": _("First admitted at {time} at {checkpoint}."),
        "not_in_bundle": _("Signed badge, not yet in this phone's list"),
        "search_found": _("{count} found"),
        "search_none": _("Nobody found for “{query}”."),
        "admit": _("Admit"),
        "admit_name": _("Admit {name}"),
        "results": {
            "admitted": _("Admitted"),
            "already_admitted": _("Already admitted"),
            "revoked": _("Revoked"),
            "invalid": _("Invalid"),
            "not_allowed": _("Not allowed"),
        },
        "messages": {
            "admitted": _("Welcome."),
            "already_admitted": _("This badge has already been admitted here today."),
            "revoked": _("This badge has been revoked."),
            "invalid": _("This is not a valid badge."),
            "not_allowed": _("This badge does not open this door."),
        },
        # The check-in rules' own sentences (role_refused names the role: "%(role)s"), and
        # what only a phone deciding offline can say.
        "reasons": {
            **{reason: str(message) for reason, message in REASON_MESSAGES.items()},
            "cannot_verify": _("This phone cannot check the badge's signature offline."),
            "no_bundle": _(
                "No badge list on this phone yet: connect to the network once to download it."
            ),
            "scanner_error": _("The scan could not be checked. Please try again."),
        },
        "roles": {str(role): str(label) for role, label in BADGE_ROLE_LABELS.items()},
        "labels": {
            "country": _("Country"),
            "category": _("Category"),
            "organisation": _("Organisation"),
            "badge_number": _("Badge number"),
        },
    }


def _service_worker_scope() -> str:
    """The path the service worker controls: the folder it is served from (/checkin/)."""
    return url_for("checkin.service_worker").rsplit("/", 1)[0] + "/"


@bp.get("/checkin/scanner")
@allow(*SCANNER_ROLES)
def scanner() -> Any:
    """The checkpoint chooser, or the scanner at the checkpoint given by ?checkpoint=."""
    event = _event()
    code = request.args.get("checkpoint")
    if not code:
        return render_template(
            "checkin/scanner_choose.html",
            checkpoints=_open_checkpoints(event),
            kind_labels=CHECKPOINT_KIND_LABELS,
        )
    checkpoint = _checkpoint(event, code)
    offline_assets = [
        url_for("checkin.scanner"),
        url_for("static", filename="vendor/jsqr/jsQR.js"),
        url_for("static", filename="js/scanner-store.js"),
        url_for("static", filename="js/scanner-token.js"),
        url_for("static", filename="img/scanner-icon-192.png"),
        url_for("static", filename="img/scanner-icon-512.png"),
    ]
    return render_template(
        "checkin/scanner.html",
        event=event,
        checkpoint=checkpoint,
        kind_labels=CHECKPOINT_KIND_LABELS,
        strings=scanner_strings(),
        offline_assets=offline_assets,
        service_worker_scope=_service_worker_scope(),
    )


def _tokens_fingerprint(event: Event) -> str:
    """A short digest of everything the event's badge tokens are made of (badges, versions,
    roles, categories, valid days, signing key): the same digest, the same tokens."""
    key = signing_key(event)
    rows = db.session.execute(
        select(
            Badge.id,
            Badge.version,
            Badge.role,
            Badge.valid_from,
            Badge.valid_to,
            Registration.registration_type_id,
        )
        .join(Registration, Badge.registration_id == Registration.id)
        .where(Badge.event_id == event.id)
        .order_by(Badge.id)
    )
    digest = hashlib.sha256(f"{key.id}|{event.starts_on}".encode())
    for row in rows:
        digest.update(("|" + ",".join(map(str, row))).encode())
    return digest.hexdigest()[:32]


@bp.get("/checkin/scanner/data.json")
@allow(*SCANNER_ROLES)
def scanner_data() -> Any:
    """A fresh CSRF token and every badge's current token (for admitting by manual search
    while offline) for the scanner at a checkpoint; the tokens only when they changed since
    the fingerprint the scanner sends as ?known= (50 scanners polling need not re-sign them)."""
    event = _event()
    _checkpoint(event, request.args.get("checkpoint"))
    fingerprint = _tokens_fingerprint(event)
    body: dict[str, Any] = {"csrf_token": generate_csrf(), "tokens_fingerprint": fingerprint}
    if request.args.get("known") != fingerprint:
        badge_ids = db.session.scalars(select(Badge.id).where(Badge.event_id == event.id))
        tokens = badge_tokens(load_badges(badge_ids))
        body["tokens"] = {str(badge_id): token for badge_id, token in tokens.items()}
    db.session.commit()  # the event's signing key, made on first use
    return jsonify(body), 200, NO_STORE


@bp.get("/checkin/search")
@allow(*SCANNER_ROLES)
def search_badges() -> Any:
    """Badges whose holder's name or badge number matches ?q=, with their current token, for
    admitting a delegate whose badge will not scan (JSON)."""
    event = _event()
    _checkpoint(event, request.args.get("checkpoint"))
    query = (request.args.get("q") or "").strip()
    if len(query) > SEARCH_MAX_LENGTH:
        message = _("Search for at most %(count)d characters.", count=SEARCH_MAX_LENGTH)
        return jsonify(api_error_body("query_too_long", message)), 400
    wanted, wanted_number = _fold(" ".join(query.split())), _compact(query)
    found = []
    if len(wanted) >= SEARCH_MIN_LENGTH:
        for holder in holders(event):
            number_matches = len(wanted_number) >= 3 and wanted_number in _compact(holder.number)
            if wanted in _fold(holder.name) or number_matches:
                found.append(holder)
                if len(found) == SEARCH_LIMIT:
                    break
    tokens = badge_tokens(load_badges(holder.badge_id for holder in found))
    db.session.commit()  # the event's signing key, made on first use
    results = [
        {
            "badge_id": holder.badge_id,
            "badge_number": holder.number,
            "name": holder.name,
            "country": holder.country,
            "country_name": holder.country_name,
            "category": holder.category,
            "organisation": holder.organisation,
            "role": holder.role.value,
            "token": tokens.get(holder.badge_id),
        }
        for holder in found
    ]
    return jsonify({"results": results}), 200, NO_STORE


@bp.get("/checkin/sw.js")
@allow(PUBLIC)
def service_worker() -> Any:
    """The scanner's service worker, served from /checkin/ so that it may control the scanner."""
    folder = Path(current_app.static_folder or "") / "js"
    response = send_from_directory(
        folder, "scanner-sw.js", mimetype="text/javascript", max_age=0, conditional=True
    )
    response.headers["Service-Worker-Allowed"] = _service_worker_scope()
    # A new version of the worker must reach the phones at once.
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/checkin/manifest.webmanifest")
@allow(PUBLIC)
def manifest() -> Any:
    """The web app manifest: the scanner installs on a phone's home screen."""
    body = {
        "name": _("Kongres gate scanner"),
        "short_name": _("Scanner"),
        "description": _("Scan delegates' badges at the venue and session doors, even offline."),
        "start_url": url_for("checkin.scanner"),
        "scope": _service_worker_scope(),
        "display": "standalone",
        "orientation": "portrait",
        "background_color": "#14202b",
        "theme_color": "#0b5563",
        "icons": [
            {
                "src": url_for("static", filename=f"img/scanner-icon-{size}.png"),
                "sizes": f"{size}x{size}",
                "type": "image/png",
                "purpose": "any maskable",
            }
            for size in (192, 512)
        ],
    }
    response = jsonify(body)
    response.mimetype = "application/manifest+json"
    response.headers["Cache-Control"] = "no-cache"
    return response
