"""GET /healthz for load balancers and monitors: the database and, when configured, Redis."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from redis import Redis
from redis.backoff import NoBackoff
from redis.exceptions import RedisError
from redis.retry import Retry
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from app.auth.access import PUBLIC, allow
from app.extensions import db, limiter

bp = Blueprint("health", __name__)

# A monitor polls often and must hear "unavailable" quickly, not hang on a dead server.
REDIS_TIMEOUT_SECONDS = 1.0


def database_status() -> str:
    """ "ok" when the database answers a query, else "unreachable"."""
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        db.session.rollback()
        return "unreachable"
    return "ok"


def redis_status(url: str) -> str:
    """ "ok" when Redis answers PING within the timeout, "unreachable" when not, and
    "not_configured" without a REDIS_URL (rate limits and jobs then live in the process)."""
    if not url:
        return "not_configured"
    try:
        client = Redis.from_url(
            url,
            socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
            socket_timeout=REDIS_TIMEOUT_SECONDS,
            retry=Retry(NoBackoff(), retries=0),
        )
    except ValueError:  # a REDIS_URL that is not a Redis address at all
        return "unreachable"
    try:
        client.ping()
    except (RedisError, OSError):
        return "unreachable"
    finally:
        client.close()
    return "ok"


@bp.get("/healthz")
@allow(PUBLIC)
@limiter.exempt
def healthz():
    """200 when every configured part answers, 503 naming the part that does not."""
    parts = {
        "database": database_status(),
        "redis": redis_status(current_app.config["REDIS_URL"]),
    }
    healthy = all(state in {"ok", "not_configured"} for state in parts.values())
    return jsonify(status="ok" if healthy else "unavailable", **parts), 200 if healthy else 503
