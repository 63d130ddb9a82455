"""`make bench`: the check-in API under gunicorn on PostgreSQL, and the batch badge PDF.

Creates its own PostgreSQL database, loads 2,000 confirmed delegates with badges, starts
gunicorn (gthread) on a free loopback port and drives POST /api/v1/checkin/scans from 8
concurrent clients: every badge once plus 10% repeats. Prints scans per second and the
p50/p95/p99 latency in milliseconds, then the time to build the A4 PDF of all 2,000 badges.
Figures are printed, never asserted. Every loop is bounded in count and in time.
"""

from __future__ import annotations

import http.client
import json
import os
import queue
import random
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from cryptography.fernet import Fernet
from sqlalchemy import func, insert, select

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SERVER_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
BADGES = int(os.environ.get("BENCH_BADGES", "2000"))
CLIENTS = int(os.environ.get("BENCH_CLIENTS", "8"))
REPEAT_SHARE = 0.10
WORKERS = os.environ.get("BENCH_GUNICORN_WORKERS", "2")
THREADS = os.environ.get("BENCH_GUNICORN_THREADS", "8")
# Bounds: the whole scan run, one request, and the server's start.
RUN_DEADLINE_SECONDS = 600
REQUEST_TIMEOUT_SECONDS = 30
START_TIMEOUT_SECONDS = 60


def _free_port() -> int:
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _create_database(name: str) -> str:
    with psycopg.connect(SERVER_URL, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    return SERVER_URL.rsplit("/", 1)[0] + f"/{name}"


def _drop_database(name: str) -> None:
    with psycopg.connect(SERVER_URL, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _environment(database_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "SECRET_KEY": secrets.token_urlsafe(48),
        "PASSPORT_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "KONGRES_ENV": "development",
        "FLASK_APP": "wsgi:app",
        # One bench device scans far faster than a gate: measure the API, not its limit.
        "SCAN_RATE_LIMIT": "1000000 per minute",
        "SCAN_BATCH_RATE_LIMIT": "1000000 per minute",
        "LOG_LEVEL": "WARNING",
    }


def _seed(env: dict[str, str]) -> tuple[list[str], str, str]:
    """Migrate, load the event, 2,000 confirmed delegates with badges, a checkpoint and a gate
    device. Returns (badge tokens, checkpoint code, device bearer token)."""
    os.environ.update(env)
    from flask_migrate import upgrade

    from app import create_app
    from app.badges import services as badge_services
    from app.checkin import services as checkin_services
    from app.checkin.models import Checkpoint, CheckpointKind, EntryMode
    from app.demo import load_wcpp_event
    from app.extensions import db
    from app.i18n.text import TranslatedText
    from app.registration.models import Registration, RegistrationStatus, RegistrationType

    app = create_app({"SERVER_BASE_URL": "http://127.0.0.1"})
    with app.app_context():
        upgrade(directory=str(PROJECT_ROOT / "migrations"))
        event = load_wcpp_event()
        registration_type = RegistrationType(
            event_id=event.id,
            code="bench",
            name=TranslatedText(en="Delegate", id="Peserta"),
            is_free=True,
        )
        db.session.add(registration_type)
        db.session.flush()
        now = datetime.now(UTC)
        db.session.execute(
            insert(Registration),
            [
                {
                    "reference": f"B{number:07d}",
                    "event_id": event.id,
                    "registration_type_id": registration_type.id,
                    "status": RegistrationStatus.CONFIRMED.value,
                    "given_name": f"Delegate {number}",
                    "family_name": "Bench",
                    "badge_name": f"Delegate {number}",
                    "nationality": random.choice(("ID", "AU", "JP", "NL", "KE", "BR", "CA")),
                    "residence_country": "ID",
                    "email": f"bench{number}@example.org",
                    "language": "en",
                    "privacy_consent_at": now,
                }
                for number in range(BADGES)
            ],
        )
        issued = badge_services.issue_missing_badges(event, actor=None)
        checkpoint = Checkpoint(
            event_id=event.id,
            code="entrance",
            name=TranslatedText(en="Venue entrance", id="Pintu masuk"),
            kind=CheckpointKind.ENTRANCE.value,
            entry_mode=EntryMode.ONCE_PER_DAY.value,
            refused_roles=[],
        )
        db.session.add(checkpoint)
        db.session.flush()
        _device, bearer = checkin_services.issue_device(event, "bench gate", actor=None)
        db.session.commit()
        from app.badges.models import Badge

        tokens = [badge_services.badge_token(badge) for badge in db.session.scalars(select(Badge))]
        db.session.commit()  # the event's signing key, made by the first token
        # Read inside the context: the row is detached once the context ends.
        checkpoint_code = checkpoint.code
        print(f"seeded {issued} badges for {BADGES} confirmed delegates")
    return tokens, checkpoint_code, bearer


def _healthz(port: int) -> bool:
    """Whether the server answers GET /healthz with 200."""
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT_SECONDS)
        connection.request("GET", "/healthz")
        ok = connection.getresponse().status == 200
        connection.close()
    except OSError:
        return False
    return ok


def _wait_until_serving(port: int) -> None:
    """Wait until every worker has loaded the app, so start-up is not counted as latency."""
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline and not _healthz(port):
        time.sleep(0.2)
    # Several rounds of concurrent requests reach every worker at least once.
    for _round in range(3):
        threads = [threading.Thread(target=_healthz, args=(port,)) for _ in range(CLIENTS * 2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(REQUEST_TIMEOUT_SECONDS)


def _scanned_at() -> str:
    """A moment on the congress's first day, so that every badge is valid for it."""
    return "2026-04-14T01:30:00+00:00"


def _drive(port: int, tokens: list[str], checkpoint: str, bearer: str) -> None:
    """8 clients on keep-alive connections; every badge once plus 10% repeats."""
    work: queue.Queue[str] = queue.Queue()
    order = tokens + random.sample(tokens, int(len(tokens) * REPEAT_SHARE))
    random.shuffle(order)
    for token in order:
        work.put(token)
    latencies: list[float] = []
    results: Counter[str] = Counter()
    lock = threading.Lock()
    deadline = time.monotonic() + RUN_DEADLINE_SECONDS

    def client() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT_SECONDS)
        headers = {"Authorization": f"Bearer {bearer}", "Content-Type": "application/json"}
        while time.monotonic() < deadline:
            try:
                token = work.get_nowait()
            except queue.Empty:
                break
            body = json.dumps(
                {
                    "token": token,
                    "checkpoint": checkpoint,
                    "nonce": uuid.uuid4().hex,
                    "scanned_at": _scanned_at(),
                }
            )
            started = time.perf_counter()
            connection.request("POST", "/api/v1/checkin/scans", body=body, headers=headers)
            response = connection.getresponse()
            payload = response.read()
            elapsed = time.perf_counter() - started
            if response.status == 200:
                answer = json.loads(payload)
                outcome = answer.get("result", "?")
                if outcome not in ("admitted", "already_admitted"):
                    outcome = f"{outcome} ({answer.get('reason')})"
            else:
                outcome = f"HTTP {response.status}"

            with lock:
                latencies.append(elapsed)
                results[outcome] += 1
        connection.close()

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(RUN_DEADLINE_SECONDS)
    wall = time.perf_counter() - started
    latencies.sort()

    def percentile(share: float) -> float:
        return latencies[min(len(latencies) - 1, int(share * len(latencies)))] * 1000

    print(f"\ncheck-in API: {len(latencies)} scans from {CLIENTS} clients in {wall:.2f} s")
    print(f"  throughput   {len(latencies) / wall:8.1f} scans/s")
    print(f"  latency p50  {percentile(0.50):8.1f} ms")
    print(f"  latency p95  {percentile(0.95):8.1f} ms")
    print(f"  latency p99  {percentile(0.99):8.1f} ms")
    print(f"  mean         {statistics.fmean(latencies) * 1000:8.1f} ms")
    print(f"  answers      {dict(results)}")


def _count_admissions(env: dict[str, str]) -> int:
    from app import create_app
    from app.checkin.models import Admission
    from app.extensions import db

    app = create_app()
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Admission))


