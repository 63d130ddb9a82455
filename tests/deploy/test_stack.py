"""The production recipe, run: nginx with deploy/nginx/kongres.conf in front of gunicorn with
deploy/gunicorn.conf.py serving the real wsgi:app (settings from deploy/kongres.env.example),
and an RQ worker, on a database of the run's kind, a Redis and the test SMTP server. Every
process is started here on loopback, in a temp folder, and stopped by its pid. nginx comes from
Debian (the Makefile's test target installs it); without it the test is skipped."""

from __future__ import annotations

import gzip
import ipaddress
import os
import re
import shutil
import signal
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.client import HTTPSConnection
from http.cookiejar import CookieJar
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from flask_migrate import upgrade
from redis import Redis
from rq import Queue

from app.auth.services import create_user
from app.config import PROJECT_ROOT
from app.extensions import db as _db
from tests.conftest import TEST_PASSPORT_KEY, free_port
from tests.registration.factories import make_event

pytestmark = pytest.mark.stack

DEPLOY = PROJECT_ROOT / "deploy"
HOST = "kongres.example"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
START_TIMEOUT = 60
STOP_TIMEOUT = 30


def read_env_file(path: Path) -> dict[str, str]:
    """KEY=value lines of an environment file (comments skipped, quotes taken off)."""
    values = {}
    for line in path.read_text().splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        key, _, value = line.partition("=")
        values[key.strip()] = value.strip().strip('"')
    return values


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """A certificate for kongres.example and 127.0.0.1, and its key, as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOST)])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName(HOST), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    certificate_file, key_file = folder / "fullchain.pem", folder / "privkey.pem"
    certificate_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return certificate_file, key_file


def nginx_site(folder: Path, socket: Path, http_port: int, https_port: int) -> str:
    """deploy/nginx/kongres.conf with this run's ports, socket, folders and certificate."""
    certificate, key = self_signed_certificate(folder)
    site = (DEPLOY / "nginx" / "kongres.conf").read_text()
    for production, here in {
        "unix:/run/kongres/gunicorn.sock": f"unix:{socket}",
        "alias /srv/kongres/static/;": f"alias {PROJECT_ROOT}/static/;",
        f"/etc/letsencrypt/live/{HOST}/fullchain.pem": str(certificate),
        f"/etc/letsencrypt/live/{HOST}/privkey.pem": str(key),
        "root /var/www/letsencrypt;": f"root {folder}/letsencrypt;",
        "listen 443 ssl http2;": f"listen 127.0.0.1:{https_port} ssl http2;",
        "listen 80;": f"listen 127.0.0.1:{http_port};",
        "listen [::]:443 ssl http2;\n": "",
        "listen [::]:80;\n": "",
        "/var/log/nginx/kongres-access.log": f"{folder}/kongres-access.log",
    }.items():
        assert production in site, f"deploy/nginx/kongres.conf no longer has {production!r}"
        site = site.replace(production, here)
    return site


def nginx_main_config(folder: Path, site: Path) -> str:
    """What /etc/nginx/nginx.conf provides, with every path in the temp folder."""
    # Started as root, nginx would run its workers as nobody, who cannot enter the temp folder.
    user = "user root;\n" if os.geteuid() == 0 else ""
    temp_paths = "\n".join(
        f"    {kind}_temp_path {folder}/{kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return f"""{user}worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/nginx-error.log warn;
daemon off;
events {{ worker_connections 256; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log {folder}/nginx-access.log;
{temp_paths}
    include {site};
}}
"""


@dataclass
class Stack:
    """The processes started for the test, their logs, and how to reach nginx."""

    folder: Path
    environment: dict[str, str]
    https_port: int = 0
    http_port: int = 0
    certificate: Path | None = None
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    def start(self, name: str, command: list[str]) -> subprocess.Popen:
        """Start a process with its output in <name>.log."""
        log = (self.folder / f"{name}.log").open("wb")
        process = subprocess.Popen(
            command,
            cwd=PROJECT_ROOT,
            env=self.environment,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        self.processes[name] = process
        return process

    def logs(self) -> str:
        """The end of every log, for a failure's message."""
        parts = []
        for log in sorted(self.folder.glob("*.log")):
            parts.append(f"--- {log.name}\n{log.read_text(errors='replace')[-3000:]}")
        return "\n".join(parts)

    def stop(self) -> None:
        """Stop every process started here, by pid, newest first."""
        for process in reversed(list(self.processes.values())):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=STOP_TIMEOUT)

    def url(self, path: str) -> str:
        """An address on nginx's HTTPS port."""
        return f"https://127.0.0.1:{self.https_port}{path}"


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """Show redirects to the test instead of following them."""

    def redirect_request(self, *args, **kwargs):
        """Follow nothing."""


