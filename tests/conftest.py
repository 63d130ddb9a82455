"""Fixtures: a migrated database per run (SQLite, or PostgreSQL via TEST_DATABASE_URL),
a clean database per test, a real SMTP server, localstripe for Stripe, factories, a live server
and Chromium."""

from __future__ import annotations

import email
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import Message
from pathlib import Path

import pyotp
import pytest
from aiosmtpd.controller import Controller
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from werkzeug.serving import make_server

from app import create_app
from app.auth.models import Role, User
from app.auth.services import create_user, find_user_by_email
from app.auth.two_factor import begin_totp_enrolment, totp_secret
from app.config import (
    LOCALSTRIPE_PUBLISHABLE_KEY,
    LOCALSTRIPE_SECRET_KEY,
    LOCALSTRIPE_WEBHOOK_SECRET,
    PROJECT_ROOT,
    database_uri,
)
from app.extensions import db as _db
from app.extensions import limiter
from app.payments.stripe_dev import register_webhook, silence_webhook, wait_until_up

POSTGRES_URL = os.environ.get("TEST_DATABASE_URL", "")
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
TEST_PASSWORD = "correct-horse-battery-staple"
TEST_PASSPORT_KEY = "a29uZ3Jlcy10ZXN0LXBhc3Nwb3J0LWtleS0zMmJ5dGU="  # a Fernet key, tests only


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def on_postgres() -> bool:
    """Whether this run uses PostgreSQL."""
    return bool(POSTGRES_URL)


requires_postgres = pytest.mark.skipif(
    not POSTGRES_URL, reason="concurrency test: needs PostgreSQL (TEST_DATABASE_URL)"
)


# --- database -------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A fresh database for this run, dropped at the end (PostgreSQL) or in a temp dir."""
    if not POSTGRES_URL:
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'kongres-test.sqlite'}"
        return
    server = make_url(database_uri(POSTGRES_URL))
    name = f"kongres_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield server.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def scratch_url(database_url, tmp_path):
    """An empty database of the same kind as the run's (dropped afterwards)."""
    if not on_postgres():
        yield f"sqlite:///{tmp_path / 'scratch.sqlite'}"
        return
    server = make_url(database_url)
    name = f"kongres_scratch_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield server.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@dataclass
