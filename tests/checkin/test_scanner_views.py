"""The gate scanner's pages: the checkpoint chooser, the scanner page, the manual search, the
badges' tokens for offline manual admission, the service worker and the manifest."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import pytest

from app.auth.models import Role
from app.badges.models import Badge
from app.badges.services import badge_token, public_keys, reissue_badge, verify_token
from app.checkin.services import CheckpointDetails, create_checkpoint
from app.extensions import db
from app.i18n.text import TranslatedText
from tests.badges.factories import make_badge
from tests.registration.factories import make_event, make_type


def make_checkpoint(event, code: str, name: str, *, staff=(), active: bool = True, **values):
    """A checkpoint of the event (flushed) with these gate clerks."""
    return create_checkpoint(
        event,
        CheckpointDetails(
            code=code,
            name=TranslatedText(en=name, id=name),
            kind=values.pop("kind", "entrance"),
            active=active,
            staff_ids=tuple(user.id for user in staff),
            **values,
        ),
        actor=None,
    )


@pytest.fixture
def venue(db, make_user):
    """An event with three checkpoints (one closed), a gate clerk at the entrance, badges."""
    clerk = make_user(roles=[Role.GATE_STAFF], name="Wayan Sudarta")
    event = make_event()
    entrance = make_checkpoint(event, "entrance", "Venue entrance", staff=[clerk])
    make_checkpoint(event, "hall", "Plenary hall", kind="hall")
    make_checkpoint(event, "annex", "Annex door", staff=[clerk], active=False)
    delegates = make_type(event, "delegate", is_free=True, name="Delegate")
    badges = [
        make_badge(event, delegates, given_name="Núria", family_name="Fernández"),
        make_badge(event, delegates, given_name="Ketut", family_name="Arsana"),
        make_badge(event, delegates, given_name="Ngozi", family_name="Okafor"),
    ]
    db.session.commit()
    return {"clerk": clerk, "event": event, "entrance": entrance, "badges": badges}


def login_clerk(auth, venue) -> None:
    """Sign the venue's gate clerk in through the login form."""
    assert auth.login(venue["clerk"].email).status_code == 302


