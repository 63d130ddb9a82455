"""A gate clerk scans badges in Chromium: a badge QR fed to Chromium's fake camera is admitted,
then "already admitted" with the first time and gate; offline, three badges (one revoked by a
reissue) get the right answers on the phone, wait in IndexedDB, and upload when the network
returns, leaving exactly two admissions. The page's token reader agrees with the server's."""

from __future__ import annotations

import io
import re
import threading
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
import segno
from PIL import Image
from playwright.sync_api import Page, expect
from sqlalchemy import func, select
from werkzeug.serving import make_server

from app.auth.models import Role, User
from app.badges.services import badge_token, public_keys, reissue_badge
from app.badges.tokens import read_header
from app.checkin.models import Admission, Scan
from app.checkin.services import CheckpointDetails, create_checkpoint, record_scan
from app.events.services import current_event
from app.extensions import db
from app.i18n.text import TranslatedText
from app.registration.services import event_today
from tests.badges.factories import make_badge
from tests.conftest import CHROMIUM, CHROMIUM_ARGS, TEST_PASSWORD, free_port
from tests.registration.factories import make_event, make_type

pytestmark = pytest.mark.browser

FRAME_SIZE = (640, 480)
FRAMES = 10
# Long enough for a bundle request and the first decodes on a slow machine.
SCAN_TIMEOUT_MS = 20_000


@dataclass(frozen=True)
class Gate:
    """The test's congress: a gate clerk at the venue entrance and badge tokens by holder."""

    clerk_email: str
    tokens: dict[str, str]


@pytest.fixture
def gate(app, make_user) -> Gate:
    """A congress running today, the venue entrance with its clerk, and three delegates' badges;
    Chen's badge was lost and reissued, so the token printed first is revoked."""
    clerk = make_user(roles=[Role.GATE_STAFF], name="Wayan Sudarta")
    with app.test_request_context(headers={"Accept-Language": "en"}):
        today = event_today()
        event = make_event(starts_on=today, ends_on=today + timedelta(days=3))
        create_checkpoint(
            event,
            CheckpointDetails(
                code="entrance",
                name=TranslatedText(en="Venue entrance", id="Pintu masuk venue"),
                kind="entrance",
                staff_ids=(clerk.id,),
            ),
            actor=None,
        )
        delegates = make_type(event, "delegate", is_free=True, name="Delegate")
        tokens = {}
        for given, family, country in [
            ("Amara", "Okonkwo", "NG"),
            ("Lena", "Hartmann", "DE"),
            ("Chen", "Wei", "SG"),
        ]:
            badge = make_badge(
                event, delegates, given_name=given, family_name=family, nationality=country
            )
            tokens[given] = badge_token(badge)
        reissue_badge(badge, actor=None)
        db.session.commit()
    return Gate(clerk_email=clerk.email, tokens=tokens)


def count(app, model) -> int:
    """Rows in a table, seen from the test."""
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def sign_in_and_open_scanner(page: Page, email: str) -> None:
    """Sign in through the login form, choose the entrance and wait for its badge list."""
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).not_to_have_url(re.compile(r"/login"))
    page.goto("/checkin/scanner")
    page.get_by_role("link", name=re.compile("Venue entrance")).click()
    expect(page.get_by_role("heading", name="Venue entrance")).to_be_visible()
    expect(page.locator("#scanner")).to_have_attribute("data-ready", "true")
    expect(page.locator("#scanner-bundle-age")).to_contain_text("Badge list of 3")