class Mailbox:
    """What the test SMTP server received."""

    messages: list[Message] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def wait_for(self, count: int, timeout: float = 5.0) -> list[Message]:
        """Wait until at least `count` messages arrived; return them all."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.messages) >= count:
                    return list(self.messages)
            time.sleep(0.02)
        with self.lock:
            raise AssertionError(f"expected {count} message(s), got {len(self.messages)}")

    def to(self, address: str) -> list[Message]:
        """The messages sent to one address."""
        with self.lock:
            return [m for m in self.messages if m["To"] == address]

    def clear(self) -> None:
        """Forget what arrived so far."""
        with self.lock:
            self.messages.clear()


class _CollectingHandler:
    def __init__(self, mailbox: Mailbox):
        self.mailbox = mailbox

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        message = email.message_from_bytes(envelope.content)
        with self.mailbox.lock:
            self.mailbox.messages.append(message)
        return "250 OK"


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[tuple[int, Mailbox]]:
    """A real SMTP server (aiosmtpd) on a loopback port."""
    mailbox = Mailbox()
    port = free_port()
    controller = Controller(_CollectingHandler(mailbox), hostname="127.0.0.1", port=port)
    controller.start()
    yield port, mailbox
    controller.stop()


@pytest.fixture
def mailbox(smtp_server: tuple[int, Mailbox]) -> Iterator[Mailbox]:
    """The messages this test sent."""
    box = smtp_server[1]
    box.clear()
    yield box
    box.clear()


# --- Redis ----------------------------------------------------------------------------------


@pytest.fixture
def redis_url() -> Iterator[str]:
    """A throwaway redis-server on a loopback port (its queues are this test's alone)."""
    if not shutil.which("redis-server"):
        pytest.skip("redis-server is not installed")
    port = free_port()
    process = subprocess.Popen(
        [
            *("redis-server", "--port", str(port), "--bind", "127.0.0.1"),
            *("--save", "", "--appendonly", "no"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    from redis import Redis
    from redis.exceptions import ConnectionError as RedisConnectionError

    deadline = time.monotonic() + 10
    try:
        while True:
            try:
                Redis.from_url(url).ping()
                break
            except RedisConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


# --- Stripe (localstripe) -------------------------------------------------------------------


@dataclass(frozen=True)
class LocalStripe:
    """The localstripe process of this run: where it answers and the keys it is used with."""

    api_base: str
    secret_key: str = LOCALSTRIPE_SECRET_KEY
    publishable_key: str = LOCALSTRIPE_PUBLISHABLE_KEY
    webhook_secret: str = LOCALSTRIPE_WEBHOOK_SECRET

    def config(self) -> dict[str, str]:
        """The application settings that point Kongres at it."""
        return {
            "STRIPE_API_BASE": self.api_base,
            "STRIPE_JS_URL": f"{self.api_base}/js.stripe.com/v3/",
            "STRIPE_SECRET_KEY": self.secret_key,
            "STRIPE_PUBLISHABLE_KEY": self.publishable_key,
            "STRIPE_WEBHOOK_SECRET": self.webhook_secret,
        }


@pytest.fixture(scope="session")
def localstripe() -> Iterator[LocalStripe]:
    """localstripe (the stand-in for Stripe) on a free loopback port for the whole run."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "app.payments.stripe_dev", "--port", str(port)],
        cwd=PROJECT_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    stand_in = LocalStripe(api_base=f"http://127.0.0.1:{port}")
    try:
        wait_until_up(stand_in.api_base)
        yield stand_in
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def stripe_webhook(live_server: str, localstripe: LocalStripe) -> Iterator[str]:
    """localstripe sends its events to the live server during this test (and then stops)."""
    url = f"{live_server}/payments/stripe/webhook"
    register_webhook(localstripe.api_base, url, localstripe.webhook_secret)
    yield url
    silence_webhook(localstripe.api_base)


def _test_config(
    database_url: str, instance: Path, smtp_port: int, stripe: LocalStripe, **extra: object
) -> dict:
    return {
        "TESTING": True,
        "INSTANCE_PATH": str(instance),
        "SECRET_KEY": "test-secret-key-not-for-production",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": smtp_port,
        # Messages leave inline right after the commit, so that a test sees them at once.
        "MAIL_SYNC": True,
        "SERVER_NAME": None,
        "ARGON2_TIME_COST": 1,
        "ARGON2_MEMORY_COST": 64,
        "UPLOAD_DIR": str(instance / "uploads"),
        "RATELIMIT_STORAGE_URI": "memory://",
        # One key for every app of the run: the live server reads what the test client wrote.
        "PASSPORT_ENCRYPTION_KEY": TEST_PASSPORT_KEY,
        **stripe.config(),
        **extra,
    }


def dispose_engines(application: Flask) -> None:
    """Close an application's pooled connections (else they leak past the test run)."""
    with application.app_context():
        for engine in _db.engines.values():
            engine.dispose()


@pytest.fixture(scope="session")
def app(
    database_url: str, tmp_path_factory: pytest.TempPathFactory, smtp_server, localstripe
) -> Iterator[Flask]:
    """The application under test, on a migrated database; CSRF off for the test client."""
    instance = tmp_path_factory.mktemp("instance")
    application = create_app(
        _test_config(database_url, instance, smtp_server[0], localstripe, WTF_CSRF_ENABLED=False)
    )
    with application.app_context():
        upgrade()
    yield application
    dispose_engines(application)


@pytest.fixture
def make_app(database_url: str, tmp_path: Path) -> Iterator:
    """Build an extra application on the test database: make_app(SOME_SETTING=...)."""
    created: list[Flask] = []

    def _make(**config: object) -> Flask:
        application = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": database_url,
                "INSTANCE_PATH": str(tmp_path),
                "SECRET_KEY": "test-secret-key-not-for-production",
                "PASSPORT_ENCRYPTION_KEY": TEST_PASSPORT_KEY,
                "TESTING": True,
                "MAIL_SYNC": True,
                **config,
            }
        )
        created.append(application)
        return application

    yield _make
    for application in created:
        dispose_engines(application)


@pytest.fixture(autouse=True)
def _clean_database(app: Flask) -> Iterator[None]:
    """Every test starts from empty tables and fresh rate limits."""
    yield
    with app.app_context():
        _db.session.remove()
        tables = list(reversed(_db.metadata.sorted_tables))
        # A browser test's page may still have a request in flight on the live server (the
        # scanner polls and uploads by itself): PostgreSQL may then pick the TRUNCATE as a
        # deadlock's victim, and a moment later it goes through.
        for attempt in range(CLEAN_ATTEMPTS):
            try:
                _empty_tables(tables)
                break
            except OperationalError:
                if attempt == CLEAN_ATTEMPTS - 1:
                    raise
                time.sleep(0.5)
        limiter.reset()


CLEAN_ATTEMPTS = 5


def _empty_tables(tables: list) -> None:
    """Delete every row of every table (TRUNCATE on PostgreSQL), in one transaction."""
    with _db.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            names = ", ".join(f'"{table.name}"' for table in tables)
            connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                connection.execute(table.delete())


@pytest.fixture
def db(app: Flask) -> Iterator:
    """The database, inside a request context whose browser asks for English."""
    with app.test_request_context(headers={"Accept-Language": "en"}):
        yield _db
        _db.session.remove()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client (CSRF off) whose browser asks for English unless a test says otherwise."""
    test_client = app.test_client()
    test_client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return test_client


@pytest.fixture
def runner(app: Flask):
    """A CLI runner for `flask ...` commands."""
    return app.test_cli_runner()


# --- factories ------------------------------------------------------------------------------


@pytest.fixture
def make_user(app: Flask):
    """Create and commit a user: make_user(roles=[Role.ORGANISER], language="id")."""
    counter = iter(range(1, 1_000_000))

    def _make(
        *,
        roles: list[Role] | tuple[Role, ...] = (),
        email: str | None = None,
        name: str | None = None,
        password: str | None = TEST_PASSWORD,
        language: str = "en",
        two_factor: bool | None = None,
    ) -> User:
        """two_factor: an authenticator app already set up; by default for the roles that
        need one (sign in with auth.login or the sign_in fixture, which type its codes)."""
        number = next(counter)
        with app.test_request_context():
            user = create_user(
                email or f"user{number}@wcpp2026.example",
                name or f"Test User {number}",
                password=password,
                roles=roles,
                language=language,
            )
            if user.requires_two_factor if two_factor is None else two_factor:
                begin_totp_enrolment(user)
                user.totp_enabled_at = datetime.now(UTC)
            _db.session.commit()
            _db.session.refresh(user)
            _db.session.expunge(user)
        return user

    return _make


def next_totp_code(app: Flask, email: str) -> str:
    """The code the user's authenticator app would show now, as a real app does: the current
    time step's, or the next one's when the current one is used up (a code is accepted once)."""
    with app.app_context():
        user = find_user_by_email(email)
        totp = pyotp.TOTP(totp_secret(user))
        now = totp.timecode(datetime.now(UTC))
        last = user.totp_last_counter
        _db.session.remove()
    for counter in (now, now + 1):
        if last is None or counter > last:
            return totp.generate_otp(counter)
    raise AssertionError(f"{email} signed in twice in this time step: the codes are used up")


def has_two_factor(app: Flask, email: str) -> bool:
    """Whether signing in as this user asks for a second factor."""
    with app.app_context():
        enrolled = find_user_by_email(email).has_two_factor
        _db.session.remove()
    return enrolled


@dataclass
class AuthActions:
    """Sign in and out through the real login form (and the second step where it comes)."""

    client: FlaskClient
    make_user: object
    app: Flask

    def login(self, email: str, password: str = TEST_PASSWORD):
        response = self.client.post("/login", data={"email": email, "password": password})
        if response.status_code == 302 and response.location.startswith("/login/code"):
            code = next_totp_code(self.app, email)
            return self.client.post("/login/code", data={"code": code})
        return response

    def login_as(self, *roles: Role, **kwargs) -> User:
        user = self.make_user(roles=roles, **kwargs)
        response = self.login(user.email)
        assert response.status_code == 302, response.get_data(as_text=True)
        return user

    def logout(self):
        return self.client.post("/logout")


@pytest.fixture
def auth(app: Flask, client: FlaskClient, make_user) -> AuthActions:
    """Sign-in helper bound to the test client."""
    return AuthActions(client, make_user, app)


@pytest.fixture
def count_queries(app: Flask):
    """Count SQL statements: `with count_queries() as counter: ...; counter.count`."""

    class _Counter:
        def __init__(self) -> None:
            self.count = 0
            self.statements: list[str] = []

        def __enter__(self):
            with app.app_context():
                self.engine = _db.engine
            event.listen(self.engine, "before_cursor_execute", self._seen)
            return self

        def __exit__(self, *exc_info) -> None:
            event.remove(self.engine, "before_cursor_execute", self._seen)

        def _seen(self, _conn, _cursor, statement, *_args) -> None:
            self.count += 1
            self.statements.append(statement)

    return _Counter


# --- live server and Chromium ---------------------------------------------------------------


@pytest.fixture(scope="session")
def live_app(database_url: str, tmp_path_factory, smtp_server, localstripe, app) -> Iterator[Flask]:
    """The application the live server runs: CSRF on, as in production."""
    instance = tmp_path_factory.mktemp("live-instance")
    application = create_app(_test_config(database_url, instance, smtp_server[0], localstripe))
    yield application
    dispose_engines(application)


@pytest.fixture(scope="session")
def live_server(live_app: Flask) -> Iterator[str]:
    """The application served over HTTP on a loopback port."""
    port = free_port()
    server = make_server("127.0.0.1", port, live_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture(scope="session")
def browser() -> Iterator:
    """Debian's Chromium driven by Playwright (never Playwright's own download)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, live_server: str) -> Iterator:
    """A fresh browser tab with its own cookies, English unless a test switches."""
    context = browser.new_context(base_url=live_server, locale="en-GB")
    context.set_default_timeout(10_000)
    tab = context.new_page()
    yield tab
    context.close()