@dataclass
class Browser:
    """A minimal HTTPS client with cookies that calls the site by its name, as browsers do."""

    stack: Stack
    cookies: CookieJar = field(default_factory=CookieJar)

    def open(self, path: str, data: dict | None = None, headers: dict | None = None):
        """Request a path from nginx; returns (status, headers, body) without following."""
        context = ssl.create_default_context(cafile=str(self.stack.certificate))
        opener = urllib.request.build_opener(
            urllib.request.HTTPSHandler(context=context),
            urllib.request.HTTPCookieProcessor(self.cookies),
            _NoRedirects,
        )
        request = urllib.request.Request(  # noqa: S310 (always https://127.0.0.1)
            self.stack.url(path),
            data=urllib.parse.urlencode(data).encode() if data is not None else None,
            headers={"Host": HOST, "Accept-Language": "en", **(headers or {})},
        )
        try:
            with opener.open(request, timeout=20) as response:
                return response.status, response.headers, response.read()
        except urllib.error.HTTPError as error:
            with error:
                return error.code, error.headers, error.read()


@pytest.fixture
def stack_database(make_app, scratch_url):
    """A new database of the run's kind, migrated, with the event and one delegate account."""
    setup = make_app(SQLALCHEMY_DATABASE_URI=scratch_url, ARGON2_TIME_COST=1, ARGON2_MEMORY_COST=64)
    with setup.test_request_context():
        upgrade()
        make_event()
        create_user("wayan@wcpp2026.example", "Wayan Sudirta", password="x" * 16, language="en")
        _db.session.commit()
    return scratch_url


@pytest.fixture
def stack(tmp_path, stack_database, redis_url, smtp_server) -> Iterator[Stack]:
    """nginx, gunicorn and (later) an RQ worker for this test, stopped afterwards."""
    if not os.path.exists(NGINX):
        pytest.skip("nginx is not installed (make test installs Debian's nginx-light)")
    instance = tmp_path / "instance"
    environment = {
        **os.environ,
        **read_env_file(DEPLOY / "kongres.env.example"),
        "DATABASE_URL": stack_database,
        "REDIS_URL": redis_url,
        "SECRET_KEY": "stack-test-secret-key-not-for-production",
        "PASSPORT_ENCRYPTION_KEY": TEST_PASSPORT_KEY,
        "INSTANCE_PATH": str(instance),
        "UPLOAD_DIR": str(instance / "uploads"),
        "SERVER_BASE_URL": f"https://{HOST}",
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": str(smtp_server[0]),
        "MAIL_USE_TLS": "0",
        "MAIL_USERNAME": "",
        "MAIL_PASSWORD": "",
        "GUNICORN_BIND": f"unix:{tmp_path / 'gunicorn.sock'}",
        "GUNICORN_WORKERS": "2",
        "GUNICORN_THREADS": "4",
    }
    environment.pop("TEST_DATABASE_URL", None)
    running = Stack(
        folder=tmp_path,
        environment=environment,
        https_port=free_port(),
        http_port=free_port(),
    )
    site = tmp_path / "kongres.conf"
    site.write_text(
        nginx_site(tmp_path, tmp_path / "gunicorn.sock", running.http_port, running.https_port)
    )
    running.certificate = tmp_path / "fullchain.pem"
    main_config = tmp_path / "nginx.conf"
    main_config.write_text(nginx_main_config(tmp_path, site))
    nginx = [NGINX, "-e", str(tmp_path / "nginx-error.log"), "-p", str(tmp_path)]
    checked = subprocess.run(
        [*nginx, "-t", "-c", str(main_config)], capture_output=True, text=True, timeout=30
    )
    assert checked.returncode == 0, checked.stderr
    try:
        running.start(
            "gunicorn",
            [sys.executable, "-m", "gunicorn", "-c", str(DEPLOY / "gunicorn.conf.py"), "wsgi:app"],
        )
        running.start("nginx", [*nginx, "-c", str(main_config)])
        _wait_until_healthy(running)
        yield running
    finally:
        running.stop()


def _wait_until_healthy(stack: Stack) -> None:
    """Poll /healthz through nginx until gunicorn answers (bounded)."""
    browser = Browser(stack)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        for name, process in stack.processes.items():
            assert process.poll() is None, f"{name} stopped:\n{stack.logs()}"
        try:
            if browser.open("/healthz")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"the stack did not answer within {START_TIMEOUT} s:\n{stack.logs()}")


