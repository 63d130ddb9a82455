"""With REDIS_URL the sign-in limit is shared by every worker process (real Redis)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid

from app.config import PROJECT_ROOT

REDIS_URL = "redis://127.0.0.1:6379/0"

# One gunicorn-like worker: its own process and app instance, the same Redis.
WORKER = """
import json, sys
from app import create_app
app = create_app({"TESTING": True, "WTF_CSRF_ENABLED": False,
                  "RATELIMIT_KEY_PREFIX": sys.argv[1], "LOGIN_RATE_LIMIT": "4 per minute"})
client = app.test_client()
attempt = {"email": "x@wcpp2026.example", "password": "wrong-password-here"}
codes = [client.post("/login", data=attempt).status_code for _ in range(int(sys.argv[2]))]
print(json.dumps(codes))
"""


def _run_worker(database_url: str, tmp_path, prefix: str, attempts: int) -> list[int]:
    env = {
        **os.environ,
        "REDIS_URL": REDIS_URL,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "x",
        "MAIL_OUTBOX_DIR": str(tmp_path),
    }
    result = subprocess.run(
        [sys.executable, "-c", WORKER, prefix, str(attempts)],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_attempts_in_one_worker_count_in_another(database_url, tmp_path):
    prefix = f"kongres-test-{uuid.uuid4().hex}"
    assert _run_worker(database_url, tmp_path, prefix, 3) == [200, 200, 200]
    assert _run_worker(database_url, tmp_path, prefix, 2) == [200, 429]