def write_y4m(png: bytes, path: Path) -> Path:
    """A YUV4MPEG2 video (Chromium's fake camera loops it) showing a picture, centred."""
    width, height = FRAME_SIZE
    picture = Image.open(io.BytesIO(png)).convert("L")
    frame = Image.new("L", FRAME_SIZE, 235)
    frame.paste(picture, ((width - picture.width) // 2, (height - picture.height) // 2))
    luma = frame.tobytes()
    chroma = bytes([128]) * ((width // 2) * (height // 2))  # no colour: grey U and V planes
    with path.open("wb") as video:
        video.write(f"YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\n".encode("ascii"))
        for _ in range(FRAMES):
            video.write(b"FRAME\n" + luma + chroma + chroma)
    return path


def badge_qr_png(token: str) -> bytes:
    """The badge's QR as its PDF prints it (error correction M, a wide quiet zone)."""
    out = io.BytesIO()
    segno.make(token, error="m", micro=False).save(out, kind="png", scale=8, border=4)
    return out.getvalue()


@pytest.fixture
def camera_browser(browser, gate: Gate, tmp_path: Path):
    """A second Chromium whose fake camera films Amara's badge."""
    video = write_y4m(badge_qr_png(gate.tokens["Amara"]), tmp_path / "badge.y4m")
    chromium = browser.browser_type.launch(
        executable_path=CHROMIUM,
        headless=True,
        args=[
            *CHROMIUM_ARGS,
            "--use-fake-ui-for-media-stream",
            "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-video-capture={video}",
        ],
    )
    yield chromium
    chromium.close()


def test_a_badge_in_front_of_the_camera_is_admitted_then_already_admitted(
    app, live_server, camera_browser, gate
):
    context = camera_browser.new_context(
        base_url=live_server, locale="en-GB", viewport={"width": 390, "height": 844}
    )
    context.set_default_timeout(10_000)
    context.grant_permissions(["camera"], origin=live_server)
    page = context.new_page()
    try:
        sign_in_and_open_scanner(page, gate.clerk_email)
        page.get_by_label("Rapid mode").uncheck()  # keep each answer until "Scan next"
        page.get_by_role("button", name="Start camera").click()

        result = page.locator("#scan-result")
        expect(result).to_have_attribute("data-result", "admitted", timeout=SCAN_TIMEOUT_MS)
        expect(result).to_contain_text("Admitted")
        expect(result).to_contain_text("Amara Okonkwo")
        expect(result).to_contain_text("Nigeria")
        expect(result).to_contain_text("Delegate")
        expect(page.locator("#scan-result-source")).to_be_hidden()  # the server answered

        # The badge is still in front of the camera: read again after the pause, not at once.
        page.get_by_role("button", name="Scan next").click()
        expect(result).to_be_hidden()
        expect(result).to_have_attribute("data-result", "already_admitted", timeout=SCAN_TIMEOUT_MS)
        expect(result).to_contain_text("Already admitted")
        expect(page.locator("#scan-result-first")).to_have_text(
            re.compile(r"First admitted at \d\d:\d\d at Venue entrance\.")
        )
        page.get_by_role("button", name="Scan next").click()
        page.get_by_role("button", name="Stop camera").click()
    finally:
        context.close()

    assert count(app, Admission) == 1
    assert count(app, Scan) == 2


def scan_typed(page: Page, token: str) -> None:
    """Scan a code the way a hardware (keyboard-wedge) scanner does: type it, press Enter."""
    field = page.get_by_label("Badge code")
    field.fill(token)
    field.press("Enter")


def test_offline_scans_are_decided_on_the_phone_queued_and_uploaded(app, page, gate):
    sign_in_and_open_scanner(page, gate.clerk_email)
    page.get_by_label("Rapid mode").uncheck()
    result = page.locator("#scan-result")
    queue = page.locator("#scanner-queue")
    expect(queue).to_have_text("No scans waiting to upload")

    page.context.set_offline(True)
    expect(page.locator("#scanner-network")).to_have_text(re.compile("^Offline"))

    scan_typed(page, gate.tokens["Amara"])
    expect(result).to_have_attribute("data-result", "admitted")
    expect(result).to_contain_text("Amara Okonkwo")
    expect(page.locator("#scan-result-source")).to_contain_text("Checked on this phone")
    page.get_by_role("button", name="Scan next").click()

    scan_typed(page, gate.tokens["Lena"])
    expect(result).to_have_attribute("data-result", "admitted")
    expect(result).to_contain_text("Lena Hartmann")
    expect(result).to_contain_text("Germany")
    page.get_by_role("button", name="Scan next").click()

    scan_typed(page, gate.tokens["Chen"])  # the token of the lost, reissued badge
    expect(result).to_have_attribute("data-result", "revoked")
    expect(result).to_contain_text("Chen Wei")
    expect(result).to_contain_text("replaced by a newer one")
    page.get_by_role("button", name="Scan next").click()

    expect(queue).to_have_attribute("data-count", "3")
    expect(queue).to_have_text("3 scans waiting to upload")
    assert count(app, Scan) == 0  # nothing reached the server

    page.context.set_offline(False)
    expect(page.locator("#scanner-network")).to_have_text("Online")
    expect(queue).to_have_attribute("data-count", "0", timeout=15_000)
    expect(queue).to_have_text("No scans waiting to upload")

    assert count(app, Admission) == 2
    assert count(app, Scan) == 3
    with app.app_context():
        scans = db.session.scalars(select(Scan).order_by(Scan.scanned_at)).all()
        assert [scan.client_result for scan in scans] == ["admitted", "admitted", "revoked"]
        assert [scan.result for scan in scans] == ["admitted", "admitted", "revoked"]
        assert all(scan.offline for scan in scans)

    # Back online, the server answers again: Amara is already in.
    scan_typed(page, gate.tokens["Amara"])
    expect(result).to_have_attribute("data-result", "already_admitted")
    expect(page.locator("#scan-result-first")).to_contain_text("at Venue entrance")
    expect(page.locator("#scan-result-source")).to_be_hidden()


def test_the_page_finds_a_delegate_by_name_and_admits_them(app, page, gate):
    sign_in_and_open_scanner(page, gate.clerk_email)
    page.get_by_label("Rapid mode").uncheck()
    page.get_by_label("Name or badge number").fill("hartm")
    results = page.locator("#scanner-search-results")
    expect(results).to_contain_text("Lena Hartmann")
    page.get_by_role("button", name="Admit Lena Hartmann").click()
    expect(page.locator("#scan-result")).to_have_attribute("data-result", "admitted")
    page.get_by_role("button", name="Scan next").click()

    # Offline, the search runs on the cached list and still admits (decided on the phone).
    page.context.set_offline(True)
    page.get_by_label("Name or badge number").fill("okonkwo")
    expect(results).to_contain_text("Amara Okonkwo")
    page.get_by_role("button", name="Admit Amara Okonkwo").click()
    expect(page.locator("#scan-result")).to_have_attribute("data-result", "admitted")
    expect(page.locator("#scan-result-source")).to_be_visible()
    expect(page.locator("#scanner-queue")).to_have_attribute("data-count", "1")


# Wait (up to 10 s) until the service worker has kept the given paths; answer what it keeps.
CACHED_PAGE_URLS = """async (expected) => {
    const registration = await navigator.serviceWorker.ready;
    let urls = [];
    for (let i = 0; i < 100; i += 1) {
      const cache = await caches.open("kongres-scanner-v1");
      urls = (await cache.keys()).map((request) => {
        const url = new URL(request.url);
        return url.pathname + url.search;
      });
      if (expected.every((path) => urls.includes(path))) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return {scope: registration.scope, urls};
}"""
OFFLINE_FILES = [
    "/checkin/scanner?checkpoint=entrance",
    "/checkin/scanner",
    "/checkin/manifest.webmanifest",
    "/static/js/scanner.js",
    "/static/js/scanner-store.js",
    "/static/js/scanner-token.js",
    "/static/vendor/jsqr/jsQR.js",
    "/static/css/kongres.css",
    "/static/css/scanner.css",
    "/static/img/scanner-icon-192.png",
]


class Unplugged:
    """The application behind a switch: when `down`, every request fails (503), as behind a
    venue's dead uplink where only a proxy still answers."""

    def __init__(self, application):
        self.application = application
        self.down = False

    def __call__(self, environ, start_response):
        if self.down:
            start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
            return [b"unreachable"]
        return self.application(environ, start_response)


@pytest.fixture
def unpluggable_server(live_app):
    """A server of its own for one test, which the test can cut off."""
    switch = Unplugged(live_app)
    server = make_server("127.0.0.1", free_port(), switch, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield switch, f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


def test_the_scanner_opens_again_without_network_and_keeps_scanning(
    browser, unpluggable_server, gate
):
    switch, base_url = unpluggable_server
    context = browser.new_context(base_url=base_url, locale="en-GB")
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        sign_in_and_open_scanner(page, gate.clerk_email)
        cached = page.evaluate(CACHED_PAGE_URLS, OFFLINE_FILES)
        assert cached["scope"].endswith("/checkin/")
        assert set(OFFLINE_FILES) <= set(cached["urls"])

        switch.down = True
        context.set_offline(True)
        page.reload()
        expect(page.get_by_role("heading", name="Venue entrance")).to_be_visible()
        expect(page.locator("#scanner")).to_have_attribute("data-ready", "true")
        expect(page.locator("#scanner-bundle-age")).to_contain_text("Badge list of 3")
        page.get_by_label("Rapid mode").uncheck()
        scan_typed(page, gate.tokens["Amara"])
        expect(page.locator("#scan-result")).to_have_attribute("data-result", "admitted")
        expect(page.locator("#scan-result")).to_contain_text("Amara Okonkwo")
        expect(page.locator("#scanner-queue")).to_have_attribute("data-count", "1")
    finally:
        context.close()


def test_the_page_reads_and_verifies_tokens_as_the_server_does(app, page, gate, live_server):
    with app.app_context():
        keys = public_keys(current_event())
    token = gate.tokens["Amara"]
    header = read_header(token)
    body = token[3:]
    # One signature character changed: still well-formed, no longer signed.
    forged = "K1." + body[:50] + ("A" if body[50] != "A" else "B") + body[51:]
    page.goto("/")
    checked = page.evaluate(
        """async ([token, forged, keys]) => {
            const m = await import("/static/js/scanner-token.js");
            const imported = await m.importPublicKeys(keys);
            const verdict = async (text) => {
              const answer = await m.verifyToken(text, imported);
              return answer.reason || "ok";
            };
            return {
              header: m.readToken(token).header,
              good: await verdict(token),
              forged: await verdict(forged),
              truncated: await verdict(token.slice(0, -4)),
              padded: await verdict(token + "A"),
              other: await verdict("https://example.org/not-a-badge"),
              noKey: (await m.verifyToken(token, [])).reason,
            };
        }""",
        [token, forged, keys],
    )
    assert checked["header"] == {
        "eventId": header.event_id,
        "badgeId": header.badge_id,
        "version": header.version,
        "role": header.role.value,
        "category": header.category,
        "validDayMask": header.valid_day_mask,
        "keyId": header.key_id,
    }
    assert checked["good"] == "ok"
    assert checked["forged"] == "bad_signature"
    assert checked["truncated"] == "malformed"
    assert checked["padded"] == "malformed"
    assert checked["other"] == "malformed"
    assert checked["noKey"] == "cannot_verify"


def test_rapid_mode_moves_on_by_itself_and_ignores_a_double_read(app, page, gate):
    sign_in_and_open_scanner(page, gate.clerk_email)
    expect(page.get_by_label("Rapid mode")).to_be_checked()  # the default at a queue
    result = page.locator("#scan-result")
    recent = page.locator("#scanner-recent")

    scan_typed(page, gate.tokens["Lena"])
    expect(recent.locator("li").first).to_contain_text("Admitted")
    expect(result).to_be_hidden(timeout=3_000)  # no tap needed
    # A hardware scanner firing twice at once is one scan.
    scan_typed(page, gate.tokens["Lena"])
    page.wait_for_timeout(500)
    expect(recent.locator("li")).to_have_count(1)
    assert count(app, Scan) == 1

    # After the pause the same badge is read again: "already admitted".
    page.wait_for_timeout(3_000)
    scan_typed(page, gate.tokens["Lena"])
    expect(recent.locator("li").first).to_contain_text("Already admitted")
    expect(recent.locator("li")).to_have_count(2)
    assert count(app, Scan) == 2


def test_a_scan_the_server_does_not_answer_is_decided_here_and_sent_later(app, page, gate):
    """Venue Wi-Fi that is connected but reaches nothing: the browser believes it is online."""
    sign_in_and_open_scanner(page, gate.clerk_email)
    page.get_by_label("Rapid mode").uncheck()

    def unreachable(route):
        route.abort("internetdisconnected")

    page.route("**/api/v1/checkin/**", unreachable)
    scan_typed(page, gate.tokens["Amara"])
    result = page.locator("#scan-result")
    expect(result).to_have_attribute("data-result", "admitted")
    expect(page.locator("#scan-result-source")).to_contain_text("Checked on this phone")
    page.get_by_role("button", name="Scan next").click()
    expect(page.locator("#scanner-network")).to_have_text(re.compile("^Offline"))
    expect(page.locator("#scanner-queue")).to_have_attribute("data-count", "1")

    page.unroute("**/api/v1/checkin/**", unreachable)
    page.evaluate(
        "window.dispatchEvent(new Event('online'))"
    )  # what the phone sees on reconnecting
    expect(page.locator("#scanner-queue")).to_have_attribute("data-count", "0")
    expect(page.locator("#scanner-network")).to_have_text("Online")
    assert count(app, Admission) == 1
    assert count(app, Scan) == 1


def test_an_offline_admission_the_server_already_had_is_reported_as_a_conflict(
    app, page, gate, make_user
):
    organiser = make_user(roles=[Role.ORGANISER])
    sign_in_and_open_scanner(page, gate.clerk_email)
    page.get_by_label("Rapid mode").uncheck()
    page.context.set_offline(True)
    scan_typed(page, gate.tokens["Lena"])
    expect(page.locator("#scan-result")).to_have_attribute("data-result", "admitted")
    page.get_by_role("button", name="Scan next").click()

    # Meanwhile another gate, online, let Lena in.
    with app.test_request_context(headers={"Accept-Language": "en"}):
        record_scan(
            current_event(),
            token=gate.tokens["Lena"],
            checkpoint_code="entrance",
            nonce="other-gate-1",
            scanned_at=None,
            device=None,
            user=db.session.get(User, organiser.id),
        )
        db.session.commit()

    page.context.set_offline(False)
    expect(page.locator("#scanner-queue")).to_have_attribute("data-count", "0")
    expect(page.locator("#scanner-notice")).to_contain_text("had already been admitted")
    assert count(app, Admission) == 1
    with app.app_context():
        uploaded = db.session.scalar(select(Scan).where(Scan.nonce != "other-gate-1"))
        assert uploaded.client_result == "admitted"
        assert uploaded.result == "already_admitted"
        assert uploaded.is_conflict


def test_a_scan_refused_for_too_many_requests_is_decided_here_and_sent_later(
    app, live_app, page, gate
):
    """The server's rate limit (429) must not turn a delegate away: the phone decides, queues
    and uploads the scan once the server takes requests again."""
    sign_in_and_open_scanner(page, gate.clerk_email)
    page.get_by_label("Rapid mode").uncheck()
    result = page.locator("#scan-result")
    usual_limit = live_app.config["SCAN_RATE_LIMIT"]
    live_app.config["SCAN_RATE_LIMIT"] = "1 per minute"  # read per request: effective at once
    try:
        scan_typed(page, gate.tokens["Amara"])
        expect(result).to_have_attribute("data-result", "admitted")
        expect(page.locator("#scan-result-source")).to_be_hidden()  # the server's answer
        page.get_by_role("button", name="Scan next").click()

        scan_typed(page, gate.tokens["Lena"])  # the second scan this minute: 429
        expect(result).to_have_attribute("data-result", "admitted")
        expect(result).to_contain_text("Lena Hartmann")
        expect(page.locator("#scan-result-source")).to_contain_text("Checked on this phone")
        page.get_by_role("button", name="Scan next").click()
        expect(page.locator("#scanner-queue")).to_have_attribute("data-count", "1")
        assert count(app, Scan) == 1
    finally:
        live_app.config["SCAN_RATE_LIMIT"] = usual_limit

    # Uploads have their own limit: the queued scan goes up with the next batch.
    page.evaluate("window.dispatchEvent(new Event('online'))")
    expect(page.locator("#scanner-queue")).to_have_attribute("data-count", "0")
    assert count(app, Admission) == 2
    assert count(app, Scan) == 2