class ScriptTags(HTMLParser):
    """Every <script> tag of a page, with its attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[dict[str, str | None]] = []

    def handle_starttag(self, tag, attrs):
        if tag == "script":
            self.scripts.append(dict(attrs))


# --- the chooser --------------------------------------------------------------------------


def test_gate_staff_choose_among_their_open_checkpoints(client, auth, venue):
    login_clerk(auth, venue)
    page = client.get("/checkin/scanner").get_data(as_text=True)
    assert "Venue entrance" in page
    assert "/checkin/scanner?checkpoint=entrance" in page
    assert "Plenary hall" not in page  # not assigned
    assert "Annex door" not in page  # closed


def test_organisers_choose_among_every_open_checkpoint(client, auth, venue):
    auth.login_as(Role.ORGANISER)
    page = client.get("/checkin/scanner").get_data(as_text=True)
    assert "Venue entrance" in page
    assert "Plenary hall" in page
    assert "Annex door" not in page


def test_gate_staff_without_a_checkpoint_are_told_to_ask_an_organiser(client, auth, venue):
    auth.login_as(Role.GATE_STAFF)
    page = client.get("/checkin/scanner").get_data(as_text=True)
    assert "You are not assigned to any open checkpoint" in page


def test_the_scanner_is_for_gate_staff_and_organisers_only(client, auth, venue):
    assert client.get("/checkin/scanner").status_code == 302  # to the sign-in page
    auth.login_as(Role.DELEGATE)
    assert client.get("/checkin/scanner?checkpoint=entrance").status_code == 403


# --- the scanner page ---------------------------------------------------------------------


def test_the_scanner_page_carries_its_settings_texts_and_no_inline_script(client, auth, venue):
    login_clerk(auth, venue)
    response = client.get("/checkin/scanner?checkpoint=entrance")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert re.search(r'<meta name="csrf-token" content="[^"]+">', page)
    assert 'data-checkpoint="entrance"' in page
    assert 'rel="manifest" href="/checkin/manifest.webmanifest"' in page
    assert "Hardware scanner / type the code" in page
    assert "No scans waiting to upload" in page

    parser = ScriptTags()
    parser.feed(page)
    sources = [script.get("src") for script in parser.scripts if script.get("src")]
    assert "/static/vendor/jsqr/jsQR.js" in sources
    assert "/static/js/scanner.js" in sources
    # Scripts come from files; the only other <script> holds data (not executable under a CSP,
    # and carrying the response's nonce all the same).
    inline = [script for script in parser.scripts if not script.get("src")]
    assert [script.pop("nonce") for script in inline] == [
        re.search(r"'nonce-([^']+)'", response.headers["Content-Security-Policy"]).group(1)
    ]
    assert inline == [{"type": "application/json", "id": "scanner-i18n"}]

    strings = json.loads(re.search(r'id="scanner-i18n"[^>]*>(.*?)</script>', page, re.S).group(1))
    assert strings["results"]["already_admitted"] == "Already admitted"
    assert strings["queue_many"] == "{count} scans waiting to upload"
    assert "%(role)s" in strings["reasons"]["role_refused"]
    assert strings["roles"]["press"] == "Press"

    assets = re.search(r'data-offline-assets="([^"]+)"', page).group(1)
    assert "/static/js/scanner-token.js" in json.loads(assets.replace("&#34;", '"'))


def test_a_clerk_cannot_open_a_checkpoint_they_are_not_assigned_to(client, auth, venue):
    login_clerk(auth, venue)
    response = client.get("/checkin/scanner?checkpoint=hall")
    assert response.status_code == 403
    assert "You are not assigned to this checkpoint." in response.get_data(as_text=True)


@pytest.mark.parametrize("code", ["nowhere", "annex", "x" * 200, "<script>"])
def test_unknown_or_closed_checkpoints_are_not_found(client, auth, venue, code):
    auth.login_as(Role.ORGANISER)
    response = client.get("/checkin/scanner", query_string={"checkpoint": code})
    assert response.status_code == 404
    assert "There is no open checkpoint with this code." in response.get_data(as_text=True)


# --- manual search ------------------------------------------------------------------------


def _search(client, query: str, checkpoint: str = "entrance"):
    return client.get("/checkin/search", query_string={"q": query, "checkpoint": checkpoint})


def test_search_finds_by_name_without_accents_and_gives_the_current_token(client, auth, venue):
    login_clerk(auth, venue)
    response = _search(client, "nuria fernandez")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    (found,) = response.get_json()["results"]
    badge = venue["badges"][0]
    assert found["badge_id"] == badge.id
    assert found["name"] == "Núria Fernández"
    assert found["badge_number"] == badge.number
    assert found["category"] == "Delegate"
    assert found["country"] == "NG"
    assert found["country_name"] == "Nigeria"
    assert found["token"] == badge_token(db.session.get(Badge, badge.id))
    verified, _header, reason = verify_token(venue["event"], found["token"])
    assert reason is None
    assert verified.id == badge.id


def test_search_finds_a_badge_number_typed_loosely(client, auth, venue):
    login_clerk(auth, venue)
    number = venue["badges"][1].number  # e.g. "K7QM-2XHP"
    loose = number.replace("-", " ").lower()
    (found,) = _search(client, loose).get_json()["results"]
    assert found["badge_number"] == number


def test_search_needs_two_letters_and_refuses_a_long_query(client, auth, venue):
    login_clerk(auth, venue)
    assert _search(client, "a").get_json() == {"results": []}
    assert _search(client, "zzzz").get_json() == {"results": []}
    response = _search(client, "a" * 101)
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "query_too_long"


def test_search_and_tokens_only_at_a_checkpoint_the_clerk_holds(client, auth, venue):
    login_clerk(auth, venue)
    assert _search(client, "Ketut", checkpoint="hall").status_code == 403
    assert _search(client, "Ketut", checkpoint="nowhere").status_code == 404
    assert client.get("/checkin/scanner/data.json?checkpoint=hall").status_code == 403


# --- the scanner's data -------------------------------------------------------------------


def test_scanner_data_gives_a_csrf_token_and_every_badges_token(client, auth, venue):
    login_clerk(auth, venue)
    response = client.get("/checkin/scanner/data.json?checkpoint=entrance")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    data = response.get_json()
    assert data["csrf_token"]
    expected = {str(badge.id): badge_token(badge) for badge in venue["badges"]}
    assert data["tokens"] == expected
    # The signing key made for them is kept: the tokens verify with the keys the offline
    # bundle publishes, and the next call signs with the same key.
    assert len(public_keys(venue["event"])) == 1
    again = client.get("/checkin/scanner/data.json?checkpoint=entrance").get_json()
    assert again["tokens"] == expected


def test_scanner_data_sends_the_tokens_again_only_when_they_changed(client, auth, venue):
    login_clerk(auth, venue)
    url = "/checkin/scanner/data.json?checkpoint=entrance"
    first = client.get(url).get_json()
    fingerprint = first["tokens_fingerprint"]
    unchanged = client.get(f"{url}&known={fingerprint}").get_json()
    assert unchanged["csrf_token"]
    assert unchanged["tokens_fingerprint"] == fingerprint
    assert "tokens" not in unchanged

    badge = db.session.get(Badge, venue["badges"][2].id)
    reissue_badge(badge, actor=None)
    db.session.commit()
    changed = client.get(f"{url}&known={fingerprint}").get_json()
    assert changed["tokens_fingerprint"] != fingerprint
    assert changed["tokens"][str(badge.id)] == badge_token(badge)
    assert changed["tokens"][str(badge.id)] != first["tokens"][str(badge.id)]


def test_search_and_data_take_a_constant_number_of_queries(client, auth, venue, count_queries):
    login_clerk(auth, venue)

    def counted(url: str) -> int:
        with count_queries() as counter:
            assert client.get(url).status_code == 200
        return counter.count

    urls = [
        "/checkin/scanner/data.json?checkpoint=entrance",
        "/checkin/search?q=ok&checkpoint=entrance",
    ]
    for url in urls:  # the first call makes (and keeps) the event's signing key
        counted(url)
    before = [counted(url) for url in urls]
    event = venue["event"]
    delegates = make_type(event, "more", is_free=True)
    for _ in range(6):
        make_badge(event, delegates, family_name="Okoro")
    db.session.commit()
    for url in urls:  # the test's own session forgot the signed-in user on commit
        counted(url)
    assert [counted(url) for url in urls] == before


# --- service worker and manifest ----------------------------------------------------------


def test_the_service_worker_is_public_uncached_and_may_control_the_scanner(client):
    response = client.get("/checkin/sw.js")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert response.headers["Service-Worker-Allowed"] == "/checkin/"
    assert response.headers["Cache-Control"] == "no-cache"
    assert "kongres-scanner-" in response.get_data(as_text=True)
    response.close()


def test_the_manifest_describes_an_installable_scanner(client):
    response = client.get("/checkin/manifest.webmanifest")
    assert response.status_code == 200
    assert response.mimetype == "application/manifest+json"
    manifest = response.get_json(force=True)
    assert manifest["start_url"] == "/checkin/scanner"
    assert manifest["scope"] == "/checkin/"
    assert manifest["display"] == "standalone"
    assert manifest["name"] == "Kongres gate scanner"
    for icon in manifest["icons"]:
        image = client.get(icon["src"])
        assert image.status_code == 200
        assert image.mimetype == "image/png"
        image.close()


def test_the_vendored_qr_decoder_is_served_with_its_licence(client):
    for path in ("jsQR.js", "LICENSE", "README.md"):
        response = client.get(f"/static/vendor/jsqr/{path}")
        assert response.status_code == 200, path
        response.close()