@pytest.fixture(autouse=True)
def _no_csp_violations(request: pytest.FixtureRequest) -> Iterator[None]:
    """A test driving Chromium fails when a page broke the Content-Security-Policy: Chromium
    reports it to /csp-report at once (report-uri over HTTP), which logs it."""
    watched = "browser" in request.fixturenames and not request.node.get_closest_marker(
        "csp_violations_expected"
    )
    caplog = request.getfixturevalue("caplog") if watched else None
    yield
    if caplog is not None:
        records = caplog.get_records("call")
        violations = [record.getMessage() for record in records if hasattr(record, "csp_violation")]
        assert violations == [], "the Content-Security-Policy blocked something on a page"


@pytest.fixture
def sign_in(app: Flask):
    """Sign in in Chromium through the English login form, typing the authenticator app's
    code where the account has one: sign_in(page, email)."""
    from playwright.sync_api import expect

    def _sign_in(page, email: str, password: str = TEST_PASSWORD) -> None:
        page.goto("/login")
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        if has_two_factor(app, email):
            expect(page.get_by_role("heading", name="Two-factor sign-in")).to_be_visible()
            page.get_by_label("Code").fill(next_totp_code(app, email))
            page.get_by_role("button", name="Continue").click()
        expect(page.get_by_role("button", name="Sign out")).to_be_visible()

    return _sign_in