def _batch_pdf(env: dict[str, str]) -> None:
    """Time the A4 PDF of every badge, built the way the print job builds it."""
    from app import create_app
    from app.badges.pdf import badge_sheets_pdf
    from app.badges.services import printable_badges
    from app.events.services import current_event

    app = create_app({"SERVER_BASE_URL": "http://127.0.0.1"})
    with app.test_request_context(headers={"Accept-Language": "en"}):
        started = time.perf_counter()
        pdf = badge_sheets_pdf(printable_badges(current_event()))
        elapsed = time.perf_counter() - started
    print(f"\nbatch badge PDF: {BADGES} badges, {len(pdf) / 1e6:.1f} MB in {elapsed:.2f} s")


def main() -> int:
    """Run the benchmark and print its figures."""
    sys.path.insert(0, str(PROJECT_ROOT))
    name = f"kongres_bench_{os.getpid()}"
    database_url = _create_database(name)
    env = _environment(database_url)
    server = None
    try:
        tokens, checkpoint, bearer = _seed(env)
        port = _free_port()
        server = subprocess.Popen(
            [
                str(Path(sys.executable).with_name("gunicorn")),
                "--bind",
                f"127.0.0.1:{port}",
                "--worker-class",
                "gthread",
                "--workers",
                WORKERS,
                "--threads",
                THREADS,
                "--log-level",
                "warning",
                "wsgi:app",
            ],
            cwd=PROJECT_ROOT,
            env=env,
        )
        _wait_until_serving(port)
        print(f"gunicorn: {WORKERS} gthread workers x {THREADS} threads on 127.0.0.1:{port}")
        _drive(port, tokens, checkpoint, bearer)
        print(f"  admissions   {_count_admissions(env)} (expected {BADGES})")
        _batch_pdf(env)
    finally:
        if server is not None:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
        _drop_database(name)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