def test_the_production_recipe_serves_pages_static_files_and_mail(stack, mailbox, redis_url):
    browser = Browser(stack)

    status, headers, body = browser.open("/healthz")
    assert status == 200
    assert headers["Server"].startswith("nginx")
    assert b'"status":"ok"' in body.replace(b" ", b"")

    status, headers, body = browser.open("/")
    assert status == 200, stack.logs()
    assert headers["Content-Type"].startswith("text/html")
    assert "7th World Congress on Probation and Parole" in body.decode()

    # Static files come from disk through nginx: cached for a day, compressed.
    status, headers, body = browser.open(
        "/static/css/kongres.css", headers={"Accept-Encoding": "gzip"}
    )
    assert status == 200
    assert headers.get_all("Cache-Control") == ["public, max-age=86400"]
    assert headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(body) == (PROJECT_ROOT / "static" / "css" / "kongres.css").read_bytes()
    assert browser.open("/static/../wsgi.py")[0] in (400, 404)

    # The app sees nginx's scheme (PROXY_FIX_HOPS=1): its own redirects stay on HTTPS.
    status, headers, _ = browser.open("/organiser/badges")
    assert status == 308
    assert headers["Location"] == f"https://{HOST}/organiser/badges/"

    # Larger than MAX_CONTENT_LENGTH: nginx refuses it before gunicorn sees a byte.
    connection = HTTPSConnection(
        "127.0.0.1",
        stack.https_port,
        context=ssl.create_default_context(cafile=str(stack.certificate)),
        timeout=20,
    )
    connection.putrequest("POST", "/password/forgot", skip_host=True)
    connection.putheader("Host", HOST)
    connection.putheader("Content-Length", str(21 * 1024 * 1024))
    connection.endheaders()
    assert connection.getresponse().status == 413
    connection.close()

    # Plain HTTP moves to HTTPS.
    plain = urllib.request.build_opener(_NoRedirects)
    with pytest.raises(urllib.error.HTTPError) as moved:
        plain.open(
            urllib.request.Request(
                f"http://127.0.0.1:{stack.http_port}/healthz", headers={"Host": HOST}
            ),
            timeout=20,
        )
    assert moved.value.code == 301
    assert moved.value.headers["Location"] == f"https://{HOST}/healthz"
    moved.value.close()

    # A password reset asked for through nginx waits on Redis until an RQ worker delivers it.
    status, _, form = browser.open("/password/forgot")
    assert status == 200
    token = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', form).group(1).decode()
    status, headers, _ = browser.open(
        "/password/forgot",
        data={"csrf_token": token, "email": "wayan@wcpp2026.example"},
        headers={"Referer": f"https://{HOST}/password/forgot"},
    )
    assert status == 302, stack.logs()
    email_queue = Queue("email", connection=Redis.from_url(redis_url))
    assert email_queue.count == 1
    assert mailbox.messages == []

    stack.start(
        "worker",
        [
            *(sys.executable, "-m", "flask", "--app", "wsgi:app", "jobs", "worker"),
            *("--queue", "email", "--queue", "pdf"),
        ],
    )
    [message] = mailbox.wait_for(1, timeout=START_TIMEOUT)
    assert message["To"] == "wayan@wcpp2026.example"
    assert message["Subject"] == "Reset your Kongres password"
    assert f"https://{HOST}/password/reset/" in message.get_payload(decode=True).decode()
    assert email_queue.count == 0


def test_nginx_logs_token_addresses_without_their_tokens(stack):
    browser = Browser(stack)
    secret = "s3cr3t-T0ken_value"

    for path in (
        f"/invitation/{secret}?lang=en",
        f"/password/reset/{secret}",
        f"/programme/agenda/{secret}.ics",
        f"/visa/verify/{secret}",
    ):
        browser.open(path, headers={"Referer": f"https://{HOST}/register/confirm/{secret}"})
    browser.open("/healthz?probe=1")
    stack.stop()  # nginx writes its buffered lines as it stops

    logged = (stack.folder / "kongres-access.log").read_text()
    assert secret not in logged
    assert '"GET /invitation/[redacted] HTTP/1.1"' in logged
    assert '"GET /password/reset/[redacted] HTTP/1.1"' in logged
    assert '"GET /programme/agenda/[redacted].ics HTTP/1.1"' in logged
    assert '"GET /visa/verify/[redacted] HTTP/1.1"' in logged
    assert '"GET /healthz HTTP/1.1" 200' in logged
    assert secret not in (stack.folder / "gunicorn.log").read_text()
